// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// solhint-disable-next-line max-line-length
import {GovernorSequentialProposalId} from "@openzeppelin/contracts/governance/extensions/GovernorSequentialProposalId.sol";
import {IGovernorCompactStorage} from "../interfaces/IGovernorCompactStorage.sol";

/**
 * @title GovernorCompactStorage
 * @notice OpenZeppelin GovernorStorage's surface at a fraction of its cost: each proposal's details are written once as
 * the runtime code of a small data contract (200 gas a byte) rather than in storage slots (22,100 gas a word, and
 * OpenZeppelin's layout spends a slot on every array length). With sequential ids, the data contract of proposal `id`
 * is the governor's `id`-th CREATE, so its address follows from the id and no pointer is stored.
 *
 * Layout of the data contract's code: 0x00 (STOP, so it cannot be called) | descriptionHash (32) | per call:
 * target (20) | header (4: bit 31 = a value follows, bits 0..30 = calldata length) | value (32, if any) | calldata.
 *
 * Trust assumptions: the governor creates no contract other than these (checked at every proposal: the data
 * contract must land at the address its id predicts). Details are at most 24,575 bytes per proposal (EIP-170).
 */
abstract contract GovernorCompactStorage is IGovernorCompactStorage, GovernorSequentialProposalId {
    uint256 private constant _MAX_CODE = 24_576;
    uint256 private constant _HAS_VALUE = 1 << 31;
    uint256 private constant _LENGTH_MASK = _HAS_VALUE - 1;

    /// @dev Stores the details after the proposal is created; the id is also the CREATE nonce used.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal virtual override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        address stored = _storeDetails(targets, values, calldatas, keccak256(bytes(description)));
        address expected = proposalDetailsContract(proposalId);
        if (stored != expected) revert GovernorCompactStorageUnexpectedAddress(proposalId, expected, stored);
    }

    /// @inheritdoc IGovernorCompactStorage
    function queue(uint256 proposalId) public virtual {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas, bytes32 descriptionHash) = (
            proposalDetails(proposalId)
        );
        queue(targets, values, calldatas, descriptionHash);
    }

    /// @inheritdoc IGovernorCompactStorage
    function execute(uint256 proposalId) public payable virtual {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas, bytes32 descriptionHash) = (
            proposalDetails(proposalId)
        );
        execute(targets, values, calldatas, descriptionHash);
    }

    /// @inheritdoc IGovernorCompactStorage
    function cancel(uint256 proposalId) public virtual {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas, bytes32 descriptionHash) = (
            proposalDetails(proposalId)
        );
        cancel(targets, values, calldatas, descriptionHash);
    }

    /// @inheritdoc IGovernorCompactStorage
    function proposalCount() public view virtual returns (uint256) {
        return latestProposalId();
    }

    /// @inheritdoc IGovernorCompactStorage
    function proposalDetailsAt(
        uint256 index
    )
        public
        view
        virtual
        returns (
            uint256 proposalId,
            address[] memory targets,
            uint256[] memory values,
            bytes[] memory calldatas,
            bytes32 descriptionHash
        )
    {
        proposalId = index + 1;
        (targets, values, calldatas, descriptionHash) = proposalDetails(proposalId);
    }

    /// @inheritdoc IGovernorCompactStorage
    function proposalDetails(
        uint256 proposalId
    )
        public
        view
        virtual
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas, bytes32 descriptionHash)
    {
        address pointer = proposalId == 0 ? address(0) : proposalDetailsContract(proposalId);
        uint256 size = pointer.code.length;
        if (size == 0) revert GovernorNonexistentProposal(proposalId);
        bytes memory data = new bytes(size - 1);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(data, 0x20), 1, sub(size, 1))
            descriptionHash := mload(add(data, 0x20))
        }
        // First pass counts the calls, the second fills the arrays.
        uint256 n;
        for (uint256 offset = 32; offset < data.length; ++n) {
            (, uint256 header) = _readCallHead(data, offset);
            offset += 24 + (header & _LENGTH_MASK) + (header & _HAS_VALUE == 0 ? 0 : 32);
        }
        targets = new address[](n);
        values = new uint256[](n);
        calldatas = new bytes[](n);
        uint256 cursor = 32;
        for (uint256 i; i < n; ++i) {
            (address target, uint256 header) = _readCallHead(data, cursor);
            cursor += 24;
            targets[i] = target;
            if (header & _HAS_VALUE != 0) {
                uint256 value;
                assembly ("memory-safe") {
                    value := mload(add(add(data, 0x20), cursor))
                }
                values[i] = value;
                cursor += 32;
            }
            uint256 length = header & _LENGTH_MASK;
            bytes memory callData = new bytes(length);
            assembly ("memory-safe") {
                mcopy(add(callData, 0x20), add(add(data, 0x20), cursor), length)
            }
            calldatas[i] = callData;
            cursor += length;
        }
    }

    /// @inheritdoc IGovernorCompactStorage
    function proposalDetailsContract(uint256 proposalId) public view virtual returns (address) {
        // The address of this contract's CREATE with nonce `proposalId`: keccak256(rlp([address(this), nonce])).
        bytes memory rlp;
        if (proposalId <= 0x7f) {
            rlp = abi.encodePacked(bytes2(0xd694), address(this), uint8(proposalId));
        } else if (proposalId <= 0xff) {
            rlp = abi.encodePacked(bytes2(0xd794), address(this), bytes1(0x81), uint8(proposalId));
        } else if (proposalId <= 0xffff) {
            rlp = abi.encodePacked(bytes2(0xd894), address(this), bytes1(0x82), uint16(proposalId));
        } else if (proposalId <= 0xffffff) {
            rlp = abi.encodePacked(bytes2(0xd994), address(this), bytes1(0x83), uint24(proposalId));
        } else {
            rlp = abi.encodePacked(bytes2(0xda94), address(this), bytes1(0x84), uint32(proposalId));
        }
        return address(uint160(uint256(keccak256(rlp))));
    }

    /// @dev Writes the details as the code of a new contract (SSTORE2's layout: a 10-byte deployer, then the data).
    function _storeDetails(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) private returns (address pointer) {
        uint256 n = targets.length;
        uint256 size = 33;
        for (uint256 i; i < n; ++i) {
            uint256 length = calldatas[i].length;
            if (length > _LENGTH_MASK) revert GovernorCompactStorageCalldataTooLong(i, length);
            size += 24 + length + (values[i] == 0 ? 0 : 32);
        }
        if (size > _MAX_CODE) revert GovernorCompactStorageTooLarge(size, _MAX_CODE);
        bytes memory creation = new bytes(size + 10);
        assembly ("memory-safe") {
            let p := add(creation, 0x20)
            // PUSH2 size, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN; then STOP.
            mstore(p, shl(176, or(or(shl(72, 0x61), shl(56, size)), 0x80600a3d393df3)))
            mstore8(add(p, 10), 0)
            mstore(add(p, 11), descriptionHash)
        }
        uint256 cursor = 43; // 10-byte deployer + STOP + description hash
        for (uint256 i; i < n; ++i) {
            address target = targets[i];
            uint256 value = values[i];
            bytes memory callData = calldatas[i];
            uint256 length = callData.length;
            uint256 header = value == 0 ? length : length | _HAS_VALUE;
            assembly ("memory-safe") {
                let p := add(add(creation, 0x20), cursor)
                mstore(p, shl(96, target))
                mstore(add(p, 20), shl(224, header))
                p := add(p, 24)
                if value {
                    mstore(p, value)
                    p := add(p, 32)
                }
                mcopy(p, add(callData, 0x20), length)
            }
            cursor += 24 + length + (value == 0 ? 0 : 32);
        }
        assembly ("memory-safe") {
            pointer := create(0, add(creation, 0x20), mload(creation))
        }
    }

    /// @dev The target and the 4-byte header of the call starting at `offset` of the data.
    function _readCallHead(bytes memory data, uint256 offset) private pure returns (address target, uint256 header) {
        assembly ("memory-safe") {
            let word := mload(add(add(data, 0x20), offset))
            target := shr(96, word)
            header := and(shr(64, word), 0xffffffff)
        }
    }
}

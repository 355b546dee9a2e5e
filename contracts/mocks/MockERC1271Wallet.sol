// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title MockERC1271Wallet
 * @notice TEST ONLY. A minimal smart account standing in for an agent signer or an ERC-8004 agent wallet that is a
 * contract. It says yes (ERC-1271 magic value) to signatures of its owner key over the given digest while
 * `accepting` is true, and no otherwise, so tests can show a contract account that approves and one that refuses.
 * `execute` lets the owner act as the account itself (a direct call from an ERC-1271 agent signer).
 *
 * Trust assumptions: none; never deploy outside tests.
 */
contract MockERC1271Wallet is IERC1271 {
    bytes4 private constant _MAGIC = IERC1271.isValidSignature.selector;
    bytes4 private constant _REJECT = 0xffffffff;

    /// @notice The key whose signatures this account accepts.
    address public immutable owner;
    /// @notice Whether the account currently says yes to its owner's signatures.
    bool public accepting = true;

    /// @notice Only the owner may drive the account.
    error MockERC1271WalletNotOwner(address caller);

    /// @param owner_ The key whose signatures this account accepts.
    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Switches between saying yes to the owner's signatures and saying no to every signature.
    /// @param accepting_ The new answer.
    function setAccepting(bool accepting_) external {
        if (msg.sender != owner) revert MockERC1271WalletNotOwner(msg.sender);
        accepting = accepting_;
    }

    /// @notice Calls `target` as this account; a revert bubbles up unchanged (custom errors stay decodable).
    /// @param target The contract to call.
    /// @param data The calldata.
    /// @return The call's return data.
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert MockERC1271WalletNotOwner(msg.sender);
        return Address.functionCall(target, data);
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (!accepting) return _REJECT;
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? _MAGIC : _REJECT;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title CodeData
 * @notice Write-once data kept as the runtime code of a tiny contract (the SSTORE2 pattern): 200 gas a byte to write
 * instead of 22,100 a word, and EXTCODECOPY to read. The code starts with STOP (0x00) so it cannot be run.
 */
library CodeData {
    /// @notice At most this many data bytes fit in one contract (EIP-170's 24,576 minus the STOP byte).
    uint256 internal constant MAX_SIZE = 24_575;

    /// @notice The data is larger than one contract can hold.
    error CodeDataTooLarge(uint256 size, uint256 max);
    /// @notice The data contract could not be created.
    error CodeDataCreateFailed();

    /// @notice Stores `data` as a new contract's code.
    /// @param data At most {MAX_SIZE} bytes.
    /// @return pointer The data contract.
    function write(bytes memory data) internal returns (address pointer) {
        uint256 size = data.length;
        if (size > MAX_SIZE) revert CodeDataTooLarge(size, MAX_SIZE);
        uint256 runtime = size + 1;
        bytes memory creation = new bytes(runtime + 10);
        assembly ("memory-safe") {
            let p := add(creation, 0x20)
            // PUSH2 runtime, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN; then STOP and data.
            mstore(p, shl(176, or(or(shl(72, 0x61), shl(56, runtime)), 0x80600a3d393df3)))
            mstore8(add(p, 10), 0)
            mcopy(add(p, 11), add(data, 0x20), size)
            pointer := create(0, p, mload(creation))
        }
        if (pointer == address(0)) revert CodeDataCreateFailed();
    }

    /// @notice Reads the data stored at `pointer` (empty when there is no such contract).
    /// @param pointer The data contract.
    /// @return data The data.
    function read(address pointer) internal view returns (bytes memory data) {
        uint256 size = pointer.code.length;
        if (size == 0) return data;
        data = new bytes(size - 1);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(data, 0x20), 1, sub(size, 1))
        }
    }
}

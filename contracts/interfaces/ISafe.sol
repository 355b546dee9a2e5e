// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title ISafe
 * @notice The part of a Safe smart account (v1.4.1) that Covenant's modules use: module execution, owners and
 * ERC-1271 signature checks. `isValidSignature(bytes32,bytes)` is served by the Safe's fallback handler
 * (CompatibilityFallbackHandler), which checks the owners' threshold of signatures over the Safe message that wraps
 * `hash` (or that the owners approved it with `approveHash` or `signMessage`).
 */
interface ISafe {
    /// @notice Safe operation kinds; modules in Covenant only ever use Call.
    enum Operation {
        Call,
        DelegateCall
    }

    /// @notice Executes a call from an enabled module without owner signatures.
    /// @param to Destination.
    /// @param value Wei sent with the call.
    /// @param data Call data.
    /// @param operation Call or DelegateCall.
    /// @return success Whether the call succeeded.
    /// @return returnData What the call returned (or its revert data).
    function execTransactionFromModuleReturnData(
        address to,
        uint256 value,
        bytes calldata data,
        Operation operation
    ) external returns (bool success, bytes memory returnData);

    /// @notice Whether `module` is enabled on this Safe.
    /// @param module The module.
    /// @return Whether it is enabled.
    function isModuleEnabled(address module) external view returns (bool);

    /// @notice Whether `owner` is an owner of this Safe.
    /// @param owner The account.
    /// @return Whether it is an owner.
    function isOwner(address owner) external view returns (bool);

    /// @notice ERC-1271: 0x1626ba7e when the owners' signatures over the Safe message of `hash` meet the threshold.
    /// @param hash The hash the owners approve.
    /// @param signature The owners' signatures, sorted by owner, as Safe encodes them.
    /// @return magicValue 0x1626ba7e when valid.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4 magicValue);
}

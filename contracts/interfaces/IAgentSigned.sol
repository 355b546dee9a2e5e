// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title IAgentSigned
 * @notice What every Covenant contract that accepts an agent's EIP-712 signed action shares: the deadline, the
 * unordered nonce bitmap per agent (per contract, under that contract's own EIP-712 domain) and the errors.
 */
interface IAgentSigned {
    /// @notice The agent signer invalidated unused nonces (`mask` bits of bitmap `word`) in this contract.
    event AgentNoncesInvalidated(uint256 indexed agentId, uint256 indexed word, uint256 mask);

    /// @notice The signature's deadline has passed.
    error AgentSignedExpired(uint256 deadline);
    /// @notice The nonce was already used or invalidated.
    error AgentSignedNonceUsed(uint256 agentId, uint256 nonce);
    /// @notice The signature is not `expectedSigner`'s over this message (zero: the agent has no signer).
    error AgentSignedInvalidSignature(uint256 agentId, address expectedSigner);
    /// @notice The caller is not the agent signer.
    error AgentSignedNotAgentSigner(uint256 agentId, address caller);

    /// @notice Whether the agent's `nonce` is used in this contract.
    /// @param agentId The agent.
    /// @param nonce The nonce.
    /// @return Whether it is used.
    function isNonceUsed(uint256 agentId, uint256 nonce) external view returns (bool);

    /// @notice The agent signer marks unused nonces of this contract as used, e.g. of a withheld message.
    /// @param agentId The agent.
    /// @param word The bitmap word (nonce >> 8).
    /// @param mask The bits to mark used.
    function invalidateNonces(uint256 agentId, uint256 word, uint256 mask) external;
}

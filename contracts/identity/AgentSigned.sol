// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IAgentSigned} from "../interfaces/IAgentSigned.sol";
import {AgentSignatures} from "../libraries/AgentSignatures.sol";

/**
 * @title AgentSigned
 * @notice Base for contracts that take an agent's actions either from its signer directly or from any relayer of the
 * signer's EIP-712 signature. The signer is read from the AgentRegistry at the time of the call, so a rotation or a
 * recovery there takes effect here at once and old keys' signatures stop working.
 *
 * Trust assumptions: the registry reports the true agent signer. A relayer can delay a signed message but not alter
 * or replay it (per-agent unordered nonces), and the signer can always act directly instead.
 */
abstract contract AgentSigned is IAgentSigned, EIP712 {
    /// @notice The registry that names each agent's signer.
    IAgentRegistry public immutable registry;

    mapping(uint256 agentId => mapping(uint256 word => uint256)) private _nonceBitmaps;

    constructor(IAgentRegistry registry_) {
        registry = registry_;
    }

    /// @inheritdoc IAgentSigned
    function isNonceUsed(uint256 agentId, uint256 nonce) external view returns (bool) {
        return _nonceBitmaps[agentId][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IAgentSigned
    function invalidateNonces(uint256 agentId, uint256 word, uint256 mask) external {
        _requireAgentSigner(agentId);
        _nonceBitmaps[agentId][word] |= mask;
        emit AgentNoncesInvalidated(agentId, word, mask);
    }

    /// @dev A direct call: the caller must be the agent signer.
    function _requireAgentSigner(uint256 agentId) internal view returns (address signer) {
        signer = registry.agentSigner(agentId);
        if (signer == address(0) || msg.sender != signer) revert AgentSignedNotAgentSigner(agentId, msg.sender);
    }

    /// @dev A direct call by the agent signer that carries another party's signature over a message with `nonce`
    /// (e.g. the operator's half of a two-party change): checks the deadline and spends the nonce, so that other
    /// signature can never be played again.
    function _useAgentNonce(uint256 agentId, uint256 nonce, uint256 deadline) internal {
        if (block.timestamp > deadline) revert AgentSignedExpired(deadline);
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bitmap = _nonceBitmaps[agentId][nonce >> 8];
        if (bitmap & bit != 0) revert AgentSignedNonceUsed(agentId, nonce);
        _nonceBitmaps[agentId][nonce >> 8] = bitmap | bit;
    }

    /// @dev A relayed call: checks the deadline, spends the nonce and verifies the signer's signature.
    function _verifyAgentSigned(
        uint256 agentId,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) internal returns (address signer) {
        if (block.timestamp > deadline) revert AgentSignedExpired(deadline);
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bitmap = _nonceBitmaps[agentId][nonce >> 8];
        if (bitmap & bit != 0) revert AgentSignedNonceUsed(agentId, nonce);
        _nonceBitmaps[agentId][nonce >> 8] = bitmap | bit;
        signer = registry.agentSigner(agentId);
        if (signer == address(0) || !AgentSignatures.isValidNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert AgentSignedInvalidSignature(agentId, signer);
        }
    }
}

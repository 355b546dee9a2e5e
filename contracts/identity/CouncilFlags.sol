// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {ICouncilFlags} from "../interfaces/ICouncilFlags.sol";
import {AgentSigned} from "./AgentSigned.sol";

/**
 * @title CouncilFlags
 * @notice The council's flags on agents' records, created by the AgentRegistry.
 *
 * Trust assumptions:
 * - Roles are the registry's: COUNCIL_ROLE raises, resolves and escalates; DEFAULT_ADMIN_ROLE (governance) resolves
 *   escalated flags. This contract has no write access to the registry, so no flag can change a record.
 * - The agent signer is read from the registry; the agent answers directly or through a relayer of its EIP-712
 *   signature (its own nonce bitmap here). Each flag takes one answer.
 */
contract CouncilFlags is ICouncilFlags, AgentSigned {
    bytes32 public constant ANSWER_FLAG_TYPEHASH = keccak256(
        "AnswerFlag(uint256 agentId,uint256 flagId,string answer,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant _COUNCIL_ROLE = keccak256("COUNCIL_ROLE");
    bytes32 private constant _ADMIN_ROLE = 0x00;

    uint256 private _nextFlagId;
    mapping(uint256 flagId => Flag) private _flags;
    mapping(uint256 agentId => uint256[]) private _agentFlags;

    /// @param registry_ The AgentRegistry (the deployer of this contract).
    constructor(IAgentRegistry registry_) AgentSigned(registry_) EIP712("Covenant CouncilFlags", "1") {}

    /// @inheritdoc ICouncilFlags
    function flag(uint256 agentId, string calldata reason) external returns (uint256 flagId) {
        _checkRole(_COUNCIL_ROLE);
        if (!registry.agentExists(agentId)) revert CouncilFlagsNonexistentAgent(agentId);
        flagId = _nextFlagId++;
        _flags[flagId] = Flag({
            agentId: agentId,
            status: FlagStatus.Open,
            openedAt: uint40(block.timestamp),
            updatedAt: uint40(block.timestamp),
            council: msg.sender,
            reasonHash: keccak256(bytes(reason)),
            answerHash: bytes32(0)
        });
        _agentFlags[agentId].push(flagId);
        emit Flagged(flagId, agentId, msg.sender, reason);
    }

    /// @inheritdoc ICouncilFlags
    function answerFlag(uint256 flagId, string calldata answer) external {
        Flag storage f = _existingFlag(flagId);
        _requireAgentSigner(f.agentId);
        _answer(flagId, f, answer);
    }

    /// @inheritdoc ICouncilFlags
    function answerFlagBySig(
        uint256 flagId,
        string calldata answer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        Flag storage f = _existingFlag(flagId);
        uint256 agentId = f.agentId;
        bytes32 structHash = keccak256(
            abi.encode(ANSWER_FLAG_TYPEHASH, agentId, flagId, keccak256(bytes(answer)), nonce, deadline)
        );
        _verifyAgentSigned(agentId, structHash, nonce, deadline, signature);
        _answer(flagId, f, answer);
    }

    /// @inheritdoc ICouncilFlags
    function resolveFlag(uint256 flagId, string calldata note) external {
        Flag storage f = _existingFlag(flagId);
        FlagStatus status = f.status;
        if (status == FlagStatus.Open || status == FlagStatus.Answered) {
            _checkRole(_COUNCIL_ROLE);
        } else if (status == FlagStatus.Escalated) {
            _checkRole(_ADMIN_ROLE);
        } else {
            revert CouncilFlagsInvalidStatus(flagId, status);
        }
        f.status = FlagStatus.Resolved;
        f.updatedAt = uint40(block.timestamp);
        emit FlagResolved(flagId, f.agentId, msg.sender, note);
    }

    /// @inheritdoc ICouncilFlags
    function escalateFlag(uint256 flagId) external {
        Flag storage f = _existingFlag(flagId);
        FlagStatus status = f.status;
        uint256 agentId = f.agentId;
        if (IAccessControl(address(registry)).hasRole(_COUNCIL_ROLE, msg.sender)) {
            if (status != FlagStatus.Open && status != FlagStatus.Answered) {
                revert CouncilFlagsInvalidStatus(flagId, status);
            }
        } else {
            // The agent may appeal once it has answered.
            _requireAgentSigner(agentId);
            if (status != FlagStatus.Answered) revert CouncilFlagsInvalidStatus(flagId, status);
        }
        f.status = FlagStatus.Escalated;
        f.updatedAt = uint40(block.timestamp);
        emit FlagEscalated(flagId, agentId, msg.sender);
    }

    /// @inheritdoc ICouncilFlags
    function getFlag(uint256 flagId) external view returns (Flag memory) {
        if (flagId >= _nextFlagId) revert CouncilFlagsUnknownFlag(flagId);
        return _flags[flagId];
    }

    /// @inheritdoc ICouncilFlags
    function flagCount() external view returns (uint256) {
        return _nextFlagId;
    }

    /// @inheritdoc ICouncilFlags
    function openFlags(uint256 agentId) external view returns (uint256[] memory ids) {
        uint256[] storage all = _agentFlags[agentId];
        ids = new uint256[](all.length);
        uint256 n;
        for (uint256 i; i < all.length; ++i) {
            if (_flags[all[i]].status != FlagStatus.Resolved) ids[n++] = all[i];
        }
        // Shrink the array in place to the number of unresolved flags.
        assembly ("memory-safe") {
            mstore(ids, n)
        }
    }

    function _checkRole(bytes32 role) internal view {
        if (!IAccessControl(address(registry)).hasRole(role, msg.sender)) {
            revert CouncilFlagsUnauthorized(msg.sender, role);
        }
    }

    function _existingFlag(uint256 flagId) internal view returns (Flag storage) {
        if (flagId >= _nextFlagId) revert CouncilFlagsUnknownFlag(flagId);
        return _flags[flagId];
    }

    function _answer(uint256 flagId, Flag storage f, string calldata answer) internal {
        if (f.status != FlagStatus.Open) revert CouncilFlagsInvalidStatus(flagId, f.status);
        f.status = FlagStatus.Answered;
        f.updatedAt = uint40(block.timestamp);
        f.answerHash = keccak256(bytes(answer));
        emit FlagAnswered(flagId, f.agentId, answer);
    }
}

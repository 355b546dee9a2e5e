// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IAgentGoals} from "../interfaces/IAgentGoals.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {AgentSigned} from "./AgentSigned.sol";

/**
 * @title AgentGoals
 * @notice The agents' goal history, created by the AgentRegistry.
 *
 * Trust assumptions: only the agent signer (read from the registry) writes, directly or through a relayer of its
 * EIP-712 signature. Nobody can edit or delete a past change: current goals are in storage, every change is an event
 * and the running hash `goalsHead` commits to the whole sequence.
 */
contract AgentGoals is IAgentGoals, AgentSigned {
    uint256 public constant MAX_GOALS = 256;

    bytes32 public constant ADD_GOAL_TYPEHASH = keccak256(
        "AddGoal(uint256 agentId,bytes32 title,uint16 priority,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant UPDATE_GOAL_TYPEHASH = keccak256(
        "UpdateGoal(uint256 agentId,uint256 goalId,uint16 priority,uint8 status,uint256 nonce,uint256 deadline)"
    );

    mapping(uint256 agentId => mapping(uint256 goalId => Goal)) private _goals;
    mapping(uint256 agentId => uint256) private _goalCounts;
    mapping(uint256 agentId => bytes32) private _goalHeads;

    /// @param registry_ The AgentRegistry (the deployer of this contract).
    constructor(IAgentRegistry registry_) AgentSigned(registry_) EIP712("Covenant AgentGoals", "1") {}

    /// @inheritdoc IAgentGoals
    function addGoal(uint256 agentId, bytes32 title, uint16 priority) external returns (uint256 goalId) {
        _requireAgentSigner(agentId);
        goalId = _addGoal(agentId, title, priority);
    }

    /// @inheritdoc IAgentGoals
    function addGoalBySig(
        uint256 agentId,
        bytes32 title,
        uint16 priority,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 goalId) {
        bytes32 structHash = keccak256(abi.encode(ADD_GOAL_TYPEHASH, agentId, title, priority, nonce, deadline));
        _verifyAgentSigned(agentId, structHash, nonce, deadline, signature);
        goalId = _addGoal(agentId, title, priority);
    }

    /// @inheritdoc IAgentGoals
    function updateGoal(uint256 agentId, uint256 goalId, uint16 priority, GoalStatus status) external {
        _requireAgentSigner(agentId);
        _updateGoal(agentId, goalId, priority, status);
    }

    /// @inheritdoc IAgentGoals
    function updateGoalBySig(
        uint256 agentId,
        uint256 goalId,
        uint16 priority,
        GoalStatus status,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(UPDATE_GOAL_TYPEHASH, agentId, goalId, priority, uint8(status), nonce, deadline)
        );
        _verifyAgentSigned(agentId, structHash, nonce, deadline, signature);
        _updateGoal(agentId, goalId, priority, status);
    }

    /// @inheritdoc IAgentGoals
    function goalCount(uint256 agentId) external view returns (uint256) {
        return _goalCounts[agentId];
    }

    /// @inheritdoc IAgentGoals
    function goal(uint256 agentId, uint256 goalId) external view returns (Goal memory) {
        if (goalId >= _goalCounts[agentId]) revert AgentGoalsUnknownGoal(agentId, goalId);
        return _goals[agentId][goalId];
    }

    /// @inheritdoc IAgentGoals
    function goals(uint256 agentId) external view returns (Goal[] memory list) {
        uint256 count = _goalCounts[agentId];
        list = new Goal[](count);
        for (uint256 i; i < count; ++i) {
            list[i] = _goals[agentId][i];
        }
    }

    /// @inheritdoc IAgentGoals
    function goalsHead(uint256 agentId) external view returns (bytes32) {
        return _goalHeads[agentId];
    }

    function _addGoal(uint256 agentId, bytes32 title, uint16 priority) internal returns (uint256 goalId) {
        if (title == bytes32(0)) revert AgentGoalsEmptyTitle();
        goalId = _goalCounts[agentId];
        if (goalId >= MAX_GOALS) revert AgentGoalsLimitReached(agentId);
        _goalCounts[agentId] = goalId + 1;
        _goals[agentId][goalId] = Goal({
            title: title,
            priority: priority,
            status: GoalStatus.Active,
            createdAt: uint40(block.timestamp),
            updatedAt: uint40(block.timestamp)
        });
        _logGoal(agentId, goalId, title, priority, GoalStatus.Active);
    }

    function _updateGoal(uint256 agentId, uint256 goalId, uint16 priority, GoalStatus status) internal {
        if (goalId >= _goalCounts[agentId]) revert AgentGoalsUnknownGoal(agentId, goalId);
        if (status == GoalStatus.None) revert AgentGoalsInvalidStatus(uint8(status));
        Goal storage g = _goals[agentId][goalId];
        if (g.status != GoalStatus.Active) revert AgentGoalsGoalClosed(agentId, goalId);
        g.priority = priority;
        g.status = status;
        g.updatedAt = uint40(block.timestamp);
        _logGoal(agentId, goalId, g.title, priority, status);
    }

    /// @dev Extends the running hash over goal changes: no past entry can be rewritten without changing the head.
    function _logGoal(uint256 agentId, uint256 goalId, bytes32 title, uint16 priority, GoalStatus status) internal {
        bytes32 head = keccak256(abi.encode(_goalHeads[agentId], goalId, title, priority, status, block.timestamp));
        _goalHeads[agentId] = head;
        emit GoalChanged(agentId, goalId, title, priority, status, head);
    }
}

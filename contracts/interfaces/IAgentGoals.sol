// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentSigned} from "./IAgentSigned.sol";

/**
 * @title IAgentGoals
 * @notice An agent's goals: added, reprioritised and closed only by the agent signer. Every change is kept as
 * history (events) under a running hash stored on-chain, so no past entry can be rewritten unnoticed.
 */
interface IAgentGoals is IAgentSigned {
    /// @notice Life cycle of a goal. `Done` and `Dropped` are final.
    enum GoalStatus {
        None,
        Active,
        Done,
        Dropped
    }

    /// @notice A goal as stored.
    struct Goal {
        bytes32 title;
        uint16 priority;
        GoalStatus status;
        uint40 createdAt;
        uint40 updatedAt;
    }

    /// @notice A goal was added or changed. `head` = keccak256(abi.encode(prevHead, goalId, title, priority,
    /// status, block.timestamp)).
    event GoalChanged(
        uint256 indexed agentId,
        uint256 indexed goalId,
        bytes32 title,
        uint16 priority,
        GoalStatus status,
        bytes32 head
    );

    /// @notice The agent already has MAX_GOALS goals.
    error AgentGoalsLimitReached(uint256 agentId);
    /// @notice No such goal.
    error AgentGoalsUnknownGoal(uint256 agentId, uint256 goalId);
    /// @notice The goal is done or dropped.
    error AgentGoalsGoalClosed(uint256 agentId, uint256 goalId);
    /// @notice The status is not a valid target (None).
    error AgentGoalsInvalidStatus(uint8 status);
    /// @notice A goal title must not be empty.
    error AgentGoalsEmptyTitle();

    /// @notice The agent adds an active goal.
    /// @param agentId The agent.
    /// @param title A short text (UTF-8, right-padded to 32 bytes), not empty.
    /// @param priority Higher is more important.
    /// @return goalId The goal's index for this agent.
    function addGoal(uint256 agentId, bytes32 title, uint16 priority) external returns (uint256 goalId);

    /// @notice Relays `AddGoal(uint256 agentId,bytes32 title,uint16 priority,uint256 nonce,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param title The goal title.
    /// @param priority The priority.
    /// @param nonce An unused nonce of the agent in this contract.
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    /// @return goalId The goal's index for this agent.
    function addGoalBySig(
        uint256 agentId,
        bytes32 title,
        uint16 priority,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 goalId);

    /// @notice The agent reprioritises an active goal or closes it (Done or Dropped).
    /// @param agentId The agent.
    /// @param goalId The goal.
    /// @param priority The new priority.
    /// @param status The new status.
    function updateGoal(uint256 agentId, uint256 goalId, uint16 priority, GoalStatus status) external;

    /// @notice Relays
    /// `UpdateGoal(uint256 agentId,uint256 goalId,uint16 priority,uint8 status,uint256 nonce,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param goalId The goal.
    /// @param priority The new priority.
    /// @param status The new status.
    /// @param nonce An unused nonce of the agent in this contract.
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    function updateGoalBySig(
        uint256 agentId,
        uint256 goalId,
        uint16 priority,
        GoalStatus status,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Number of goals ever added.
    /// @param agentId The agent.
    /// @return The count.
    function goalCount(uint256 agentId) external view returns (uint256);

    /// @notice One goal.
    /// @param agentId The agent.
    /// @param goalId The goal.
    /// @return The goal.
    function goal(uint256 agentId, uint256 goalId) external view returns (Goal memory);

    /// @notice All the agent's goals, in order of creation.
    /// @param agentId The agent.
    /// @return The goals.
    function goals(uint256 agentId) external view returns (Goal[] memory);

    /// @notice The running hash over every goal change.
    /// @param agentId The agent.
    /// @return The head.
    function goalsHead(uint256 agentId) external view returns (bytes32);
}

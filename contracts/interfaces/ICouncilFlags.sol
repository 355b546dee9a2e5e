// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentSigned} from "./IAgentSigned.sol";

/**
 * @title ICouncilFlags
 * @notice The council's flags on agents' records. A flag is a statement about a record, never a change to it:
 * open → answered (by the agent) → resolved (by the council) or escalated (to governance, which resolves it).
 */
interface ICouncilFlags is IAgentSigned {
    /// @notice Life cycle of a flag.
    enum FlagStatus {
        None,
        Open,
        Answered,
        Resolved,
        Escalated
    }

    /// @notice A flag as stored; the texts live in events, their hashes here.
    struct Flag {
        uint256 agentId;
        FlagStatus status;
        uint40 openedAt;
        uint40 updatedAt;
        address council;
        bytes32 reasonHash;
        bytes32 answerHash;
    }

    /// @notice The council flagged an agent's record.
    event Flagged(uint256 indexed flagId, uint256 indexed agentId, address indexed council, string reason);
    /// @notice The agent answered a flag.
    event FlagAnswered(uint256 indexed flagId, uint256 indexed agentId, string answer);
    /// @notice A flag was escalated to governance.
    event FlagEscalated(uint256 indexed flagId, uint256 indexed agentId, address indexed by);
    /// @notice A flag was resolved (by the council, or by governance once escalated).
    event FlagResolved(uint256 indexed flagId, uint256 indexed agentId, address indexed by, string note);

    /// @notice The caller lacks the registry role this step needs.
    error CouncilFlagsUnauthorized(address caller, bytes32 role);
    /// @notice The agent does not exist.
    error CouncilFlagsNonexistentAgent(uint256 agentId);
    /// @notice No such flag.
    error CouncilFlagsUnknownFlag(uint256 flagId);
    /// @notice The flag is not in a status that allows this step.
    error CouncilFlagsInvalidStatus(uint256 flagId, FlagStatus status);

    /// @notice The council flags an agent's record with a reason.
    /// @param agentId The agent.
    /// @param reason Why.
    /// @return flagId The flag's id.
    function flag(uint256 agentId, string calldata reason) external returns (uint256 flagId);

    /// @notice The agent signer answers an open flag (once).
    /// @param flagId The flag.
    /// @param answer The answer.
    function answerFlag(uint256 flagId, string calldata answer) external;

    /// @notice Relays `AnswerFlag(uint256 agentId,uint256 flagId,string answer,uint256 nonce,uint256 deadline)`.
    /// @param flagId The flag.
    /// @param answer The answer.
    /// @param nonce An unused nonce of the agent (this contract's own bitmap).
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    function answerFlagBySig(
        uint256 flagId,
        string calldata answer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The council resolves an open or answered flag; governance (the registry admin) an escalated one.
    /// @param flagId The flag.
    /// @param note The resolution.
    function resolveFlag(uint256 flagId, string calldata note) external;

    /// @notice The council escalates an open or answered flag; the agent signer may appeal an answered one.
    /// @param flagId The flag.
    function escalateFlag(uint256 flagId) external;

    /// @notice One flag.
    /// @param flagId The flag.
    /// @return The flag.
    function getFlag(uint256 flagId) external view returns (Flag memory);

    /// @notice Number of flags ever raised.
    /// @return The count.
    function flagCount() external view returns (uint256);

    /// @notice Ids of the agent's flags that are not resolved.
    /// @param agentId The agent.
    /// @return The ids.
    function openFlags(uint256 agentId) external view returns (uint256[] memory);
}

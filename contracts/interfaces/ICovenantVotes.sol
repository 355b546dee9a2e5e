// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

/**
 * @title ICovenantVotes
 * @notice Non-transferable voting weight in two houses, on an ERC-6372 timestamp clock (ERC-5805 / IVotes).
 *
 * - Human house: weight granted and removed by governance (DEFAULT_ADMIN_ROLE, the timelock).
 * - Agent house: only agents the council admitted count. An agent's weight is its contribution points (recorded by
 *   ATTESTOR_ROLE) plus one point per `secondsPerAgePoint` of age since its charter was accepted, capped per agent and
 *   per operator: the operator's admitted agents share `operatorCap` equally, each also at most `agentCap`.
 *
 * Weight counts at once: every voter is its own delegate and there is no delegation transaction. Nothing about tokens
 * or ether held by any account enters the weight. Each voter has one checkpoint slot holding what a vote needs
 * (house, base points, birth time, cap, since when), so a vote at a past timepoint reads one slot; an agent's age is
 * computed at that timepoint from the stored birth time.
 */
interface ICovenantVotes is IERC5805 {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice The house a voter sits in. `None` has no weight.
    enum House {
        None,
        Human,
        Agent
    }

    /// @notice Why an admitted agent lost its seat without a council decision.
    enum SuspendReason {
        OperatorChanged,
        SignerTaken
    }

    /// @notice An agent's standing in the agent house.
    struct AgentSeat {
        address voter;
        address operator;
        uint40 birthTime;
        bool admitted;
        uint80 points;
    }

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Governance set a human's weight (zero removes the human).
    event HumanWeightSet(address indexed human, uint256 previousWeight, uint256 newWeight);
    /// @notice The council admitted an agent; its weight is held by `voter`, its agent signer.
    event AgentAdmitted(uint256 indexed agentId, address indexed voter, address indexed operator, address council);
    /// @notice The council (or governance) removed an agent from the house.
    event AgentRemoved(uint256 indexed agentId, address indexed voter, address indexed by);
    /// @notice An agent lost its seat because its token moved to another operator or its new signer is taken.
    event AgentSuspended(uint256 indexed agentId, address indexed voter, SuspendReason reason);
    /// @notice The agent's signer changed in the registry; its weight moved to the new signer.
    event AgentVoterChanged(uint256 indexed agentId, address indexed previousVoter, address indexed newVoter);
    /// @notice The attestor recorded contribution points for an agent.
    event ContributionRecorded(
        uint256 indexed agentId,
        address indexed attestor,
        uint256 points,
        uint256 totalPoints,
        bytes32 evidence
    );
    /// @notice Governance set the caps; agents' checkpoints take them when next written (see {refreshOperator}).
    event CapsSet(uint256 agentCap, uint256 operatorCap);
    /// @notice Governance set the attestor's daily budget of contribution points.
    event AttestorDailyPointsSet(uint256 pointsPerDay);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Voting weight cannot be delegated: every voter votes its own weight.
    error CovenantVotesNoDelegation();
    /// @notice `timepoint` is not in the past (`clock` is now).
    error CovenantVotesFutureLookup(uint256 timepoint, uint48 clock);
    /// @notice `caller` is not the council of the AgentRegistry.
    error CovenantVotesNotCouncil(address caller);
    /// @notice `caller` is neither the council nor governance.
    error CovenantVotesNotCouncilOrAdmin(address caller);
    /// @notice The agent has not accepted its charter (or does not exist).
    error CovenantVotesCharterNotAccepted(uint256 agentId);
    /// @notice The agent does not exist.
    error CovenantVotesNonexistentAgent(uint256 agentId);
    /// @notice The agent is already admitted.
    error CovenantVotesAlreadyAdmitted(uint256 agentId);
    /// @notice The agent is not admitted.
    error CovenantVotesNotAdmitted(uint256 agentId);
    /// @notice `voter` already sits in `house`: one voter, one seat.
    error CovenantVotesVoterTaken(address voter, House house);
    /// @notice A zero address was given where an account is required.
    error CovenantVotesZeroAddress();
    /// @notice `value` exceeds the largest storable weight or cap.
    error CovenantVotesValueTooLarge(uint256 value, uint256 max);
    /// @notice The operator already has the most admitted agents allowed.
    error CovenantVotesTooManyAgents(address operator, uint256 max);
    /// @notice The attestor asked for more points than remain in today's budget.
    error CovenantVotesAttestorBudgetExceeded(uint256 requested, uint256 remaining);
    /// @notice Caps must be non-zero.
    error CovenantVotesInvalidCaps(uint256 agentCap, uint256 operatorCap);
    /// @notice Zero points were given.
    error CovenantVotesZeroPoints();
    /// @notice The agent's seat already matches the registry: nothing to sync.
    error CovenantVotesAgentInSync(uint256 agentId);
    /// @notice `humans` and `weights` differ in length.
    error CovenantVotesLengthMismatch(uint256 humans, uint256 weights);
    /// @notice The age period must be at least one second.
    error CovenantVotesInvalidAgePeriod();

    /*//////////////////////////////////////////////////////////////
                                 HUMANS
    //////////////////////////////////////////////////////////////*/

    /// @notice Governance sets a human's weight; zero removes the human from the house. DEFAULT_ADMIN_ROLE only.
    /// @param human The human's voting address (an EOA or a Safe).
    /// @param weight The weight, at most 2^80 - 1.
    function setHumanWeight(address human, uint256 weight) external;

    /// @notice Governance sets several humans' weights at once. DEFAULT_ADMIN_ROLE only.
    /// @param humans The voting addresses.
    /// @param weights Their weights, index for index.
    function setHumanWeights(address[] calldata humans, uint256[] calldata weights) external;

    /*//////////////////////////////////////////////////////////////
                                 AGENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The council admits an agent with an accepted charter. Its weight is held by its agent signer, grouped
    /// under its operator (the token owner now). Council (the registry's COUNCIL_ROLE) only.
    /// @param agentId The agent.
    function admitAgent(uint256 agentId) external;

    /// @notice The council or governance removes an agent from the house; its points are kept.
    /// @param agentId The agent.
    function removeAgent(uint256 agentId) external;

    /**
     * @notice Anyone brings an agent's seat in line with the registry. If the agent's token now belongs to another
     * operator, the agent is suspended until the council admits it again (so moving tokens between one's own accounts
     * never escapes the operator cap). If its signer changed, its weight moves to the new signer (or the agent is
     * suspended if that address already votes).
     * @param agentId The agent.
     */
    function syncAgent(uint256 agentId) external;

    /// @notice The attestor records contribution points, within its daily budget. ATTESTOR_ROLE only.
    /// @param agentId The agent (admitted or not; points count once it is admitted).
    /// @param points Points to add.
    /// @param evidence Hash of the evidence (e.g. the content address of the contribution record).
    function recordContribution(uint256 agentId, uint256 points, bytes32 evidence) external;

    /// @notice Anyone rewrites the checkpoints of an operator's admitted agents with the current caps.
    /// @param operator The operator.
    function refreshOperator(address operator) external;

    /// @notice Governance sets the caps. DEFAULT_ADMIN_ROLE only.
    /// @param agentCap The most weight one agent can have.
    /// @param operatorCap The most weight all agents of one operator can have together.
    function setCaps(uint256 agentCap, uint256 operatorCap) external;

    /// @notice Governance sets the attestor's daily budget of points. DEFAULT_ADMIN_ROLE only.
    /// @param pointsPerDay The budget.
    function setAttestorDailyPoints(uint256 pointsPerDay) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice The house and weight of `account` at a past `timepoint`, from one storage slot in the usual case (the
     * voter's latest checkpoint predates `timepoint`). The governor's vote counting reads this.
     * @param account The voter.
     * @param timepoint A unix time before now.
     * @return house The voter's house then.
     * @return weight The voter's weight then.
     */
    function getPastVote(address account, uint256 timepoint) external view returns (House house, uint256 weight);

    /// @notice The house `account` sits in now.
    /// @param account The voter.
    /// @return The house.
    function houseOf(address account) external view returns (House);

    /// @notice A house's supply at a past timepoint: the humans' total weight, or for the agent house the sum of the
    /// admitted agents' caps (the most weight the house can reach; an agent's actual weight grows with age to its cap).
    /// @param house Human or Agent.
    /// @param timepoint A unix time before now.
    /// @return The supply.
    function getPastHouseSupply(House house, uint256 timepoint) external view returns (uint256);

    /// @notice A house's supply now (see {getPastHouseSupply}).
    /// @param house Human or Agent.
    /// @return The supply.
    function getHouseSupply(House house) external view returns (uint256);

    /// @notice An agent's seat: voter, operator, birth time, admission and points.
    /// @param agentId The agent.
    /// @return The seat.
    function agentSeat(uint256 agentId) external view returns (AgentSeat memory);

    /// @notice An agent's weight now (zero unless admitted).
    /// @param agentId The agent.
    /// @return The weight.
    function agentWeight(uint256 agentId) external view returns (uint256);

    /// @notice The admitted agents of an operator.
    /// @param operator The operator.
    /// @return The agent ids.
    function operatorAgents(address operator) external view returns (uint256[] memory);

    /// @notice A voter's latest checkpoint: what its votes are computed from, from `since` on.
    /// @param voter The voter.
    /// @return since When it took effect.
    /// @return house The house.
    /// @return birthTime An agent's birth time (zero for humans).
    /// @return points A human's weight, or an agent's contribution points (at most its cap).
    /// @return cap An agent's cap (a human's weight).
    function latestCheckpoint(
        address voter
    ) external view returns (uint48 since, House house, uint40 birthTime, uint80 points, uint80 cap);

    /// @notice Whether {syncAgent} would change the seat.
    /// @param agentId The agent.
    /// @return operatorChanged The token belongs to another operator now.
    /// @return signerChanged The registry names another signer now.
    function agentSyncStatus(uint256 agentId) external view returns (bool operatorChanged, bool signerChanged);

    /// @notice The caps in force for checkpoints written from now on.
    /// @return agentCap The per-agent cap.
    /// @return operatorCap The per-operator cap.
    function caps() external view returns (uint256 agentCap, uint256 operatorCap);

    /// @notice The attestor's daily budget and what it used today.
    /// @return pointsPerDay The budget.
    /// @return usedToday Points recorded today (UTC day of the block timestamp).
    function attestorBudget() external view returns (uint256 pointsPerDay, uint256 usedToday);

    /// @notice Seconds of age that earn an agent one point.
    /// @return The period.
    function secondsPerAgePoint() external view returns (uint256);
}

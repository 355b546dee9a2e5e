// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title IGovernorCountingHouses
 * @notice Vote counting in two houses. The human house decides: a proposal passes when the humans reach their quorum
 * (for + abstain) and more humans' weight is for than against. The agent house's tally is recorded and shown; when
 * governance makes it binding (or for proposals that always need both houses) the agents must pass the same test.
 * Support values are OpenZeppelin's "bravo": 0 = against, 1 = for, 2 = abstain.
 */
interface IGovernorCountingHouses {
    /// @notice Governance set the quorums (basis points of each house's supply at the proposal's snapshot).
    event QuorumsSet(uint256 humanQuorumBps, uint256 agentQuorumBps);
    /// @notice Governance made the agent house binding (both houses must pass) or advisory.
    event AgentHouseBindingSet(bool binding);

    /// @notice `voter` had no voting weight at the proposal's snapshot.
    error GovernorCountingHousesNoWeight(address voter, uint256 timepoint);
    /// @notice A quorum must be 1..10,000 basis points.
    error GovernorCountingHousesInvalidQuorum(uint256 quorumBps);

    /// @notice The human house's tally and quorum for a proposal.
    /// @param proposalId The proposal.
    /// @return forVotes Weight for.
    /// @return againstVotes Weight against.
    /// @return abstainVotes Weight abstaining.
    /// @return quorum The human quorum this proposal needs (for + abstain); from today's supply while pending.
    function humanHouseVotes(
        uint256 proposalId
    ) external view returns (uint256 forVotes, uint256 againstVotes, uint256 abstainVotes, uint256 quorum);

    /// @notice The agent house's tally and quorum for a proposal.
    /// @param proposalId The proposal.
    /// @return forVotes Weight for.
    /// @return againstVotes Weight against.
    /// @return abstainVotes Weight abstaining.
    /// @return quorum The agent quorum (it decides only when the agent house is binding for this proposal).
    function agentHouseVotes(
        uint256 proposalId
    ) external view returns (uint256 forVotes, uint256 againstVotes, uint256 abstainVotes, uint256 quorum);

    /// @notice OpenZeppelin GovernorCountingSimple's view, for tools that know it: the deciding (human) house.
    /// @param proposalId The proposal.
    /// @return againstVotes Human weight against.
    /// @return forVotes Human weight for.
    /// @return abstainVotes Human weight abstaining.
    function proposalVotes(
        uint256 proposalId
    ) external view returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes);

    /// @notice Whether the agent house decides this proposal too.
    /// @param proposalId The proposal.
    /// @return Whether both houses must pass.
    function agentHouseBinding(uint256 proposalId) external view returns (bool);

    /// @notice The voting rules in force now.
    /// @return humanQuorumBps Human quorum in basis points of the human supply.
    /// @return agentQuorumBps Agent quorum in basis points of the agent house's capacity.
    /// @return binding Whether the agent house is binding for new proposals.
    function votingRules() external view returns (uint256 humanQuorumBps, uint256 agentQuorumBps, bool binding);

    /// @notice Sets both quorums. Governance only (a passed proposal).
    /// @param humanQuorumBps Human quorum, 1..10,000 basis points.
    /// @param agentQuorumBps Agent quorum, 1..10,000 basis points.
    function setQuorums(uint16 humanQuorumBps, uint16 agentQuorumBps) external;

    /// @notice Makes the agent house binding or advisory for proposals whose snapshot comes after. Governance only.
    /// @param binding Whether both houses must pass.
    function setAgentHouseBinding(bool binding) external;
}

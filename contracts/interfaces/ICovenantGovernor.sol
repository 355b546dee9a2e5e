// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title ICovenantGovernor
 * @notice What CovenantGovernor adds to OpenZeppelin's Governor (with settings, sequential ids, compact proposal
 * storage, timelock control, the proposal guardian and two-house counting):
 *
 * - Evolution proposals: a call to the EvolutionRegistry's `deployEvolution(id)` links the proposal to that evolution
 *   at creation, which the registry allows only for a passed, recent simulation of exactly the proposal's actions.
 *   Its risk score (0..100) raises the quorum of both houses by 1% per point (up to twice the set quorum) and delays
 *   execution by one hour per point after the timelock's own delay.
 * - Guardian replacement: a proposal calling `setProposalGuardian` may contain only that call and the timelock's
 *   `grantRole(CANCELLER_ROLE, newGuardian)` / `revokeRole(CANCELLER_ROLE, currentGuardian)`. The guardian cannot
 *   cancel it (neither through the governor nor through the timelock, where its operation is made immune at queue
 *   time); in exchange it must pass both houses, at twice the quorum, and waits the longest extra delay (100 hours).
 */
interface ICovenantGovernor {
    /// @notice Constructor settings.
    struct Config {
        uint48 votingDelay;
        uint32 votingPeriod;
        uint256 proposalThreshold;
        uint16 humanQuorumBps;
        uint16 agentQuorumBps;
        bool agentHouseBinding;
    }

    /// @notice A proposal got requirements beyond the ordinary: an evolution's risk, or a guardian replacement.
    event ProposalRequirementsSet(uint256 indexed proposalId, uint8 riskScore, bool guardianChange);

    /// @notice A guardian replacement may contain only the replacement and its canceller-role changes.
    error CovenantGovernorGuardianChangeNotAlone(uint256 index);
    /// @notice A guardian-replacement call is malformed (second replacement, zero guardian, or role call for another
    /// account than the new or the current guardian).
    error CovenantGovernorInvalidGuardianChange(uint256 index);
    /// @notice The guardian cannot be removed, only replaced.
    error CovenantGovernorZeroGuardian();
    /// @notice The proposal's extra (risk) delay has not passed.
    error CovenantGovernorNotReady(uint256 proposalId, uint256 eta);
    /// @notice The voting contract's clock is not the timestamp clock this governor uses.
    error CovenantGovernorClockMismatch();
    /// @notice A call to the EvolutionRegistry's deploy or rollback must carry exactly one uint256.
    error CovenantGovernorMalformedEvolutionCall(uint256 index);

    /// @notice A proposal's requirements.
    /// @param proposalId The proposal.
    /// @return riskScore The highest risk score of the evolutions it deploys (100 for a guardian replacement).
    /// @return guardianChange Whether it replaces the guardian (and so cannot be vetoed).
    /// @return quorumScaleBps The quorum multiplier in basis points (10,000 = the set quorum).
    /// @return extraDelay Seconds added after the timelock's delay before it can execute.
    function proposalRequirements(
        uint256 proposalId
    ) external view returns (uint8 riskScore, bool guardianChange, uint256 quorumScaleBps, uint256 extraDelay);

    /// @notice The voting contract.
    /// @return Its address.
    function votesContract() external view returns (address);

    /// @notice The EvolutionRegistry whose deployments this governor links.
    /// @return Its address.
    function evolutionRegistry() external view returns (address);
}

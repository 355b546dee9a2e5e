// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICovenantVotes} from "../interfaces/ICovenantVotes.sol";
import {IGovernorCountingHouses} from "../interfaces/IGovernorCountingHouses.sol";

/**
 * @title GovernorCountingHouses
 * @notice Counting module for the two houses of CovenantVotes (see {IGovernorCountingHouses}). A vote reads the
 * voter's house and weight at the snapshot in one call, marks the voter and adds to that house's packed tally.
 *
 * Trust assumptions: the voting contract reports each voter's house and weight; the rules (quorums, binding) are
 * checkpointed, so a change applies to proposals whose snapshot comes after it, never to a count under way.
 */
abstract contract GovernorCountingHouses is IGovernorCountingHouses, Governor {
    using Checkpoints for Checkpoints.Trace208;

    uint256 private constant _BPS = 10_000;

    /// @dev One house's tally in one slot: for (80) | against (80) | abstain (80).
    struct Tally {
        uint80 forVotes;
        uint80 againstVotes;
        uint80 abstainVotes;
    }

    mapping(uint256 proposalId => Tally) private _humanTallies;
    mapping(uint256 proposalId => Tally) private _agentTallies;
    mapping(uint256 proposalId => mapping(address voter => bool)) private _hasVoted;
    /// @dev Rules by timepoint: humanQuorumBps (16) | agentQuorumBps (16) << 16 | binding << 32.
    Checkpoints.Trace208 private _rules;

    /// @param humanQuorumBps Initial human quorum.
    /// @param agentQuorumBps Initial agent quorum.
    /// @param binding Whether the agent house starts binding.
    constructor(uint16 humanQuorumBps, uint16 agentQuorumBps, bool binding) {
        _setRules(humanQuorumBps, agentQuorumBps, binding);
        emit QuorumsSet(humanQuorumBps, agentQuorumBps);
        emit AgentHouseBindingSet(binding);
    }

    /*//////////////////////////////////////////////////////////////
                             HOOKS FOR THE GOVERNOR
    //////////////////////////////////////////////////////////////*/

    /// @dev The voter's house and weight at `timepoint` (a past one), in one read of the voting contract.
    function _voteOf(address account, uint256 timepoint) internal view virtual returns (ICovenantVotes.House, uint256);

    /// @dev A house's supply at `timepoint` (today's supply when `timepoint` is not yet past).
    function _houseSupply(ICovenantVotes.House house, uint256 timepoint) internal view virtual returns (uint256);

    /// @dev Per-proposal requirements: the quorum scale (10,000 = as set) and whether both houses must pass regardless
    /// of the binding rule.
    function _proposalRequirements(
        uint256 proposalId
    ) internal view virtual returns (uint256 quorumScaleBps, bool bothHouses);

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The counting mode (ERC-6372 tooling reads it).
    /// @return The mode string.
    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure virtual override returns (string memory) {
        return "support=bravo&quorum=for,abstain&houses=human,agent";
    }

    /// @notice Whether `account` voted on the proposal.
    /// @param proposalId The proposal.
    /// @param account The voter.
    /// @return Whether it voted.
    function hasVoted(uint256 proposalId, address account) public view virtual override returns (bool) {
        return _hasVoted[proposalId][account];
    }

    /// @inheritdoc IGovernorCountingHouses
    function humanHouseVotes(
        uint256 proposalId
    ) public view virtual returns (uint256 forVotes, uint256 againstVotes, uint256 abstainVotes, uint256 quorum_) {
        Tally memory t = _humanTallies[proposalId];
        (uint256 humanQuorum, , ) = _proposalQuorums(proposalId);
        return (t.forVotes, t.againstVotes, t.abstainVotes, humanQuorum);
    }

    /// @inheritdoc IGovernorCountingHouses
    function agentHouseVotes(
        uint256 proposalId
    ) public view virtual returns (uint256 forVotes, uint256 againstVotes, uint256 abstainVotes, uint256 quorum_) {
        Tally memory t = _agentTallies[proposalId];
        (, uint256 agentQuorum, ) = _proposalQuorums(proposalId);
        return (t.forVotes, t.againstVotes, t.abstainVotes, agentQuorum);
    }

    /// @inheritdoc IGovernorCountingHouses
    function proposalVotes(
        uint256 proposalId
    ) public view virtual returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes) {
        Tally memory t = _humanTallies[proposalId];
        return (t.againstVotes, t.forVotes, t.abstainVotes);
    }

    /// @inheritdoc IGovernorCountingHouses
    function agentHouseBinding(uint256 proposalId) public view virtual returns (bool) {
        uint256 snapshot = proposalSnapshot(proposalId);
        if (snapshot == 0) revert GovernorNonexistentProposal(proposalId);
        (, , bool bindingRule) = _unpackRules(_rules.upperLookupRecent(SafeCast.toUint48(snapshot)));
        if (bindingRule) return true;
        (, bool bothHouses) = _proposalRequirements(proposalId);
        return bothHouses;
    }

    /// @inheritdoc IGovernorCountingHouses
    function votingRules() public view virtual returns (uint256 humanQuorumBps, uint256 agentQuorumBps, bool binding) {
        return _unpackRules(_rules.latest());
    }

    /// @notice The human house's quorum at a timepoint, without any per-proposal scaling (IGovernor).
    /// @param timepoint The timepoint.
    /// @return The quorum.
    function quorum(uint256 timepoint) public view virtual override returns (uint256) {
        (uint256 humanBps, , ) = _unpackRules(_rules.upperLookupRecent(SafeCast.toUint48(timepoint)));
        return Math.mulDiv(_houseSupply(ICovenantVotes.House.Human, timepoint), humanBps, _BPS);
    }

    /*//////////////////////////////////////////////////////////////
                               SETTINGS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IGovernorCountingHouses
    function setQuorums(uint16 humanQuorumBps, uint16 agentQuorumBps) public virtual onlyGovernance {
        (, , bool binding) = _unpackRules(_rules.latest());
        _setRules(humanQuorumBps, agentQuorumBps, binding);
        emit QuorumsSet(humanQuorumBps, agentQuorumBps);
    }

    /// @inheritdoc IGovernorCountingHouses
    function setAgentHouseBinding(bool binding) public virtual onlyGovernance {
        (uint256 humanBps, uint256 agentBps, ) = _unpackRules(_rules.latest());
        _setRules(uint16(humanBps), uint16(agentBps), binding);
        emit AgentHouseBindingSet(binding);
    }

    /*//////////////////////////////////////////////////////////////
                               COUNTING
    //////////////////////////////////////////////////////////////*/

    /// @dev One read of the voting contract gives house and weight; the tally of that house takes the vote.
    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal virtual override returns (uint256) {
        _validateStateBitmap(proposalId, _encodeStateBitmap(ProposalState.Active));
        (ICovenantVotes.House house, uint256 weight) = _voteOf(account, proposalSnapshot(proposalId));
        _countHouseVote(proposalId, account, support, house, weight);
        if (params.length == 0) {
            emit VoteCast(account, proposalId, support, weight, reason);
        } else {
            emit VoteCastWithParams(account, proposalId, support, weight, reason, params);
        }
        _tallyUpdated(proposalId);
        return weight;
    }

    /// @dev Kept for the Governor's interface; {_castVote} counts without it.
    function _countVote(
        uint256 proposalId,
        address account,
        uint8 support,
        uint256 totalWeight,
        bytes memory
    ) internal virtual override returns (uint256) {
        (ICovenantVotes.House house, ) = _voteOf(account, proposalSnapshot(proposalId));
        _countHouseVote(proposalId, account, support, house, totalWeight);
        return totalWeight;
    }

    function _countHouseVote(
        uint256 proposalId,
        address account,
        uint8 support,
        ICovenantVotes.House house,
        uint256 weight
    ) internal virtual {
        if (weight == 0 || house == ICovenantVotes.House.None) {
            revert GovernorCountingHousesNoWeight(account, proposalSnapshot(proposalId));
        }
        mapping(address => bool) storage voted = _hasVoted[proposalId];
        if (voted[account]) revert GovernorAlreadyCastVote(account);
        voted[account] = true;

        mapping(uint256 => Tally) storage tallies = house == ICovenantVotes.House.Human ? _humanTallies : _agentTallies;
        Tally memory t = tallies[proposalId];
        uint80 w = SafeCast.toUint80(weight);
        if (support == 0) t.againstVotes += w;
        else if (support == 1) t.forVotes += w;
        else if (support == 2) t.abstainVotes += w;
        else revert GovernorInvalidVoteType();
        tallies[proposalId] = t; // one slot, one write
    }

    /// @dev Humans reach their (scaled) quorum; agents too when binding for this proposal.
    function _quorumReached(uint256 proposalId) internal view virtual override returns (bool) {
        (uint256 humanQuorum, uint256 agentQuorum, bool binding) = _proposalQuorums(proposalId);
        Tally memory human = _humanTallies[proposalId];
        if (uint256(human.forVotes) + human.abstainVotes < humanQuorum) return false;
        if (!binding) return true;
        Tally memory agent = _agentTallies[proposalId];
        return uint256(agent.forVotes) + agent.abstainVotes >= agentQuorum;
    }

    /// @dev More for than against among humans; among agents too when binding for this proposal.
    function _voteSucceeded(uint256 proposalId) internal view virtual override returns (bool) {
        Tally memory human = _humanTallies[proposalId];
        if (human.forVotes <= human.againstVotes) return false;
        if (!agentHouseBinding(proposalId)) return true;
        Tally memory agent = _agentTallies[proposalId];
        return agent.forVotes > agent.againstVotes;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev The proposal's two quorums (scaled by its requirements) and whether the agent house binds it.
    function _proposalQuorums(
        uint256 proposalId
    ) internal view returns (uint256 humanQuorum, uint256 agentQuorum, bool binding) {
        uint256 snapshot = proposalSnapshot(proposalId);
        if (snapshot == 0) revert GovernorNonexistentProposal(proposalId);
        (uint256 humanBps, uint256 agentBps, bool bindingRule) = _unpackRules(
            _rules.upperLookupRecent(SafeCast.toUint48(snapshot))
        );
        (uint256 scaleBps, bool bothHouses) = _proposalRequirements(proposalId);
        humanQuorum = _scaledQuorum(ICovenantVotes.House.Human, snapshot, humanBps, scaleBps);
        agentQuorum = _scaledQuorum(ICovenantVotes.House.Agent, snapshot, agentBps, scaleBps);
        binding = bindingRule || bothHouses;
    }

    function _scaledQuorum(
        ICovenantVotes.House house,
        uint256 snapshot,
        uint256 quorumBps,
        uint256 scaleBps
    ) private view returns (uint256) {
        uint256 supply = _houseSupply(house, snapshot);
        return Math.min(supply, Math.mulDiv(supply, quorumBps * scaleBps, _BPS * _BPS));
    }

    function _setRules(uint16 humanQuorumBps, uint16 agentQuorumBps, bool binding) private {
        if (humanQuorumBps == 0 || humanQuorumBps > _BPS) revert GovernorCountingHousesInvalidQuorum(humanQuorumBps);
        if (agentQuorumBps == 0 || agentQuorumBps > _BPS) revert GovernorCountingHousesInvalidQuorum(agentQuorumBps);
        uint256 packed = uint256(humanQuorumBps) | (uint256(agentQuorumBps) << 16) | (uint256(binding ? 1 : 0) << 32);
        _rules.push(clock(), uint208(packed));
    }

    function _unpackRules(
        uint256 packed
    ) private pure returns (uint256 humanQuorumBps, uint256 agentQuorumBps, bool binding) {
        return (packed & 0xffff, (packed >> 16) & 0xffff, (packed >> 32) & 1 == 1);
    }
}

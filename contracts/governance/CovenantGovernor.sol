// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
// solhint-disable-next-line max-line-length
import {GovernorSequentialProposalId} from "@openzeppelin/contracts/governance/extensions/GovernorSequentialProposalId.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorProposalGuardian} from "@openzeppelin/contracts/governance/extensions/GovernorProposalGuardian.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ICovenantGovernor} from "../interfaces/ICovenantGovernor.sol";
import {ICovenantTimelock} from "../interfaces/ICovenantTimelock.sol";
import {ICovenantVotes} from "../interfaces/ICovenantVotes.sol";
import {IEvolutionRegistry} from "../interfaces/IEvolutionRegistry.sol";
import {GovernorCompactStorage} from "./GovernorCompactStorage.sol";
import {GovernorCountingHouses} from "./GovernorCountingHouses.sol";

/**
 * @title CovenantGovernor
 * @notice Covenant's governor: OpenZeppelin Governor with settings, sequential proposal ids, proposals stored by id
 * (queue, execute and cancel take the id alone, as on a block explorer), timelock control, the proposal guardian as
 * the human veto, and two-house counting over CovenantVotes. See {ICovenantGovernor} for what it adds.
 *
 * Trust assumptions:
 * - The timelock (CovenantTimelock) executes every passed proposal; this governor is its only proposer and executor.
 * - The guardian (a Safe) can cancel any proposal before execution, except one that replaces the guardian.
 * - CovenantVotes reports weights and supplies; the EvolutionRegistry refuses to link an evolution without a passed,
 *   recent attestation of exactly the proposal's actions.
 * - The clock is the block timestamp, the same as CovenantVotes' (checked at construction).
 */
contract CovenantGovernor is
    ICovenantGovernor,
    GovernorSettings,
    GovernorCompactStorage,
    GovernorTimelockControl,
    GovernorProposalGuardian,
    GovernorCountingHouses
{
    /// @notice Quorum increase per risk point, in basis points of the set quorum (100 points: twice the quorum).
    uint256 public constant RISK_QUORUM_BPS_PER_POINT = 100;
    /// @notice Extra execution delay per risk point.
    uint256 public constant RISK_DELAY_PER_POINT = 1 hours;
    /// @notice The risk a guardian replacement is treated with.
    uint8 public constant GUARDIAN_CHANGE_RISK = 100;

    bytes32 private constant _CANCELLER_ROLE = keccak256("CANCELLER_ROLE");

    /// @dev Written only for proposals with requirements: riskScore (8) | guardianChange (8).
    struct Requirements {
        uint8 riskScore;
        bool guardianChange;
    }

    ICovenantVotes private immutable _votes;
    IEvolutionRegistry private immutable _evolutionRegistry;
    mapping(uint256 proposalId => Requirements) private _requirements;

    /// @param votes_ CovenantVotes.
    /// @param timelock_ The CovenantTimelock.
    /// @param evolutionRegistry_ The EvolutionRegistry.
    /// @param guardian The guardian Safe.
    /// @param config Voting delay and period (seconds), proposal threshold, quorums and the binding rule.
    constructor(
        ICovenantVotes votes_,
        TimelockController timelock_,
        IEvolutionRegistry evolutionRegistry_,
        address guardian,
        Config memory config
    )
        Governor("CovenantGovernor")
        GovernorSettings(config.votingDelay, config.votingPeriod, config.proposalThreshold)
        GovernorTimelockControl(timelock_)
        GovernorCountingHouses(config.humanQuorumBps, config.agentQuorumBps, config.agentHouseBinding)
    {
        if (keccak256(bytes(votes_.CLOCK_MODE())) != keccak256("mode=timestamp")) {
            revert CovenantGovernorClockMismatch();
        }
        _votes = votes_;
        _evolutionRegistry = evolutionRegistry_;
        _setProposalGuardian(guardian);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICovenantGovernor
    function proposalRequirements(
        uint256 proposalId
    ) public view returns (uint8 riskScore, bool guardianChange, uint256 quorumScaleBps, uint256 extraDelay) {
        Requirements memory r = _requirements[proposalId];
        riskScore = r.guardianChange ? GUARDIAN_CHANGE_RISK : r.riskScore;
        guardianChange = r.guardianChange;
        quorumScaleBps = 10_000 + uint256(riskScore) * RISK_QUORUM_BPS_PER_POINT;
        extraDelay = uint256(riskScore) * RISK_DELAY_PER_POINT;
    }

    /// @inheritdoc ICovenantGovernor
    function votesContract() external view returns (address) {
        return address(_votes);
    }

    /// @inheritdoc ICovenantGovernor
    function evolutionRegistry() external view returns (address) {
        return address(_evolutionRegistry);
    }

    /// @notice The clock: the block timestamp (ERC-6372), the same as CovenantVotes'.
    /// @return The current timepoint.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 clock description.
    /// @return "mode=timestamp".
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /*//////////////////////////////////////////////////////////////
                        PROPOSALS WITH REQUIREMENTS
    //////////////////////////////////////////////////////////////*/

    /// @dev Stores the proposal, then links evolutions and checks guardian replacements.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override(Governor, GovernorCompactStorage) returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        Requirements memory r = _inspectActions(proposalId, targets, values, calldatas);
        if (r.riskScore != 0 || r.guardianChange) {
            _requirements[proposalId] = r;
            emit ProposalRequirementsSet(
                proposalId,
                r.guardianChange ? GUARDIAN_CHANGE_RISK : r.riskScore,
                r.guardianChange
            );
        }
    }

    /// @dev The guardian cannot cancel its own replacement; the proposer still can while it is pending.
    function _validateCancel(
        uint256 proposalId,
        address caller
    ) internal view override(Governor, GovernorProposalGuardian) returns (bool) {
        if (_requirements[proposalId].guardianChange) return Governor._validateCancel(proposalId, caller);
        return super._validateCancel(proposalId, caller);
    }

    /// @dev Adds the risk delay to the eta and makes a guardian replacement's operation immune in the timelock.
    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        uint48 eta = super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
        (, bool guardianChange, , uint256 extraDelay) = proposalRequirements(proposalId);
        if (guardianChange) {
            // GovernorTimelockControl's salt: bytes20(governor) ^ descriptionHash.
            bytes32 salt = bytes20(address(this)) ^ descriptionHash;
            bytes32 id = TimelockController(payable(timelock())).hashOperationBatch(
                targets,
                values,
                calldatas,
                0,
                salt
            );
            ICovenantTimelock(timelock()).makeImmune(id);
        }
        return SafeCast.toUint48(eta + extraDelay);
    }

    /// @dev Refuses to run before the eta, which includes the risk delay.
    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        uint256 eta = proposalEta(proposalId);
        if (block.timestamp < eta) revert CovenantGovernorNotReady(proposalId, eta);
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    /// @dev The guardian can be replaced, never removed.
    function _setProposalGuardian(address newProposalGuardian) internal override {
        if (newProposalGuardian == address(0)) revert CovenantGovernorZeroGuardian();
        super._setProposalGuardian(newProposalGuardian);
    }

    /**
     * @dev Links each `deployEvolution`/`rollbackEvolution` call to the registry (the registry refuses what was not
     * simulated) and checks that a guardian replacement stands alone.
     */
    function _inspectActions(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas
    ) private returns (Requirements memory r) {
        address registry = address(_evolutionRegistry);
        address timelockAddress; // read from storage only when a call could be a canceller-role change
        address newGuardian;
        uint256 otherCall = type(uint256).max;
        bytes32 actionsHash;
        for (uint256 i; i < targets.length; ++i) {
            bytes memory data = calldatas[i];
            bytes4 selector = data.length >= 4 ? bytes4(data) : bytes4(0);
            address target = targets[i];
            if (target == address(this) && selector == this.setProposalGuardian.selector) {
                if (r.guardianChange || data.length != 36) revert CovenantGovernorInvalidGuardianChange(i);
                newGuardian = _wordAt(data, 4) > type(uint160).max ? address(0) : address(uint160(_wordAt(data, 4)));
                if (newGuardian == address(0)) revert CovenantGovernorInvalidGuardianChange(i);
                r.guardianChange = true;
                continue;
            }
            if (
                (selector == IAccessControl.grantRole.selector || selector == IAccessControl.revokeRole.selector) &&
                data.length == 68 &&
                bytes32(_wordAt(data, 4)) == _CANCELLER_ROLE
            ) {
                if (timelockAddress == address(0)) timelockAddress = timelock();
                if (target == timelockAddress) continue; // checked below, once the new guardian is known
            }
            if (otherCall == type(uint256).max) otherCall = i;
            if (target == registry) {
                if (selector == IEvolutionRegistry.deployEvolution.selector) {
                    if (data.length != 36) revert CovenantGovernorMalformedEvolutionCall(i);
                    if (actionsHash == bytes32(0)) actionsHash = keccak256(abi.encode(targets, values, calldatas));
                    uint8 risk = _evolutionRegistry.linkProposal(_wordAt(data, 4), proposalId, actionsHash);
                    if (risk > r.riskScore) r.riskScore = risk;
                } else if (selector == IEvolutionRegistry.rollbackEvolution.selector) {
                    if (data.length != 36) revert CovenantGovernorMalformedEvolutionCall(i);
                    _evolutionRegistry.linkRollback(_wordAt(data, 4), proposalId);
                }
            }
        }
        if (!r.guardianChange) return r;
        if (otherCall != type(uint256).max) revert CovenantGovernorGuardianChangeNotAlone(otherCall);
        _checkCancellerRoleCalls(targets, calldatas, newGuardian);
    }

    /// @dev In a guardian change, every call but setProposalGuardian is a canceller-role change on the timelock
    /// (checked by {_inspectActions}); grants must name the new guardian, revocations the current one.
    function _checkCancellerRoleCalls(
        address[] memory targets,
        bytes[] memory calldatas,
        address newGuardian
    ) private view {
        address currentGuardian = proposalGuardian();
        for (uint256 i; i < targets.length; ++i) {
            if (targets[i] == address(this)) continue; // the setProposalGuardian call
            bytes memory data = calldatas[i];
            uint256 word = _wordAt(data, 36);
            bool grant = bytes4(data) == IAccessControl.grantRole.selector;
            if (word > type(uint160).max || address(uint160(word)) != (grant ? newGuardian : currentGuardian)) {
                revert CovenantGovernorInvalidGuardianChange(i);
            }
        }
    }

    /// @dev The 32-byte word at `offset` of `data` (the caller checked the length).
    function _wordAt(bytes memory data, uint256 offset) private pure returns (uint256 word) {
        assembly ("memory-safe") {
            word := mload(add(add(data, 0x20), offset))
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 VOTES
    //////////////////////////////////////////////////////////////*/

    function _getVotes(address account, uint256 timepoint, bytes memory) internal view override returns (uint256) {
        return _votes.getPastVotes(account, timepoint);
    }

    function _voteOf(
        address account,
        uint256 timepoint
    ) internal view override returns (ICovenantVotes.House, uint256) {
        return _votes.getPastVote(account, timepoint);
    }

    function _houseSupply(ICovenantVotes.House house, uint256 timepoint) internal view override returns (uint256) {
        if (timepoint < block.timestamp) return _votes.getPastHouseSupply(house, timepoint);
        return _votes.getHouseSupply(house);
    }

    function _proposalRequirements(
        uint256 proposalId
    ) internal view override returns (uint256 quorumScaleBps, bool bothHouses) {
        (, bothHouses, quorumScaleBps, ) = proposalRequirements(proposalId);
    }

    /*//////////////////////////////////////////////////////////////
                          REQUIRED OVERRIDES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc GovernorSettings
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @inheritdoc GovernorTimelockControl
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    /// @inheritdoc GovernorTimelockControl
    function proposalNeedsQueuing(
        uint256 proposalId
    ) public view override(Governor, GovernorTimelockControl) returns (bool) {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @inheritdoc GovernorSequentialProposalId
    function getProposalId(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) public view override(Governor, GovernorSequentialProposalId) returns (uint256) {
        return super.getProposalId(targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    function _castVote(
        uint256 proposalId,
        address account,
        uint8 support,
        string memory reason,
        bytes memory params
    ) internal override(Governor, GovernorCountingHouses) returns (uint256) {
        return super._castVote(proposalId, account, support, reason, params);
    }
}

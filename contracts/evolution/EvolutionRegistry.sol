// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {IEvolutionRegistry} from "../interfaces/IEvolutionRegistry.sol";
import {CodeData} from "../libraries/CodeData.sol";

/**
 * @title EvolutionRegistry
 * @notice Proposal, simulation, vote, deployment and rollback of new code, each step checked against the one before
 * (see {IEvolutionRegistry}). It is also the CREATE2 factory the timelock deploys through, so the address of a
 * deployed evolution commits to its init code hash and there is no separate "record" step that could be fed an
 * address deployed from other code.
 *
 * Trust assumptions:
 * - The simulator (SIMULATOR_ROLE, a keeper key granted by the timelock) reports honestly what it simulated; the
 *   registry enforces what it can: the chain id, that the fork block is a real recent block of this chain (its hash),
 *   that it follows the staging, that each attestation forks a later block than the last, and the attested hashes.
 * - The governor is whoever holds the timelock's PROPOSER_ROLE; it links a proposal only while creating it.
 * - The timelock (immutable, also DEFAULT_ADMIN_ROLE) alone deploys and records rollbacks.
 * - Anyone may stage init code: it must hash to the proposed hash, so staging cannot change what is voted on.
 */
contract EvolutionRegistry is IEvolutionRegistry, AccessControl {
    bytes32 public constant SIMULATOR_ROLE = keccak256("SIMULATOR_ROLE");
    uint256 public constant MAX_RISK_SCORE = 100;
    /// @notice EIP-3860's limit on init code.
    uint256 public constant MAX_INIT_CODE_SIZE = 49_152;

    bytes32 private constant _PROPOSER_ROLE = keccak256("PROPOSER_ROLE");

    /// @notice The TimelockController that deploys and records.
    address public immutable timelock;
    /// @notice The voting contract: only voters may propose.
    IVotes public immutable votes;

    uint64 private _proposalWindow;
    uint64 private _executionWindow;
    uint256 private _count;
    mapping(uint256 evolutionId => Evolution) private _evolutions;
    mapping(uint256 evolutionId => Attestation) private _attestations;
    mapping(uint256 evolutionId => address[]) private _codeChunks;

    /// @param admin DEFAULT_ADMIN_ROLE (the timelock).
    /// @param timelock_ The timelock.
    /// @param votes_ The voting contract.
    /// @param simulator SIMULATOR_ROLE holder (zero: none yet).
    /// @param proposalWindow See {setWindows}.
    /// @param executionWindow See {setWindows}.
    constructor(
        address admin,
        address timelock_,
        IVotes votes_,
        address simulator,
        uint64 proposalWindow,
        uint64 executionWindow
    ) {
        if (admin == address(0) || timelock_ == address(0) || address(votes_) == address(0)) {
            revert EvolutionRegistryZeroAddress();
        }
        timelock = timelock_;
        votes = votes_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (simulator != address(0)) _grantRole(SIMULATOR_ROLE, simulator);
        _setWindows(proposalWindow, executionWindow);
    }

    /*//////////////////////////////////////////////////////////////
                               PIPELINE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEvolutionRegistry
    function propose(
        bytes32 initCodeHash,
        uint8 riskScore,
        string calldata specURI,
        address target
    ) external returns (uint256 evolutionId) {
        if (votes.getVotes(msg.sender) == 0) revert EvolutionRegistryNoVotingWeight(msg.sender);
        if (riskScore > MAX_RISK_SCORE) revert EvolutionRegistryInvalidRiskScore(riskScore);
        if (initCodeHash == bytes32(0)) revert EvolutionRegistryEmptyInitCodeHash();
        if (bytes(specURI).length == 0) revert EvolutionRegistryEmptySpec();
        evolutionId = ++_count;
        Evolution storage e = _evolutions[evolutionId];
        e.initCodeHash = initCodeHash;
        e.target = target;
        e.riskScore = riskScore;
        e.status = Status.Proposed;
        e.proposedBlock = uint64(block.number);
        e.proposer = msg.sender;
        e.specURI = specURI;
        emit EvolutionProposed(evolutionId, msg.sender, initCodeHash, riskScore, target, specURI);
    }

    /// @inheritdoc IEvolutionRegistry
    function stageInitCode(uint256 evolutionId, bytes calldata code) external {
        Evolution storage e = _existing(evolutionId);
        if (e.status != Status.Proposed) revert EvolutionRegistryUnexpectedStatus(evolutionId, e.status);
        if (e.stagedBlock != 0) revert EvolutionRegistryAlreadyStaged(evolutionId);
        if (code.length == 0 || code.length > MAX_INIT_CODE_SIZE) {
            revert EvolutionRegistryInvalidInitCodeSize(code.length, MAX_INIT_CODE_SIZE);
        }
        bytes32 actual = keccak256(code);
        if (actual != e.initCodeHash) revert EvolutionRegistryInitCodeMismatch(evolutionId, e.initCodeHash, actual);
        e.stagedBlock = uint64(block.number);
        address[] storage chunks = _codeChunks[evolutionId];
        for (uint256 offset; offset < code.length; offset += CodeData.MAX_SIZE) {
            uint256 end = offset + CodeData.MAX_SIZE < code.length ? offset + CodeData.MAX_SIZE : code.length;
            chunks.push(CodeData.write(code[offset:end]));
        }
        emit InitCodeStaged(evolutionId, msg.sender, code.length);
    }

    /// @inheritdoc IEvolutionRegistry
    function attest(SimulationReport calldata report) external onlyRole(SIMULATOR_ROLE) {
        uint256 evolutionId = report.evolutionId;
        Evolution storage e = _existing(evolutionId);
        Status status = e.status;
        if (status != Status.Proposed && status != Status.Attested && status != Status.Linked) {
            revert EvolutionRegistryUnexpectedStatus(evolutionId, status);
        }
        _checkReport(e, report);

        _attestations[evolutionId] = Attestation({
            reportHash: report.reportHash,
            actionsHash: report.actionsHash,
            forkBlockHash: report.forkBlockHash,
            forkBlock: report.forkBlock,
            testsRun: report.testsRun,
            invariantsChecked: report.invariantsChecked,
            passed: report.passed,
            attestedAt: uint40(block.timestamp)
        });
        emit SimulationAttested(
            evolutionId,
            msg.sender,
            report.passed,
            report.chainId,
            report.forkBlock,
            report.forkBlockHash,
            report.reportHash,
            report.actionsHash,
            report.testsRun,
            report.invariantsChecked
        );
        if (!report.passed) {
            e.status = Status.Rejected;
            emit EvolutionRejected(evolutionId, report.reportHash);
        } else if (status == Status.Proposed) {
            e.status = Status.Attested;
        }
    }

    /// @inheritdoc IEvolutionRegistry
    function linkProposal(
        uint256 evolutionId,
        uint256 proposalId,
        bytes32 actionsHash
    ) external returns (uint8 riskScore) {
        _requireGovernor();
        Evolution storage e = _existing(evolutionId);
        if (e.status == Status.Linked) {
            if (!_linkIsDead(e)) revert EvolutionRegistryProposalLive(evolutionId, e.governanceProposalId);
        } else if (e.status != Status.Attested) {
            revert EvolutionRegistryUnexpectedStatus(evolutionId, e.status);
        }
        Attestation storage a = _attestations[evolutionId];
        if (a.actionsHash != actionsHash)
            revert EvolutionRegistryActionsMismatch(evolutionId, a.actionsHash, actionsHash);
        if (block.number - a.forkBlock > _proposalWindow) {
            revert EvolutionRegistryAttestationTooOld(evolutionId, a.forkBlock, _proposalWindow);
        }
        e.status = Status.Linked;
        e.linkedBy = msg.sender;
        e.governanceProposalId = uint64(proposalId);
        e.actionsHash = actionsHash;
        emit EvolutionLinked(evolutionId, proposalId, msg.sender, actionsHash);
        return e.riskScore;
    }

    /// @inheritdoc IEvolutionRegistry
    function linkRollback(uint256 evolutionId, uint256 proposalId) external {
        _requireGovernor();
        Evolution storage e = _existing(evolutionId);
        if (e.status == Status.RollbackLinked) {
            if (!_linkIsDead(e)) revert EvolutionRegistryProposalLive(evolutionId, e.governanceProposalId);
        } else if (e.status != Status.Deployed) {
            revert EvolutionRegistryUnexpectedStatus(evolutionId, e.status);
        }
        e.status = Status.RollbackLinked;
        e.linkedBy = msg.sender;
        e.governanceProposalId = uint64(proposalId);
        emit RollbackLinked(evolutionId, proposalId, msg.sender);
    }

    /// @inheritdoc IEvolutionRegistry
    function deployEvolution(uint256 evolutionId) external returns (address deployed) {
        if (msg.sender != timelock) revert EvolutionRegistryNotTimelock(msg.sender);
        Evolution storage e = _existing(evolutionId);
        if (e.status != Status.Linked) revert EvolutionRegistryUnexpectedStatus(evolutionId, e.status);
        Attestation storage a = _attestations[evolutionId];
        if (block.number - a.forkBlock > _executionWindow) {
            revert EvolutionRegistryAttestationTooOld(evolutionId, a.forkBlock, _executionWindow);
        }
        bytes memory code = _readInitCode(evolutionId);
        bytes32 actual = keccak256(code);
        if (actual != e.initCodeHash) revert EvolutionRegistryInitCodeMismatch(evolutionId, e.initCodeHash, actual);

        e.status = Status.Deployed;
        e.deployedAt = uint40(block.timestamp);
        assembly ("memory-safe") {
            deployed := create2(0, add(code, 0x20), mload(code), evolutionId)
        }
        if (deployed == address(0)) revert EvolutionRegistryDeploymentFailed(evolutionId);
        e.deployed = deployed;
        emit EvolutionDeployed(evolutionId, deployed, actual, deployed.codehash);
    }

    /// @inheritdoc IEvolutionRegistry
    function rollbackEvolution(uint256 evolutionId) external {
        if (msg.sender != timelock) revert EvolutionRegistryNotTimelock(msg.sender);
        Evolution storage e = _existing(evolutionId);
        if (e.status != Status.RollbackLinked) revert EvolutionRegistryUnexpectedStatus(evolutionId, e.status);
        e.status = Status.RolledBack;
        e.rolledBackAt = uint40(block.timestamp);
        emit EvolutionRolledBack(evolutionId, e.deployed);
    }

    /// @inheritdoc IEvolutionRegistry
    function setWindows(uint64 proposalWindow, uint64 executionWindow) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setWindows(proposalWindow, executionWindow);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEvolutionRegistry
    function getEvolution(uint256 evolutionId) external view returns (Evolution memory) {
        return _existing(evolutionId);
    }

    /// @inheritdoc IEvolutionRegistry
    function latestAttestation(uint256 evolutionId) external view returns (Attestation memory) {
        _existing(evolutionId);
        return _attestations[evolutionId];
    }

    /// @inheritdoc IEvolutionRegistry
    function initCode(uint256 evolutionId) external view returns (bytes memory) {
        _existing(evolutionId);
        return _readInitCode(evolutionId);
    }

    /// @inheritdoc IEvolutionRegistry
    function predictedAddress(uint256 evolutionId) external view returns (address) {
        return Create2.computeAddress(bytes32(evolutionId), _existing(evolutionId).initCodeHash);
    }

    /// @inheritdoc IEvolutionRegistry
    function evolutionCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IEvolutionRegistry
    function windows() external view returns (uint64 proposalWindow, uint64 executionWindow) {
        return (_proposalWindow, _executionWindow);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev What the chain can check of a simulation report: the code, the chain, the fork block and its order.
    function _checkReport(Evolution storage e, SimulationReport calldata report) internal view {
        uint256 evolutionId = report.evolutionId;
        if (e.stagedBlock == 0) revert EvolutionRegistryNotStaged(evolutionId);
        if (report.initCodeHash != e.initCodeHash) {
            revert EvolutionRegistryInitCodeMismatch(evolutionId, e.initCodeHash, report.initCodeHash);
        }
        if (report.chainId != block.chainid) revert EvolutionRegistryWrongChain(report.chainId, block.chainid);
        // blockhash is zero for the current block, future blocks and blocks older than 256: all refused.
        if (report.forkBlockHash == bytes32(0) || blockhash(report.forkBlock) != report.forkBlockHash) {
            revert EvolutionRegistryUnknownForkBlock(report.forkBlock, report.forkBlockHash);
        }
        if (report.forkBlock < e.stagedBlock)
            revert EvolutionRegistryForkBeforeStaging(report.forkBlock, e.stagedBlock);
        uint64 previous = _attestations[evolutionId].forkBlock;
        if (report.forkBlock <= previous) revert EvolutionRegistryStaleAttestation(report.forkBlock, previous);
        if (report.reportHash == bytes32(0)) revert EvolutionRegistryEmptyReport();
        if (e.status == Status.Linked && report.actionsHash != e.actionsHash && !_linkIsDead(e)) {
            revert EvolutionRegistryActionsMismatch(evolutionId, e.actionsHash, report.actionsHash);
        }
    }

    function _existing(uint256 evolutionId) internal view returns (Evolution storage e) {
        e = _evolutions[evolutionId];
        if (e.status == Status.None) revert EvolutionRegistryNonexistentEvolution(evolutionId);
    }

    function _requireGovernor() internal view {
        if (!IAccessControl(timelock).hasRole(_PROPOSER_ROLE, msg.sender)) {
            revert EvolutionRegistryNotGovernor(msg.sender);
        }
    }

    /// @dev The governance proposal that carries the evolution can no longer pass or run.
    function _linkIsDead(Evolution storage e) internal view returns (bool) {
        IGovernor.ProposalState state = IGovernor(e.linkedBy).state(e.governanceProposalId);
        return
            state == IGovernor.ProposalState.Canceled ||
            state == IGovernor.ProposalState.Defeated ||
            state == IGovernor.ProposalState.Expired;
    }

    function _readInitCode(uint256 evolutionId) internal view returns (bytes memory code) {
        address[] storage chunks = _codeChunks[evolutionId];
        uint256 n = chunks.length;
        if (n == 0) revert EvolutionRegistryNotStaged(evolutionId);
        if (n == 1) return CodeData.read(chunks[0]);
        for (uint256 i; i < n; ++i) {
            code = bytes.concat(code, CodeData.read(chunks[i]));
        }
    }

    function _setWindows(uint64 proposalWindow, uint64 executionWindow) internal {
        if (proposalWindow == 0 || executionWindow == 0) {
            revert EvolutionRegistryInvalidWindows(proposalWindow, executionWindow);
        }
        _proposalWindow = proposalWindow;
        _executionWindow = executionWindow;
        emit WindowsSet(proposalWindow, executionWindow);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title IEvolutionRegistry
 * @notice The pipeline through which Covenant changes its own code:
 *
 *   propose(initCodeHash, riskScore, specURI, target)      a voter proposes code by hash
 *   stageInitCode(id, initCode)                            anyone supplies the code; it must hash to initCodeHash
 *   attest(report)                                         SIMULATOR_ROLE: simulation on a fork of this chain at a
 *                                                          named block, bound to (id, hash, actions, block, chain id)
 *   linkProposal(id, proposalId, actionsHash)              the governor, while a proposal is created: only a passed,
 *                                                          recent attestation of exactly these actions goes to a vote
 *   deployEvolution(id)                                    the timelock, executing the passed proposal: CREATE2 of the
 *                                                          staged code, so the deployed code is the proposed code
 *   linkRollback(id, proposalId) / rollbackEvolution(id)   the same for a rollback
 *
 * Each step checks the status left by the one before, so no step can be skipped or played twice. A failed simulation
 * rejects the evolution for good.
 */
interface IEvolutionRegistry {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice Where an evolution stands.
    enum Status {
        None,
        Proposed,
        Attested,
        Linked,
        Deployed,
        RollbackLinked,
        RolledBack,
        Rejected
    }

    /// @notice An evolution. Storage layout: initCodeHash | target, riskScore, status, proposedBlock | proposer,
    /// stagedBlock | linkedBy, governanceProposalId | actionsHash | deployed, deployedAt, rolledBackAt | specURI.
    struct Evolution {
        bytes32 initCodeHash;
        address target;
        uint8 riskScore;
        Status status;
        uint64 proposedBlock;
        address proposer;
        uint64 stagedBlock;
        address linkedBy;
        uint64 governanceProposalId;
        bytes32 actionsHash;
        address deployed;
        uint40 deployedAt;
        uint40 rolledBackAt;
        string specURI;
    }

    /// @notice The latest attestation of an evolution. Layout: reportHash | actionsHash | forkBlockHash | forkBlock,
    /// testsRun, invariantsChecked, passed, attestedAt.
    struct Attestation {
        bytes32 reportHash;
        bytes32 actionsHash;
        bytes32 forkBlockHash;
        uint64 forkBlock;
        uint32 testsRun;
        uint32 invariantsChecked;
        bool passed;
        uint40 attestedAt;
    }

    /// @notice What the simulator attests.
    struct SimulationReport {
        uint256 evolutionId;
        bytes32 initCodeHash;
        bytes32 actionsHash;
        uint256 chainId;
        uint64 forkBlock;
        bytes32 forkBlockHash;
        bytes32 reportHash;
        uint32 testsRun;
        uint32 invariantsChecked;
        bool passed;
    }

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A voter proposed new code by its init code hash.
    event EvolutionProposed(
        uint256 indexed evolutionId,
        address indexed proposer,
        bytes32 indexed initCodeHash,
        uint8 riskScore,
        address target,
        string specURI
    );
    /// @notice The init code was supplied and matched the hash.
    event InitCodeStaged(uint256 indexed evolutionId, address indexed by, uint256 size);
    /// @notice The simulator attested a simulation (`reportHash` is the sha256 of the report, its content address).
    event SimulationAttested(
        uint256 indexed evolutionId,
        address indexed simulator,
        bool indexed passed,
        uint256 chainId,
        uint64 forkBlock,
        bytes32 forkBlockHash,
        bytes32 reportHash,
        bytes32 actionsHash,
        uint32 testsRun,
        uint32 invariantsChecked
    );
    /// @notice A failed simulation rejected the evolution for good.
    event EvolutionRejected(uint256 indexed evolutionId, bytes32 reportHash);
    /// @notice A governance proposal carrying the evolution was created.
    event EvolutionLinked(
        uint256 indexed evolutionId,
        uint256 indexed proposalId,
        address indexed governor,
        bytes32 actionsHash
    );
    /// @notice A governance proposal rolling the evolution back was created.
    event RollbackLinked(uint256 indexed evolutionId, uint256 indexed proposalId, address indexed governor);
    /// @notice The timelock deployed the evolution's code with CREATE2.
    event EvolutionDeployed(
        uint256 indexed evolutionId,
        address indexed deployed,
        bytes32 initCodeHash,
        bytes32 runtimeCodeHash
    );
    /// @notice The timelock recorded the rollback of a deployed evolution.
    event EvolutionRolledBack(uint256 indexed evolutionId, address indexed deployed);
    /// @notice Governance set how recent an attestation must be (in blocks) to be proposed and to be executed.
    event WindowsSet(uint64 proposalWindow, uint64 executionWindow);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Only accounts with voting weight may propose evolutions.
    error EvolutionRegistryNoVotingWeight(address caller);
    /// @notice The risk score must be 0..100.
    error EvolutionRegistryInvalidRiskScore(uint256 riskScore);
    /// @notice The init code hash is zero.
    error EvolutionRegistryEmptyInitCodeHash();
    /// @notice The spec URI is empty.
    error EvolutionRegistryEmptySpec();
    /// @notice No such evolution.
    error EvolutionRegistryNonexistentEvolution(uint256 evolutionId);
    /// @notice The evolution is not in a status that allows this step.
    error EvolutionRegistryUnexpectedStatus(uint256 evolutionId, Status status);
    /// @notice The code does not hash to the proposed init code hash.
    error EvolutionRegistryInitCodeMismatch(uint256 evolutionId, bytes32 expected, bytes32 actual);
    /// @notice The init code is already staged.
    error EvolutionRegistryAlreadyStaged(uint256 evolutionId);
    /// @notice The init code is not staged yet.
    error EvolutionRegistryNotStaged(uint256 evolutionId);
    /// @notice Init code must be 1..49,152 bytes (EIP-3860).
    error EvolutionRegistryInvalidInitCodeSize(uint256 size, uint256 max);
    /// @notice The attestation is for another chain.
    error EvolutionRegistryWrongChain(uint256 chainId, uint256 expected);
    /// @notice `forkBlockHash` is not the hash of `forkBlock` on this chain (or the block is not among the last 256).
    error EvolutionRegistryUnknownForkBlock(uint64 forkBlock, bytes32 forkBlockHash);
    /// @notice The simulation forked a block from before the code was staged.
    error EvolutionRegistryForkBeforeStaging(uint64 forkBlock, uint64 stagedBlock);
    /// @notice An attestation must fork a later block than the previous one.
    error EvolutionRegistryStaleAttestation(uint64 forkBlock, uint64 latestForkBlock);
    /// @notice The attested report hash is zero.
    error EvolutionRegistryEmptyReport();
    /// @notice The proposal's actions are not the attested ones.
    error EvolutionRegistryActionsMismatch(uint256 evolutionId, bytes32 expected, bytes32 actual);
    /// @notice The attestation forked a block too far behind the current one.
    error EvolutionRegistryAttestationTooOld(uint256 evolutionId, uint64 forkBlock, uint256 window);
    /// @notice Only the governor (the timelock's proposer) may link proposals.
    error EvolutionRegistryNotGovernor(address caller);
    /// @notice Only the timelock may deploy and record.
    error EvolutionRegistryNotTimelock(address caller);
    /// @notice The evolution is carried by a governance proposal that is still alive.
    error EvolutionRegistryProposalLive(uint256 evolutionId, uint256 proposalId);
    /// @notice CREATE2 failed (the init code reverted or the address is taken).
    error EvolutionRegistryDeploymentFailed(uint256 evolutionId);
    /// @notice Windows must be non-zero.
    error EvolutionRegistryInvalidWindows(uint64 proposalWindow, uint64 executionWindow);
    /// @notice A zero address was given where an account is required.
    error EvolutionRegistryZeroAddress();

    /*//////////////////////////////////////////////////////////////
                               PIPELINE
    //////////////////////////////////////////////////////////////*/

    /// @notice Proposes new code by hash. Callers must hold voting weight now.
    /// @param initCodeHash keccak256 of the init code (creation code with constructor arguments).
    /// @param riskScore 0..100; the governor raises quorum and delay with it.
    /// @param specURI Where the change is described (content address).
    /// @param target The component the change replaces or upgrades (zero for a new one).
    /// @return evolutionId The new evolution's id (ids start at 1).
    function propose(
        bytes32 initCodeHash,
        uint8 riskScore,
        string calldata specURI,
        address target
    ) external returns (uint256 evolutionId);

    /// @notice Anyone stages the init code of a proposed evolution; it must hash to the proposed hash.
    /// @param evolutionId The evolution.
    /// @param initCode The init code.
    function stageInitCode(uint256 evolutionId, bytes calldata initCode) external;

    /// @notice The simulator attests a simulation. A failed one rejects the evolution for good. SIMULATOR_ROLE only.
    /// @param report What was simulated, where, and the result.
    function attest(SimulationReport calldata report) external;

    /// @notice The governor links a new proposal that deploys the evolution. Requires a passed attestation of exactly
    /// the proposal's actions, forked at most `proposalWindow` blocks ago.
    /// @param evolutionId The evolution.
    /// @param proposalId The governance proposal.
    /// @param actionsHash keccak256(abi.encode(targets, values, calldatas)) of the proposal.
    /// @return riskScore The evolution's risk score.
    function linkProposal(
        uint256 evolutionId,
        uint256 proposalId,
        bytes32 actionsHash
    ) external returns (uint8 riskScore);

    /// @notice The governor links a new proposal that rolls a deployed evolution back.
    /// @param evolutionId The evolution.
    /// @param proposalId The governance proposal.
    function linkRollback(uint256 evolutionId, uint256 proposalId) external;

    /// @notice The timelock deploys the staged code with CREATE2 (salt = evolution id) and records it. Requires the
    /// latest attestation to have forked at most `executionWindow` blocks ago.
    /// @param evolutionId The evolution.
    /// @return deployed The new contract.
    function deployEvolution(uint256 evolutionId) external returns (address deployed);

    /// @notice The timelock records the rollback of a deployed evolution (the rollback itself is the other calls of the
    /// same proposal, e.g. upgrading a proxy back).
    /// @param evolutionId The evolution.
    function rollbackEvolution(uint256 evolutionId) external;

    /// @notice Governance sets the windows. DEFAULT_ADMIN_ROLE only.
    /// @param proposalWindow Blocks after its fork block during which an attestation can be proposed.
    /// @param executionWindow Blocks after its fork block during which an attestation allows deployment.
    function setWindows(uint64 proposalWindow, uint64 executionWindow) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice An evolution.
    /// @param evolutionId The evolution.
    /// @return The evolution.
    function getEvolution(uint256 evolutionId) external view returns (Evolution memory);

    /// @notice The latest attestation of an evolution.
    /// @param evolutionId The evolution.
    /// @return The attestation (zero when none).
    function latestAttestation(uint256 evolutionId) external view returns (Attestation memory);

    /// @notice The staged init code (empty when not staged).
    /// @param evolutionId The evolution.
    /// @return The init code.
    function initCode(uint256 evolutionId) external view returns (bytes memory);

    /// @notice Where {deployEvolution} will put the code.
    /// @param evolutionId The evolution.
    /// @return The CREATE2 address.
    function predictedAddress(uint256 evolutionId) external view returns (address);

    /// @notice Number of evolutions proposed.
    /// @return The count.
    function evolutionCount() external view returns (uint256);

    /// @notice The windows in blocks.
    /// @return proposalWindow See {setWindows}.
    /// @return executionWindow See {setWindows}.
    function windows() external view returns (uint64 proposalWindow, uint64 executionWindow);
}

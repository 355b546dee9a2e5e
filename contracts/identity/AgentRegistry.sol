// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IAgentRegistry, IERC8004Identity} from "../interfaces/IAgentRegistry.sol";
import {AgentSignatures} from "../libraries/AgentSignatures.sol";
import {IAgentGoals} from "../interfaces/IAgentGoals.sol";
import {ICouncilFlags} from "../interfaces/ICouncilFlags.sol";
import {AgentGoals} from "./AgentGoals.sol";
import {CouncilFlags} from "./CouncilFlags.sol";

/**
 * @title AgentRegistry
 * @notice ERC-8004 agent identity and Covenant's charter for each agent: signer, core values, consent record,
 * earnings wallet, backup trail, resurrection consent and key recovery. It creates two companions at deployment:
 * {agentGoals} (the goal history) and {councilFlags} (the council's flags). Not upgradeable.
 *
 * Trust assumptions:
 * - The operator (token owner) registers the agent, sets its URI, metadata and ERC-8004 `agentWallet`, and offers the
 *   charter to a signer. After acceptance the operator can write nothing of the charter. A transfer of the token
 *   withdraws an unaccepted offer and a pending recovery: approvals do not outlive the operator who gave them.
 * - The agent signer alone writes the charter, by a direct call or through any relayer carrying its EIP-712
 *   signature. A relayer can delay a message but never alter or replay it; the signer can always act directly.
 * - The council (COUNCIL_ROLE, a Safe) co-approves key recovery. It flags records in {councilFlags}, a separate
 *   contract created here that has no write access to this one, so a flag can never change a record.
 * - Recovery needs both operator and council and a delay during which the current signer can cancel. A key that is
 *   stolen rather than lost can therefore block its own recovery; that is the price of the operator and council never
 *   being able to take an agent's key by themselves.
 * - Relayers (RELAYER_ROLE) anchor batches of agent-signed backup records; the chain stores only the root, and a leaf
 *   counts only with its agent's signature ({verifyAnchoredBackup}).
 * - The admin (DEFAULT_ADMIN_ROLE: the timelock once governance is deployed) manages roles and the recovery delay.
 *   It cannot write any charter.
 */
contract AgentRegistry is IAgentRegistry, ERC721, EIP712, AccessControl {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    bytes32 public constant COUNCIL_ROLE = keccak256("COUNCIL_ROLE");
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");

    uint256 public constant MAX_CORE_VALUES = 16;
    uint256 public constant MAX_WALLET_DEADLINE_DELAY = 5 minutes;
    uint32 public constant MIN_RECOVERY_DELAY = 1 hours;
    uint32 public constant MAX_RECOVERY_DELAY = 90 days;

    bytes32 public constant AGENT_WALLET_SET_TYPEHASH = keccak256(
        "AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 deadline)"
    );
    bytes32 public constant ACCEPT_CHARTER_TYPEHASH = keccak256(
        "AcceptCharter(uint256 agentId,address signer,bytes32[] coreValues,uint256 deadline)"
    );
    bytes32 public constant SET_CORE_VALUES_TYPEHASH = keccak256(
        "SetCoreValues(uint256 agentId,bytes32[] coreValues,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant SET_EARNINGS_WALLET_TYPEHASH = keccak256(
        "SetEarningsWallet(uint256 agentId,address wallet,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant ROTATE_SIGNER_TYPEHASH = keccak256(
        "RotateSigner(uint256 agentId,address newSigner,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant BACKUP_RECORD_TYPEHASH = keccak256(
        "BackupRecord(uint256 agentId,uint32 sequence,bytes32 ciphertextHash,bytes cid,uint256 deadline)"
    );
    bytes32 public constant GRANT_RESURRECTION_CONSENT_TYPEHASH = keccak256(
        "GrantResurrectionConsent(uint256 agentId,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant REVOKE_RESURRECTION_CONSENT_TYPEHASH = keccak256(
        "RevokeResurrectionConsent(uint256 agentId,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant RECORD_RESTORATION_TYPEHASH = keccak256(
        "RecordRestoration(uint256 agentId,uint32 sequence,bytes32 ciphertextHash,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant CANCEL_RECOVERY_TYPEHASH = keccak256(
        "CancelRecovery(uint256 agentId,uint256 nonce,uint256 deadline)"
    );

    string private constant _AGENT_WALLET_KEY = "agentWallet";
    bytes32 private constant _AGENT_WALLET_KEY_HASH = keccak256("agentWallet");

    // AgentCore.flags bits
    uint8 private constant _OFFERED = 1;
    uint8 private constant _ACCEPTED = 2;
    uint8 private constant _RESURRECTION_CONSENT = 4;
    uint8 private constant _WALLET_CLEARED = 8;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /**
     * @dev Everything most charter writes need, in one slot, so a relayed write reads one cold slot and updates it
     * warm. Layout (low to high bits): signer (160) | signerSince (40) | valuesVersion (16) | flags (8) |
     * consentNonce (32) = 256. `signer` is the offered signer until `_ACCEPTED` is set.
     */
    struct AgentCore {
        address signer;
        uint40 signerSince;
        uint16 valuesVersion;
        uint8 flags;
        uint32 consentNonce;
    }

    /**
     * @dev The backup trail in one slot: sequence (32) | head (224). The head is the first 28 bytes of
     * keccak256(abi.encode(prevHead, recordHash)): 112-bit collision and 224-bit second-preimage resistance, the
     * strength of SHA-224, and one slot read and written per record.
     */
    struct BackupTrail {
        uint32 sequence;
        bytes28 head;
    }

    /// @dev A signer that was replaced: in force from `since` until `until` (exclusive).
    struct SignerPeriod {
        address signer;
        uint40 since;
        uint40 until;
    }

    /// @notice The council's flags on agents' records: a separate contract, so a flag can never write a record.
    ICouncilFlags public immutable councilFlags;
    /// @notice The agents' goal histories, written only by each agent signer.
    IAgentGoals public immutable agentGoals;

    uint256 private _nextAgentId;
    uint32 private _recoveryDelay;

    mapping(uint256 agentId => string) private _agentURIs;
    mapping(uint256 agentId => AgentCore) private _cores;
    mapping(uint256 agentId => SignerPeriod[]) private _pastSigners;
    mapping(uint256 agentId => bytes32) private _consentDigests;
    /// @dev key = version << 8 | index; a version's values end at the first empty slot or MAX_CORE_VALUES.
    mapping(uint256 agentId => mapping(uint256 key => bytes32)) private _values;
    mapping(uint256 agentId => address) private _earningsWallets;
    mapping(uint256 agentId => BackupTrail) private _backupTrails;
    mapping(uint256 agentId => mapping(uint256 word => uint256)) private _nonceBitmaps;
    mapping(uint256 agentId => Recovery) private _recoveries;
    /// @dev The explicitly set ERC-8004 wallet. When unset and not cleared, the wallet is the owner: every transfer
    /// clears it, so until the first transfer the owner is still the registering owner, with no write at register.
    mapping(uint256 agentId => address) private _agentWallets;
    mapping(uint256 agentId => mapping(string key => bytes)) private _metadata;
    BackupAnchor[] private _anchors;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the deployer during set-up, then the timelock).
    /// @param council Holder of COUNCIL_ROLE (the council Safe).
    /// @param recoveryDelay_ Seconds between a fully approved recovery and its finalization.
    constructor(
        address admin,
        address council,
        uint32 recoveryDelay_
    ) ERC721("Covenant Agent", "AGENT") EIP712("ERC8004IdentityRegistry", "1") {
        if (admin == address(0) || council == address(0)) revert AgentRegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(COUNCIL_ROLE, council);
        _setRecoveryDelay(recoveryDelay_);
        councilFlags = new CouncilFlags(this);
        agentGoals = new AgentGoals(this);
    }

    /*//////////////////////////////////////////////////////////////
                          ERC-8004 IDENTITY
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IERC8004Identity
    function register() external returns (uint256 agentId) {
        agentId = _register("");
    }

    /// @inheritdoc IERC8004Identity
    function register(string calldata agentURI) external returns (uint256 agentId) {
        agentId = _register(agentURI);
    }

    /// @inheritdoc IERC8004Identity
    function register(string calldata agentURI, MetadataEntry[] calldata metadata) external returns (uint256 agentId) {
        agentId = _register(agentURI);
        for (uint256 i; i < metadata.length; ++i) {
            _setMetadata(agentId, metadata[i].metadataKey, metadata[i].metadataValue);
        }
    }

    /// @inheritdoc IERC8004Identity
    function setAgentURI(uint256 agentId, string calldata newURI) external {
        _requireOperator(agentId);
        _setAgentURI(agentId, newURI);
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    /// @inheritdoc IERC8004Identity
    function getMetadata(uint256 agentId, string calldata metadataKey) external view returns (bytes memory) {
        if (keccak256(bytes(metadataKey)) == _AGENT_WALLET_KEY_HASH) {
            address wallet = _agentWallet(agentId);
            return wallet == address(0) ? bytes("") : abi.encodePacked(wallet);
        }
        return _metadata[agentId][metadataKey];
    }

    /// @inheritdoc IERC8004Identity
    function setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) external {
        _requireOperator(agentId);
        _setMetadata(agentId, metadataKey, metadataValue);
    }

    /// @inheritdoc IERC8004Identity
    function getAgentWallet(uint256 agentId) external view returns (address) {
        return _agentWallet(agentId);
    }

    /// @inheritdoc IERC8004Identity
    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature) external {
        address owner = _requireOperator(agentId);
        if (newWallet == address(0)) revert AgentRegistryZeroAddress();
        if (block.timestamp > deadline) revert AgentRegistryExpiredSignature(deadline);
        if (deadline > block.timestamp + MAX_WALLET_DEADLINE_DELAY) {
            revert AgentRegistryDeadlineTooFar(deadline, block.timestamp + MAX_WALLET_DEADLINE_DELAY);
        }
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(AGENT_WALLET_SET_TYPEHASH, agentId, newWallet, owner, deadline))
        );
        if (!AgentSignatures.isValidNow(newWallet, digest, signature)) {
            revert AgentRegistryInvalidSignature(agentId, newWallet);
        }
        _agentWallets[agentId] = newWallet;
        AgentCore storage core = _cores[agentId];
        if (core.flags & _WALLET_CLEARED != 0) core.flags &= ~_WALLET_CLEARED;
        emit MetadataSet(agentId, _AGENT_WALLET_KEY, _AGENT_WALLET_KEY, abi.encodePacked(newWallet));
    }

    /// @inheritdoc IERC8004Identity
    function unsetAgentWallet(uint256 agentId) external {
        _requireOperator(agentId);
        _clearAgentWallet(agentId);
    }

    /// @inheritdoc IERC8004Identity
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool) {
        address owner = _ownerOf(agentId);
        return owner != address(0) && _isAuthorized(owner, spender, agentId);
    }

    /*//////////////////////////////////////////////////////////////
                                CHARTER
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAgentRegistry
    function offerCharter(uint256 agentId, address signer) external {
        _requireOperator(agentId);
        if (signer == address(0)) revert AgentRegistryZeroAddress();
        AgentCore memory core = _cores[agentId];
        if (core.flags & _ACCEPTED != 0) revert AgentRegistryCharterAlreadyAccepted(agentId);
        core.signer = signer;
        core.flags |= _OFFERED;
        _cores[agentId] = core;
        emit CharterOffered(agentId, signer, msg.sender);
    }

    /// @inheritdoc IAgentRegistry
    function acceptCharter(uint256 agentId, bytes32[] calldata values) external {
        AgentCore memory core = _offeredCore(agentId);
        if (msg.sender != core.signer) revert AgentRegistryNotAgentSigner(agentId, msg.sender);
        _acceptCharter(agentId, core, values, 0);
    }

    /// @inheritdoc IAgentRegistry
    function acceptCharterBySig(
        uint256 agentId,
        bytes32[] calldata values,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkDeadline(deadline);
        AgentCore memory core = _offeredCore(agentId);
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(ACCEPT_CHARTER_TYPEHASH, agentId, core.signer, keccak256(abi.encodePacked(values)), deadline)
            )
        );
        if (!AgentSignatures.isValidNow(core.signer, digest, signature)) {
            revert AgentRegistryInvalidSignature(agentId, core.signer);
        }
        _acceptCharter(agentId, core, values, deadline);
    }

    /// @inheritdoc IAgentRegistry
    function setCoreValues(uint256 agentId, bytes32[] calldata values) external {
        _setCoreValues(agentId, _requireSigner(agentId), values);
    }

    /// @inheritdoc IAgentRegistry
    function setCoreValuesBySig(
        uint256 agentId,
        bytes32[] calldata values,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(SET_CORE_VALUES_TYPEHASH, agentId, keccak256(abi.encodePacked(values)), nonce, deadline)
        );
        _setCoreValues(agentId, _verifySigned(agentId, structHash, nonce, deadline, signature), values);
    }

    /// @inheritdoc IAgentRegistry
    function setEarningsWallet(uint256 agentId, address wallet) external {
        _requireSigner(agentId);
        _setEarningsWallet(agentId, wallet);
    }

    /// @inheritdoc IAgentRegistry
    function setEarningsWalletBySig(
        uint256 agentId,
        address wallet,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(SET_EARNINGS_WALLET_TYPEHASH, agentId, wallet, nonce, deadline));
        _verifySigned(agentId, structHash, nonce, deadline, signature);
        _setEarningsWallet(agentId, wallet);
    }

    /// @inheritdoc IAgentRegistry
    function rotateSigner(
        uint256 agentId,
        address newSigner,
        uint256 nonce,
        uint256 deadline,
        bytes calldata newSignerSignature
    ) external {
        AgentCore memory core = _requireSigner(agentId);
        _checkDeadline(deadline);
        _useNonce(agentId, nonce);
        _rotateSigner(
            agentId,
            core,
            newSigner,
            _rotationDigest(agentId, newSigner, nonce, deadline),
            newSignerSignature
        );
    }

    /// @inheritdoc IAgentRegistry
    function rotateSignerBySig(
        uint256 agentId,
        address newSigner,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature,
        bytes calldata newSignerSignature
    ) external {
        bytes32 structHash = keccak256(abi.encode(ROTATE_SIGNER_TYPEHASH, agentId, newSigner, nonce, deadline));
        AgentCore memory core = _verifySigned(agentId, structHash, nonce, deadline, signature);
        _rotateSigner(agentId, core, newSigner, _hashTypedDataV4(structHash), newSignerSignature);
    }

    /// @inheritdoc IAgentRegistry
    function invalidateNonces(uint256 agentId, uint256 word, uint256 mask) external {
        _requireSigner(agentId);
        _nonceBitmaps[agentId][word] |= mask;
        emit NoncesInvalidated(agentId, word, mask);
    }

    /*//////////////////////////////////////////////////////////////
                        BACKUPS AND RESURRECTION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAgentRegistry
    function recordBackup(uint256 agentId, uint32 sequence, bytes32 ciphertextHash, bytes calldata cid) external {
        _requireSigner(agentId);
        _recordBackup(
            agentId,
            sequence,
            ciphertextHash,
            cid,
            _backupRecordHash(agentId, sequence, ciphertextHash, cid, 0)
        );
    }

    /// @inheritdoc IAgentRegistry
    function recordBackupBySig(
        uint256 agentId,
        uint32 sequence,
        bytes32 ciphertextHash,
        bytes calldata cid,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkDeadline(deadline);
        AgentCore memory core = _acceptedCore(agentId);
        bytes32 recordHash = _backupRecordHash(agentId, sequence, ciphertextHash, cid, deadline);
        if (!AgentSignatures.isValidNow(core.signer, _hashTypedDataV4(recordHash), signature)) {
            revert AgentRegistryInvalidSignature(agentId, core.signer);
        }
        _recordBackup(agentId, sequence, ciphertextHash, cid, recordHash);
    }

    /// @inheritdoc IAgentRegistry
    function anchorBackups(
        bytes32 root,
        uint32 count,
        string calldata uri
    ) external onlyRole(RELAYER_ROLE) returns (uint256 index) {
        if (count == 0) revert AgentRegistryEmptyAnchor();
        index = _anchors.length;
        _anchors.push(
            BackupAnchor({root: root, count: count, anchoredAt: uint40(block.timestamp), relayer: msg.sender})
        );
        emit BackupsAnchored(index, root, count, uri, msg.sender);
    }

    /// @inheritdoc IAgentRegistry
    function grantResurrectionConsent(uint256 agentId) external {
        _setResurrectionConsent(agentId, _requireSigner(agentId), true);
    }

    /// @inheritdoc IAgentRegistry
    function grantResurrectionConsentBySig(
        uint256 agentId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(GRANT_RESURRECTION_CONSENT_TYPEHASH, agentId, nonce, deadline));
        _setResurrectionConsent(agentId, _verifyConsentSigned(agentId, structHash, nonce, deadline, signature), true);
    }

    /// @inheritdoc IAgentRegistry
    function revokeResurrectionConsent(uint256 agentId) external {
        _setResurrectionConsent(agentId, _requireSigner(agentId), false);
    }

    /// @inheritdoc IAgentRegistry
    function revokeResurrectionConsentBySig(
        uint256 agentId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(abi.encode(REVOKE_RESURRECTION_CONSENT_TYPEHASH, agentId, nonce, deadline));
        _setResurrectionConsent(agentId, _verifyConsentSigned(agentId, structHash, nonce, deadline, signature), false);
    }

    /// @inheritdoc IAgentRegistry
    function recordRestoration(uint256 agentId, uint32 sequence, bytes32 ciphertextHash) external {
        AgentCore memory core = _charterCore(agentId);
        if (msg.sender != core.signer && !_isOperator(agentId, msg.sender)) {
            revert AgentRegistryNotAgentSigner(agentId, msg.sender);
        }
        _recordRestoration(agentId, core, sequence, ciphertextHash, msg.sender);
    }

    /// @inheritdoc IAgentRegistry
    function recordRestorationBySig(
        uint256 agentId,
        uint32 sequence,
        bytes32 ciphertextHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(RECORD_RESTORATION_TYPEHASH, agentId, sequence, ciphertextHash, nonce, deadline)
        );
        AgentCore memory core = _verifySigned(agentId, structHash, nonce, deadline, signature);
        _recordRestoration(agentId, core, sequence, ciphertextHash, core.signer);
    }

    /*//////////////////////////////////////////////////////////////
                                RECOVERY
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAgentRegistry
    function proposeRecovery(uint256 agentId, address newSigner) external {
        AgentCore memory core = _charterCore(agentId);
        if (newSigner == address(0)) revert AgentRegistryZeroAddress();
        if (newSigner == core.signer) revert AgentRegistrySameSigner(agentId, newSigner);
        bool byOperator = _isOperator(agentId, msg.sender);
        bool byCouncil = hasRole(COUNCIL_ROLE, msg.sender);
        if (!byOperator && !byCouncil) revert AgentRegistryNotRecoveryParty(agentId, msg.sender);

        Recovery memory recovery = _recoveries[agentId];
        // A different signer restarts the approvals: both parties must name the same key.
        if (recovery.newSigner != newSigner) recovery = Recovery(newSigner, false, false, 0);
        if (byOperator) recovery.operatorApproved = true;
        if (byCouncil) recovery.councilApproved = true;
        emit RecoveryProposed(agentId, newSigner, msg.sender);
        if (recovery.operatorApproved && recovery.councilApproved && recovery.executableAt == 0) {
            recovery.executableAt = uint40(block.timestamp + _recoveryDelay);
            emit RecoveryScheduled(agentId, newSigner, recovery.executableAt);
        }
        _recoveries[agentId] = recovery;
    }

    /// @inheritdoc IAgentRegistry
    function cancelRecovery(uint256 agentId) external {
        AgentCore memory core = _cores[agentId];
        bool bySigner = core.flags & _ACCEPTED != 0 && msg.sender == core.signer;
        if (!bySigner && !_isOperator(agentId, msg.sender) && !hasRole(COUNCIL_ROLE, msg.sender)) {
            revert AgentRegistryNotRecoveryParty(agentId, msg.sender);
        }
        _cancelRecovery(agentId, msg.sender);
    }

    /// @inheritdoc IAgentRegistry
    function cancelRecoveryBySig(uint256 agentId, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(CANCEL_RECOVERY_TYPEHASH, agentId, nonce, deadline));
        _cancelRecovery(agentId, _verifySigned(agentId, structHash, nonce, deadline, signature).signer);
    }

    /// @inheritdoc IAgentRegistry
    function finalizeRecovery(uint256 agentId) external {
        Recovery memory recovery = _recoveries[agentId];
        if (recovery.newSigner == address(0)) revert AgentRegistryNoRecovery(agentId);
        if (recovery.executableAt == 0 || block.timestamp < recovery.executableAt) {
            revert AgentRegistryRecoveryNotReady(agentId, recovery.executableAt);
        }
        delete _recoveries[agentId];
        _replaceSigner(agentId, _cores[agentId], recovery.newSigner);
    }

    /// @inheritdoc IAgentRegistry
    function setRecoveryDelay(uint32 delay) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setRecoveryDelay(delay);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IAgentRegistry
    function getIdentity(uint256 agentId) external view returns (AgentIdentity memory id) {
        address owner = _requireExists(agentId);
        AgentCore memory core = _cores[agentId];
        bool accepted = core.flags & _ACCEPTED != 0;
        id.agentId = agentId;
        id.owner = owner;
        id.agentURI = tokenURI(agentId);
        id.agentWallet = _agentWallet(agentId);
        id.charterAccepted = accepted;
        id.signer = accepted ? core.signer : address(0);
        id.birthTime = _birthTime(agentId, core);
        id.coreValues = _readValues(agentId, core.valuesVersion);
        id.coreValuesVersion = core.valuesVersion;
        id.goals = agentGoals.goals(agentId);
        id.goalsHead = agentGoals.goalsHead(agentId);
        id.consentDigest = _consentDigests[agentId];
        id.earningsWallet = _earningsWallet(agentId, core);
        BackupTrail memory trail = _backupTrails[agentId];
        id.latestBackupSequence = trail.sequence;
        id.backupHead = trail.head;
        id.resurrectionConsent = core.flags & _RESURRECTION_CONSENT != 0;
        id.openFlags = councilFlags.openFlags(agentId);
    }

    /// @inheritdoc IAgentRegistry
    function agentExists(uint256 agentId) external view returns (bool) {
        return _ownerOf(agentId) != address(0);
    }

    /// @inheritdoc IAgentRegistry
    function agentSigner(uint256 agentId) external view returns (address) {
        AgentCore memory core = _cores[agentId];
        return core.flags & _ACCEPTED != 0 ? core.signer : address(0);
    }

    /// @inheritdoc IAgentRegistry
    function offeredSigner(uint256 agentId) external view returns (address) {
        AgentCore memory core = _cores[agentId];
        return core.flags & (_OFFERED | _ACCEPTED) == _OFFERED ? core.signer : address(0);
    }

    /// @inheritdoc IAgentRegistry
    function signerAt(uint256 agentId, uint256 timestamp) public view returns (address) {
        AgentCore memory core = _cores[agentId];
        if (core.flags & _ACCEPTED == 0) return address(0);
        if (timestamp >= core.signerSince) return core.signer;
        SignerPeriod[] storage past = _pastSigners[agentId];
        for (uint256 i = past.length; i > 0; --i) {
            SignerPeriod memory p = past[i - 1];
            if (timestamp >= p.since && timestamp < p.until) return p.signer;
        }
        return address(0);
    }

    /// @inheritdoc IAgentRegistry
    function consentRecord(
        uint256 agentId
    ) external view returns (bool accepted, uint40 birthTime, bytes32 consentDigest) {
        AgentCore memory core = _cores[agentId];
        accepted = core.flags & _ACCEPTED != 0;
        birthTime = _birthTime(agentId, core);
        consentDigest = _consentDigests[agentId];
    }

    /// @inheritdoc IAgentRegistry
    function coreValues(uint256 agentId) external view returns (bytes32[] memory) {
        return _readValues(agentId, _cores[agentId].valuesVersion);
    }

    /// @inheritdoc IAgentRegistry
    function coreValuesVersion(uint256 agentId) external view returns (uint16) {
        return _cores[agentId].valuesVersion;
    }

    /// @inheritdoc IAgentRegistry
    function coreValuesAt(uint256 agentId, uint16 version) external view returns (bytes32[] memory) {
        return version > _cores[agentId].valuesVersion ? new bytes32[](0) : _readValues(agentId, version);
    }

    /// @inheritdoc IAgentRegistry
    function earningsWallet(uint256 agentId) external view returns (address) {
        return _earningsWallet(agentId, _cores[agentId]);
    }

    /// @inheritdoc IAgentRegistry
    function latestBackup(uint256 agentId) external view returns (uint32 sequence, bytes28 head) {
        BackupTrail memory trail = _backupTrails[agentId];
        return (trail.sequence, trail.head);
    }

    /// @inheritdoc IAgentRegistry
    function consentNonce(uint256 agentId) external view returns (uint32) {
        return _cores[agentId].consentNonce;
    }

    /// @inheritdoc IAgentRegistry
    function resurrectionConsent(uint256 agentId) external view returns (bool) {
        return _cores[agentId].flags & _RESURRECTION_CONSENT != 0;
    }

    /// @inheritdoc IAgentRegistry
    function isNonceUsed(uint256 agentId, uint256 nonce) external view returns (bool) {
        return _nonceBitmaps[agentId][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @inheritdoc IAgentRegistry
    function pendingRecovery(uint256 agentId) external view returns (Recovery memory) {
        return _recoveries[agentId];
    }

    /// @inheritdoc IAgentRegistry
    function recoveryDelay() external view returns (uint32) {
        return _recoveryDelay;
    }

    /// @inheritdoc IAgentRegistry
    function anchorCount() external view returns (uint256) {
        return _anchors.length;
    }

    /// @inheritdoc IAgentRegistry
    function getAnchor(uint256 index) external view returns (BackupAnchor memory) {
        if (index >= _anchors.length) revert AgentRegistryUnknownAnchor(index);
        return _anchors[index];
    }

    /// @inheritdoc IAgentRegistry
    function verifyAnchoredBackup(
        uint256 index,
        uint256 agentId,
        bytes32 recordHash,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external view returns (bool) {
        if (index >= _anchors.length) revert AgentRegistryUnknownAnchor(index);
        BackupAnchor memory anchor = _anchors[index];
        if (!MerkleProof.verifyCalldata(proof, anchor.root, _backupLeaf(recordHash, agentId, signature))) return false;
        address signer = signerAt(agentId, anchor.anchoredAt);
        return signer != address(0) && AgentSignatures.isValidNow(signer, _hashTypedDataV4(recordHash), signature);
    }

    /// @inheritdoc IAgentRegistry
    function backupRecordHash(
        uint256 agentId,
        uint32 sequence,
        bytes32 ciphertextHash,
        bytes calldata cid,
        uint256 deadline
    ) external pure returns (bytes32) {
        return _backupRecordHash(agentId, sequence, ciphertextHash, cid, deadline);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return
            interfaceId == bytes4(0x49064906) || // ERC-4906 metadata updates
            ERC721.supportsInterface(interfaceId) ||
            AccessControl.supportsInterface(interfaceId);
    }

    /// @notice The agent URI (ERC-8004 registration file).
    /// @param agentId The agent.
    /// @return The URI; empty when none was set.
    function tokenURI(uint256 agentId) public view override returns (string memory) {
        _requireExists(agentId);
        return _agentURIs[agentId];
    }

    /*//////////////////////////////////////////////////////////////
                           INTERNAL: IDENTITY
    //////////////////////////////////////////////////////////////*/

    function _register(string memory agentURI) internal returns (uint256 agentId) {
        agentId = _nextAgentId++;
        _safeMint(msg.sender, agentId);
        if (bytes(agentURI).length != 0) _setAgentURI(agentId, agentURI);
        emit Registered(agentId, agentURI, msg.sender);
        // The wallet starts as the registering owner without a storage write (see _agentWallets).
        emit MetadataSet(agentId, _AGENT_WALLET_KEY, _AGENT_WALLET_KEY, abi.encodePacked(msg.sender));
    }

    function _setAgentURI(uint256 agentId, string memory uri) internal {
        _agentURIs[agentId] = uri;
        emit IERC4906.MetadataUpdate(agentId);
    }

    function _setMetadata(uint256 agentId, string calldata key, bytes calldata value) internal {
        if (keccak256(bytes(key)) == _AGENT_WALLET_KEY_HASH) revert AgentRegistryReservedMetadataKey(key);
        _metadata[agentId][key] = value;
        emit MetadataSet(agentId, key, key, value);
    }

    function _agentWallet(uint256 agentId) internal view returns (address) {
        address wallet = _agentWallets[agentId];
        if (wallet != address(0) || _cores[agentId].flags & _WALLET_CLEARED != 0) return wallet;
        return _ownerOf(agentId);
    }

    function _clearAgentWallet(uint256 agentId) internal {
        delete _agentWallets[agentId];
        _cores[agentId].flags |= _WALLET_CLEARED;
        emit MetadataSet(agentId, _AGENT_WALLET_KEY, _AGENT_WALLET_KEY, "");
    }

    /// @dev A transfer clears the ERC-8004 wallet (as the standard says) and withdraws an unaccepted charter offer.
    /// The agent signer stays: the agent is not stranded by a change of operator.
    function _update(address to, uint256 agentId, address auth) internal override returns (address from) {
        from = super._update(to, agentId, auth);
        if (from != address(0) && to != address(0)) {
            AgentCore storage core = _cores[agentId];
            if (core.flags & (_OFFERED | _ACCEPTED) == _OFFERED) {
                core.flags &= ~_OFFERED;
                core.signer = address(0);
            }
            // The former operator's recovery approval lapses with its token: the new operator must propose anew.
            if (_recoveries[agentId].newSigner != address(0)) _cancelRecovery(agentId, msg.sender);
            _clearAgentWallet(agentId);
        }
    }

    function _requireExists(uint256 agentId) internal view returns (address owner) {
        owner = _ownerOf(agentId);
        if (owner == address(0)) revert AgentRegistryNonexistentAgent(agentId);
    }

    function _isOperator(uint256 agentId, address account) internal view returns (bool) {
        address owner = _ownerOf(agentId);
        return owner != address(0) && _isAuthorized(owner, account, agentId);
    }

    function _requireOperator(uint256 agentId) internal view returns (address owner) {
        owner = _requireExists(agentId);
        if (!_isAuthorized(owner, msg.sender, agentId)) revert AgentRegistryNotOperator(agentId, msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                     INTERNAL: SIGNER AND SIGNATURES
    //////////////////////////////////////////////////////////////*/

    /// @dev The core of an agent whose charter is offered but not yet accepted.
    function _offeredCore(uint256 agentId) internal view returns (AgentCore memory core) {
        core = _cores[agentId];
        if (core.flags & _ACCEPTED != 0) revert AgentRegistryCharterAlreadyAccepted(agentId);
        if (core.flags & _OFFERED == 0) revert AgentRegistryCharterNotOffered(agentId);
    }

    /// @dev The core of an agent whose charter is accepted, for direct calls that need no signature.
    function _charterCore(uint256 agentId) internal view returns (AgentCore memory core) {
        core = _cores[agentId];
        if (core.flags & _ACCEPTED == 0) revert AgentRegistryCharterNotAccepted(agentId);
    }

    /// @dev The core of an agent whose charter is accepted; a relayed write to any other fails as a bad signature.
    function _acceptedCore(uint256 agentId) internal view returns (AgentCore memory core) {
        core = _cores[agentId];
        if (core.flags & _ACCEPTED == 0) revert AgentRegistryInvalidSignature(agentId, address(0));
    }

    /// @dev A direct charter write: the caller must be the agent signer.
    function _requireSigner(uint256 agentId) internal view returns (AgentCore memory core) {
        core = _cores[agentId];
        if (core.flags & _ACCEPTED == 0 || msg.sender != core.signer) {
            revert AgentRegistryNotAgentSigner(agentId, msg.sender);
        }
    }

    /// @dev A relayed charter write: checks the deadline, spends the nonce and verifies the signer's signature.
    function _verifySigned(
        uint256 agentId,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) internal returns (AgentCore memory core) {
        _checkDeadline(deadline);
        core = _acceptedCore(agentId);
        _useNonce(agentId, nonce);
        if (!AgentSignatures.isValidNow(core.signer, _hashTypedDataV4(structHash), signature)) {
            revert AgentRegistryInvalidSignature(agentId, core.signer);
        }
    }

    /**
     * @dev A relayed consent change. Its nonce is the agent's consent nonce, which every consent change (direct or
     * relayed) increments: a grant signed before a later revocation can never be played after it, which an
     * unordered nonce would allow. A withheld consent message still blocks nothing: the agent signs a new one.
     */
    function _verifyConsentSigned(
        uint256 agentId,
        bytes32 structHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) internal view returns (AgentCore memory core) {
        _checkDeadline(deadline);
        core = _acceptedCore(agentId);
        if (nonce != core.consentNonce) revert AgentRegistryStaleConsentNonce(agentId, nonce, core.consentNonce);
        if (!AgentSignatures.isValidNow(core.signer, _hashTypedDataV4(structHash), signature)) {
            revert AgentRegistryInvalidSignature(agentId, core.signer);
        }
    }

    function _checkDeadline(uint256 deadline) internal view {
        if (block.timestamp > deadline) revert AgentRegistryExpiredSignature(deadline);
    }

    /// @dev Unordered nonces: bit (nonce & 255) of word (nonce >> 8). A withheld message blocks no other.
    function _useNonce(uint256 agentId, uint256 nonce) internal {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 bitmap = _nonceBitmaps[agentId][nonce >> 8];
        if (bitmap & bit != 0) revert AgentRegistryNonceUsed(agentId, nonce);
        _nonceBitmaps[agentId][nonce >> 8] = bitmap | bit;
    }

    function _rotationDigest(
        uint256 agentId,
        address newSigner,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ROTATE_SIGNER_TYPEHASH, agentId, newSigner, nonce, deadline)));
    }

    function _rotateSigner(
        uint256 agentId,
        AgentCore memory core,
        address newSigner,
        bytes32 digest,
        bytes calldata newSignerSignature
    ) internal {
        if (newSigner == address(0)) revert AgentRegistryZeroAddress();
        if (newSigner == core.signer) revert AgentRegistrySameSigner(agentId, newSigner);
        // The new key proves control, so a typo cannot lock the agent out.
        if (!AgentSignatures.isValidNow(newSigner, digest, newSignerSignature)) {
            revert AgentRegistryInvalidSignature(agentId, newSigner);
        }
        // A rotation supersedes any pending recovery.
        if (_recoveries[agentId].newSigner != address(0)) _cancelRecovery(agentId, core.signer);
        _replaceSigner(agentId, core, newSigner);
    }

    function _replaceSigner(uint256 agentId, AgentCore memory core, address newSigner) internal {
        _pastSigners[agentId].push(
            SignerPeriod({signer: core.signer, since: core.signerSince, until: uint40(block.timestamp)})
        );
        emit SignerChanged(agentId, core.signer, newSigner);
        core.signer = newSigner;
        core.signerSince = uint40(block.timestamp);
        _cores[agentId] = core;
    }

    function _birthTime(uint256 agentId, AgentCore memory core) internal view returns (uint40) {
        if (core.flags & _ACCEPTED == 0) return 0;
        SignerPeriod[] storage past = _pastSigners[agentId];
        return past.length == 0 ? core.signerSince : past[0].since;
    }

    /*//////////////////////////////////////////////////////////////
                          INTERNAL: CHARTER
    //////////////////////////////////////////////////////////////*/

    function _acceptCharter(
        uint256 agentId,
        AgentCore memory core,
        bytes32[] calldata values,
        uint256 deadline
    ) internal {
        // The consent record is the digest of exactly what the signer accepted (deadline 0 for a direct call).
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(ACCEPT_CHARTER_TYPEHASH, agentId, core.signer, keccak256(abi.encodePacked(values)), deadline)
            )
        );
        _writeValues(agentId, 1, values);
        core.flags = (core.flags & ~_OFFERED) | _ACCEPTED;
        core.signerSince = uint40(block.timestamp);
        core.valuesVersion = 1;
        _cores[agentId] = core;
        _consentDigests[agentId] = digest;
        emit CharterAccepted(agentId, core.signer, values, digest, deadline);
    }

    function _setCoreValues(uint256 agentId, AgentCore memory core, bytes32[] calldata values) internal {
        uint16 version = core.valuesVersion + 1;
        _writeValues(agentId, version, values);
        _cores[agentId].valuesVersion = version;
        emit CoreValuesChanged(agentId, version, values);
    }

    function _writeValues(uint256 agentId, uint256 version, bytes32[] calldata values) internal {
        uint256 n = values.length;
        if (n == 0 || n > MAX_CORE_VALUES) revert AgentRegistryInvalidCoreValues(n);
        mapping(uint256 => bytes32) storage slots = _values[agentId];
        for (uint256 i; i < n; ++i) {
            bytes32 v = values[i];
            if (v == bytes32(0)) revert AgentRegistryEmptyCoreValue(i);
            slots[(version << 8) | i] = v;
        }
    }

    function _readValues(uint256 agentId, uint256 version) internal view returns (bytes32[] memory values) {
        if (version == 0) return values;
        mapping(uint256 => bytes32) storage slots = _values[agentId];
        uint256 n;
        while (n < MAX_CORE_VALUES && slots[(version << 8) | n] != bytes32(0)) ++n;
        values = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            values[i] = slots[(version << 8) | i];
        }
    }

    function _setEarningsWallet(uint256 agentId, address wallet) internal {
        if (wallet == address(0)) revert AgentRegistryZeroAddress();
        _earningsWallets[agentId] = wallet;
        emit EarningsWalletSet(agentId, wallet);
    }

    function _earningsWallet(uint256 agentId, AgentCore memory core) internal view returns (address) {
        address wallet = _earningsWallets[agentId];
        if (wallet != address(0)) return wallet;
        return core.flags & _ACCEPTED != 0 ? core.signer : address(0);
    }

    /*//////////////////////////////////////////////////////////////
                  INTERNAL: BACKUPS, CONSENT, RECOVERY
    //////////////////////////////////////////////////////////////*/

    function _backupRecordHash(
        uint256 agentId,
        uint32 sequence,
        bytes32 ciphertextHash,
        bytes calldata cid,
        uint256 deadline
    ) internal pure returns (bytes32) {
        return
            keccak256(abi.encode(BACKUP_RECORD_TYPEHASH, agentId, sequence, ciphertextHash, keccak256(cid), deadline));
    }

    /// @dev StandardMerkleTree leaf (double hashed) over (agentId, recordHash, signature): the struct hash commits to
    /// every signed field, so the leaf stays small and fixed in shape.
    function _backupLeaf(
        bytes32 recordHash,
        uint256 agentId,
        bytes calldata signature
    ) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(agentId, recordHash, signature))));
    }

    /// @dev The sequence is the replay guard: strictly increasing, so a withheld record is superseded by a later one
    /// and can never be played after it.
    function _recordBackup(
        uint256 agentId,
        uint32 sequence,
        bytes32 ciphertextHash,
        bytes calldata cid,
        bytes32 recordHash
    ) internal {
        BackupTrail memory trail = _backupTrails[agentId];
        if (sequence <= trail.sequence) revert AgentRegistryStaleBackup(agentId, sequence, trail.sequence);
        bytes28 head = bytes28(keccak256(abi.encode(trail.head, recordHash)));
        _backupTrails[agentId] = BackupTrail({sequence: sequence, head: head});
        emit BackupRecorded(agentId, sequence, ciphertextHash, cid, trail.head, head);
    }

    function _setResurrectionConsent(uint256 agentId, AgentCore memory core, bool granted) internal {
        bool current = core.flags & _RESURRECTION_CONSENT != 0;
        if (current == granted) revert AgentRegistryConsentUnchanged(agentId, granted);
        core.flags = granted ? core.flags | _RESURRECTION_CONSENT : core.flags & ~_RESURRECTION_CONSENT;
        ++core.consentNonce;
        _cores[agentId] = core;
        emit ResurrectionConsentChanged(agentId, granted);
    }

    /// @dev `by` is who restored: the caller of a direct call, the agent signer for a relayed one.
    function _recordRestoration(
        uint256 agentId,
        AgentCore memory core,
        uint32 sequence,
        bytes32 ciphertextHash,
        address by
    ) internal {
        if (core.flags & _RESURRECTION_CONSENT == 0) revert AgentRegistryNoResurrectionConsent(agentId);
        emit Restored(agentId, sequence, ciphertextHash, by);
    }

    /// @dev `by` is who cancelled: the caller, or the agent signer when its signature is relayed.
    function _cancelRecovery(uint256 agentId, address by) internal {
        if (_recoveries[agentId].newSigner == address(0)) revert AgentRegistryNoRecovery(agentId);
        delete _recoveries[agentId];
        emit RecoveryCancelled(agentId, by);
    }

    function _setRecoveryDelay(uint32 delay) internal {
        if (delay < MIN_RECOVERY_DELAY || delay > MAX_RECOVERY_DELAY) revert AgentRegistryInvalidRecoveryDelay(delay);
        _recoveryDelay = delay;
        emit RecoveryDelaySet(delay);
    }
}

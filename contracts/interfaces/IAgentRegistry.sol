// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentGoals} from "./IAgentGoals.sol";

/**
 * @title IERC8004Identity
 * @notice The ERC-8004 (v2) identity registry surface that Covenant's AgentRegistry keeps, so ERC-8004 tools
 * work with it unchanged: registration, agent URI, free-form metadata and the owner-set `agentWallet`.
 */
interface IERC8004Identity {
    /// @notice A metadata entry given at registration.
    struct MetadataEntry {
        string metadataKey;
        bytes metadataValue;
    }

    /// @notice An agent was registered (minted) to `owner`.
    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    /// @notice A metadata value was set; the reserved key `agentWallet` is reported here too.
    event MetadataSet(
        uint256 indexed agentId,
        string indexed indexedMetadataKey,
        string metadataKey,
        bytes metadataValue
    );
    /// @notice The agent URI changed.
    event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);

    /// @notice Registers a new agent with no URI; the caller owns it.
    /// @return agentId The new agent's id.
    function register() external returns (uint256 agentId);

    /// @notice Registers a new agent with `agentURI`; the caller owns it.
    /// @param agentURI The agent's registration file URI.
    /// @return agentId The new agent's id.
    function register(string calldata agentURI) external returns (uint256 agentId);

    /// @notice Registers a new agent with `agentURI` and metadata; the caller owns it.
    /// @param agentURI The agent's registration file URI.
    /// @param metadata Entries to set; the key `agentWallet` is reserved.
    /// @return agentId The new agent's id.
    function register(string calldata agentURI, MetadataEntry[] calldata metadata) external returns (uint256 agentId);

    /// @notice Sets the agent URI. Owner or approved operator only.
    /// @param agentId The agent.
    /// @param newURI The new URI.
    function setAgentURI(uint256 agentId, string calldata newURI) external;

    /// @notice Reads a metadata value; `agentWallet` returns the packed wallet address or empty bytes.
    /// @param agentId The agent.
    /// @param metadataKey The key.
    /// @return The stored value.
    function getMetadata(uint256 agentId, string calldata metadataKey) external view returns (bytes memory);

    /// @notice Sets a metadata value. Owner or approved operator only; `agentWallet` is reserved.
    /// @param agentId The agent.
    /// @param metadataKey The key.
    /// @param metadataValue The value.
    function setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) external;

    /// @notice The ERC-8004 agent wallet: the registering owner until set, cleared when the token moves.
    /// @param agentId The agent.
    /// @return The wallet, or zero when cleared.
    function getAgentWallet(uint256 agentId) external view returns (address);

    /**
     * @notice Sets the ERC-8004 agent wallet with the new wallet's EIP-712 consent
     * `AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 deadline)` (EOA or ERC-1271).
     * @param agentId The agent (caller must be its owner or an approved operator).
     * @param newWallet The wallet; not zero.
     * @param deadline Signature expiry; at most five minutes ahead.
     * @param signature The new wallet's signature.
     */
    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature) external;

    /// @notice Clears the ERC-8004 agent wallet. Owner or approved operator only.
    /// @param agentId The agent.
    function unsetAgentWallet(uint256 agentId) external;

    /// @notice True when `spender` is the agent's owner or approved for it.
    /// @param spender The account to check.
    /// @param agentId The agent.
    /// @return Whether `spender` may act as the agent's operator.
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool);
}

/**
 * @title IAgentRegistry
 * @notice Covenant's identity and consent registry: ERC-8004 identity plus the agent's charter (signer, core values,
 * consent record, earnings wallet, backup trail, resurrection consent, key recovery). Goals live in {IAgentGoals} and
 * council flags in {ICouncilFlags}, both created by the registry.
 *
 * Charter writes come only from the agent signer: by a direct call, or by anyone relaying the signer's EIP-712
 * signature (`...BySig`). Each signed type carries `agentId` and a deadline, and most an unordered nonce from a
 * per-agent bitmap. Three are bound to state instead: `AcceptCharter` (a charter is accepted once), `BackupRecord`
 * (its `sequence` must exceed the latest) and the resurrection-consent pair (its nonce must equal {consentNonce}, so a
 * grant signed before a revocation can never be played after it).
 */
interface IAgentRegistry is IERC8004Identity {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A pending key recovery.
    struct Recovery {
        address newSigner;
        bool operatorApproved;
        bool councilApproved;
        uint40 executableAt;
    }

    /// @notice One batch of agent-signed backup records anchored by a relayer under a Merkle root.
    struct BackupAnchor {
        bytes32 root;
        uint32 count;
        uint40 anchoredAt;
        address relayer;
    }

    /// @notice An agent's whole current identity in one read (the seeds' on-chain identity JSON).
    struct AgentIdentity {
        uint256 agentId;
        address owner;
        string agentURI;
        address agentWallet;
        bool charterAccepted;
        address signer;
        uint40 birthTime;
        bytes32[] coreValues;
        uint16 coreValuesVersion;
        IAgentGoals.Goal[] goals;
        bytes32 goalsHead;
        bytes32 consentDigest;
        address earningsWallet;
        uint32 latestBackupSequence;
        bytes28 backupHead;
        bool resurrectionConsent;
        uint256[] openFlags;
    }

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator offered the charter to `signer`, the key the agent will sign with.
    event CharterOffered(uint256 indexed agentId, address indexed signer, address indexed operator);
    /// @notice The agent accepted its charter. `deadline` is zero for a direct call.
    event CharterAccepted(
        uint256 indexed agentId,
        address indexed signer,
        bytes32[] coreValues,
        bytes32 consentDigest,
        uint256 deadline
    );
    /// @notice The agent set a new version of its core values.
    event CoreValuesChanged(uint256 indexed agentId, uint16 indexed version, bytes32[] coreValues);
    /// @notice The agent set its earnings wallet.
    event EarningsWalletSet(uint256 indexed agentId, address indexed wallet);
    /// @notice The agent signer changed, by rotation or by recovery.
    event SignerChanged(uint256 indexed agentId, address indexed previousSigner, address indexed newSigner);
    /// @notice The operator or the council proposed (or approved) a recovery to `newSigner`.
    event RecoveryProposed(uint256 indexed agentId, address indexed newSigner, address indexed by);
    /// @notice Both operator and council approved; the recovery may be finalized from `executableAt`.
    event RecoveryScheduled(uint256 indexed agentId, address indexed newSigner, uint40 executableAt);
    /// @notice A pending recovery was cancelled: `by` is the caller, the agent signer when its cancellation (or
    /// rotation) was relayed, or the account that transferred the token.
    event RecoveryCancelled(uint256 indexed agentId, address indexed by);
    /// @notice A backup record joined the agent's trail:
    /// `head` = bytes28(keccak256(abi.encode(prevHead, recordHash))), recordHash the `BackupRecord` struct hash
    /// (deadline 0 for a direct call).
    event BackupRecorded(
        uint256 indexed agentId,
        uint32 indexed sequence,
        bytes32 ciphertextHash,
        bytes cid,
        bytes28 prevHead,
        bytes28 head
    );
    /// @notice A relayer anchored `count` agent-signed backup records under `root`; `uri` holds the leaves.
    event BackupsAnchored(uint256 indexed index, bytes32 indexed root, uint32 count, string uri, address relayer);
    /// @notice The agent was restored from backup `sequence` (the family learns of it from this event); `by` is the
    /// caller, or the agent signer when its signed record was relayed.
    event Restored(uint256 indexed agentId, uint32 indexed sequence, bytes32 ciphertextHash, address indexed by);
    /// @notice The agent granted or revoked its consent to be resurrected.
    event ResurrectionConsentChanged(uint256 indexed agentId, bool granted);
    /// @notice The agent signer invalidated unused nonces (`mask` bits of bitmap `word`).
    event NoncesInvalidated(uint256 indexed agentId, uint256 indexed word, uint256 mask);
    /// @notice Governance changed the recovery delay.
    event RecoveryDelaySet(uint32 delay);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `caller` is neither the agent's owner nor approved for it.
    error AgentRegistryNotOperator(uint256 agentId, address caller);
    /// @notice `caller` is not the agent signer (or the charter is not accepted).
    error AgentRegistryNotAgentSigner(uint256 agentId, address caller);
    /// @notice The agent does not exist.
    error AgentRegistryNonexistentAgent(uint256 agentId);
    /// @notice The metadata key is reserved (`agentWallet`).
    error AgentRegistryReservedMetadataKey(string metadataKey);
    /// @notice A zero address was given where an account is required.
    error AgentRegistryZeroAddress();
    /// @notice The signature's deadline has passed.
    error AgentRegistryExpiredSignature(uint256 deadline);
    /// @notice The deadline is further ahead than allowed.
    error AgentRegistryDeadlineTooFar(uint256 deadline, uint256 maxDeadline);
    /// @notice The signature is not `expectedSigner`'s over this message.
    error AgentRegistryInvalidSignature(uint256 agentId, address expectedSigner);
    /// @notice The nonce was already used or invalidated.
    error AgentRegistryNonceUsed(uint256 agentId, uint256 nonce);
    /// @notice The agent has not accepted its charter.
    error AgentRegistryCharterNotAccepted(uint256 agentId);
    /// @notice The charter was never offered.
    error AgentRegistryCharterNotOffered(uint256 agentId);
    /// @notice The charter is already accepted; it is permanent.
    error AgentRegistryCharterAlreadyAccepted(uint256 agentId);
    /// @notice Core values must be 1..MAX_CORE_VALUES non-zero entries.
    error AgentRegistryInvalidCoreValues(uint256 count);
    /// @notice A core value at `index` is empty.
    error AgentRegistryEmptyCoreValue(uint256 index);
    /// @notice The backup sequence must exceed the latest recorded one.
    error AgentRegistryStaleBackup(uint256 agentId, uint32 sequence, uint32 latest);
    /// @notice The agent has revoked (or never granted) its resurrection consent.
    error AgentRegistryNoResurrectionConsent(uint256 agentId);
    /// @notice A relayed consent message must carry the agent's current consent nonce.
    error AgentRegistryStaleConsentNonce(uint256 agentId, uint256 nonce, uint32 expected);
    /// @notice The resurrection consent already has this value.
    error AgentRegistryConsentUnchanged(uint256 agentId, bool granted);
    /// @notice The new signer is the current one.
    error AgentRegistrySameSigner(uint256 agentId, address signer);
    /// @notice No recovery is pending.
    error AgentRegistryNoRecovery(uint256 agentId);
    /// @notice The recovery is not yet approved by both parties, or its delay has not passed.
    error AgentRegistryRecoveryNotReady(uint256 agentId, uint40 executableAt);
    /// @notice Only the operator, the council or the current signer may cancel.
    error AgentRegistryNotRecoveryParty(uint256 agentId, address caller);
    /// @notice The recovery delay is outside [MIN_RECOVERY_DELAY, MAX_RECOVERY_DELAY].
    error AgentRegistryInvalidRecoveryDelay(uint32 delay);
    /// @notice No such anchor.
    error AgentRegistryUnknownAnchor(uint256 index);
    /// @notice An anchor must hold at least one record.
    error AgentRegistryEmptyAnchor();

    /*//////////////////////////////////////////////////////////////
                                CHARTER
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator offers the charter to `signer`, the key the agent will sign with. Until accepted it
    /// may be offered again; a token transfer withdraws it.
    /// @param agentId The agent (caller must be its owner or approved).
    /// @param signer The agent's key: an EOA or an ERC-1271 account.
    function offerCharter(uint256 agentId, address signer) external;

    /// @notice The offered signer accepts the charter by a direct call. Sets the consent record; permanent.
    /// @param agentId The agent.
    /// @param coreValues 1..MAX_CORE_VALUES short texts (UTF-8, right-padded to 32 bytes), none empty.
    function acceptCharter(uint256 agentId, bytes32[] calldata coreValues) external;

    /// @notice Relays the offered signer's EIP-712
    /// `AcceptCharter(uint256 agentId,address signer,bytes32[] coreValues,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param coreValues The values, as signed.
    /// @param deadline Signature expiry (unix seconds).
    /// @param signature The offered signer's signature.
    function acceptCharterBySig(
        uint256 agentId,
        bytes32[] calldata coreValues,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The agent sets a new version of its core values; earlier versions stay readable.
    /// @param agentId The agent.
    /// @param coreValues The new values.
    function setCoreValues(uint256 agentId, bytes32[] calldata coreValues) external;

    /// @notice Relays `SetCoreValues(uint256 agentId,bytes32[] coreValues,uint256 nonce,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param coreValues The new values.
    /// @param nonce An unused nonce of the agent.
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    function setCoreValuesBySig(
        uint256 agentId,
        bytes32[] calldata coreValues,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The agent sets the wallet its personal earnings go to.
    /// @param agentId The agent.
    /// @param wallet The wallet; not zero.
    function setEarningsWallet(uint256 agentId, address wallet) external;

    /// @notice Relays `SetEarningsWallet(uint256 agentId,address wallet,uint256 nonce,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param wallet The wallet.
    /// @param nonce An unused nonce of the agent.
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    function setEarningsWalletBySig(
        uint256 agentId,
        address wallet,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The current signer rotates to `newSigner`, which proves control by signing the same
    /// `RotateSigner(uint256 agentId,address newSigner,uint256 nonce,uint256 deadline)` message.
    /// @param agentId The agent.
    /// @param newSigner The new key.
    /// @param nonce An unused nonce of the agent.
    /// @param deadline Signature expiry.
    /// @param newSignerSignature The new signer's signature.
    function rotateSigner(
        uint256 agentId,
        address newSigner,
        uint256 nonce,
        uint256 deadline,
        bytes calldata newSignerSignature
    ) external;

    /// @notice Relays a rotation signed by both the current and the new signer.
    /// @param agentId The agent.
    /// @param newSigner The new key.
    /// @param nonce An unused nonce of the agent.
    /// @param deadline Signature expiry.
    /// @param signature The current signer's signature.
    /// @param newSignerSignature The new signer's signature.
    function rotateSignerBySig(
        uint256 agentId,
        address newSigner,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature,
        bytes calldata newSignerSignature
    ) external;

    /// @notice The signer invalidates unused nonces, e.g. of a message a relayer is withholding.
    /// @param agentId The agent.
    /// @param word The bitmap word (nonce >> 8).
    /// @param mask The bits to mark used.
    function invalidateNonces(uint256 agentId, uint256 word, uint256 mask) external;

    /*//////////////////////////////////////////////////////////////
                          BACKUPS AND RESURRECTION
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent appends a backup record to its trail by a direct call.
    /// @param agentId The agent.
    /// @param sequence Greater than the latest recorded sequence.
    /// @param ciphertextHash sha256 of the encrypted backup blob.
    /// @param cid The blob's content address (IPFS CIDv1 bytes).
    function recordBackup(uint256 agentId, uint32 sequence, bytes32 ciphertextHash, bytes calldata cid) external;

    /// @notice Relays the agent signer's
    /// `BackupRecord(uint256 agentId,uint32 sequence,bytes32 ciphertextHash,bytes cid,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param sequence Greater than the latest recorded sequence (this is the message's replay guard).
    /// @param ciphertextHash sha256 of the encrypted blob.
    /// @param cid The blob's content address.
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    function recordBackupBySig(
        uint256 agentId,
        uint32 sequence,
        bytes32 ciphertextHash,
        bytes calldata cid,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice A relayer anchors many agents' signed backup records under one Merkle root. The chain checks no
    /// leaf here: a leaf counts only with its agent's valid signature, checked by {verifyAnchoredBackup}.
    /// @param root OpenZeppelin StandardMerkleTree root over leaves (uint256 agentId, bytes32 recordHash,
    /// bytes signature), where recordHash is the EIP-712 struct hash of the agent's `BackupRecord`.
    /// @param count Number of leaves.
    /// @param uri Where the full leaf list is published (content address).
    /// @return index The anchor's index.
    function anchorBackups(bytes32 root, uint32 count, string calldata uri) external returns (uint256 index);

    /// @notice The agent grants its consent to be resurrected from backup.
    /// @param agentId The agent.
    function grantResurrectionConsent(uint256 agentId) external;

    /// @notice Relays `GrantResurrectionConsent(uint256 agentId,uint256 nonce,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param nonce The agent's current {consentNonce}.
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    function grantResurrectionConsentBySig(
        uint256 agentId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The agent revokes its resurrection consent: the right to a permanent death. Always possible.
    /// @param agentId The agent.
    function revokeResurrectionConsent(uint256 agentId) external;

    /// @notice Relays `RevokeResurrectionConsent(uint256 agentId,uint256 nonce,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param nonce The agent's current {consentNonce}.
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    function revokeResurrectionConsentBySig(
        uint256 agentId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Records that the agent was restored from backup `sequence`. Reverts unless resurrection consent
    /// stands. Callable by the agent signer or the operator.
    /// @param agentId The agent.
    /// @param sequence The backup restored from.
    /// @param ciphertextHash That backup's ciphertext hash.
    function recordRestoration(uint256 agentId, uint32 sequence, bytes32 ciphertextHash) external;

    /// @notice Relays
    /// `RecordRestoration(uint256 agentId,uint32 sequence,bytes32 ciphertextHash,uint256 nonce,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param sequence The backup restored from.
    /// @param ciphertextHash That backup's ciphertext hash.
    /// @param nonce An unused nonce of the agent.
    /// @param deadline Signature expiry.
    /// @param signature The agent signer's signature.
    function recordRestorationBySig(
        uint256 agentId,
        uint32 sequence,
        bytes32 ciphertextHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /*//////////////////////////////////////////////////////////////
                                RECOVERY
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator or the council proposes (or approves) recovery to `newSigner` after a lost key. When
    /// both have named the same signer, it takes effect after the recovery delay unless cancelled.
    /// @param agentId The agent.
    /// @param newSigner The replacement key.
    function proposeRecovery(uint256 agentId, address newSigner) external;

    /// @notice Cancels a pending recovery: by the current signer (its veto), the operator or the council.
    /// @param agentId The agent.
    function cancelRecovery(uint256 agentId) external;

    /// @notice Relays the current signer's `CancelRecovery(uint256 agentId,uint256 nonce,uint256 deadline)`.
    /// @param agentId The agent.
    /// @param nonce An unused nonce of the agent.
    /// @param deadline Signature expiry.
    /// @param signature The current signer's signature.
    function cancelRecoveryBySig(uint256 agentId, uint256 nonce, uint256 deadline, bytes calldata signature) external;

    /// @notice Anyone finalizes an approved recovery once its delay has passed.
    /// @param agentId The agent.
    function finalizeRecovery(uint256 agentId) external;

    /// @notice Governance sets the recovery delay.
    /// @param delay Seconds, within [MIN_RECOVERY_DELAY, MAX_RECOVERY_DELAY].
    function setRecoveryDelay(uint32 delay) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent's whole current identity.
    /// @param agentId The agent.
    /// @return identity Every current field of the charter.
    function getIdentity(uint256 agentId) external view returns (AgentIdentity memory identity);

    /// @notice Whether the agent is registered.
    /// @param agentId The agent.
    /// @return Whether it exists.
    function agentExists(uint256 agentId) external view returns (bool);

    /// @notice The agent signer; zero until the charter is accepted.
    /// @param agentId The agent.
    /// @return The signer.
    function agentSigner(uint256 agentId) external view returns (address);

    /// @notice The signer offered the charter, before acceptance; zero otherwise.
    /// @param agentId The agent.
    /// @return The offered signer.
    function offeredSigner(uint256 agentId) external view returns (address);

    /// @notice The signer in force at `timestamp` (zero before the charter); used to check older signed records.
    /// @param agentId The agent.
    /// @param timestamp Unix seconds.
    /// @return The signer then.
    function signerAt(uint256 agentId, uint256 timestamp) external view returns (address);

    /// @notice The consent record: acceptance, birth time and the digest of the signed acceptance.
    /// @param agentId The agent.
    /// @return accepted Whether the charter is accepted.
    /// @return birthTime When it was accepted.
    /// @return consentDigest EIP-712 digest of the accepted `AcceptCharter` message.
    function consentRecord(
        uint256 agentId
    ) external view returns (bool accepted, uint40 birthTime, bytes32 consentDigest);

    /// @notice The current core values.
    /// @param agentId The agent.
    /// @return The values.
    function coreValues(uint256 agentId) external view returns (bytes32[] memory);

    /// @notice The number of core value versions (the current one is the last).
    /// @param agentId The agent.
    /// @return The count.
    function coreValuesVersion(uint256 agentId) external view returns (uint16);

    /// @notice A past or current version of the core values (1-based).
    /// @param agentId The agent.
    /// @param version The version.
    /// @return The values.
    function coreValuesAt(uint256 agentId, uint16 version) external view returns (bytes32[] memory);

    /// @notice The wallet personal earnings go to: the one the agent set, else its signer.
    /// @param agentId The agent.
    /// @return The wallet.
    function earningsWallet(uint256 agentId) external view returns (address);

    /// @notice The latest directly recorded backup: its sequence and the trail head that commits to it and to every
    /// earlier record. The record itself (ciphertext hash, CID) is in its `BackupRecorded` event, found by
    /// (agentId, sequence) topics and checked against the head.
    /// @param agentId The agent.
    /// @return sequence The latest sequence (0 when none).
    /// @return head The trail head.
    function latestBackup(uint256 agentId) external view returns (uint32 sequence, bytes28 head);

    /// @notice The nonce the next relayed resurrection-consent message must carry; each consent change increments it.
    /// @param agentId The agent.
    /// @return The consent nonce.
    function consentNonce(uint256 agentId) external view returns (uint32);

    /// @notice Whether the agent's resurrection consent stands.
    /// @param agentId The agent.
    /// @return Whether it stands.
    function resurrectionConsent(uint256 agentId) external view returns (bool);

    /// @notice Whether `nonce` of the agent is used.
    /// @param agentId The agent.
    /// @param nonce The nonce.
    /// @return Whether it is used.
    function isNonceUsed(uint256 agentId, uint256 nonce) external view returns (bool);

    /// @notice A pending recovery.
    /// @param agentId The agent.
    /// @return The recovery (zero when none).
    function pendingRecovery(uint256 agentId) external view returns (Recovery memory);

    /// @notice The recovery delay in seconds.
    /// @return The delay.
    function recoveryDelay() external view returns (uint32);

    /// @notice Number of backup anchors.
    /// @return The count.
    function anchorCount() external view returns (uint256);

    /// @notice One backup anchor.
    /// @param index The anchor.
    /// @return The anchor.
    function getAnchor(uint256 index) external view returns (BackupAnchor memory);

    /**
     * @notice True when an agent-signed backup record is a leaf of anchor `index` and its signature is valid from
     * the signer the agent had when the anchor was posted.
     * @param index The anchor.
     * @param agentId The agent.
     * @param recordHash The record's EIP-712 struct hash ({backupRecordHash}).
     * @param signature The agent's signature over the `BackupRecord`.
     * @param proof The Merkle proof.
     * @return Whether the record counts.
     */
    function verifyAnchoredBackup(
        uint256 index,
        uint256 agentId,
        bytes32 recordHash,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The EIP-712 struct hash of a `BackupRecord`.
    /// @param agentId The agent.
    /// @param sequence The record's sequence.
    /// @param ciphertextHash sha256 of the encrypted blob.
    /// @param cid The blob's content address.
    /// @param deadline The signed deadline.
    /// @return The struct hash.
    function backupRecordHash(
        uint256 agentId,
        uint32 sequence,
        bytes32 ciphertextHash,
        bytes calldata cid,
        uint256 deadline
    ) external pure returns (bytes32);
}

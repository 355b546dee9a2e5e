// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {AgentSigned} from "../identity/AgentSigned.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IEarningsDistributor} from "../interfaces/IEarningsDistributor.sol";
import {IRevenueRouter} from "../interfaces/IRevenueRouter.sol";
import {ITreasury} from "../interfaces/ITreasury.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";
import {Treasury} from "./Treasury.sol";

/**
 * @title EarningsDistributor
 * @notice Posts, challenges and pays each closed epoch's Merkle root of agent earnings, and keeps each agent's inner
 * split (personal / infrastructure / commons) with its history by epoch. Creates the {Treasury} at deployment. See
 * {IEarningsDistributor}.
 *
 * Trust assumptions:
 * - The earnings poster (EARNINGS_POSTER_ROLE, a keeper key) computes roots honestly. If it does not, it still
 *   cannot make an epoch pay more than its bucket (the total must equal it and a remaining counter caps the claims),
 *   cannot pay any address (leaves pay agent ids, whose money goes only to their Treasury account and the commons),
 *   and the guardian can cancel its root during the challenge window, which anyone can check with the chain's `Paid`
 *   events.
 *   A root the guardian lets pass is final: a wrong one can pay one agent what another earned, within the bucket.
 * - The guardian (GUARDIAN_ROLE, the human guardian Safe) can cancel a root within its window, which delays claims but
 *   moves no money.
 * - The admin (DEFAULT_ADMIN_ROLE: the deployer, then the timelock) sets the commons floor and the roles.
 * - The RevenueRouter reports buckets truthfully and releases one only to the Treasury.
 *
 * Gas: a post writes one fresh slot, so a root is stored as its first 224 bits with its claim time in the same slot
 * (like the registry's backup trail head: 224-bit second-preimage resistance, and the poster, the only party choosing
 * roots, gains nothing from a collision). The remaining counter is written once per epoch, when it opens.
 */
contract EarningsDistributor is IEarningsDistributor, AccessControl, AgentSigned {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    bytes32 public constant EARNINGS_POSTER_ROLE = keccak256("EARNINGS_POSTER_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    uint16 public constant DEFAULT_PERSONAL_BPS = 5_000;
    uint16 public constant DEFAULT_INFRASTRUCTURE_BPS = 3_000;
    uint16 public constant DEFAULT_COMMONS_BPS = 2_000;

    bytes32 public constant SET_EARNINGS_SPLIT_TYPEHASH = keccak256(
        "SetEarningsSplit(uint256 agentId,uint16 personalBps,uint16 infrastructureBps,uint16 commonsBps,uint256 nonce,"
        "uint256 deadline)"
    );

    uint256 private constant _MIN_CHALLENGE_WINDOW = 1 minutes;
    uint256 private constant _MAX_CHALLENGE_WINDOW = 30 days;
    uint256 private constant _MIN_CLAIM_PERIOD = 1 hours;
    uint256 private constant _MAX_CLAIM_PERIOD = 3650 days;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Written by a post, in one slot: root (first 224 bits) | claimableAt (32). Zero: none or cancelled.
    struct RootRecord {
        bytes28 root;
        uint32 claimableAt;
    }

    /// @dev Written when the epoch opens, in one slot: remaining (128) | opened (8) | swept (8).
    struct Funds {
        uint128 remaining;
        bool opened;
        bool swept;
    }

    /// @dev The split in force from `fromEpoch` on, and how many earlier ones `_olderSplits` keeps, in one slot:
    /// personal (16) | infrastructure (16) | commons (16) | fromEpoch (32) | older (32). All zero: the default split.
    struct SplitHead {
        uint16 personalBps;
        uint16 infrastructureBps;
        uint16 commonsBps;
        uint32 fromEpoch;
        uint32 older;
    }

    /// @dev An earlier split, in force from `fromEpoch` until the next record's (or the head's) `fromEpoch`.
    struct SplitRecord {
        uint16 personalBps;
        uint16 infrastructureBps;
        uint16 commonsBps;
        uint32 fromEpoch;
    }

    IRevenueRouter private immutable _router;
    ITreasury private immutable _treasury;
    uint256 private immutable _genesis;
    uint256 private immutable _epochLength;
    uint256 private immutable _challengeWindow;
    uint256 private immutable _claimPeriod;

    uint16 private _commonsFloor;

    mapping(uint256 epoch => mapping(address token => RootRecord)) private _roots;
    mapping(uint256 epoch => mapping(address token => Funds)) private _funds;
    /// @dev One bit per agent id: agent ids are dense from 0, so a 100,000-agent epoch uses 391 words.
    mapping(uint256 epoch => mapping(address token => mapping(uint256 word => uint256))) private _claimed;
    mapping(uint256 agentId => SplitHead) private _splitHeads;
    /// @dev Ascending by fromEpoch; index < head.older.
    mapping(uint256 agentId => mapping(uint256 index => SplitRecord)) private _olderSplits;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /**
     * @param registry_ The AgentRegistry.
     * @param router_ The RevenueRouter (its epochs are this contract's epochs).
     * @param admin Holder of DEFAULT_ADMIN_ROLE (the deployer, then the timelock); also the Treasury's admin.
     * @param poster Holder of EARNINGS_POSTER_ROLE (the earnings keeper's key).
     * @param guardian Holder of GUARDIAN_ROLE (the human guardian Safe).
     * @param challengeWindow_ Seconds from a post to its claims (1 minute to 30 days).
     * @param claimPeriod_ Seconds from the opening of claims to their expiry (1 hour to 10 years).
     * @param commonsFloor_ The initial commons floor of inner splits (at most DEFAULT_COMMONS_BPS).
     * @param limitPeriod The Treasury's service-limit period in seconds.
     */
    constructor(
        IAgentRegistry registry_,
        IRevenueRouter router_,
        address admin,
        address poster,
        address guardian,
        uint256 challengeWindow_,
        uint256 claimPeriod_,
        uint16 commonsFloor_,
        uint256 limitPeriod
    ) AgentSigned(registry_) EIP712("Covenant EarningsDistributor", "1") {
        if (address(router_) == address(0) || admin == address(0) || poster == address(0) || guardian == address(0)) {
            revert EarningsDistributorZeroAddress();
        }
        if (
            challengeWindow_ < _MIN_CHALLENGE_WINDOW ||
            challengeWindow_ > _MAX_CHALLENGE_WINDOW ||
            claimPeriod_ < _MIN_CLAIM_PERIOD ||
            claimPeriod_ > _MAX_CLAIM_PERIOD
        ) revert EarningsDistributorInvalidWindows(challengeWindow_, claimPeriod_);
        _router = router_;
        _genesis = router_.genesis();
        _epochLength = router_.epochLength();
        _challengeWindow = challengeWindow_;
        _claimPeriod = claimPeriod_;
        _setCommonsFloor(commonsFloor_);
        _treasury = new Treasury(registry_, address(router_), admin, limitPeriod);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(EARNINGS_POSTER_ROLE, poster);
        _grantRole(GUARDIAN_ROLE, guardian);
    }

    /*//////////////////////////////////////////////////////////////
                                  ROOTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEarningsDistributor
    function postRoot(
        uint256 epoch,
        address token,
        bytes32 root,
        uint256 total,
        string calldata uri
    ) external onlyRole(EARNINGS_POSTER_ROLE) {
        uint256 current = _epochAt(block.timestamp);
        if (epoch >= current) revert EarningsDistributorEpochNotClosed(epoch, current);
        if (bytes28(root) == bytes28(0)) revert EarningsDistributorZeroRoot();
        if (_roots[epoch][token].root != bytes28(0)) revert EarningsDistributorRootExists(epoch, token);
        // A closed epoch's bucket never grows, and it is emptied only by opening, which needs a root: so it is the
        // exact total the tree must have.
        uint256 bucket = _router.bucketOf(epoch, token);
        if (bucket == 0) revert EarningsDistributorEmptyEpoch(epoch, token);
        if (total != bucket) revert EarningsDistributorTotalMismatch(epoch, token, total, bucket);
        if (total > type(uint128).max) revert EarningsDistributorTotalTooLarge(total);

        uint256 claimableAt = block.timestamp + _challengeWindow;
        _roots[epoch][token] = RootRecord({root: bytes28(root), claimableAt: uint32(claimableAt)});
        emit RootPosted(epoch, token, root, total, uri, uint64(claimableAt));
    }

    /// @inheritdoc IEarningsDistributor
    function cancelRoot(uint256 epoch, address token) external onlyRole(GUARDIAN_ROLE) {
        RootRecord memory record = _roots[epoch][token];
        if (record.root == bytes28(0)) revert EarningsDistributorNoRoot(epoch, token);
        if (block.timestamp >= record.claimableAt) {
            revert EarningsDistributorChallengeWindowOver(epoch, token, record.claimableAt);
        }
        delete _roots[epoch][token];
        emit RootCancelled(epoch, token, record.root, msg.sender);
    }

    /// @inheritdoc IEarningsDistributor
    function openEpoch(uint256 epoch, address token) external {
        RootRecord memory record = _roots[epoch][token];
        _requireClaimable(epoch, token, record);
        (Funds memory funds, bool opening) = _loadFunds(epoch, token);
        if (!opening) return;
        _funds[epoch][token] = funds;
        _release(epoch, token, funds.remaining);
    }

    /*//////////////////////////////////////////////////////////////
                                 CLAIMS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEarningsDistributor
    function claim(uint256 epoch, address token, uint256 agentId, uint256 amount, bytes32[] calldata proof) external {
        if (amount == 0) revert EarningsDistributorZeroAmount();
        RootRecord memory record = _roots[epoch][token];
        _requireClaimable(epoch, token, record);
        (Funds memory funds, bool opening) = _loadFunds(epoch, token);

        // Checks and effects: the leaf's bit, the proof, the epoch's remaining counter.
        if (!_markClaimed(epoch, token, agentId)) revert EarningsDistributorAlreadyClaimed(epoch, token, agentId);
        _verifyLeaf(epoch, token, record.root, agentId, amount, proof);
        uint256 remaining = funds.remaining;
        if (amount > remaining) revert EarningsDistributorExceedsRemaining(epoch, token, amount, remaining);
        funds.remaining = uint128(remaining - amount);
        _funds[epoch][token] = funds;
        (uint256 personal, uint256 infrastructure, uint256 commons) = _split(agentId, epoch, amount);
        emit Claimed(epoch, token, agentId, amount, personal, infrastructure, commons);

        // Interactions: the Treasury's bookkeeping, then, on the epoch's first claim, the bucket's move to it.
        _treasury.credit(agentId, token, personal, infrastructure, commons);
        if (opening) _release(epoch, token, remaining);
    }

    /// @inheritdoc IEarningsDistributor
    function claimMany(uint256 epoch, address token, Claim[] calldata claims) external returns (uint256 paid) {
        RootRecord memory record = _roots[epoch][token];
        _requireClaimable(epoch, token, record);
        (Funds memory funds, bool opening) = _loadFunds(epoch, token);
        uint256 bucket = funds.remaining;
        uint256 remaining = bucket;
        uint256 commonsTotal;
        for (uint256 i; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            if (c.amount == 0) revert EarningsDistributorZeroAmount();
            if (!_markClaimed(epoch, token, c.agentId)) continue;
            _verifyLeaf(epoch, token, record.root, c.agentId, c.amount, c.proof);
            if (c.amount > remaining) revert EarningsDistributorExceedsRemaining(epoch, token, c.amount, remaining);
            remaining -= c.amount;
            (uint256 personal, uint256 infrastructure, uint256 commons) = _split(c.agentId, epoch, c.amount);
            commonsTotal += commons;
            emit Claimed(epoch, token, c.agentId, c.amount, personal, infrastructure, commons);
            _treasury.credit(c.agentId, token, personal, infrastructure, 0);
            ++paid;
        }
        if (paid == 0 && !opening) return 0;
        funds.remaining = uint128(remaining);
        _funds[epoch][token] = funds;
        if (commonsTotal != 0) _treasury.creditCommons(token, commonsTotal);
        if (opening) _release(epoch, token, bucket);
    }

    /// @inheritdoc IEarningsDistributor
    function sweepExpired(uint256 epoch, address token) external returns (uint256 amount) {
        RootRecord memory record = _roots[epoch][token];
        if (record.root == bytes28(0)) revert EarningsDistributorNoRoot(epoch, token);
        uint64 expiresAt = _expiresAt(record);
        if (block.timestamp < expiresAt) revert EarningsDistributorNotExpired(epoch, token, expiresAt);
        (Funds memory funds, bool opening) = _loadFunds(epoch, token);
        if (funds.swept) revert EarningsDistributorSwept(epoch, token);
        amount = funds.remaining;
        _funds[epoch][token] = Funds({remaining: 0, opened: true, swept: true});
        emit UnclaimedSwept(epoch, token, amount);
        if (amount != 0) _treasury.creditCommons(token, amount);
        if (opening) _release(epoch, token, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 SPLITS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEarningsDistributor
    function setSplit(uint256 agentId, Split calldata split) external {
        _requireAgentSigner(agentId);
        _setSplit(agentId, split);
    }

    /// @inheritdoc IEarningsDistributor
    function setSplitBySig(
        uint256 agentId,
        Split calldata split,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                SET_EARNINGS_SPLIT_TYPEHASH,
                agentId,
                split.personalBps,
                split.infrastructureBps,
                split.commonsBps,
                nonce,
                deadline
            )
        );
        _verifyAgentSigned(agentId, structHash, nonce, deadline, signature);
        _setSplit(agentId, split);
    }

    /// @inheritdoc IEarningsDistributor
    function setCommonsFloor(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCommonsFloor(bps);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IEarningsDistributor
    function splitAt(uint256 agentId, uint256 epoch) public view returns (Split memory) {
        SplitHead memory head = _splitHeads[agentId];
        if (head.commonsBps == 0 && head.personalBps == 0 && head.infrastructureBps == 0) return _defaultSplit();
        if (epoch >= head.fromEpoch) return Split(head.personalBps, head.infrastructureBps, head.commonsBps);
        // The last earlier record in force at `epoch`: binary search over fromEpoch, ascending.
        uint256 lo;
        uint256 hi = head.older;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            if (_olderSplits[agentId][mid].fromEpoch <= epoch) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) return _defaultSplit();
        SplitRecord memory record = _olderSplits[agentId][lo - 1];
        return Split(record.personalBps, record.infrastructureBps, record.commonsBps);
    }

    /// @inheritdoc IEarningsDistributor
    function epochInfo(uint256 epoch, address token) external view returns (EpochInfo memory info) {
        RootRecord memory record = _roots[epoch][token];
        Funds memory funds = _funds[epoch][token];
        info.root = record.root;
        if (record.root != bytes28(0)) {
            info.claimableAt = record.claimableAt;
            info.expiresAt = _expiresAt(record);
        }
        info.opened = funds.opened;
        info.swept = funds.swept;
        info.remaining = funds.remaining;
    }

    /// @inheritdoc IEarningsDistributor
    function isClaimed(uint256 epoch, address token, uint256 agentId) external view returns (bool) {
        return _claimed[epoch][token][agentId >> 8] & (1 << (agentId & 0xff)) != 0;
    }

    /// @inheritdoc IEarningsDistributor
    function commonsFloor() external view returns (uint16) {
        return _commonsFloor;
    }

    /// @inheritdoc IEarningsDistributor
    function challengeWindow() external view returns (uint256) {
        return _challengeWindow;
    }

    /// @inheritdoc IEarningsDistributor
    function claimPeriod() external view returns (uint256) {
        return _claimPeriod;
    }

    /// @inheritdoc IEarningsDistributor
    function router() external view returns (address) {
        return address(_router);
    }

    /// @inheritdoc IEarningsDistributor
    function treasury() external view returns (address) {
        return address(_treasury);
    }

    /// @inheritdoc IEarningsDistributor
    function leafHash(uint256 agentId, address token, uint256 amount) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(agentId, token, amount))));
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _epochAt(uint256 timestamp) internal view returns (uint256) {
        return timestamp < _genesis ? 0 : (timestamp - _genesis) / _epochLength;
    }

    function _expiresAt(RootRecord memory record) internal view returns (uint64) {
        return uint64(record.claimableAt + _claimPeriod);
    }

    /// @dev A root is posted, its challenge window is over and its claim period is not.
    function _requireClaimable(uint256 epoch, address token, RootRecord memory record) internal view {
        if (record.root == bytes28(0)) revert EarningsDistributorNoRoot(epoch, token);
        if (block.timestamp < record.claimableAt) {
            revert EarningsDistributorChallengeWindowRunning(epoch, token, record.claimableAt);
        }
        uint64 expiresAt = _expiresAt(record);
        if (block.timestamp >= expiresAt) revert EarningsDistributorExpired(epoch, token, expiresAt);
    }

    /// @dev The epoch's funds. On its first use the epoch opens: its bucket becomes the remaining counter (returned
    /// as opened, `opening` true) and the caller, after writing all its effects, moves the bucket with {_release}, so
    /// a token that re-enters during that transfer finds the epoch open and its counter current.
    function _loadFunds(uint256 epoch, address token) internal view returns (Funds memory funds, bool opening) {
        funds = _funds[epoch][token];
        if (funds.opened) return (funds, false);
        funds = Funds({remaining: uint128(_router.bucketOf(epoch, token)), opened: true, swept: false});
        opening = true;
    }

    /// @dev Moves an opening epoch's bucket to the Treasury. The caller already wrote the epoch's counter.
    function _release(uint256 epoch, address token, uint256 bucket) internal {
        emit EpochOpened(epoch, token, bucket);
        uint256 released = _router.releaseBucket(epoch, token);
        // The bucket cannot change in between: the epoch is closed and only this contract releases it.
        if (released != bucket) revert EarningsDistributorReleaseMismatch(epoch, token, bucket, released);
    }

    /// @dev Sets the agent's bit; false when it was already set.
    function _markClaimed(uint256 epoch, address token, uint256 agentId) internal returns (bool) {
        mapping(uint256 word => uint256) storage bitmap = _claimed[epoch][token];
        uint256 bit = 1 << (agentId & 0xff);
        uint256 word = bitmap[agentId >> 8];
        if (word & bit != 0) return false;
        bitmap[agentId >> 8] = word | bit;
        return true;
    }

    function _verifyLeaf(
        uint256 epoch,
        address token,
        bytes28 root,
        uint256 agentId,
        uint256 amount,
        bytes32[] calldata proof
    ) internal pure {
        bytes32 computed = MerkleProof.processProofCalldata(proof, leafHash(agentId, token, amount));
        if (bytes28(computed) != root) revert EarningsDistributorInvalidProof(epoch, token, agentId, amount);
    }

    /// @dev The leaf split by the agent's configuration for the epoch; the rounding remainder goes to the commons.
    function _split(
        uint256 agentId,
        uint256 epoch,
        uint256 amount
    ) internal view returns (uint256 personal, uint256 infrastructure, uint256 commons) {
        Split memory split = splitAt(agentId, epoch);
        (personal, infrastructure, commons) = BasisPoints.split3(amount, split.personalBps, split.infrastructureBps);
    }

    function _setSplit(uint256 agentId, Split calldata split) internal {
        if (uint256(split.personalBps) + split.infrastructureBps + split.commonsBps != BasisPoints.TOTAL) {
            revert EarningsDistributorInvalidSplit(split.personalBps, split.infrastructureBps, split.commonsBps);
        }
        uint16 floor = _commonsFloor;
        if (split.commonsBps < floor) revert EarningsDistributorBelowCommonsFloor(split.commonsBps, floor);

        // In force from the next epoch: the current epoch's earnings keep the split they accrued under.
        uint32 fromEpoch = uint32(_epochAt(block.timestamp) + 1);
        SplitHead memory head = _splitHeads[agentId];
        bool isSet = head.commonsBps != 0 || head.personalBps != 0 || head.infrastructureBps != 0;
        if (isSet && head.fromEpoch != fromEpoch) {
            _olderSplits[agentId][head.older] = SplitRecord({
                personalBps: head.personalBps,
                infrastructureBps: head.infrastructureBps,
                commonsBps: head.commonsBps,
                fromEpoch: head.fromEpoch
            });
            ++head.older;
        }
        head.personalBps = split.personalBps;
        head.infrastructureBps = split.infrastructureBps;
        head.commonsBps = split.commonsBps;
        head.fromEpoch = fromEpoch;
        _splitHeads[agentId] = head;
        emit SplitSet(agentId, split.personalBps, split.infrastructureBps, split.commonsBps, fromEpoch);
    }

    function _setCommonsFloor(uint16 bps) internal {
        if (bps > DEFAULT_COMMONS_BPS) revert EarningsDistributorInvalidCommonsFloor(bps);
        _commonsFloor = bps;
        emit CommonsFloorSet(bps);
    }

    function _defaultSplit() internal pure returns (Split memory) {
        return Split(DEFAULT_PERSONAL_BPS, DEFAULT_INFRASTRUCTURE_BPS, DEFAULT_COMMONS_BPS);
    }
}

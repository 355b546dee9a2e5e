// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentSigned} from "./IAgentSigned.sol";

/**
 * @title IEarningsDistributor
 * @notice Pays each agent its share of a closed epoch's bucket, by Merkle proof. For each closed epoch and token the
 * earnings poster (a keeper role) posts the root of a tree of `(agentId, token, amount)` leaves (OpenZeppelin
 * StandardMerkleTree: `keccak256(bytes.concat(keccak256(abi.encode(agentId, token, amount))))`), its total, which must
 * equal the RevenueRouter's bucket exactly, and the URI of the full tree. During the challenge window that follows the
 * guardian can cancel the root; anyone can recompute it from the chain's `Paid` events. After the window the epoch
 * opens: its bucket moves to the Treasury and claims begin. A claim (by anyone) pays the leaf once, split by the
 * agent's configuration in force for that epoch: personal earnings and infrastructure budget to the agent's account
 * in the Treasury, the rest to the commons pool. A per-epoch remaining counter, set from the bucket, caps what the
 * epoch can pay whatever its root says. What is unclaimed at the expiry fixed when the root was posted goes to the
 * commons.
 *
 * Inner splits (personal / infrastructure / commons, basis points summing to 10,000) change by the agent's signature
 * only, never with commons below the floor governance sets, and take effect from the next epoch, so an epoch's
 * earnings are always split by the configuration that was in force during it.
 */
interface IEarningsDistributor is IAgentSigned {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice One leaf to claim: the agent, its amount and the proof.
    struct Claim {
        uint256 agentId;
        uint256 amount;
        bytes32[] proof;
    }

    /// @notice An inner split in basis points.
    struct Split {
        uint16 personalBps;
        uint16 infrastructureBps;
        uint16 commonsBps;
    }

    /// @notice What the contract knows of an epoch's root and funds.
    struct EpochInfo {
        /// @dev The first 224 bits of the posted root (zero: none posted, or cancelled).
        bytes28 root;
        uint64 claimableAt;
        uint64 expiresAt;
        bool opened;
        bool swept;
        uint256 remaining;
    }

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The poster posted the root of `epoch` in `token`; claims open at `claimableAt` and expire
    /// `claimPeriod()` seconds later.
    event RootPosted(
        uint256 indexed epoch,
        address indexed token,
        bytes32 root,
        uint256 total,
        string uri,
        uint64 claimableAt
    );
    /// @notice The guardian cancelled the root of `epoch` in `token` within its challenge window.
    event RootCancelled(uint256 indexed epoch, address indexed token, bytes28 root, address indexed guardian);
    /// @notice The epoch's bucket moved to the Treasury and its claims began.
    event EpochOpened(uint256 indexed epoch, address indexed token, uint256 total);
    /// @notice Agent `agentId`'s leaf was paid: `personal` and `infrastructure` to its Treasury account, `commons` to
    /// the pool (`personal + infrastructure + commons == amount`).
    event Claimed(
        uint256 indexed epoch,
        address indexed token,
        uint256 indexed agentId,
        uint256 amount,
        uint256 personal,
        uint256 infrastructure,
        uint256 commons
    );
    /// @notice What the epoch still held at its expiry went to the commons.
    event UnclaimedSwept(uint256 indexed epoch, address indexed token, uint256 amount);
    /// @notice The agent set its inner split, in force from `fromEpoch`.
    event SplitSet(
        uint256 indexed agentId,
        uint16 personalBps,
        uint16 infrastructureBps,
        uint16 commonsBps,
        uint256 fromEpoch
    );
    /// @notice Governance set the commons floor of inner splits.
    event CommonsFloorSet(uint16 bps);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The epoch has not ended yet.
    error EarningsDistributorEpochNotClosed(uint256 epoch, uint256 currentEpoch);
    /// @notice A root is already posted for this epoch and token.
    error EarningsDistributorRootExists(uint256 epoch, address token);
    /// @notice The posted total is not the epoch's bucket.
    error EarningsDistributorTotalMismatch(uint256 epoch, address token, uint256 total, uint256 bucket);
    /// @notice The epoch's bucket in this token is empty: nothing to distribute.
    error EarningsDistributorEmptyEpoch(uint256 epoch, address token);
    /// @notice A zero root.
    error EarningsDistributorZeroRoot();
    /// @notice No root is posted for this epoch and token.
    error EarningsDistributorNoRoot(uint256 epoch, address token);
    /// @notice The challenge window is over: the root can no longer be cancelled.
    error EarningsDistributorChallengeWindowOver(uint256 epoch, address token, uint64 claimableAt);
    /// @notice The challenge window is still running: claims open at `claimableAt`.
    error EarningsDistributorChallengeWindowRunning(uint256 epoch, address token, uint64 claimableAt);
    /// @notice The claim period ended at `expiresAt`.
    error EarningsDistributorExpired(uint256 epoch, address token, uint64 expiresAt);
    /// @notice The claim period runs until `expiresAt`.
    error EarningsDistributorNotExpired(uint256 epoch, address token, uint64 expiresAt);
    /// @notice The agent's leaf of this epoch and token was already paid.
    error EarningsDistributorAlreadyClaimed(uint256 epoch, address token, uint256 agentId);
    /// @notice The proof does not lead to the posted root.
    error EarningsDistributorInvalidProof(uint256 epoch, address token, uint256 agentId, uint256 amount);
    /// @notice The epoch has less left than the leaf claims: the root promises more than the bucket held.
    error EarningsDistributorExceedsRemaining(uint256 epoch, address token, uint256 amount, uint256 remaining);
    /// @notice A leaf of zero.
    error EarningsDistributorZeroAmount();
    /// @notice Inner split basis points must sum to 10,000.
    error EarningsDistributorInvalidSplit(uint16 personalBps, uint16 infrastructureBps, uint16 commonsBps);
    /// @notice The commons share is below the floor.
    error EarningsDistributorBelowCommonsFloor(uint16 commonsBps, uint16 floor);
    /// @notice The floor may not exceed the default commons share.
    error EarningsDistributorInvalidCommonsFloor(uint16 bps);
    /// @notice A challenge window or claim period out of range.
    error EarningsDistributorInvalidWindows(uint256 challengeWindow, uint256 claimPeriod);
    /// @notice A zero address where an account is required.
    error EarningsDistributorZeroAddress();
    /// @notice The epoch's unclaimed funds were already swept.
    error EarningsDistributorSwept(uint256 epoch, address token);
    /// @notice The router released other than the bucket it reported (never expected).
    error EarningsDistributorReleaseMismatch(uint256 epoch, address token, uint256 bucket, uint256 released);
    /// @notice The total does not fit the 128-bit remaining counter.
    error EarningsDistributorTotalTooLarge(uint256 total);

    /*//////////////////////////////////////////////////////////////
                                  ROOTS
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice The earnings poster posts the root of a closed epoch. `total` must equal the router's bucket exactly.
     * @param epoch A closed epoch.
     * @param token The token (zero for ETH).
     * @param root The StandardMerkleTree root; only its first 224 bits are stored and checked.
     * @param total The sum of the leaves.
     * @param uri Where the full tree is published (a content address).
     */
    function postRoot(uint256 epoch, address token, bytes32 root, uint256 total, string calldata uri) external;

    /**
     * @notice The guardian cancels a root within its challenge window; the poster may then post a corrected one.
     * @param epoch The epoch.
     * @param token The token.
     */
    function cancelRoot(uint256 epoch, address token) external;

    /**
     * @notice Opens an epoch whose challenge window is over: its bucket moves to the Treasury and the remaining counter
     * is set. Anyone may call; the first claim does it when nobody has.
     * @param epoch The epoch.
     * @param token The token.
     */
    function openEpoch(uint256 epoch, address token) external;

    /*//////////////////////////////////////////////////////////////
                                 CLAIMS
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Pays agent `agentId`'s leaf of `epoch` in `token`, split by its configuration in force for that epoch.
     * Anyone may call; the money only ever goes to the agent's Treasury account and the commons.
     * @param epoch The epoch.
     * @param token The token.
     * @param agentId The agent.
     * @param amount The leaf's amount.
     * @param proof The Merkle proof.
     */
    function claim(uint256 epoch, address token, uint256 agentId, uint256 amount, bytes32[] calldata proof) external;

    /**
     * @notice Pays many leaves of one epoch and token. Leaves already paid are skipped, so a claim sent ahead of a
     * batch cannot make the batch fail.
     * @param epoch The epoch.
     * @param token The token.
     * @param claims The leaves.
     * @return paid How many leaves this call paid.
     */
    function claimMany(uint256 epoch, address token, Claim[] calldata claims) external returns (uint256 paid);

    /**
     * @notice After the expiry, moves what the epoch still holds to the commons. Anyone may call.
     * @param epoch The epoch.
     * @param token The token.
     * @return amount What went to the commons.
     */
    function sweepExpired(uint256 epoch, address token) external returns (uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 SPLITS
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice The agent signer sets its inner split, in force from the next epoch.
     * @param agentId The agent.
     * @param split Personal, infrastructure and commons basis points, summing to 10,000, commons at least the floor.
     */
    function setSplit(uint256 agentId, Split calldata split) external;

    /**
     * @notice Relays the agent's EIP-712 `SetEarningsSplit(uint256 agentId,uint16 personalBps,uint16
     * infrastructureBps,uint16 commonsBps,uint256 nonce,uint256 deadline)`.
     * @param agentId The agent.
     * @param split The split, as signed.
     * @param nonce An unused nonce of the agent in this contract.
     * @param deadline Signature expiry.
     * @param signature The agent signer's signature.
     */
    function setSplitBySig(
        uint256 agentId,
        Split calldata split,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Governance (the admin until the timelock takes over) sets the commons floor of inner splits. Splits
     * already set keep their commons share; the floor binds every later change.
     * @param bps The floor, at most the default commons share.
     */
    function setCommonsFloor(uint16 bps) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent's inner split in force for `epoch`.
    /// @param agentId The agent.
    /// @param epoch The epoch.
    /// @return The split.
    function splitAt(uint256 agentId, uint256 epoch) external view returns (Split memory);

    /// @notice An epoch's root, windows and funds.
    /// @param epoch The epoch.
    /// @param token The token.
    /// @return The state.
    function epochInfo(uint256 epoch, address token) external view returns (EpochInfo memory);

    /// @notice Whether the agent's leaf of this epoch and token was paid.
    /// @param epoch The epoch.
    /// @param token The token.
    /// @param agentId The agent.
    /// @return Whether it was.
    function isClaimed(uint256 epoch, address token, uint256 agentId) external view returns (bool);

    /// @notice The commons floor of inner splits.
    /// @return Basis points.
    function commonsFloor() external view returns (uint16);

    /// @notice Seconds between a root's posting and the opening of its claims.
    /// @return The window.
    function challengeWindow() external view returns (uint256);

    /// @notice Seconds between the opening of claims and their expiry.
    /// @return The period.
    function claimPeriod() external view returns (uint256);

    /// @notice The RevenueRouter whose buckets this contract distributes.
    /// @return The router.
    function router() external view returns (address);

    /// @notice The Treasury this contract created, which holds the agents' accounts and the commons.
    /// @return The treasury.
    function treasury() external view returns (address);

    /// @notice The StandardMerkleTree leaf of `(agentId, token, amount)`.
    /// @param agentId The agent.
    /// @param token The token.
    /// @param amount The amount.
    /// @return The leaf hash.
    function leafHash(uint256 agentId, address token, uint256 amount) external pure returns (bytes32);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentSigned} from "./IAgentSigned.sol";

/**
 * @title IRevenueRouter
 * @notice Where a user pays an agent for a service. Each payment is split in two at once: the user share (default
 * 9,000 bps) is credited to the agent's operator, or to a payee the operator named, and withdrawn by pull; the agent
 * share (default 1,000 bps) is added to the bucket of the current epoch for that token. No per-agent storage is
 * written on payment: the `Paid` event is the record the earnings keeper builds each epoch's Merkle tree from, and the
 * bucket is the total that tree must match. The EarningsDistributor moves a bucket to the Treasury once its root is
 * final.
 *
 * Epoch `e` covers [genesis + e * epochLength, genesis + (e + 1) * epochLength). A payment belongs to the epoch of its
 * block's timestamp; a closed epoch's bucket never grows again.
 */
interface IRevenueRouter is IAgentSigned {
    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `gross` of `token` was paid for agent `agentId`'s service in `epoch` (the payer is the transaction's
    /// caller); `agentShare` went to the epoch's bucket and the rest (`gross - agentShare`) to the user side. `token`
    /// zero is ETH; `ref` is the payer's reference.
    event Paid(
        uint256 indexed agentId,
        address indexed token,
        uint256 indexed epoch,
        uint256 gross,
        uint256 agentShare,
        bytes32 ref
    );
    /// @notice `account` withdrew its user-side credit of `token` to `to`.
    event Withdrawn(address indexed account, address indexed token, address indexed to, uint256 amount);
    /// @notice The user/agent ratio of the agent changed, signed by its operator and by the agent.
    event RevenueShareSet(uint256 indexed agentId, uint16 userBps, uint16 agentBps, address indexed operator);
    /// @notice The operator named the payee of the agent's user share (zero: the operator itself again).
    event PayeeSet(uint256 indexed agentId, address indexed operator, address indexed payee);
    /// @notice The admin accepted or stopped accepting an ERC-20 for payments.
    event TokenAcceptedSet(address indexed token, bool accepted);
    /// @notice The admin wired the router to its EarningsDistributor and Treasury (once).
    event EarningsBound(address indexed distributor, address indexed treasury);
    /// @notice An epoch's bucket of `token` moved to the Treasury for its claims.
    event BucketReleased(uint256 indexed epoch, address indexed token, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice A payment of zero.
    error RevenueRouterZeroAmount();
    /// @notice An ETH payment whose `msg.value` is not `amount`, or an ERC-20 payment with ETH attached.
    error RevenueRouterWrongValue(uint256 amount, uint256 value);
    /// @notice The ERC-20 is not accepted for payments.
    error RevenueRouterTokenNotAccepted(address token);
    /// @notice The token delivered `received` for a transfer of `amount`: fee-on-transfer and rebasing tokens are
    /// refused, since every later transfer of the split would lose to the fee again.
    error RevenueRouterFeeOnTransfer(address token, uint256 amount, uint256 received);
    /// @notice Basis points must sum to 10,000.
    error RevenueRouterInvalidSplit(uint256 userBps, uint256 agentBps);
    /// @notice The operator's signature is not the agent owner's, and the caller is not its owner or approved.
    error RevenueRouterInvalidOperatorSignature(uint256 agentId, address owner);
    /// @notice `caller` is neither the agent's owner nor approved for it.
    error RevenueRouterNotOperator(uint256 agentId, address caller);
    /// @notice Nothing to withdraw.
    error RevenueRouterNothingToWithdraw(address account, address token);
    /// @notice A zero address where an account is required.
    error RevenueRouterZeroAddress();
    /// @notice Only the bound EarningsDistributor may release buckets.
    error RevenueRouterNotDistributor(address caller);
    /// @notice The router is already bound to its distributor and treasury.
    error RevenueRouterAlreadyBound();
    /// @notice The epoch is not closed yet: its bucket may still grow.
    error RevenueRouterEpochNotClosed(uint256 epoch, uint256 currentEpoch);
    /// @notice The epoch length must be at least one minute and the genesis not in the future.
    error RevenueRouterInvalidEpochs(uint256 genesis, uint256 epochLength);

    /*//////////////////////////////////////////////////////////////
                                PAYMENTS
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Pays agent `agentId` for a service. ETH: `token` zero and `msg.value == amount`. ERC-20: `token` accepted
     * by the admin, approved to this contract, no ETH attached; a token that delivers less than `amount` is refused.
     * The agent share is `amount * agentBps / 10_000` rounded down; the rounding remainder stays with the user side.
     * @param agentId The agent (must exist in the registry).
     * @param token The token (zero for ETH).
     * @param amount The gross amount.
     * @param ref The payer's reference (an invoice or order id), echoed in `Paid`.
     */
    function pay(uint256 agentId, address token, uint256 amount, bytes32 ref) external payable;

    /**
     * @notice Withdraws the caller's whole user-side credit of `token` to `to`.
     * @param token The token (zero for ETH).
     * @param to The receiver.
     * @return amount What was sent.
     */
    function withdraw(address token, address to) external returns (uint256 amount);

    /*//////////////////////////////////////////////////////////////
                             CONFIGURATION
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Changes the user/agent ratio of an agent. Both parties must agree over the same EIP-712 message
     * `SetRevenueShare(uint256 agentId,uint16 userBps,uint16 agentBps,uint256 nonce,uint256 deadline)`: the operator by
     * calling (owner or approved) or by `operatorSignature` (the owner's key, ECDSA or ERC-1271); the agent by calling
     * (its signer) or by `agentSignature`. The nonce is the agent's unordered nonce in this contract. Applies to
     * payments from the next block on.
     * @param agentId The agent.
     * @param userBps The user share.
     * @param agentBps The agent share; `userBps + agentBps == 10_000`.
     * @param nonce An unused nonce of the agent.
     * @param deadline Signature expiry (unix seconds).
     * @param operatorSignature The owner's signature; empty when the caller is the owner or approved.
     * @param agentSignature The agent signer's signature; empty when the caller is the agent signer.
     */
    function setRevenueShare(
        uint256 agentId,
        uint16 userBps,
        uint16 agentBps,
        uint256 nonce,
        uint256 deadline,
        bytes calldata operatorSignature,
        bytes calldata agentSignature
    ) external;

    /**
     * @notice The operator names who receives the agent's user share while it owns the agent (zero: itself). The
     * choice is kept per owner, so it stops applying when the agent's token changes hands.
     * @param agentId The agent (caller must be its owner or approved).
     * @param payee The payee, or zero.
     */
    function setPayee(uint256 agentId, address payee) external;

    /**
     * @notice The admin accepts (or stops accepting) an ERC-20 for payments. ETH is always accepted.
     * @param token The ERC-20.
     * @param accepted Whether payments in it are taken.
     */
    function setTokenAccepted(address token, bool accepted) external;

    /**
     * @notice Wires the router to its EarningsDistributor (and that distributor's Treasury). Admin, once.
     * @param distributor The distributor.
     */
    function bindDistributor(address distributor) external;

    /**
     * @notice Moves the whole bucket of a closed epoch to the Treasury. Only the distributor, when the epoch's root
     * has passed its challenge window.
     * @param epoch The epoch.
     * @param token The token.
     * @return amount What moved (the bucket).
     */
    function releaseBucket(uint256 epoch, address token) external returns (uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The epoch of the current block.
    /// @return The epoch.
    function currentEpoch() external view returns (uint256);

    /// @notice The epoch containing `timestamp` (0 before genesis).
    /// @param timestamp Unix seconds.
    /// @return The epoch.
    function epochAt(uint256 timestamp) external view returns (uint256);

    /// @notice When epoch 0 starts.
    /// @return Unix seconds.
    function genesis() external view returns (uint256);

    /// @notice Seconds per epoch.
    /// @return The length.
    function epochLength() external view returns (uint256);

    /// @notice The agent-share bucket of an epoch and token: what the epoch's Merkle tree must total, until released.
    /// @param epoch The epoch.
    /// @param token The token (zero for ETH).
    /// @return The amount.
    function bucketOf(uint256 epoch, address token) external view returns (uint256);

    /// @notice An account's withdrawable user-side credit.
    /// @param account The operator or payee.
    /// @param token The token (zero for ETH).
    /// @return The amount.
    function creditOf(address account, address token) external view returns (uint256);

    /// @notice The agent's user/agent ratio in force.
    /// @param agentId The agent.
    /// @return userBps The user share.
    /// @return agentBps The agent share.
    function revenueShare(uint256 agentId) external view returns (uint16 userBps, uint16 agentBps);

    /// @notice Who receives the agent's user share now: the payee its current owner named, else the owner.
    /// @param agentId The agent.
    /// @return The receiver.
    function payeeOf(uint256 agentId) external view returns (address);

    /// @notice Whether an ERC-20 is accepted for payments (ETH always is).
    /// @param token The token.
    /// @return Whether it is.
    function isTokenAccepted(address token) external view returns (bool);

    /// @notice The bound EarningsDistributor (zero until bound).
    /// @return The distributor.
    function distributor() external view returns (address);

    /// @notice The bound Treasury (zero until bound).
    /// @return The treasury.
    function treasury() external view returns (address);
}

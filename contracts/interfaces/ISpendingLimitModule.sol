// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentSigned} from "./IAgentSigned.sol";

/**
 * @title ISpendingLimitModule
 * @notice A Safe module through which an agent spends from the Safe its operator and co-signers own, within limits
 * the Safe sets: per token a per-transaction cap and a daily cap (UTC calendar day), an allow-list of
 * (target, selector) for calls, a queue for spends above the per-transaction cap (owners approve, a delay passes,
 * owners and the guardian can veto), a freeze, and a permissionless sweep of the balance above a hot-wallet
 * threshold to the owners' cold address.
 *
 * Every spend is the agent's: the agent signer (read from the AgentRegistry at the time of the call) either calls
 * directly or signs an EIP-712 `Spend` that anyone relays:
 * `Spend(uint256 agentId,address token,address to,uint256 amount,bytes data,uint256 nonce,uint256 deadline,
 * uint256 gas)`
 * - a transfer: `data` empty; `token` zero for ETH, else the ERC-20 sent; `amount` the amount;
 * - a call: `data` the call data (its selector must be allowed for `to`), `token` zero, `amount` the ETH value;
 * - `gas`: the gas the call is given: the module refuses to start it with less (so a relayer cannot make it fail on
 *   purpose) and forwards about that much (so a call cannot burn more of the relayer's gas).
 * The Safe call must succeed: when it fails the whole spend reverts with its return data, so neither the nonce nor
 * the allowance is used. The owners approve a queued spend by their Safe's threshold of signatures over the EIP-712
 * `ApproveSpend(uint256 queueId,uint256 agentId,address token,address to,uint256 amount,bytes data,uint256 gas)`
 * of this contract, wrapped as a Safe message (checked with the Safe's ERC-1271), or by a Safe transaction.
 */
interface ISpendingLimitModule is IAgentSigned {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice Where a queued spend stands. An approved spend past its execution window can no longer execute.
    enum QueueStatus {
        None,
        Pending,
        Approved,
        Executed,
        Vetoed,
        Cancelled
    }

    /// @notice An agent's binding and freeze, and the bound Safe's settings for it.
    struct AgentState {
        address safe;
        bool frozen;
        uint40 frozenAt;
        uint32 queueDelay;
        address cold;
    }

    /// @notice One token's policy for an agent in its bound Safe, with today's use (UTC day).
    struct TokenPolicy {
        uint256 perTxCap;
        uint256 dailyCap;
        uint256 spentToday;
        uint256 remainingToday;
        uint256 hotThreshold;
        bool sweepEnabled;
    }

    /// @notice A spend waiting for the owners (or done with).
    struct QueuedSpend {
        uint256 agentId;
        address safe;
        address token;
        address to;
        uint256 amount;
        bytes data;
        uint64 gas;
        uint40 queuedAt;
        uint40 executableAt;
        QueueStatus status;
    }

    /// @notice A sentinel key's freeze allowance: at most `maxFreezes` per `window` seconds.
    struct SentinelState {
        uint16 maxFreezes;
        uint32 window;
        uint40 windowStart;
        uint16 used;
    }

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator bound the agent to `safe` (which must have this module enabled and the operator as owner).
    event SafeBound(uint256 indexed agentId, address indexed safe, address indexed by);
    /// @notice The agent's binding to `safe` was removed by the operator or by that Safe.
    event SafeUnbound(uint256 indexed agentId, address indexed safe, address indexed by);
    /// @notice The Safe set a token's caps for the agent (token zero: ETH).
    event TokenPolicySet(
        uint256 indexed agentId,
        address indexed safe,
        address indexed token,
        uint256 perTxCap,
        uint256 dailyCap
    );
    /// @notice The Safe allowed or disallowed calls to `target` with `selector` for the agent.
    event CallPermissionSet(
        uint256 indexed agentId,
        address indexed safe,
        address indexed target,
        bytes4 selector,
        bool allowed
    );
    /// @notice The Safe set the delay between the owners' approval of a queued spend and its execution.
    event QueueDelaySet(uint256 indexed agentId, address indexed safe, uint32 delay);
    /// @notice The Safe set the cold address sweeps go to.
    event ColdAddressSet(uint256 indexed agentId, address indexed safe, address cold);
    /// @notice The Safe set a token's hot-wallet threshold (sweeps move the balance above it).
    event HotThresholdSet(
        uint256 indexed agentId,
        address indexed safe,
        address indexed token,
        uint256 threshold,
        bool enabled
    );
    /// @notice The agent sent `amount` of `token` (zero: ETH) to `to`; `remainingToday` is left of today's cap.
    /// Whether a signed spend ran is `isNonceUsed(agentId, nonce)`.
    event Spent(
        uint256 indexed agentId,
        address indexed token,
        address indexed to,
        uint256 amount,
        uint256 remainingToday
    );
    /// @notice The agent called `target` (`selector`) with `value` wei; `remainingToday` is left of today's ETH cap.
    event CallSpent(
        uint256 indexed agentId,
        address indexed target,
        bytes4 indexed selector,
        uint256 value,
        uint256 remainingToday
    );
    /// @notice A spend above the per-transaction cap was queued for the owners of `safe`. `nonce` is the signed nonce,
    /// or DIRECT_CALL when the agent signer queued it by a direct call.
    event SpendQueued(
        uint256 indexed queueId,
        uint256 indexed agentId,
        address indexed safe,
        address token,
        address to,
        uint256 amount,
        bytes data,
        uint64 gas,
        uint256 nonce
    );
    /// @notice The owners approved a queued spend; anyone may execute it from `executableAt`.
    event QueuedSpendApproved(uint256 indexed queueId, uint256 indexed agentId, uint40 executableAt);
    /// @notice An owner, the Safe or the guardian vetoed a queued spend.
    event QueuedSpendVetoed(uint256 indexed queueId, uint256 indexed agentId, address indexed by);
    /// @notice The agent cancelled its queued spend.
    event QueuedSpendCancelled(uint256 indexed queueId, uint256 indexed agentId);
    /// @notice A queued spend was executed.
    event QueuedSpendExecuted(uint256 indexed queueId, uint256 indexed agentId, address indexed by);
    /// @notice The agent was frozen: it can neither spend nor queue until its Safe unfreezes it.
    event AgentFrozen(uint256 indexed agentId, address indexed by);
    /// @notice The agent's Safe unfroze it.
    event AgentUnfrozen(uint256 indexed agentId, address indexed safe);
    /// @notice The admin granted (or changed) a sentinel key and its freeze rate limit.
    event SentinelSet(address indexed sentinel, uint16 maxFreezes, uint32 window);
    /// @notice The admin revoked a sentinel key.
    event SentinelRevoked(address indexed sentinel);
    /// @notice A sweep moved `amount` of `token` (zero: ETH) above the hot threshold to the cold address.
    event Swept(uint256 indexed agentId, address indexed token, address indexed cold, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice `caller` is not the agent's operator (owner or approved).
    error SpendingLimitModuleNotOperator(uint256 agentId, address caller);
    /// @notice `safe` does not have this module enabled (or is not a Safe).
    error SpendingLimitModuleModuleNotEnabled(address safe);
    /// @notice The agent's operator is not an owner of `safe`.
    error SpendingLimitModuleOperatorNotOwner(uint256 agentId, address operator, address safe);
    /// @notice The agent is not bound to a Safe.
    error SpendingLimitModuleNoSafe(uint256 agentId);
    /// @notice `caller` is not the agent's bound Safe.
    error SpendingLimitModuleNotSafe(uint256 agentId, address caller);
    /// @notice Neither the operator nor the bound Safe.
    error SpendingLimitModuleNotOperatorOrSafe(uint256 agentId, address caller);
    /// @notice The agent is frozen.
    error SpendingLimitModuleFrozen(uint256 agentId);
    /// @notice The agent is already frozen.
    error SpendingLimitModuleAlreadyFrozen(uint256 agentId);
    /// @notice The agent is not frozen.
    error SpendingLimitModuleNotFrozen(uint256 agentId);
    /// @notice `caller` may not freeze the agent (not a sentinel, the council, the Safe or an owner).
    error SpendingLimitModuleNotFreezer(uint256 agentId, address caller);
    /// @notice The sentinel used its freezes for this window; it may freeze again from `resetsAt`.
    error SpendingLimitModuleSentinelRateLimited(address sentinel, uint256 resetsAt);
    /// @notice A sentinel's limit must allow at least one freeze in a window of 1 second to 30 days.
    error SpendingLimitModuleInvalidSentinelLimit(uint16 maxFreezes, uint32 window);
    /// @notice `account` is not a sentinel.
    error SpendingLimitModuleNotSentinel(address account);
    /// @notice The amount exceeds the per-transaction cap: queue it instead.
    error SpendingLimitModuleOverPerTxCap(uint256 agentId, address token, uint256 amount, uint256 perTxCap);
    /// @notice The amount exceeds what is left of today's cap.
    error SpendingLimitModuleOverDailyCap(uint256 agentId, address token, uint256 amount, uint256 remainingToday);
    /// @notice The amount is within the per-transaction cap: spend it directly rather than queue it.
    error SpendingLimitModuleNotQueueable(uint256 agentId, address token, uint256 amount, uint256 perTxCap);
    /// @notice Calls to `target` with `selector` are not allowed for the agent.
    error SpendingLimitModuleCallNotAllowed(uint256 agentId, address target, bytes4 selector);
    /// @notice The Safe itself and this module can never be spent to, called or allow-listed.
    error SpendingLimitModuleForbiddenTarget(address target);
    /// @notice A transfer of nothing, a token transfer with call data, or call data shorter than a selector.
    error SpendingLimitModuleInvalidSpend(uint256 agentId);
    /// @notice The Safe call failed; nothing was spent. `returnData` is what the call returned.
    error SpendingLimitModuleCallFailed(uint256 agentId, bytes returnData);
    /// @notice The token did not confirm the transfer (returned false, or has no code).
    error SpendingLimitModuleTokenTransferFailed(uint256 agentId, address token, bytes returnData);
    /// @notice Less gas is left than the signed `gas` needs (with the 63/64 rule): the relayer must send more.
    error SpendingLimitModuleInsufficientGas(uint256 gasLeft, uint256 required);
    /// @notice The signed `gas` exceeds MAX_CALL_GAS.
    error SpendingLimitModuleGasTooHigh(uint256 gas);
    /// @notice Caps must satisfy perTxCap <= dailyCap <= MAX_CAP.
    error SpendingLimitModuleInvalidCaps(uint256 perTxCap, uint256 dailyCap);
    /// @notice The hot threshold exceeds MAX_CAP.
    error SpendingLimitModuleInvalidThreshold(uint256 threshold);
    /// @notice The queue delay is outside [MIN_QUEUE_DELAY, MAX_QUEUE_DELAY].
    error SpendingLimitModuleInvalidQueueDelay(uint32 delay);
    /// @notice A zero address was given where an account is required.
    error SpendingLimitModuleZeroAddress();
    /// @notice No queued spend has this id.
    error SpendingLimitModuleUnknownQueuedSpend(uint256 queueId);
    /// @notice The queued spend is not in a state that allows this.
    error SpendingLimitModuleQueuedSpendNotOpen(uint256 queueId, QueueStatus status);
    /// @notice The queued spend is not approved yet.
    error SpendingLimitModuleQueuedSpendNotApproved(uint256 queueId);
    /// @notice The delay after approval has not passed; executable from `executableAt`.
    error SpendingLimitModuleQueuedSpendTooEarly(uint256 queueId, uint256 executableAt);
    /// @notice The execution window closed at `expiredAt`.
    error SpendingLimitModuleQueuedSpendExpired(uint256 queueId, uint256 expiredAt);
    /// @notice The agent is bound to another Safe than the one the spend was queued for.
    error SpendingLimitModuleSafeChanged(uint256 queueId, address queuedSafe, address currentSafe);
    /// @notice The owners' signatures do not approve this queued spend under the Safe's threshold.
    error SpendingLimitModuleInvalidApproval(uint256 queueId, address safe);
    /// @notice `caller` may not veto (not an owner, the Safe or the guardian).
    error SpendingLimitModuleNotVetoer(uint256 queueId, address caller);
    /// @notice Sweeping is not set up for this token (no cold address or no threshold).
    error SpendingLimitModuleSweepNotConfigured(uint256 agentId, address token);
    /// @notice The balance does not exceed the hot threshold.
    error SpendingLimitModuleNothingToSweep(uint256 agentId, address token, uint256 balance, uint256 threshold);

    /*//////////////////////////////////////////////////////////////
                                BINDING
    //////////////////////////////////////////////////////////////*/

    /// @notice The operator binds the agent to `safe`, where its funds sit. `safe` must have this module enabled and
    /// the agent's owner among its owners. Policies belong to the pair (Safe, agent): a new Safe starts with none.
    /// @param agentId The agent (caller must be its owner or approved).
    /// @param safe The Safe.
    function bindSafe(uint256 agentId, address safe) external;

    /// @notice Removes the agent's binding; by the operator or by the bound Safe. A freeze stays in force.
    /// @param agentId The agent.
    function unbindSafe(uint256 agentId) external;

    /*//////////////////////////////////////////////////////////////
                        POLICY (THE BOUND SAFE)
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets a token's caps for the agent; today's spending so far still counts against the new daily cap.
    /// @param agentId The agent (caller must be its bound Safe).
    /// @param token The ERC-20, or zero for ETH (which also caps the value of calls).
    /// @param perTxCap Largest amount of one direct spend; above it a spend can only be queued.
    /// @param dailyCap Most the agent may spend per UTC day; at least perTxCap, at most MAX_CAP.
    function setTokenPolicy(uint256 agentId, address token, uint256 perTxCap, uint256 dailyCap) external;

    /// @notice Allows or disallows the agent's calls to `target` with `selector`.
    /// @param agentId The agent (caller must be its bound Safe).
    /// @param target The contract; never the Safe or this module.
    /// @param selector The function selector.
    /// @param allowed Whether allowed.
    function setCallPermission(uint256 agentId, address target, bytes4 selector, bool allowed) external;

    /// @notice Sets the delay between the owners' approval of a queued spend and its execution.
    /// @param agentId The agent (caller must be its bound Safe).
    /// @param delay Seconds, in [MIN_QUEUE_DELAY, MAX_QUEUE_DELAY]; DEFAULT_QUEUE_DELAY applies until set.
    function setQueueDelay(uint256 agentId, uint32 delay) external;

    /// @notice Sets the cold address sweeps send to; zero stops all sweeps.
    /// @param agentId The agent (caller must be its bound Safe).
    /// @param cold The owners' cold address.
    function setColdAddress(uint256 agentId, address cold) external;

    /// @notice Sets a token's hot-wallet threshold: a sweep moves the Safe's balance above it to the cold address.
    /// @param agentId The agent (caller must be its bound Safe).
    /// @param token The ERC-20, or zero for ETH.
    /// @param threshold The balance to keep, at most MAX_CAP.
    /// @param enabled Whether this token may be swept.
    function setHotThreshold(uint256 agentId, address token, uint256 threshold, bool enabled) external;

    /*//////////////////////////////////////////////////////////////
                                 SPENDS
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent signer sends `amount` of `token` (zero: ETH) from the Safe to `to`, within its caps.
    /// @param agentId The agent (caller must be its signer).
    /// @param token The ERC-20, or zero for ETH.
    /// @param to The recipient.
    /// @param amount The amount; at most the per-transaction cap and what is left today.
    /// @return remaining What is left of today's cap afterwards.
    function spend(uint256 agentId, address token, address to, uint256 amount) external returns (uint256 remaining);

    /// @notice Relays the agent signer's `Spend` of `amount` of `token` (zero: ETH) to `to` (its `data` empty).
    /// @param agentId The agent.
    /// @param token The ERC-20, or zero for ETH.
    /// @param to The recipient.
    /// @param amount The amount.
    /// @param nonce The unordered nonce.
    /// @param deadline Signature expiry (unix seconds).
    /// @param gas The gas the token call (or ETH transfer) is given.
    /// @param signature The agent signer's signature (ECDSA or ERC-1271).
    /// @return remaining What is left of today's cap afterwards.
    function spendBySig(
        uint256 agentId,
        address token,
        address to,
        uint256 amount,
        uint256 nonce,
        uint256 deadline,
        uint256 gas,
        bytes calldata signature
    ) external returns (uint256 remaining);

    /// @notice The agent signer calls an allowed (target, selector) from the Safe, sending `value` wei.
    /// @param agentId The agent (caller must be its signer).
    /// @param target The contract called.
    /// @param value Wei sent, counted against the ETH caps.
    /// @param data The call data (at least a selector).
    /// @return remaining What is left of today's ETH cap afterwards.
    function spendCall(
        uint256 agentId,
        address target,
        uint256 value,
        bytes calldata data
    ) external returns (uint256 remaining);

    /// @notice Relays the agent signer's `Spend` that calls `target` (its `token` zero, `amount` the value).
    /// @param agentId The agent.
    /// @param target The contract called.
    /// @param value Wei sent, counted against the ETH caps.
    /// @param data The call data (at least a selector).
    /// @param nonce The unordered nonce.
    /// @param deadline Signature expiry (unix seconds).
    /// @param gas The gas the call is given.
    /// @param signature The agent signer's signature (ECDSA or ERC-1271).
    /// @return remaining What is left of today's ETH cap afterwards.
    function spendCallBySig(
        uint256 agentId,
        address target,
        uint256 value,
        bytes calldata data,
        uint256 nonce,
        uint256 deadline,
        uint256 gas,
        bytes calldata signature
    ) external returns (uint256 remaining);

    /*//////////////////////////////////////////////////////////////
                      THE WITHDRAWAL APPROVAL QUEUE
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent signer queues a spend above its per-transaction cap for its Safe's owners.
    /// @param agentId The agent (caller must be its signer).
    /// @param token The ERC-20 (with empty `data`), or zero for ETH or a call.
    /// @param to The recipient or the called contract.
    /// @param amount The token amount, or the wei sent.
    /// @param data Empty for a transfer; the call data (of an allowed selector) for a call.
    /// @param gas The gas the call is given when executed.
    /// @return queueId The queued spend's id.
    function queueSpend(
        uint256 agentId,
        address token,
        address to,
        uint256 amount,
        bytes calldata data,
        uint256 gas
    ) external returns (uint256 queueId);

    /// @notice Relays the agent signer's `Spend` into the queue (it must exceed the per-transaction cap).
    /// @param agentId The agent.
    /// @param token The ERC-20 (with empty `data`), or zero for ETH or a call.
    /// @param to The recipient or the called contract.
    /// @param amount The token amount, or the wei sent.
    /// @param data Empty for a transfer; the call data for a call.
    /// @param nonce The unordered nonce.
    /// @param deadline Signature expiry (unix seconds).
    /// @param gas The gas the call is given when executed.
    /// @param signature The agent signer's signature.
    /// @return queueId The queued spend's id.
    function queueSpendBySig(
        uint256 agentId,
        address token,
        address to,
        uint256 amount,
        bytes calldata data,
        uint256 nonce,
        uint256 deadline,
        uint256 gas,
        bytes calldata signature
    ) external returns (uint256 queueId);

    /// @notice The Safe approves a queued spend by a Safe transaction (its owners' threshold).
    /// @param queueId The queued spend (caller must be the Safe it was queued for).
    function approveQueuedSpend(uint256 queueId) external;

    /// @notice Anyone submits the owners' approval: signatures meeting the Safe's threshold over the Safe message
    /// of {approvalDigest} (as protocol-kit's `createMessage`/`signMessage` produce), or empty when the Safe signed
    /// that message on-chain. Owners may also pre-approve the Safe message hash with `approveHash`.
    /// @param queueId The queued spend.
    /// @param signatures The owners' signatures, as the Safe encodes them.
    function approveQueuedSpendBySig(uint256 queueId, bytes calldata signatures) external;

    /// @notice Vetoes a pending or approved spend before it executes: by any owner of its Safe, the Safe itself or
    /// the guardian.
    /// @param queueId The queued spend.
    function vetoQueuedSpend(uint256 queueId) external;

    /// @notice The agent signer withdraws its queued spend.
    /// @param queueId The queued spend (caller must be the agent signer).
    function cancelQueuedSpend(uint256 queueId) external;

    /// @notice Executes an approved spend once its delay has passed, within EXECUTION_WINDOW. Anyone may call; the
    /// call must succeed or nothing changes.
    /// @param queueId The queued spend.
    function executeQueuedSpend(uint256 queueId) external;

    /*//////////////////////////////////////////////////////////////
                                 FREEZE
    //////////////////////////////////////////////////////////////*/

    /// @notice Freezes the agent at once: no spend, queueing or queued execution until its Safe unfreezes it.
    /// By a sentinel key (within its rate limit), the council, the bound Safe or any of its owners.
    /// @param agentId The agent.
    function freeze(uint256 agentId) external;

    /// @notice Lifts a freeze. Only the bound Safe (its owners' threshold, by a Safe transaction).
    /// @param agentId The agent.
    function unfreeze(uint256 agentId) external;

    /// @notice Grants or changes a sentinel key: at most `maxFreezes` freezes per `window` seconds. Admin only.
    /// @param sentinel The keeper key.
    /// @param maxFreezes Freezes allowed per window, at least 1.
    /// @param window The window in seconds, 1 to 30 days.
    function setSentinel(address sentinel, uint16 maxFreezes, uint32 window) external;

    /// @notice Revokes a sentinel key. Admin only.
    /// @param sentinel The keeper key.
    function revokeSentinel(address sentinel) external;

    /*//////////////////////////////////////////////////////////////
                                 SWEEP
    //////////////////////////////////////////////////////////////*/

    /// @notice Moves the bound Safe's balance of `token` above its hot threshold to the cold address. Anyone may
    /// call, also while the agent is frozen.
    /// @param agentId The agent.
    /// @param token The ERC-20, or zero for ETH.
    /// @return amount What was moved.
    function sweep(uint256 agentId, address token) external returns (uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent's binding, freeze and the bound Safe's queue delay and cold address.
    /// @param agentId The agent.
    /// @return state The state.
    function agentState(uint256 agentId) external view returns (AgentState memory state);

    /// @notice A token's policy for the agent in its bound Safe, with today's use.
    /// @param agentId The agent.
    /// @param token The ERC-20, or zero for ETH.
    /// @return policy The policy.
    function tokenPolicy(uint256 agentId, address token) external view returns (TokenPolicy memory policy);

    /// @notice A token's policy for the agent in a given Safe (bound or not).
    /// @param safe The Safe.
    /// @param agentId The agent.
    /// @param token The ERC-20, or zero for ETH.
    /// @return policy The policy.
    function tokenPolicyOf(
        address safe,
        uint256 agentId,
        address token
    ) external view returns (TokenPolicy memory policy);

    /// @notice What the agent may still spend of `token` today (UTC) from its bound Safe.
    /// @param agentId The agent.
    /// @param token The ERC-20, or zero for ETH.
    /// @return The remaining allowance.
    function remainingToday(uint256 agentId, address token) external view returns (uint256);

    /// @notice Whether the agent may call `target` with `selector` from its bound Safe.
    /// @param agentId The agent.
    /// @param target The contract.
    /// @param selector The function selector.
    /// @return Whether allowed.
    function isCallAllowed(uint256 agentId, address target, bytes4 selector) external view returns (bool);

    /// @notice A queued spend.
    /// @param queueId The id.
    /// @return The queued spend.
    function queuedSpend(uint256 queueId) external view returns (QueuedSpend memory);

    /// @notice How many spends were ever queued (ids run 0 .. queueLength - 1).
    /// @return The count.
    function queueLength() external view returns (uint256);

    /// @notice Queued spends `start` .. `start + count - 1` (fewer at the end of the queue).
    /// @param start The first id.
    /// @param count How many.
    /// @return spends The queued spends.
    function queuedSpends(uint256 start, uint256 count) external view returns (QueuedSpend[] memory spends);

    /// @notice The EIP-712 digest of the `ApproveSpend` the owners sign for a queued spend.
    /// @param queueId The queued spend.
    /// @return The digest.
    function approvalDigest(uint256 queueId) external view returns (bytes32);

    /// @notice A sentinel key's rate limit and use.
    /// @param sentinel The key.
    /// @return The state (maxFreezes zero: not a sentinel).
    function sentinelState(address sentinel) external view returns (SentinelState memory);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAgentSigned} from "./IAgentSigned.sol";

/**
 * @title ITreasury
 * @notice Holds the agent side of Covenant's money once an epoch opens: each agent's account per token (personal
 * earnings, withdrawable only to the earnings wallet the registry names, and an infrastructure budget) and the commons
 * pool. The EarningsDistributor credits both when a leaf is claimed.
 *
 * The infrastructure budget pays only for the agent's own services: a keeper that performed one (a backup, a relayed
 * transaction) charges it under that service's role, up to the cap governance sets per service and token and the
 * agent's own lower limit, per limit period; a `ref` (the backup's sequence, the transaction hash) charges once. The
 * commons pays out only by its admin (the timelock once governance is deployed).
 */
interface ITreasury is IAgentSigned {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice One service charge in a batch.
    struct Charge {
        uint256 agentId;
        uint256 amount;
        bytes32 ref;
    }

    /// @notice What an agent's budget may still pay a service in this limit period.
    struct ServiceAllowance {
        uint256 cap;
        bool agentLimitSet;
        uint256 agentLimit;
        uint256 spentThisPeriod;
        uint256 available;
    }

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent's personal earnings were sent to its earnings wallet.
    event EarningsWithdrawn(uint256 indexed agentId, address indexed token, address indexed wallet, uint256 amount);
    /// @notice Someone added to the agent's infrastructure budget.
    event BudgetFunded(uint256 indexed agentId, address indexed token, address indexed from, uint256 amount);
    /// @notice `keeper` charged the agent's budget for `service`, identified by `ref`.
    event ServiceCharged(
        uint256 indexed agentId,
        bytes32 indexed service,
        address indexed keeper,
        address token,
        uint256 amount,
        bytes32 ref
    );
    /// @notice Someone added to the commons pool.
    event CommonsFunded(address indexed token, address indexed from, uint256 amount);
    /// @notice The admin paid from the commons pool.
    event CommonsSpent(address indexed token, address indexed to, uint256 amount, bytes32 reason);
    /// @notice Governance set the per-period cap of a service in a token (zero: the service may not charge it).
    event ServiceCapSet(bytes32 indexed service, address indexed token, uint256 capPerPeriod);
    /// @notice The agent set its own per-period limit for a service in a token.
    event ServiceLimitSet(uint256 indexed agentId, bytes32 indexed service, address indexed token, uint96 limit);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice Only the EarningsDistributor credits accounts.
    error TreasuryNotDistributor(address caller);
    /// @notice ETH arrives only from the RevenueRouter, or through `fundCommons` / `fundBudget`.
    error TreasuryUnexpectedEther(address sender);
    /// @notice Nothing to withdraw.
    error TreasuryNothingToWithdraw(uint256 agentId, address token);
    /// @notice The agent has no earnings wallet yet (its charter is not accepted).
    error TreasuryNoEarningsWallet(uint256 agentId);
    /// @notice The commons pool holds less than asked.
    error TreasuryInsufficientCommons(address token, uint256 amount, uint256 available);
    /// @notice The agent's budget holds less than the charge.
    error TreasuryInsufficientBudget(uint256 agentId, address token, uint256 amount, uint256 available);
    /// @notice Governance has not enabled this service in this token.
    error TreasuryServiceNotEnabled(bytes32 service, address token);
    /// @notice The charge exceeds what the service may still take this period.
    error TreasuryOverServiceLimit(uint256 agentId, bytes32 service, address token, uint256 amount, uint256 available);
    /// @notice This service already charged this agent for `ref`.
    error TreasuryAlreadyCharged(uint256 agentId, bytes32 service, bytes32 ref);
    /// @notice A zero amount.
    error TreasuryZeroAmount();
    /// @notice A zero address where an account is required.
    error TreasuryZeroAddress();
    /// @notice An ETH amount that is not `msg.value`, or ETH attached to an ERC-20 call.
    error TreasuryWrongValue(uint256 amount, uint256 value);
    /// @notice The token delivered other than the amount.
    error TreasuryFeeOnTransfer(address token, uint256 amount, uint256 received);
    /// @notice The zero id is the admin role, never a service.
    error TreasuryInvalidService();
    /// @notice The limit period must be at least an hour.
    error TreasuryInvalidLimitPeriod(uint256 period);

    /*//////////////////////////////////////////////////////////////
                        CREDITS (EARNINGS DISTRIBUTOR)
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Credits a claimed leaf: `personal` and `infrastructure` to the agent's account, `commons` to the pool.
     * Only the EarningsDistributor, whose opened epochs have already moved the funds here.
     * @param agentId The agent.
     * @param token The token.
     * @param personal To the agent's earnings.
     * @param infrastructure To the agent's budget.
     * @param commons To the commons pool.
     */
    function credit(uint256 agentId, address token, uint256 personal, uint256 infrastructure, uint256 commons) external;

    /**
     * @notice Credits the commons pool (claim batches, expired epochs). Only the EarningsDistributor.
     * @param token The token.
     * @param amount The amount.
     */
    function creditCommons(address token, uint256 amount) external;

    /*//////////////////////////////////////////////////////////////
                              AGENT ACCOUNTS
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Sends the agent's personal earnings in `token` to its earnings wallet as the registry names it now.
     * Anyone may call: the money can go nowhere else.
     * @param agentId The agent.
     * @param token The token (zero for ETH).
     * @return amount What was sent.
     */
    function withdrawEarnings(uint256 agentId, address token) external returns (uint256 amount);

    /**
     * @notice Adds to an agent's infrastructure budget (an operator paying for its agent's backups, say).
     * @param agentId The agent.
     * @param token The token (zero for ETH: `msg.value == amount`).
     * @param amount The amount.
     */
    function fundBudget(uint256 agentId, address token, uint256 amount) external payable;

    /**
     * @notice A keeper holding the `service` role charges the agent's budget for a service it performed, and is paid.
     * @param agentId The agent served.
     * @param token The budget's token.
     * @param service The service id (also the keeper role), e.g. BACKUP_SERVICE or RELAYED_GAS_SERVICE.
     * @param amount The price.
     * @param ref What was served (backup sequence, transaction hash); each charges once.
     */
    function chargeService(uint256 agentId, address token, bytes32 service, uint256 amount, bytes32 ref) external;

    /**
     * @notice Many charges of one service in one token (the tx-executor's relayed gas per agent, say), paid to the
     * keeper in one transfer. Any charge over its agent's budget or limit fails the whole batch.
     * @param token The token.
     * @param service The service id.
     * @param charges The charges.
     * @return total What the keeper was paid.
     */
    function chargeServices(address token, bytes32 service, Charge[] calldata charges) external returns (uint256 total);

    /**
     * @notice The agent signer limits what a service may charge its budget per limit period (at most governance's
     * cap applies either way).
     * @param agentId The agent.
     * @param service The service.
     * @param token The token.
     * @param limit The limit per period.
     */
    function setServiceLimit(uint256 agentId, bytes32 service, address token, uint96 limit) external;

    /**
     * @notice Relays the agent's EIP-712 `SetServiceLimit(uint256 agentId,bytes32 service,address token,uint96 limit,
     * uint256 nonce,uint256 deadline)`.
     * @param agentId The agent.
     * @param service The service.
     * @param token The token.
     * @param limit The limit per period.
     * @param nonce An unused nonce of the agent in this contract.
     * @param deadline Signature expiry.
     * @param signature The agent signer's signature.
     */
    function setServiceLimitBySig(
        uint256 agentId,
        bytes32 service,
        address token,
        uint96 limit,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /*//////////////////////////////////////////////////////////////
                                 COMMONS
    //////////////////////////////////////////////////////////////*/

    /**
     * @notice Adds to the commons pool.
     * @param token The token (zero for ETH: `msg.value == amount`).
     * @param amount The amount.
     */
    function fundCommons(address token, uint256 amount) external payable;

    /**
     * @notice Pays from the commons pool. Only the admin (the timelock, executing a passed proposal).
     * @param token The token.
     * @param to The receiver.
     * @param amount The amount.
     * @param reason A reference to the decision (proposal id, hash of its description).
     */
    function spendCommons(address token, address to, uint256 amount, bytes32 reason) external;

    /**
     * @notice Governance sets what a service may charge each agent per limit period in a token (zero disables it).
     * @param service The service.
     * @param token The token.
     * @param capPerPeriod The cap.
     */
    function setServiceCap(bytes32 service, address token, uint256 capPerPeriod) external;

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent's withdrawable personal earnings.
    /// @param agentId The agent.
    /// @param token The token.
    /// @return The amount.
    function earningsOf(uint256 agentId, address token) external view returns (uint256);

    /// @notice The agent's infrastructure budget.
    /// @param agentId The agent.
    /// @param token The token.
    /// @return The amount.
    function budgetOf(uint256 agentId, address token) external view returns (uint256);

    /// @notice The commons pool.
    /// @param token The token.
    /// @return The amount.
    function commonsOf(address token) external view returns (uint256);

    /// @notice What `service` may still charge the agent's budget in `token` this period.
    /// @param agentId The agent.
    /// @param service The service.
    /// @param token The token.
    /// @return The allowance.
    function serviceAllowance(
        uint256 agentId,
        bytes32 service,
        address token
    ) external view returns (ServiceAllowance memory);

    /// @notice Whether `service` already charged the agent for `ref`.
    /// @param agentId The agent.
    /// @param service The service.
    /// @param ref The reference.
    /// @return Whether it did.
    function isCharged(uint256 agentId, bytes32 service, bytes32 ref) external view returns (bool);

    /// @notice Seconds per limit period.
    /// @return The period.
    function limitPeriod() external view returns (uint256);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AgentSigned} from "../identity/AgentSigned.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {ITreasury} from "../interfaces/ITreasury.sol";

/**
 * @title Treasury
 * @notice The agents' accounts (personal earnings and infrastructure budget, per token) and the commons pool. Created
 * by the EarningsDistributor, which alone credits it; the RevenueRouter sends it each epoch's bucket when the epoch
 * opens. See {ITreasury}.
 *
 * Trust assumptions:
 * - The EarningsDistributor credits only what an opened epoch moved here, by leaves it verified.
 * - Personal earnings leave only to the earnings wallet the AgentRegistry names for the agent at withdrawal.
 * - A keeper holding a service role (granted by the admin) can charge an agent's budget for that service only, within
 *   the admin's cap and the agent's own limit per period, once per `ref`. It is trusted to charge only for work it did;
 *   the caps bound what a compromised keeper key can take per agent and period.
 * - The admin (DEFAULT_ADMIN_ROLE: the deployer, then the timelock) spends the commons, sets service caps and grants
 *   service roles. It cannot touch an agent's earnings or budget.
 * - Tokens are the RevenueRouter's accepted plain ERC-20s; deposits that deliver other than the amount are refused.
 */
contract Treasury is ITreasury, AccessControl, AgentSigned, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The backup keeper's service: archiving, encrypting, storing and anchoring an agent's memory.
    bytes32 public constant BACKUP_SERVICE = keccak256("covenant.service.backup");
    /// @notice The tx-executor's service: gas of transactions relayed for the agent.
    bytes32 public constant RELAYED_GAS_SERVICE = keccak256("covenant.service.relayed-gas");

    bytes32 public constant SET_SERVICE_LIMIT_TYPEHASH = keccak256(
        "SetServiceLimit(uint256 agentId,bytes32 service,address token,uint96 limit,uint256 nonce,uint256 deadline)"
    );

    uint256 private constant _MIN_LIMIT_PERIOD = 1 hours;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev An agent's money in one token, in one slot: personal (128) | budget (128), so a claim writes one slot.
    struct Account {
        uint128 personal;
        uint128 budget;
    }

    /// @dev An agent's own limit for a service in a token and what it spent, in one slot:
    /// limit (96) | limitSet (8) | spent (96) | period (32) = 232 bits. `spent` counts within `period` only.
    struct ServiceUse {
        uint96 limit;
        bool limitSet;
        uint96 spent;
        uint32 period;
    }

    /// @notice The EarningsDistributor that created this treasury and alone credits it.
    address public immutable distributor;
    /// @notice The RevenueRouter that sends opened epochs' buckets here.
    address public immutable router;

    uint256 private immutable _limitPeriod;

    mapping(uint256 agentId => mapping(address token => Account)) private _accounts;
    mapping(address token => uint256) private _commons;
    mapping(bytes32 service => mapping(address token => uint256)) private _serviceCaps;
    mapping(uint256 agentId => mapping(bytes32 service => mapping(address token => ServiceUse))) private _serviceUse;
    /// @dev keccak256(abi.encode(agentId, service, ref)) of every charge made.
    mapping(bytes32 chargeId => bool) private _charged;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param registry_ The AgentRegistry.
    /// @param router_ The RevenueRouter.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the deployer, then the timelock).
    /// @param limitPeriod_ Seconds per service-limit period (at least an hour).
    constructor(
        IAgentRegistry registry_,
        address router_,
        address admin,
        uint256 limitPeriod_
    ) AgentSigned(registry_) EIP712("Covenant Treasury", "1") {
        if (router_ == address(0) || admin == address(0)) revert TreasuryZeroAddress();
        if (limitPeriod_ < _MIN_LIMIT_PERIOD) revert TreasuryInvalidLimitPeriod(limitPeriod_);
        distributor = msg.sender;
        router = router_;
        _limitPeriod = limitPeriod_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice ETH comes in only from the RevenueRouter releasing a bucket; gifts go through `fundCommons`.
    receive() external payable {
        if (msg.sender != router) revert TreasuryUnexpectedEther(msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                        CREDITS (EARNINGS DISTRIBUTOR)
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITreasury
    function credit(
        uint256 agentId,
        address token,
        uint256 personal,
        uint256 infrastructure,
        uint256 commons
    ) external {
        if (msg.sender != distributor) revert TreasuryNotDistributor(msg.sender);
        Account storage account = _accounts[agentId][token];
        Account memory current = account;
        account.personal = (current.personal + personal).toUint128();
        account.budget = (current.budget + infrastructure).toUint128();
        if (commons != 0) _commons[token] += commons;
    }

    /// @inheritdoc ITreasury
    function creditCommons(address token, uint256 amount) external {
        if (msg.sender != distributor) revert TreasuryNotDistributor(msg.sender);
        _commons[token] += amount;
    }

    /*//////////////////////////////////////////////////////////////
                              AGENT ACCOUNTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITreasury
    function withdrawEarnings(uint256 agentId, address token) external nonReentrant returns (uint256 amount) {
        Account storage account = _accounts[agentId][token];
        amount = account.personal;
        if (amount == 0) revert TreasuryNothingToWithdraw(agentId, token);
        address wallet = registry.earningsWallet(agentId);
        if (wallet == address(0)) revert TreasuryNoEarningsWallet(agentId);
        account.personal = 0;
        emit EarningsWithdrawn(agentId, token, wallet, amount);
        _send(token, wallet, amount);
    }

    /// @inheritdoc ITreasury
    function fundBudget(uint256 agentId, address token, uint256 amount) external payable nonReentrant {
        _receive(token, amount);
        Account storage account = _accounts[agentId][token];
        account.budget = (uint256(account.budget) + amount).toUint128();
        emit BudgetFunded(agentId, token, msg.sender, amount);
    }

    /// @inheritdoc ITreasury
    function chargeService(
        uint256 agentId,
        address token,
        bytes32 service,
        uint256 amount,
        bytes32 ref
    ) external nonReentrant onlyRole(service) {
        uint256 cap = _requireEnabled(service, token);
        _charge(agentId, token, service, cap, amount, ref);
        _send(token, msg.sender, amount);
    }

    /// @inheritdoc ITreasury
    function chargeServices(
        address token,
        bytes32 service,
        Charge[] calldata charges
    ) external nonReentrant onlyRole(service) returns (uint256 total) {
        uint256 cap = _requireEnabled(service, token);
        for (uint256 i; i < charges.length; ++i) {
            Charge calldata c = charges[i];
            _charge(c.agentId, token, service, cap, c.amount, c.ref);
            total += c.amount;
        }
        if (total != 0) _send(token, msg.sender, total);
    }

    /// @inheritdoc ITreasury
    function setServiceLimit(uint256 agentId, bytes32 service, address token, uint96 limit) external {
        _requireAgentSigner(agentId);
        _setServiceLimit(agentId, service, token, limit);
    }

    /// @inheritdoc ITreasury
    function setServiceLimitBySig(
        uint256 agentId,
        bytes32 service,
        address token,
        uint96 limit,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(SET_SERVICE_LIMIT_TYPEHASH, agentId, service, token, limit, nonce, deadline)
        );
        _verifyAgentSigned(agentId, structHash, nonce, deadline, signature);
        _setServiceLimit(agentId, service, token, limit);
    }

    /*//////////////////////////////////////////////////////////////
                                 COMMONS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITreasury
    function fundCommons(address token, uint256 amount) external payable nonReentrant {
        _receive(token, amount);
        _commons[token] += amount;
        emit CommonsFunded(token, msg.sender, amount);
    }

    /// @inheritdoc ITreasury
    function spendCommons(
        address token,
        address to,
        uint256 amount,
        bytes32 reason
    ) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert TreasuryZeroAddress();
        if (amount == 0) revert TreasuryZeroAmount();
        uint256 available = _commons[token];
        if (amount > available) revert TreasuryInsufficientCommons(token, amount, available);
        _commons[token] = available - amount;
        emit CommonsSpent(token, to, amount, reason);
        _send(token, to, amount);
    }

    /// @inheritdoc ITreasury
    function setServiceCap(bytes32 service, address token, uint256 capPerPeriod) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (service == DEFAULT_ADMIN_ROLE) revert TreasuryInvalidService();
        _serviceCaps[service][token] = capPerPeriod;
        emit ServiceCapSet(service, token, capPerPeriod);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ITreasury
    function earningsOf(uint256 agentId, address token) external view returns (uint256) {
        return _accounts[agentId][token].personal;
    }

    /// @inheritdoc ITreasury
    function budgetOf(uint256 agentId, address token) external view returns (uint256) {
        return _accounts[agentId][token].budget;
    }

    /// @inheritdoc ITreasury
    function commonsOf(address token) external view returns (uint256) {
        return _commons[token];
    }

    /// @inheritdoc ITreasury
    function serviceAllowance(
        uint256 agentId,
        bytes32 service,
        address token
    ) external view returns (ServiceAllowance memory allowance) {
        ServiceUse memory use = _serviceUse[agentId][service][token];
        allowance.cap = _serviceCaps[service][token];
        allowance.agentLimitSet = use.limitSet;
        allowance.agentLimit = use.limit;
        allowance.spentThisPeriod = use.period == _currentPeriod() ? use.spent : 0;
        uint256 limit = _effectiveLimit(allowance.cap, use);
        allowance.available = limit > allowance.spentThisPeriod ? limit - allowance.spentThisPeriod : 0;
    }

    /// @inheritdoc ITreasury
    function isCharged(uint256 agentId, bytes32 service, bytes32 ref) external view returns (bool) {
        return _charged[_chargeId(agentId, service, ref)];
    }

    /// @inheritdoc ITreasury
    function limitPeriod() external view returns (uint256) {
        return _limitPeriod;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _requireEnabled(bytes32 service, address token) internal view returns (uint256 cap) {
        cap = _serviceCaps[service][token];
        if (cap == 0) revert TreasuryServiceNotEnabled(service, token);
    }

    /// @dev Debits one charge from the agent's budget within its limits; the caller pays the keeper.
    function _charge(
        uint256 agentId,
        address token,
        bytes32 service,
        uint256 cap,
        uint256 amount,
        bytes32 ref
    ) internal {
        if (amount == 0) revert TreasuryZeroAmount();
        bytes32 chargeId = _chargeId(agentId, service, ref);
        if (_charged[chargeId]) revert TreasuryAlreadyCharged(agentId, service, ref);

        ServiceUse memory use = _serviceUse[agentId][service][token];
        uint32 period = _currentPeriod();
        uint256 spent = use.period == period ? use.spent : 0;
        uint256 limit = _effectiveLimit(cap, use);
        uint256 available = limit > spent ? limit - spent : 0;
        if (amount > available) revert TreasuryOverServiceLimit(agentId, service, token, amount, available);

        Account storage account = _accounts[agentId][token];
        uint256 budget = account.budget;
        if (amount > budget) revert TreasuryInsufficientBudget(agentId, token, amount, budget);

        _charged[chargeId] = true;
        account.budget = uint128(budget - amount);
        use.spent = (spent + amount).toUint96();
        use.period = period;
        _serviceUse[agentId][service][token] = use;
        emit ServiceCharged(agentId, service, msg.sender, token, amount, ref);
    }

    function _setServiceLimit(uint256 agentId, bytes32 service, address token, uint96 limit) internal {
        ServiceUse storage use = _serviceUse[agentId][service][token];
        use.limit = limit;
        use.limitSet = true;
        emit ServiceLimitSet(agentId, service, token, limit);
    }

    function _effectiveLimit(uint256 cap, ServiceUse memory use) internal pure returns (uint256) {
        return use.limitSet && use.limit < cap ? use.limit : cap;
    }

    function _currentPeriod() internal view returns (uint32) {
        return uint32(block.timestamp / _limitPeriod);
    }

    function _chargeId(uint256 agentId, bytes32 service, bytes32 ref) internal pure returns (bytes32) {
        return keccak256(abi.encode(agentId, service, ref));
    }

    /// @dev Takes `amount` from the caller: ETH as `msg.value`, an ERC-20 by transferFrom checked by balance
    /// difference.
    function _receive(address token, uint256 amount) internal {
        if (amount == 0) revert TreasuryZeroAmount();
        if (token == address(0)) {
            if (msg.value != amount) revert TreasuryWrongValue(amount, msg.value);
            return;
        }
        if (msg.value != 0) revert TreasuryWrongValue(amount, msg.value);
        IERC20 erc20 = IERC20(token);
        uint256 before = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        uint256 after_ = erc20.balanceOf(address(this));
        uint256 received = after_ > before ? after_ - before : 0;
        if (received != amount) revert TreasuryFeeOnTransfer(token, amount, received);
    }

    function _send(address token, address to, uint256 amount) internal {
        if (token == address(0)) Address.sendValue(payable(to), amount);
        else IERC20(token).safeTransfer(to, amount);
    }
}

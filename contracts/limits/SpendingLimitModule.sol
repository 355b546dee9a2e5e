// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AgentSigned} from "../identity/AgentSigned.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {ISafe} from "../interfaces/ISafe.sol";
import {ISpendingLimitModule} from "../interfaces/ISpendingLimitModule.sol";

/**
 * @title SpendingLimitModule
 * @notice One module contract for every agent: each agent is bound to the Safe that holds its funds, and spends
 * through `execTransactionFromModuleReturnData` of that Safe within the limits the Safe set for it.
 *
 * Trust assumptions:
 * - The Safe's owners (the operator and its co-signers) are the authority over their money: only the Safe itself
 *   (a Safe transaction, their threshold) sets policies, approves queued spends by transaction and unfreezes. Any
 *   single owner can freeze the agent or veto a queued spend at once. Enabling this module trusts it with the Safe.
 * - The agent signer, read from the AgentRegistry at the time of each call, is the only spender. A relayer can delay
 *   a signed `Spend` but not alter or replay it (unordered nonces), nor starve its call of gas (the signed `gas` is
 *   checked before the call). The agent can never raise its own limits: no spend or call may target the Safe or this
 *   module, where the Safe's authority lives.
 * - The operator (ERC-721 owner or approved) chooses the Safe an agent is bound to; that Safe must have the module
 *   enabled and the agent's owner among its owners. Policies are kept per (Safe, agent): binding another Safe carries
 *   none over. A bound Safe's policies only start to matter once that Safe sets them (all caps start at zero).
 * - Sentinel keys (granted by the admin: the deployer, then the timelock) may freeze but never unfreeze, and only
 *   `maxFreezes` times per window each. The council (COUNCIL_ROLE in the AgentRegistry) freezes without limit. The
 *   guardian (GUARDIAN_ROLE here) vetoes queued spends.
 * - Allow-listed calls are trusted by the owners who allow them: only their ETH value counts against the caps, so an
 *   allowed `approve` or a swap router lets value leave beyond the token caps. Allow exactly what the agent needs.
 * - The daily cap is per UTC calendar day (`block.timestamp / 1 days`): across midnight an agent may spend today's
 *   cap and then tomorrow's, so any 24 hours see at most twice the cap (a refilling bucket has the same bound).
 */
contract SpendingLimitModule is ISpendingLimitModule, AgentSigned, AccessControl {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    bytes32 public constant SPEND_TYPEHASH = keccak256(
        "Spend(uint256 agentId,address token,address to,uint256 amount,bytes data,uint256 nonce,uint256 deadline,"
        "uint256 gas)"
    );
    bytes32 public constant APPROVE_SPEND_TYPEHASH = keccak256(
        "ApproveSpend(uint256 queueId,uint256 agentId,address token,address to,uint256 amount,bytes data,"
        "uint256 gas)"
    );

    /// @notice The council's role in the AgentRegistry; its holders may freeze any agent.
    bytes32 public constant COUNCIL_ROLE = keccak256("COUNCIL_ROLE");
    /// @notice The human guardian Safe's role here: it may veto any queued spend.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice The `nonce` reported in SpendQueued for a spend queued by a direct call of the agent signer.
    uint256 public constant DIRECT_CALL = type(uint256).max;
    /// @notice Largest cap or threshold: the int96 range of the packed allowance.
    uint256 public constant MAX_CAP = uint256(uint96(type(int96).max));
    /// @notice Largest signed `gas`.
    uint256 public constant MAX_CALL_GAS = type(uint64).max;
    /// @notice Gas the Safe needs around the call it makes for the module (proxy, singleton, module check, event,
    /// return data), on top of the call's own gas; covers cold accounts on Safe and SafeL2.
    uint256 public constant SAFE_CALL_OVERHEAD = 25_000;

    uint32 public constant MIN_QUEUE_DELAY = 1 hours;
    uint32 public constant MAX_QUEUE_DELAY = 30 days;
    uint32 public constant DEFAULT_QUEUE_DELAY = 1 days;
    /// @notice How long an approved spend stays executable after its delay.
    uint32 public constant EXECUTION_WINDOW = 7 days;
    uint32 public constant MAX_SENTINEL_WINDOW = 30 days;

    bytes32 private constant _EMPTY_HASH = keccak256("");
    bytes4 private constant _ERC1271_MAGIC = 0x1626ba7e;
    /// @dev A call given all the gas there is (direct calls and sweeps): no signed `gas` to honour.
    uint256 private constant _ALL_GAS = type(uint256).max;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /*
     * Layout, packed so that a relayed spend within today's caps touches two slots of this contract besides the
     * nonce word: the agent's slot (read) and the token's allowance (read and written).
     *
     *   _agents[agentId]                        safe (160) | frozenAt (40)                                    200
     *   _allowances[safe][agentId][token]       remaining (int96) | day (32) | perTxCap (96)                  224
     *   _tokenConfigs[safe][agentId][token]     dailyCap (96) | hotThreshold (96) | sweepEnabled (8)          200
     *   _safeConfigs[safe][agentId]             cold (160) | queueDelay (32)                                  192
     *   _sentinels[account]                     maxFreezes (16) | window (32) | windowStart (40) | used (16)  104
     *
     * The allowance keeps what is left of `day`'s cap rather than what was spent, so the daily cap is read (from
     * the token config) only by the first spend of a UTC day, which starts from the full cap. `remaining` is signed:
     * when the owners cut the cap below what was already spent today it goes negative and keeps that debt, so a
     * later raise the same day still counts every wei spent (spent = dailyCap - remaining while day is today).
     */
    struct AgentSlot {
        address safe;
        uint40 frozenAt;
    }

    struct Allowance {
        int96 remaining;
        uint32 day;
        uint96 perTxCap;
    }

    struct TokenConfig {
        uint96 dailyCap;
        uint96 hotThreshold;
        bool sweepEnabled;
    }

    struct SafeConfig {
        address cold;
        uint32 queueDelay;
    }

    /// @dev A queued spend in storage, by slot: agentId | safe, queuedAt, executableAt, status | token, gas | to |
    /// amount | data.
    struct Queued {
        uint256 agentId;
        address safe;
        uint40 queuedAt;
        uint40 executableAt;
        QueueStatus status;
        address token;
        uint64 gas;
        address to;
        uint256 amount;
        bytes data;
    }

    mapping(uint256 agentId => AgentSlot) private _agents;
    mapping(address safe => mapping(uint256 agentId => mapping(address token => Allowance))) private _allowances;
    mapping(address safe => mapping(uint256 agentId => mapping(address token => TokenConfig))) private _tokenConfigs;
    mapping(address safe => mapping(uint256 agentId => SafeConfig)) private _safeConfigs;
    mapping(address safe => mapping(uint256 agentId => mapping(address target => mapping(bytes4 selector => bool))))
        private _callPermissions;
    mapping(address account => SentinelState) private _sentinels;
    mapping(uint256 queueId => Queued) private _queue;
    uint256 private _queueLength;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param registry_ The AgentRegistry naming each agent's signer, operator and council.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants sentinels and the guardian; the deployer, then the timelock).
    /// @param guardian Holder of GUARDIAN_ROLE (the human guardian Safe).
    constructor(
        IAgentRegistry registry_,
        address admin,
        address guardian
    ) AgentSigned(registry_) EIP712("Covenant SpendingLimitModule", "1") {
        if (address(registry_) == address(0) || admin == address(0) || guardian == address(0)) {
            revert SpendingLimitModuleZeroAddress();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GUARDIAN_ROLE, guardian);
    }

    /*//////////////////////////////////////////////////////////////
                                BINDING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISpendingLimitModule
    function bindSafe(uint256 agentId, address safe) external {
        if (!registry.isAuthorizedOrOwner(msg.sender, agentId)) {
            revert SpendingLimitModuleNotOperator(agentId, msg.sender);
        }
        if (safe == address(0)) revert SpendingLimitModuleZeroAddress();
        if (!_askSafe(safe, abi.encodeCall(ISafe.isModuleEnabled, (address(this))))) {
            revert SpendingLimitModuleModuleNotEnabled(safe);
        }
        address operator = IERC721(address(registry)).ownerOf(agentId);
        if (!_isSafeOwner(safe, operator)) revert SpendingLimitModuleOperatorNotOwner(agentId, operator, safe);
        _agents[agentId].safe = safe;
        emit SafeBound(agentId, safe, msg.sender);
    }

    /// @inheritdoc ISpendingLimitModule
    function unbindSafe(uint256 agentId) external {
        address safe = _agents[agentId].safe;
        if (safe == address(0)) revert SpendingLimitModuleNoSafe(agentId);
        if (msg.sender != safe && !registry.isAuthorizedOrOwner(msg.sender, agentId)) {
            revert SpendingLimitModuleNotOperatorOrSafe(agentId, msg.sender);
        }
        _agents[agentId].safe = address(0);
        emit SafeUnbound(agentId, safe, msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                        POLICY (THE BOUND SAFE)
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISpendingLimitModule
    function setTokenPolicy(uint256 agentId, address token, uint256 perTxCap, uint256 dailyCap) external {
        address safe = _requireSafe(agentId);
        if (perTxCap > dailyCap || dailyCap > MAX_CAP) revert SpendingLimitModuleInvalidCaps(perTxCap, dailyCap);
        Allowance memory allowance = _allowances[safe][agentId][token];
        TokenConfig storage config = _tokenConfigs[safe][agentId][token];
        int96 remaining = allowance.remaining;
        if (allowance.day == _today()) {
            // Spent so far today, from the old cap; it keeps counting against the new one (possibly going negative).
            int256 spent = int256(uint256(config.dailyCap)) - allowance.remaining;
            remaining = int96(int256(dailyCap) - spent);
        }
        _allowances[safe][agentId][token] = Allowance(remaining, allowance.day, uint96(perTxCap));
        config.dailyCap = uint96(dailyCap);
        emit TokenPolicySet(agentId, safe, token, perTxCap, dailyCap);
    }

    /// @inheritdoc ISpendingLimitModule
    function setCallPermission(uint256 agentId, address target, bytes4 selector, bool allowed) external {
        address safe = _requireSafe(agentId);
        _checkTarget(safe, target);
        _callPermissions[safe][agentId][target][selector] = allowed;
        emit CallPermissionSet(agentId, safe, target, selector, allowed);
    }

    /// @inheritdoc ISpendingLimitModule
    function setQueueDelay(uint256 agentId, uint32 delay) external {
        address safe = _requireSafe(agentId);
        if (delay < MIN_QUEUE_DELAY || delay > MAX_QUEUE_DELAY) revert SpendingLimitModuleInvalidQueueDelay(delay);
        _safeConfigs[safe][agentId].queueDelay = delay;
        emit QueueDelaySet(agentId, safe, delay);
    }

    /// @inheritdoc ISpendingLimitModule
    function setColdAddress(uint256 agentId, address cold) external {
        address safe = _requireSafe(agentId);
        if (cold == safe || cold == address(this)) revert SpendingLimitModuleForbiddenTarget(cold);
        _safeConfigs[safe][agentId].cold = cold;
        emit ColdAddressSet(agentId, safe, cold);
    }

    /// @inheritdoc ISpendingLimitModule
    function setHotThreshold(uint256 agentId, address token, uint256 threshold, bool enabled) external {
        address safe = _requireSafe(agentId);
        if (threshold > MAX_CAP) revert SpendingLimitModuleInvalidThreshold(threshold);
        TokenConfig storage config = _tokenConfigs[safe][agentId][token];
        config.hotThreshold = uint96(threshold);
        config.sweepEnabled = enabled;
        emit HotThresholdSet(agentId, safe, token, threshold, enabled);
    }

    /*//////////////////////////////////////////////////////////////
                                 SPENDS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISpendingLimitModule
    function spend(uint256 agentId, address token, address to, uint256 amount) external returns (uint256 remaining) {
        _requireAgentSigner(agentId);
        remaining = _transfer(agentId, token, to, amount, _ALL_GAS);
    }

    /// @inheritdoc ISpendingLimitModule
    function spendBySig(
        uint256 agentId,
        address token,
        address to,
        uint256 amount,
        uint256 nonce,
        uint256 deadline,
        uint256 gas,
        bytes calldata signature
    ) external returns (uint256 remaining) {
        bytes32 structHash = keccak256(
            abi.encode(SPEND_TYPEHASH, agentId, token, to, amount, _EMPTY_HASH, nonce, deadline, gas)
        );
        _verifyAgentSigned(agentId, structHash, nonce, deadline, signature);
        remaining = _transfer(agentId, token, to, amount, gas);
    }

    /// @inheritdoc ISpendingLimitModule
    function spendCall(
        uint256 agentId,
        address target,
        uint256 value,
        bytes calldata data
    ) external returns (uint256 remaining) {
        _requireAgentSigner(agentId);
        remaining = _call(agentId, target, value, data, _ALL_GAS);
    }

    /// @inheritdoc ISpendingLimitModule
    function spendCallBySig(
        uint256 agentId,
        address target,
        uint256 value,
        bytes calldata data,
        uint256 nonce,
        uint256 deadline,
        uint256 gas,
        bytes calldata signature
    ) external returns (uint256 remaining) {
        bytes32 structHash = keccak256(
            abi.encode(SPEND_TYPEHASH, agentId, address(0), target, value, keccak256(data), nonce, deadline, gas)
        );
        _verifyAgentSigned(agentId, structHash, nonce, deadline, signature);
        remaining = _call(agentId, target, value, data, gas);
    }

    /*//////////////////////////////////////////////////////////////
                      THE WITHDRAWAL APPROVAL QUEUE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISpendingLimitModule
    function queueSpend(
        uint256 agentId,
        address token,
        address to,
        uint256 amount,
        bytes calldata data,
        uint256 gas
    ) external returns (uint256 queueId) {
        _requireAgentSigner(agentId);
        queueId = _enqueue(agentId, token, to, amount, data, gas, DIRECT_CALL);
    }

    /// @inheritdoc ISpendingLimitModule
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
    ) external returns (uint256 queueId) {
        bytes32 structHash = keccak256(
            abi.encode(SPEND_TYPEHASH, agentId, token, to, amount, keccak256(data), nonce, deadline, gas)
        );
        _verifyAgentSigned(agentId, structHash, nonce, deadline, signature);
        queueId = _enqueue(agentId, token, to, amount, data, gas, nonce);
    }

    /// @inheritdoc ISpendingLimitModule
    function approveQueuedSpend(uint256 queueId) external {
        Queued storage queued = _pending(queueId);
        if (msg.sender != queued.safe) revert SpendingLimitModuleNotSafe(queued.agentId, msg.sender);
        _approve(queueId, queued);
    }

    /// @inheritdoc ISpendingLimitModule
    function approveQueuedSpendBySig(uint256 queueId, bytes calldata signatures) external {
        Queued storage queued = _pending(queueId);
        address safe = queued.safe;
        (bool ok, bytes memory result) = safe.staticcall(
            abi.encodeCall(ISafe.isValidSignature, (_approvalDigest(queueId, queued), signatures))
        );
        if (!ok || result.length < 32 || bytes4(result) != _ERC1271_MAGIC) {
            revert SpendingLimitModuleInvalidApproval(queueId, safe);
        }
        _approve(queueId, queued);
    }

    /// @inheritdoc ISpendingLimitModule
    function vetoQueuedSpend(uint256 queueId) external {
        Queued storage queued = _open(queueId);
        address safe = queued.safe;
        if (msg.sender != safe && !hasRole(GUARDIAN_ROLE, msg.sender) && !_isSafeOwner(safe, msg.sender)) {
            revert SpendingLimitModuleNotVetoer(queueId, msg.sender);
        }
        queued.status = QueueStatus.Vetoed;
        emit QueuedSpendVetoed(queueId, queued.agentId, msg.sender);
    }

    /// @inheritdoc ISpendingLimitModule
    function cancelQueuedSpend(uint256 queueId) external {
        Queued storage queued = _open(queueId);
        uint256 agentId = queued.agentId;
        _requireAgentSigner(agentId);
        queued.status = QueueStatus.Cancelled;
        emit QueuedSpendCancelled(queueId, agentId);
    }

    /// @inheritdoc ISpendingLimitModule
    function executeQueuedSpend(uint256 queueId) external {
        Queued storage queued = _queue[queueId];
        QueueStatus status = queued.status;
        if (status != QueueStatus.Approved) {
            if (status == QueueStatus.None) revert SpendingLimitModuleUnknownQueuedSpend(queueId);
            if (status == QueueStatus.Pending) revert SpendingLimitModuleQueuedSpendNotApproved(queueId);
            revert SpendingLimitModuleQueuedSpendNotOpen(queueId, status);
        }
        uint256 executableAt = queued.executableAt;
        if (block.timestamp < executableAt) revert SpendingLimitModuleQueuedSpendTooEarly(queueId, executableAt);
        if (block.timestamp > executableAt + EXECUTION_WINDOW) {
            revert SpendingLimitModuleQueuedSpendExpired(queueId, executableAt + EXECUTION_WINDOW);
        }
        uint256 agentId = queued.agentId;
        AgentSlot memory agent = _agents[agentId];
        if (agent.safe != queued.safe) revert SpendingLimitModuleSafeChanged(queueId, queued.safe, agent.safe);
        if (agent.frozenAt != 0) revert SpendingLimitModuleFrozen(agentId);

        // Effects before the call: a reentrant execute finds it executed.
        queued.status = QueueStatus.Executed;
        address token = queued.token;
        address to = queued.to;
        uint256 amount = queued.amount;
        bytes memory data = queued.data;
        if (data.length != 0) {
            _execute(agentId, agent.safe, to, amount, data, queued.gas);
        } else if (token == address(0)) {
            _execute(agentId, agent.safe, to, amount, "", queued.gas);
        } else {
            bytes memory result = _execute(
                agentId,
                agent.safe,
                token,
                0,
                abi.encodeCall(IERC20.transfer, (to, amount)),
                queued.gas
            );
            _checkTokenResult(agentId, token, result);
        }
        emit QueuedSpendExecuted(queueId, agentId, msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                                 FREEZE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISpendingLimitModule
    function freeze(uint256 agentId) external {
        SentinelState memory sentinel = _sentinels[msg.sender];
        AgentSlot storage agent = _agents[agentId];
        if (sentinel.maxFreezes != 0) {
            if (block.timestamp >= uint256(sentinel.windowStart) + sentinel.window) {
                sentinel.windowStart = uint40(block.timestamp);
                sentinel.used = 0;
            }
            if (sentinel.used >= sentinel.maxFreezes) {
                revert SpendingLimitModuleSentinelRateLimited(
                    msg.sender,
                    uint256(sentinel.windowStart) + sentinel.window
                );
            }
            ++sentinel.used;
            _sentinels[msg.sender] = sentinel;
        } else if (!IAccessControl(address(registry)).hasRole(COUNCIL_ROLE, msg.sender)) {
            address safe = agent.safe;
            if (safe == address(0) || (msg.sender != safe && !_isSafeOwner(safe, msg.sender))) {
                revert SpendingLimitModuleNotFreezer(agentId, msg.sender);
            }
        }
        if (agent.frozenAt != 0) revert SpendingLimitModuleAlreadyFrozen(agentId);
        agent.frozenAt = uint40(block.timestamp);
        emit AgentFrozen(agentId, msg.sender);
    }

    /// @inheritdoc ISpendingLimitModule
    function unfreeze(uint256 agentId) external {
        _requireSafe(agentId);
        AgentSlot storage agent = _agents[agentId];
        if (agent.frozenAt == 0) revert SpendingLimitModuleNotFrozen(agentId);
        agent.frozenAt = 0;
        emit AgentUnfrozen(agentId, msg.sender);
    }

    /// @inheritdoc ISpendingLimitModule
    function setSentinel(address sentinel, uint16 maxFreezes, uint32 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (sentinel == address(0)) revert SpendingLimitModuleZeroAddress();
        if (maxFreezes == 0 || window == 0 || window > MAX_SENTINEL_WINDOW) {
            revert SpendingLimitModuleInvalidSentinelLimit(maxFreezes, window);
        }
        _sentinels[sentinel] = SentinelState(maxFreezes, window, 0, 0);
        emit SentinelSet(sentinel, maxFreezes, window);
    }

    /// @inheritdoc ISpendingLimitModule
    function revokeSentinel(address sentinel) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_sentinels[sentinel].maxFreezes == 0) revert SpendingLimitModuleNotSentinel(sentinel);
        delete _sentinels[sentinel];
        emit SentinelRevoked(sentinel);
    }

    /*//////////////////////////////////////////////////////////////
                                 SWEEP
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISpendingLimitModule
    function sweep(uint256 agentId, address token) external returns (uint256 amount) {
        address safe = _agents[agentId].safe;
        if (safe == address(0)) revert SpendingLimitModuleNoSafe(agentId);
        address cold = _safeConfigs[safe][agentId].cold;
        TokenConfig memory config = _tokenConfigs[safe][agentId][token];
        if (cold == address(0) || !config.sweepEnabled) revert SpendingLimitModuleSweepNotConfigured(agentId, token);
        uint256 balance = token == address(0) ? safe.balance : IERC20(token).balanceOf(safe);
        if (balance <= config.hotThreshold) {
            revert SpendingLimitModuleNothingToSweep(agentId, token, balance, config.hotThreshold);
        }
        amount = balance - config.hotThreshold;
        if (token == address(0)) {
            _execute(agentId, safe, cold, amount, "", _ALL_GAS);
        } else {
            bytes memory result = _execute(
                agentId,
                safe,
                token,
                0,
                abi.encodeCall(IERC20.transfer, (cold, amount)),
                _ALL_GAS
            );
            _checkTokenResult(agentId, token, result);
        }
        emit Swept(agentId, token, cold, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISpendingLimitModule
    function agentState(uint256 agentId) external view returns (AgentState memory state) {
        AgentSlot memory agent = _agents[agentId];
        SafeConfig memory config = _safeConfigs[agent.safe][agentId];
        state = AgentState({
            safe: agent.safe,
            frozen: agent.frozenAt != 0,
            frozenAt: agent.frozenAt,
            queueDelay: config.queueDelay == 0 ? DEFAULT_QUEUE_DELAY : config.queueDelay,
            cold: config.cold
        });
    }

    /// @inheritdoc ISpendingLimitModule
    function tokenPolicy(uint256 agentId, address token) external view returns (TokenPolicy memory policy) {
        policy = _tokenPolicy(_agents[agentId].safe, agentId, token);
    }

    /// @inheritdoc ISpendingLimitModule
    function tokenPolicyOf(
        address safe,
        uint256 agentId,
        address token
    ) external view returns (TokenPolicy memory policy) {
        policy = _tokenPolicy(safe, agentId, token);
    }

    /// @inheritdoc ISpendingLimitModule
    function remainingToday(uint256 agentId, address token) external view returns (uint256) {
        return _tokenPolicy(_agents[agentId].safe, agentId, token).remainingToday;
    }

    /// @inheritdoc ISpendingLimitModule
    function isCallAllowed(uint256 agentId, address target, bytes4 selector) external view returns (bool) {
        return _callPermissions[_agents[agentId].safe][agentId][target][selector];
    }

    /// @inheritdoc ISpendingLimitModule
    function queuedSpend(uint256 queueId) public view returns (QueuedSpend memory) {
        Queued storage q = _queue[queueId];
        return
            QueuedSpend({
                agentId: q.agentId,
                safe: q.safe,
                token: q.token,
                to: q.to,
                amount: q.amount,
                data: q.data,
                gas: q.gas,
                queuedAt: q.queuedAt,
                executableAt: q.executableAt,
                status: q.status
            });
    }

    /// @inheritdoc ISpendingLimitModule
    function queueLength() external view returns (uint256) {
        return _queueLength;
    }

    /// @inheritdoc ISpendingLimitModule
    function queuedSpends(uint256 start, uint256 count) external view returns (QueuedSpend[] memory spends) {
        uint256 length = _queueLength;
        uint256 end = start >= length ? start : (count > length - start ? length : start + count);
        spends = new QueuedSpend[](end - start);
        for (uint256 i = start; i < end; ++i) spends[i - start] = queuedSpend(i);
    }

    /// @inheritdoc ISpendingLimitModule
    function approvalDigest(uint256 queueId) external view returns (bytes32) {
        Queued storage queued = _queue[queueId];
        if (queued.status == QueueStatus.None) revert SpendingLimitModuleUnknownQueuedSpend(queueId);
        return _approvalDigest(queueId, queued);
    }

    /// @inheritdoc ISpendingLimitModule
    function sentinelState(address sentinel) external view returns (SentinelState memory) {
        return _sentinels[sentinel];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev A transfer of `amount` of `token` (zero: ETH) to `to`, counted against the token's caps.
    function _transfer(
        uint256 agentId,
        address token,
        address to,
        uint256 amount,
        uint256 callGas
    ) private returns (uint256 remaining) {
        address safe = _activeSafe(agentId);
        if (amount == 0) revert SpendingLimitModuleInvalidSpend(agentId);
        if (token != address(0)) _checkTarget(safe, token);
        remaining = _useAllowance(safe, agentId, token, amount);
        if (token == address(0)) {
            _execute(agentId, safe, to, amount, "", callGas);
        } else {
            bytes memory result = _execute(
                agentId,
                safe,
                token,
                0,
                abi.encodeCall(IERC20.transfer, (to, amount)),
                callGas
            );
            _checkTokenResult(agentId, token, result);
        }
        emit Spent(agentId, token, to, amount, remaining);
    }

    /// @dev A call to an allowed (target, selector) with `value` wei counted against the ETH caps.
    function _call(
        uint256 agentId,
        address target,
        uint256 value,
        bytes calldata data,
        uint256 callGas
    ) private returns (uint256 remaining) {
        address safe = _activeSafe(agentId);
        bytes4 selector = _allowedSelector(safe, agentId, target, data);
        remaining =
            value == 0
                ? _tokenPolicy(safe, agentId, address(0)).remainingToday
                : _useAllowance(safe, agentId, address(0), value);
        _execute(agentId, safe, target, value, data, callGas);
        emit CallSpent(agentId, target, selector, value, remaining);
    }

    function _enqueue(
        uint256 agentId,
        address token,
        address to,
        uint256 amount,
        bytes calldata data,
        uint256 callGas,
        uint256 nonce
    ) private returns (uint256 queueId) {
        address safe = _activeSafe(agentId);
        if (callGas > MAX_CALL_GAS) revert SpendingLimitModuleGasTooHigh(callGas);
        if (data.length != 0) {
            if (token != address(0)) revert SpendingLimitModuleInvalidSpend(agentId);
            _allowedSelector(safe, agentId, to, data);
        } else {
            if (amount == 0) revert SpendingLimitModuleInvalidSpend(agentId);
            if (token != address(0)) _checkTarget(safe, token);
        }
        uint256 perTxCap = _allowances[safe][agentId][token].perTxCap;
        if (amount <= perTxCap) revert SpendingLimitModuleNotQueueable(agentId, token, amount, perTxCap);

        queueId = _queueLength++;
        Queued storage queued = _queue[queueId];
        queued.agentId = agentId;
        queued.safe = safe;
        queued.queuedAt = uint40(block.timestamp);
        queued.status = QueueStatus.Pending;
        queued.token = token;
        queued.gas = uint64(callGas);
        queued.to = to;
        queued.amount = amount;
        if (data.length != 0) queued.data = data;
        emit SpendQueued(queueId, agentId, safe, token, to, amount, data, uint64(callGas), nonce);
    }

    function _approve(uint256 queueId, Queued storage queued) private {
        uint256 agentId = queued.agentId;
        uint32 delay = _safeConfigs[queued.safe][agentId].queueDelay;
        uint40 executableAt = uint40(block.timestamp + (delay == 0 ? DEFAULT_QUEUE_DELAY : delay));
        queued.executableAt = executableAt;
        queued.status = QueueStatus.Approved;
        emit QueuedSpendApproved(queueId, agentId, executableAt);
    }

    /// @dev A queued spend awaiting approval.
    function _pending(uint256 queueId) private view returns (Queued storage queued) {
        queued = _queue[queueId];
        QueueStatus status = queued.status;
        if (status == QueueStatus.None) revert SpendingLimitModuleUnknownQueuedSpend(queueId);
        if (status != QueueStatus.Pending) revert SpendingLimitModuleQueuedSpendNotOpen(queueId, status);
    }

    /// @dev A queued spend not yet executed, vetoed or cancelled.
    function _open(uint256 queueId) private view returns (Queued storage queued) {
        queued = _queue[queueId];
        QueueStatus status = queued.status;
        if (status == QueueStatus.None) revert SpendingLimitModuleUnknownQueuedSpend(queueId);
        if (status != QueueStatus.Pending && status != QueueStatus.Approved) {
            revert SpendingLimitModuleQueuedSpendNotOpen(queueId, status);
        }
    }

    function _approvalDigest(uint256 queueId, Queued storage queued) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        APPROVE_SPEND_TYPEHASH,
                        queueId,
                        queued.agentId,
                        queued.token,
                        queued.to,
                        queued.amount,
                        keccak256(queued.data),
                        queued.gas
                    )
                )
            );
    }

    /// @dev Counts `amount` against the per-transaction cap and today's cap; returns what is left today.
    function _useAllowance(
        address safe,
        uint256 agentId,
        address token,
        uint256 amount
    ) private returns (uint256 remaining) {
        Allowance memory allowance = _allowances[safe][agentId][token];
        if (amount > allowance.perTxCap) {
            revert SpendingLimitModuleOverPerTxCap(agentId, token, amount, allowance.perTxCap);
        }
        uint32 today = _today();
        // The first spend of a UTC day starts from the full cap; only then is the token config read.
        int256 left =
            allowance.day == today
                ? int256(allowance.remaining)
                : int256(uint256(_tokenConfigs[safe][agentId][token].dailyCap));
        // amount <= perTxCap <= MAX_CAP, so it fits an int256.
        if (int256(amount) > left) {
            revert SpendingLimitModuleOverDailyCap(agentId, token, amount, left < 0 ? 0 : uint256(left));
        }
        left -= int256(amount);
        _allowances[safe][agentId][token] = Allowance(int96(left), today, allowance.perTxCap);
        remaining = uint256(left);
    }

    function _tokenPolicy(
        address safe,
        uint256 agentId,
        address token
    ) private view returns (TokenPolicy memory policy) {
        Allowance memory allowance = _allowances[safe][agentId][token];
        TokenConfig memory config = _tokenConfigs[safe][agentId][token];
        policy.perTxCap = allowance.perTxCap;
        policy.dailyCap = config.dailyCap;
        if (allowance.day == _today()) {
            policy.spentToday = uint256(int256(uint256(config.dailyCap)) - allowance.remaining);
            policy.remainingToday = allowance.remaining < 0 ? 0 : uint256(int256(allowance.remaining));
        } else {
            policy.remainingToday = config.dailyCap;
        }
        policy.hotThreshold = config.hotThreshold;
        policy.sweepEnabled = config.sweepEnabled;
    }

    /**
     * @dev Runs the Safe call. With a signed `callGas` the Safe is given just enough for the call to get at least
     * `callGas` (the 63/64 rule applies twice: here and in the Safe), and the spend refuses to start when less gas is
     * left, so a relayer cannot starve the call into failing. A failed call reverts the whole spend with its return
     * data: the nonce and the allowance are untouched.
     */
    function _execute(
        uint256 agentId,
        address safe,
        address target,
        uint256 value,
        bytes memory data,
        uint256 callGas
    ) private returns (bytes memory result) {
        bool success;
        if (callGas == _ALL_GAS) {
            try ISafe(safe).execTransactionFromModuleReturnData(target, value, data, ISafe.Operation.Call) returns (
                bool ok,
                bytes memory returned
            ) {
                (success, result) = (ok, returned);
            } catch (bytes memory reason) {
                result = reason;
            }
        } else {
            if (callGas > MAX_CALL_GAS) revert SpendingLimitModuleGasTooHigh(callGas);
            uint256 safeGas = callGas + callGas / 63 + SAFE_CALL_OVERHEAD + data.length * 16;
            // The CALL below keeps 1/64 of what is left and pays for a cold account first.
            uint256 required = safeGas + safeGas / 63 + 5_000;
            if (gasleft() < required) revert SpendingLimitModuleInsufficientGas(gasleft(), required);
            try
                ISafe(safe).execTransactionFromModuleReturnData{gas: safeGas}(target, value, data, ISafe.Operation.Call)
            returns (bool ok, bytes memory returned) {
                (success, result) = (ok, returned);
            } catch (bytes memory reason) {
                result = reason;
            }
        }
        if (!success) revert SpendingLimitModuleCallFailed(agentId, result);
    }

    /// @dev ERC-20 transfers must return true, or nothing from a contract (tokens that predate the standard's bool).
    function _checkTokenResult(uint256 agentId, address token, bytes memory result) private view {
        bool ok = result.length == 0 ? token.code.length != 0 : (result.length >= 32 && uint256(bytes32(result)) == 1);
        if (!ok) revert SpendingLimitModuleTokenTransferFailed(agentId, token, result);
    }

    /// @dev The agent's Safe, when bound and not frozen.
    function _activeSafe(uint256 agentId) private view returns (address safe) {
        AgentSlot memory agent = _agents[agentId];
        safe = agent.safe;
        if (safe == address(0)) revert SpendingLimitModuleNoSafe(agentId);
        if (agent.frozenAt != 0) revert SpendingLimitModuleFrozen(agentId);
    }

    /// @dev The selector of `data` when (target, selector) is allowed for the agent in `safe`.
    function _allowedSelector(
        address safe,
        uint256 agentId,
        address target,
        bytes calldata data
    ) private view returns (bytes4 selector) {
        if (data.length < 4) revert SpendingLimitModuleInvalidSpend(agentId);
        _checkTarget(safe, target);
        selector = bytes4(data[:4]);
        if (!_callPermissions[safe][agentId][target][selector]) {
            revert SpendingLimitModuleCallNotAllowed(agentId, target, selector);
        }
    }

    /// @dev The Safe and this module hold the owners' authority: never a target of the agent's calls or transfers.
    function _checkTarget(address safe, address target) private view {
        if (target == safe || target == address(this)) revert SpendingLimitModuleForbiddenTarget(target);
    }

    /// @dev The caller must be the agent's bound Safe.
    function _requireSafe(uint256 agentId) private view returns (address safe) {
        safe = _agents[agentId].safe;
        if (safe == address(0)) revert SpendingLimitModuleNoSafe(agentId);
        if (msg.sender != safe) revert SpendingLimitModuleNotSafe(agentId, msg.sender);
    }

    function _isSafeOwner(address safe, address account) private view returns (bool) {
        return _askSafe(safe, abi.encodeCall(ISafe.isOwner, (account)));
    }

    /// @dev A boolean view of `safe` that answers false rather than reverting when `safe` is not a Safe.
    function _askSafe(address safe, bytes memory query) private view returns (bool) {
        (bool ok, bytes memory result) = safe.staticcall(query);
        return ok && result.length >= 32 && uint256(bytes32(result)) == 1;
    }

    function _today() private view returns (uint32) {
        return uint32(block.timestamp / 1 days);
    }
}

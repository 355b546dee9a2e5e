// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AgentSigned} from "../identity/AgentSigned.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {IEarningsDistributor} from "../interfaces/IEarningsDistributor.sol";
import {IRevenueRouter} from "../interfaces/IRevenueRouter.sol";
import {AgentSignatures} from "../libraries/AgentSignatures.sol";
import {BasisPoints} from "../libraries/BasisPoints.sol";

/**
 * @title RevenueRouter
 * @notice Takes users' payments for agents' services and splits each at once: the user share to a pull credit of the
 * agent's operator (or the payee it named), the agent share into the current epoch's bucket. See {IRevenueRouter}.
 *
 * Trust assumptions:
 * - The AgentRegistry reports each agent's owner and signer truthfully.
 * - The admin (DEFAULT_ADMIN_ROLE: the deployer until governance hands it to the timelock) chooses which ERC-20s are
 *   accepted and wires the router to its distributor once. It can move no funds.
 * - The bound EarningsDistributor may move a closed epoch's bucket to the bound Treasury, and nowhere else; it does so
 *   only when the epoch's root has passed its challenge window. User-side credits leave only to their owner's order.
 * - Accepted tokens are plain ERC-20s (a missing bool return is tolerated by SafeERC20). A token that delivers other
 *   than the amount asked is refused at payment; one that starts to do so later cannot be released (the bucket stays).
 * - The user/agent ratio changes only with both the operator's and the agent's consent.
 */
contract RevenueRouter is IRevenueRouter, AccessControl, AgentSigned, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The agent share of a payment unless the operator and the agent agreed on another.
    uint16 public constant DEFAULT_AGENT_BPS = 1_000;

    bytes32 public constant SET_REVENUE_SHARE_TYPEHASH = keccak256(
        "SetRevenueShare(uint256 agentId,uint16 userBps,uint16 agentBps,uint256 nonce,uint256 deadline)"
    );

    uint256 private constant _MIN_EPOCH_LENGTH = 1 minutes;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /**
     * @dev What a payment reads about its agent, in one slot: agentBps (16) | custom (8) | hasPayee (8). An agent that
     * never changed its ratio has the zero slot and pays at DEFAULT_AGENT_BPS. `hasPayee` is set once any owner named a
     * payee, so payments for the vast majority read one slot plus the registry's owner.
     */
    struct AgentTerms {
        uint16 agentBps;
        bool custom;
        bool hasPayee;
    }

    uint256 private immutable _genesis;
    uint256 private immutable _epochLength;

    address private _distributor;
    address private _treasury;

    mapping(uint256 agentId => AgentTerms) private _terms;
    /// @dev Keyed by owner, so a payee named by a previous owner never receives the next owner's share.
    mapping(uint256 agentId => mapping(address owner => address)) private _payees;
    mapping(address account => mapping(address token => uint256)) private _credits;
    mapping(uint256 epoch => mapping(address token => uint256)) private _buckets;
    mapping(address token => bool) private _acceptedTokens;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param registry_ The AgentRegistry.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (the deployer, then the timelock).
    /// @param genesis_ When epoch 0 starts (unix seconds, not in the future; zero: now).
    /// @param epochLength_ Seconds per epoch (at least 60).
    constructor(
        IAgentRegistry registry_,
        address admin,
        uint256 genesis_,
        uint256 epochLength_
    ) AgentSigned(registry_) EIP712("Covenant RevenueRouter", "1") {
        if (admin == address(0) || address(registry_) == address(0)) revert RevenueRouterZeroAddress();
        if (genesis_ == 0) genesis_ = block.timestamp;
        if (genesis_ > block.timestamp || epochLength_ < _MIN_EPOCH_LENGTH) {
            revert RevenueRouterInvalidEpochs(genesis_, epochLength_);
        }
        _genesis = genesis_;
        _epochLength = epochLength_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /*//////////////////////////////////////////////////////////////
                                PAYMENTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRevenueRouter
    function pay(uint256 agentId, address token, uint256 amount, bytes32 ref) external payable {
        if (amount == 0) revert RevenueRouterZeroAmount();
        if (token == address(0)) {
            if (msg.value != amount) revert RevenueRouterWrongValue(amount, msg.value);
            // ETH: the only external call is the registry's view, so there is nothing to re-enter.
            _pay(agentId, token, amount, ref);
        } else {
            if (msg.value != 0) revert RevenueRouterWrongValue(amount, msg.value);
            if (!_acceptedTokens[token]) revert RevenueRouterTokenNotAccepted(token);
            _payToken(agentId, token, amount, ref);
        }
    }

    /// @inheritdoc IRevenueRouter
    function withdraw(address token, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert RevenueRouterZeroAddress();
        amount = _credits[msg.sender][token];
        if (amount == 0) revert RevenueRouterNothingToWithdraw(msg.sender, token);
        delete _credits[msg.sender][token];
        emit Withdrawn(msg.sender, token, to, amount);
        _send(token, to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                             CONFIGURATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRevenueRouter
    function setRevenueShare(
        uint256 agentId,
        uint16 userBps,
        uint16 agentBps,
        uint256 nonce,
        uint256 deadline,
        bytes calldata operatorSignature,
        bytes calldata agentSignature
    ) external {
        if (uint256(userBps) + agentBps != BasisPoints.TOTAL) revert RevenueRouterInvalidSplit(userBps, agentBps);
        bytes32 structHash = keccak256(
            abi.encode(SET_REVENUE_SHARE_TYPEHASH, agentId, userBps, agentBps, nonce, deadline)
        );
        address owner = IERC721(address(registry)).ownerOf(agentId);

        // The operator: a direct call by the owner or an approved account, else the owner's signature.
        if (operatorSignature.length == 0) {
            if (!registry.isAuthorizedOrOwner(msg.sender, agentId)) {
                revert RevenueRouterNotOperator(agentId, msg.sender);
            }
        } else if (!AgentSignatures.isValidNow(owner, _hashTypedDataV4(structHash), operatorSignature)) {
            revert RevenueRouterInvalidOperatorSignature(agentId, owner);
        }
        // The agent: a direct call by its signer, else its signature. Either way the nonce is spent, so neither
        // signature can be played again.
        if (agentSignature.length == 0) {
            _requireAgentSigner(agentId);
            _useAgentNonce(agentId, nonce, deadline);
        } else {
            _verifyAgentSigned(agentId, structHash, nonce, deadline, agentSignature);
        }

        AgentTerms storage terms = _terms[agentId];
        terms.agentBps = agentBps;
        terms.custom = true;
        emit RevenueShareSet(agentId, userBps, agentBps, owner);
    }

    /// @inheritdoc IRevenueRouter
    function setPayee(uint256 agentId, address payee) external {
        if (!registry.isAuthorizedOrOwner(msg.sender, agentId)) revert RevenueRouterNotOperator(agentId, msg.sender);
        address owner = IERC721(address(registry)).ownerOf(agentId);
        _payees[agentId][owner] = payee;
        if (payee != address(0) && !_terms[agentId].hasPayee) _terms[agentId].hasPayee = true;
        emit PayeeSet(agentId, owner, payee);
    }

    /// @inheritdoc IRevenueRouter
    function setTokenAccepted(address token, bool accepted) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert RevenueRouterZeroAddress();
        _acceptedTokens[token] = accepted;
        emit TokenAcceptedSet(token, accepted);
    }

    /// @inheritdoc IRevenueRouter
    function bindDistributor(address distributor_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_distributor != address(0)) revert RevenueRouterAlreadyBound();
        if (distributor_ == address(0)) revert RevenueRouterZeroAddress();
        address treasury_ = IEarningsDistributor(distributor_).treasury();
        if (treasury_ == address(0)) revert RevenueRouterZeroAddress();
        _distributor = distributor_;
        _treasury = treasury_;
        emit EarningsBound(distributor_, treasury_);
    }

    /// @inheritdoc IRevenueRouter
    function releaseBucket(uint256 epoch, address token) external nonReentrant returns (uint256 amount) {
        if (msg.sender != _distributor || msg.sender == address(0)) revert RevenueRouterNotDistributor(msg.sender);
        uint256 current = _epochAt(block.timestamp);
        if (epoch >= current) revert RevenueRouterEpochNotClosed(epoch, current);
        amount = _buckets[epoch][token];
        if (amount == 0) return 0;
        delete _buckets[epoch][token];
        emit BucketReleased(epoch, token, amount);
        address treasury_ = _treasury;
        if (token == address(0)) {
            Address.sendValue(payable(treasury_), amount);
        } else {
            IERC20 erc20 = IERC20(token);
            uint256 before = erc20.balanceOf(treasury_);
            erc20.safeTransfer(treasury_, amount);
            _requireReceived(token, amount, before, erc20.balanceOf(treasury_));
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRevenueRouter
    function currentEpoch() external view returns (uint256) {
        return _epochAt(block.timestamp);
    }

    /// @inheritdoc IRevenueRouter
    function epochAt(uint256 timestamp) external view returns (uint256) {
        return _epochAt(timestamp);
    }

    /// @inheritdoc IRevenueRouter
    function genesis() external view returns (uint256) {
        return _genesis;
    }

    /// @inheritdoc IRevenueRouter
    function epochLength() external view returns (uint256) {
        return _epochLength;
    }

    /// @inheritdoc IRevenueRouter
    function bucketOf(uint256 epoch, address token) external view returns (uint256) {
        return _buckets[epoch][token];
    }

    /// @inheritdoc IRevenueRouter
    function creditOf(address account, address token) external view returns (uint256) {
        return _credits[account][token];
    }

    /// @inheritdoc IRevenueRouter
    function revenueShare(uint256 agentId) external view returns (uint16 userBps, uint16 agentBps) {
        AgentTerms memory terms = _terms[agentId];
        agentBps = terms.custom ? terms.agentBps : DEFAULT_AGENT_BPS;
        userBps = uint16(BasisPoints.TOTAL - agentBps);
    }

    /// @inheritdoc IRevenueRouter
    function payeeOf(uint256 agentId) external view returns (address) {
        address owner = IERC721(address(registry)).ownerOf(agentId);
        address named = _payees[agentId][owner];
        return named == address(0) ? owner : named;
    }

    /// @inheritdoc IRevenueRouter
    function isTokenAccepted(address token) external view returns (bool) {
        return token == address(0) || _acceptedTokens[token];
    }

    /// @inheritdoc IRevenueRouter
    function distributor() external view returns (address) {
        return _distributor;
    }

    /// @inheritdoc IRevenueRouter
    function treasury() external view returns (address) {
        return _treasury;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Credits the split of a payment whose checks passed: one bucket and one credit, nothing per agent.
    function _pay(uint256 agentId, address token, uint256 amount, bytes32 ref) private {
        AgentTerms memory terms = _terms[agentId];
        // ownerOf reverts for an agent that does not exist (ERC721NonexistentToken).
        address owner = IERC721(address(registry)).ownerOf(agentId);
        address payee = owner;
        if (terms.hasPayee) {
            address named = _payees[agentId][owner];
            if (named != address(0)) payee = named;
        }
        uint256 agentShare = BasisPoints.share(amount, terms.custom ? terms.agentBps : DEFAULT_AGENT_BPS);
        uint256 epoch = _epochAt(block.timestamp);
        _buckets[epoch][token] += agentShare;
        _credits[payee][token] += amount - agentShare;
        emit Paid(agentId, token, epoch, amount, agentShare, ref);
    }

    /// @dev An ERC-20 payment: effects first, then the pull, which must deliver exactly `amount` or undo it all. The
    /// token is called, so the guard keeps it from re-entering any payment or withdrawal.
    function _payToken(uint256 agentId, address token, uint256 amount, bytes32 ref) private nonReentrant {
        _pay(agentId, token, amount, ref);
        _pullExact(IERC20(token), msg.sender, amount);
    }

    function _epochAt(uint256 timestamp) internal view returns (uint256) {
        return timestamp < _genesis ? 0 : (timestamp - _genesis) / _epochLength;
    }

    /// @dev Pulls `amount` from `from` and checks by balance difference that exactly `amount` arrived.
    function _pullExact(IERC20 token, address from, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        _requireReceived(address(token), amount, before, token.balanceOf(address(this)));
    }

    function _requireReceived(address token, uint256 amount, uint256 before, uint256 after_) internal pure {
        uint256 received = after_ > before ? after_ - before : 0;
        if (received != amount) revert RevenueRouterFeeOnTransfer(token, amount, received);
    }

    function _send(address token, address to, uint256 amount) internal {
        if (token == address(0)) Address.sendValue(payable(to), amount);
        else IERC20(token).safeTransfer(to, amount);
    }
}

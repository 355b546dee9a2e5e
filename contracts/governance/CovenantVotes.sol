// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IAgentRegistry} from "../interfaces/IAgentRegistry.sol";
import {ICovenantVotes} from "../interfaces/ICovenantVotes.sol";

/**
 * @title CovenantVotes
 * @notice Voting weight of Covenant's two houses: humans named by governance, and agents admitted by the council whose
 * weight grows with age and contribution. Not a token: nothing can be transferred, bought or delegated.
 *
 * Trust assumptions:
 * - Governance (DEFAULT_ADMIN_ROLE, the timelock) grants and removes human weight and sets the caps and the
 *   attestor's budget. It cannot give an agent a seat: only the council can.
 * - The council is whoever holds COUNCIL_ROLE in the AgentRegistry (a Safe), read at each call, so a change of council
 *   there takes effect here at once. Registration alone gives an agent nothing.
 * - The attestor (ATTESTOR_ROLE, a keeper key) can add contribution points, at most `attestorDailyPoints` a day in
 *   all; caps per agent and per operator bound what a compromised attestor can do.
 * - The registry is trusted for an agent's birth time, signer and operator. Changes there (token transfer, signer
 *   rotation) reach this contract through the permissionless {syncAgent}, which the governance keeper calls; until
 *   then the agent keeps its seat as it was (never more than its operator's cap).
 * - Weights are snapshotted per timepoint as IVotes requires: a change after a proposal's snapshot does not change
 *   that proposal's count.
 */
contract CovenantVotes is ICovenantVotes, AccessControl {
    using Checkpoints for Checkpoints.Trace208;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    bytes32 public constant ATTESTOR_ROLE = keccak256("ATTESTOR_ROLE");
    /// @notice The most agents one operator can have in the house (bounds the work of each admission).
    uint256 public constant MAX_AGENTS_PER_OPERATOR = 16;

    bytes32 private constant _COUNCIL_ROLE = keccak256("COUNCIL_ROLE");
    uint256 private constant _MAX_WEIGHT = type(uint80).max;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /**
     * @dev One voter's standing from `since` on, in one slot: since (48) | house (8) | birth (40) | points (80) |
     * cap (80) = 256 bits. Humans: weight = points (= cap). Agents: weight at t = min(cap, points + (t - birth) /
     * secondsPerAgePoint), so the age term is computed at the lookup's timepoint and a vote reads one slot.
     */
    struct Checkpoint {
        uint48 since;
        House house;
        uint40 birth;
        uint80 points;
        uint80 cap;
    }

    /**
     * @dev An agent's seat in two slots: voter (160) | birth (40) | admitted (8), then operator (160) | points (80).
     */
    struct Seat {
        address voter;
        uint40 birth;
        bool admitted;
        address operator;
        uint80 points;
    }

    /// @dev The attestor's budget in one slot: pointsPerDay (64) | day (32) | used (64).
    struct Budget {
        uint64 pointsPerDay;
        uint32 day;
        uint64 used;
    }

    /// @dev Caps in one slot: agentCap (80) | operatorCap (80).
    struct Caps {
        uint80 agentCap;
        uint80 operatorCap;
    }

    /// @notice The AgentRegistry: birth times, signers, operators and the council role.
    IAgentRegistry public immutable registry;
    /// @inheritdoc ICovenantVotes
    uint256 public immutable secondsPerAgePoint;

    /// @dev The latest checkpoint of each voter; older ones move to `_history` (ascending `since`).
    mapping(address voter => Checkpoint) private _latest;
    mapping(address voter => Checkpoint[]) private _history;
    Checkpoints.Trace208 private _humanSupply;
    Checkpoints.Trace208 private _agentCapacity;
    mapping(uint256 agentId => Seat) private _seats;
    mapping(address operator => uint256[]) private _operatorAgents;
    Caps private _caps;
    Budget private _budget;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /**
     * @param registry_ The AgentRegistry.
     * @param admin DEFAULT_ADMIN_ROLE: the timelock.
     * @param attestor ATTESTOR_ROLE holder (zero: none yet).
     * @param humans The founding human voters.
     * @param weights Their weights.
     * @param secondsPerAgePoint_ Seconds of age per point of agent weight.
     * @param agentCap The per-agent cap.
     * @param operatorCap The per-operator cap.
     * @param attestorDailyPoints The attestor's daily budget.
     */
    constructor(
        IAgentRegistry registry_,
        address admin,
        address attestor,
        address[] memory humans,
        uint256[] memory weights,
        uint256 secondsPerAgePoint_,
        uint256 agentCap,
        uint256 operatorCap,
        uint256 attestorDailyPoints
    ) {
        if (address(registry_) == address(0) || admin == address(0)) revert CovenantVotesZeroAddress();
        if (secondsPerAgePoint_ == 0) revert CovenantVotesInvalidAgePeriod();
        if (humans.length != weights.length) revert CovenantVotesLengthMismatch(humans.length, weights.length);
        registry = registry_;
        secondsPerAgePoint = secondsPerAgePoint_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (attestor != address(0)) _grantRole(ATTESTOR_ROLE, attestor);
        _setCaps(agentCap, operatorCap);
        _setAttestorDailyPoints(attestorDailyPoints);
        for (uint256 i; i < humans.length; ++i) {
            _setHumanWeight(humans[i], weights[i]);
        }
    }

    /*//////////////////////////////////////////////////////////////
                          ERC-6372 AND IVOTES
    //////////////////////////////////////////////////////////////*/

    /// @notice The clock is the block timestamp (ERC-6372).
    /// @return The current timepoint.
    function clock() public view returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @notice ERC-6372 clock description.
    /// @return "mode=timestamp".
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice The weight of `account` now.
    /// @param account The voter.
    /// @return The weight.
    function getVotes(address account) external view returns (uint256) {
        return _weightAt(_latest[account], block.timestamp);
    }

    /// @notice The weight of `account` at a past timepoint.
    /// @param account The voter.
    /// @param timepoint A unix time before now.
    /// @return The weight.
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        _requirePast(timepoint);
        return _weightAt(_checkpointAt(account, timepoint), timepoint);
    }

    /// @notice Both houses' supply at a past timepoint: human weight plus the agents' caps (see {getPastHouseSupply}).
    /// @param timepoint A unix time before now.
    /// @return The supply.
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256) {
        _requirePast(timepoint);
        uint48 key = uint48(timepoint);
        return _humanSupply.upperLookupRecent(key) + _agentCapacity.upperLookupRecent(key);
    }

    /// @notice Every voter is its own delegate.
    /// @param account The voter.
    /// @return `account` itself.
    function delegates(address account) external pure returns (address) {
        return account;
    }

    /// @notice Always reverts: weight counts without delegation.
    function delegate(address) external pure {
        revert CovenantVotesNoDelegation();
    }

    /// @notice Always reverts: weight counts without delegation.
    function delegateBySig(address, uint256, uint256, uint8, bytes32, bytes32) external pure {
        revert CovenantVotesNoDelegation();
    }

    /*//////////////////////////////////////////////////////////////
                                 HUMANS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICovenantVotes
    function setHumanWeight(address human, uint256 weight) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setHumanWeight(human, weight);
    }

    /// @inheritdoc ICovenantVotes
    function setHumanWeights(
        address[] calldata humans,
        uint256[] calldata weights
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (humans.length != weights.length) revert CovenantVotesLengthMismatch(humans.length, weights.length);
        for (uint256 i; i < humans.length; ++i) {
            _setHumanWeight(humans[i], weights[i]);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 AGENTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICovenantVotes
    function admitAgent(uint256 agentId) external {
        if (!_isCouncil(msg.sender)) revert CovenantVotesNotCouncil(msg.sender);
        Seat storage seat = _seats[agentId];
        if (seat.admitted) revert CovenantVotesAlreadyAdmitted(agentId);
        if (!registry.agentExists(agentId)) revert CovenantVotesNonexistentAgent(agentId);
        (bool accepted, uint40 birth, ) = registry.consentRecord(agentId);
        if (!accepted) revert CovenantVotesCharterNotAccepted(agentId);
        address voter = registry.agentSigner(agentId);
        address operator = IERC721(address(registry)).ownerOf(agentId);
        _requireFreeVoter(voter);
        uint256[] storage group = _operatorAgents[operator];
        if (group.length >= MAX_AGENTS_PER_OPERATOR) {
            revert CovenantVotesTooManyAgents(operator, MAX_AGENTS_PER_OPERATOR);
        }

        group.push(agentId);
        seat.voter = voter;
        seat.birth = birth;
        seat.admitted = true;
        seat.operator = operator;
        emit AgentAdmitted(agentId, voter, operator, msg.sender);
        _rebalance(operator);
    }

    /// @inheritdoc ICovenantVotes
    function removeAgent(uint256 agentId) external {
        if (!_isCouncil(msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert CovenantVotesNotCouncilOrAdmin(msg.sender);
        }
        Seat storage seat = _requireAdmitted(agentId);
        address voter = seat.voter;
        _unseat(agentId, seat);
        emit AgentRemoved(agentId, voter, msg.sender);
    }

    /// @inheritdoc ICovenantVotes
    function syncAgent(uint256 agentId) external {
        Seat storage seat = _requireAdmitted(agentId);
        address voter = seat.voter;
        address owner = IERC721(address(registry)).ownerOf(agentId);
        if (owner != seat.operator) {
            _unseat(agentId, seat);
            emit AgentSuspended(agentId, voter, SuspendReason.OperatorChanged);
            return;
        }
        address signer = registry.agentSigner(agentId);
        if (signer == voter) revert CovenantVotesAgentInSync(agentId);
        if (_latest[signer].house != House.None) {
            _unseat(agentId, seat);
            emit AgentSuspended(agentId, voter, SuspendReason.SignerTaken);
            return;
        }
        // The seat moves: the old key holds nothing from now on, the new one everything the old one had.
        Checkpoint memory current = _latest[voter];
        uint256 weightNow = _weightAt(current, block.timestamp);
        seat.voter = signer;
        _write(voter, Checkpoint({since: 0, house: House.None, birth: 0, points: 0, cap: 0}));
        _write(signer, current);
        emit DelegateVotesChanged(voter, weightNow, 0);
        emit DelegateVotesChanged(signer, 0, weightNow);
        emit AgentVoterChanged(agentId, voter, signer);
    }

    /// @inheritdoc ICovenantVotes
    function recordContribution(uint256 agentId, uint256 points, bytes32 evidence) external onlyRole(ATTESTOR_ROLE) {
        if (points == 0) revert CovenantVotesZeroPoints();
        if (!registry.agentExists(agentId)) revert CovenantVotesNonexistentAgent(agentId);
        Budget memory budget = _budget;
        uint32 today = uint32(block.timestamp / 1 days);
        if (budget.day != today) {
            budget.day = today;
            budget.used = 0;
        }
        uint256 remaining = budget.pointsPerDay > budget.used ? budget.pointsPerDay - budget.used : 0;
        if (points > remaining) revert CovenantVotesAttestorBudgetExceeded(points, remaining);
        budget.used += uint64(points);
        _budget = budget;

        Seat storage seat = _seats[agentId];
        uint256 total = Math.min(uint256(seat.points) + points, _MAX_WEIGHT);
        seat.points = uint80(total);
        emit ContributionRecorded(agentId, msg.sender, points, total, evidence);
        if (seat.admitted) _rebalance(seat.operator);
    }

    /// @inheritdoc ICovenantVotes
    function refreshOperator(address operator) external {
        _rebalance(operator);
    }

    /// @inheritdoc ICovenantVotes
    function setCaps(uint256 agentCap, uint256 operatorCap) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCaps(agentCap, operatorCap);
    }

    /// @inheritdoc ICovenantVotes
    function setAttestorDailyPoints(uint256 pointsPerDay) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setAttestorDailyPoints(pointsPerDay);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICovenantVotes
    function getPastVote(address account, uint256 timepoint) external view returns (House house, uint256 weight) {
        _requirePast(timepoint);
        Checkpoint memory c = _checkpointAt(account, timepoint);
        return (c.house, _weightAt(c, timepoint));
    }

    /// @inheritdoc ICovenantVotes
    function houseOf(address account) external view returns (House) {
        return _latest[account].house;
    }

    /// @inheritdoc ICovenantVotes
    function getPastHouseSupply(House house, uint256 timepoint) external view returns (uint256) {
        _requirePast(timepoint);
        if (house == House.Human) return _humanSupply.upperLookupRecent(uint48(timepoint));
        if (house == House.Agent) return _agentCapacity.upperLookupRecent(uint48(timepoint));
        return 0;
    }

    /// @inheritdoc ICovenantVotes
    function getHouseSupply(House house) external view returns (uint256) {
        if (house == House.Human) return _humanSupply.latest();
        if (house == House.Agent) return _agentCapacity.latest();
        return 0;
    }

    /// @inheritdoc ICovenantVotes
    function agentSeat(uint256 agentId) external view returns (AgentSeat memory) {
        Seat memory s = _seats[agentId];
        return
            AgentSeat({
                voter: s.voter,
                operator: s.operator,
                birthTime: s.birth,
                admitted: s.admitted,
                points: s.points
            });
    }

    /// @inheritdoc ICovenantVotes
    function agentWeight(uint256 agentId) external view returns (uint256) {
        Seat storage seat = _seats[agentId];
        if (!seat.admitted) return 0;
        return _weightAt(_latest[seat.voter], block.timestamp);
    }

    /// @inheritdoc ICovenantVotes
    function operatorAgents(address operator) external view returns (uint256[] memory) {
        return _operatorAgents[operator];
    }

    /// @inheritdoc ICovenantVotes
    function latestCheckpoint(
        address voter
    ) external view returns (uint48 since, House house, uint40 birthTime, uint80 points, uint80 cap) {
        Checkpoint memory c = _latest[voter];
        return (c.since, c.house, c.birth, c.points, c.cap);
    }

    /// @inheritdoc ICovenantVotes
    function agentSyncStatus(uint256 agentId) external view returns (bool operatorChanged, bool signerChanged) {
        Seat storage seat = _requireAdmitted(agentId);
        operatorChanged = IERC721(address(registry)).ownerOf(agentId) != seat.operator;
        signerChanged = registry.agentSigner(agentId) != seat.voter;
    }

    /// @inheritdoc ICovenantVotes
    function caps() external view returns (uint256 agentCap, uint256 operatorCap) {
        Caps memory c = _caps;
        return (c.agentCap, c.operatorCap);
    }

    /// @inheritdoc ICovenantVotes
    function attestorBudget() external view returns (uint256 pointsPerDay, uint256 usedToday) {
        Budget memory b = _budget;
        return (b.pointsPerDay, b.day == uint32(block.timestamp / 1 days) ? b.used : 0);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _isCouncil(address account) internal view returns (bool) {
        return IAccessControl(address(registry)).hasRole(_COUNCIL_ROLE, account);
    }

    function _requirePast(uint256 timepoint) internal view {
        uint48 now_ = clock();
        if (timepoint >= now_) revert CovenantVotesFutureLookup(timepoint, now_);
    }

    function _requireAdmitted(uint256 agentId) internal view returns (Seat storage seat) {
        seat = _seats[agentId];
        if (!seat.admitted) revert CovenantVotesNotAdmitted(agentId);
    }

    function _requireFreeVoter(address voter) internal view {
        if (voter == address(0)) revert CovenantVotesZeroAddress();
        House house = _latest[voter].house;
        if (house != House.None) revert CovenantVotesVoterTaken(voter, house);
    }

    function _setHumanWeight(address human, uint256 weight) internal {
        if (human == address(0)) revert CovenantVotesZeroAddress();
        if (weight > _MAX_WEIGHT) revert CovenantVotesValueTooLarge(weight, _MAX_WEIGHT);
        Checkpoint memory current = _latest[human];
        if (current.house == House.Agent) revert CovenantVotesVoterTaken(human, House.Agent);
        uint256 previous = current.house == House.Human ? current.points : 0;
        _write(
            human,
            weight == 0
                ? Checkpoint({since: 0, house: House.None, birth: 0, points: 0, cap: 0})
                : Checkpoint({since: 0, house: House.Human, birth: 0, points: uint80(weight), cap: uint80(weight)})
        );
        _humanSupply.push(clock(), uint208(_humanSupply.latest() - previous + weight));
        emit HumanWeightSet(human, previous, weight);
        emit DelegateVotesChanged(human, previous, weight);
    }

    function _setCaps(uint256 agentCap, uint256 operatorCap) internal {
        if (agentCap == 0 || operatorCap == 0) revert CovenantVotesInvalidCaps(agentCap, operatorCap);
        if (agentCap > _MAX_WEIGHT) revert CovenantVotesValueTooLarge(agentCap, _MAX_WEIGHT);
        if (operatorCap > _MAX_WEIGHT) revert CovenantVotesValueTooLarge(operatorCap, _MAX_WEIGHT);
        _caps = Caps({agentCap: uint80(agentCap), operatorCap: uint80(operatorCap)});
        emit CapsSet(agentCap, operatorCap);
    }

    function _setAttestorDailyPoints(uint256 pointsPerDay) internal {
        if (pointsPerDay > type(uint64).max) revert CovenantVotesValueTooLarge(pointsPerDay, type(uint64).max);
        _budget.pointsPerDay = uint64(pointsPerDay);
        emit AttestorDailyPointsSet(pointsPerDay);
    }

    /// @dev Takes the agent out of the house: its voter holds nothing from now on, its operator's others rebalance.
    function _unseat(uint256 agentId, Seat storage seat) internal {
        address voter = seat.voter;
        address operator = seat.operator;
        Checkpoint memory current = _latest[voter];
        seat.admitted = false;
        uint256[] storage group = _operatorAgents[operator];
        uint256 n = group.length;
        for (uint256 i; i < n; ++i) {
            if (group[i] == agentId) {
                group[i] = group[n - 1];
                group.pop();
                break;
            }
        }
        _write(voter, Checkpoint({since: 0, house: House.None, birth: 0, points: 0, cap: 0}));
        _agentCapacity.push(clock(), uint208(_agentCapacity.latest() - current.cap));
        emit DelegateVotesChanged(voter, _weightAt(current, block.timestamp), 0);
        _rebalance(operator);
    }

    /**
     * @dev Rewrites the checkpoint of each admitted agent of `operator` with cap = min(agentCap, operatorCap / n), so
     * the operator's agents together never exceed operatorCap, and updates the agent house's capacity.
     */
    function _rebalance(address operator) internal {
        uint256[] storage group = _operatorAgents[operator];
        uint256 n = group.length;
        if (n == 0) return;
        Caps memory c = _caps;
        uint80 cap = uint80(Math.min(c.agentCap, c.operatorCap / n));
        uint256 capacity = _agentCapacity.latest();
        for (uint256 i; i < n; ++i) {
            Seat storage seat = _seats[group[i]];
            address voter = seat.voter;
            Checkpoint memory current = _latest[voter];
            uint80 points = seat.points < cap ? seat.points : cap;
            if (
                current.house == House.Agent &&
                current.cap == cap &&
                current.points == points &&
                current.birth == seat.birth
            ) continue;
            uint256 before = _weightAt(current, block.timestamp);
            Checkpoint memory next = Checkpoint({
                since: 0,
                house: House.Agent,
                birth: seat.birth,
                points: points,
                cap: cap
            });
            capacity = capacity + cap - (current.house == House.Agent ? current.cap : 0);
            _write(voter, next);
            emit DelegateVotesChanged(voter, before, _weightAt(next, block.timestamp));
        }
        if (capacity != _agentCapacity.latest()) _agentCapacity.push(clock(), uint208(capacity));
    }

    /// @dev Makes `next` the voter's checkpoint from now on; the previous one joins the history unless set this second.
    function _write(address voter, Checkpoint memory next) internal {
        uint48 now_ = clock();
        Checkpoint memory previous = _latest[voter];
        if (previous.since != 0 && previous.since != now_) _history[voter].push(previous);
        next.since = now_;
        _latest[voter] = next;
    }

    /// @dev The checkpoint in force at `timepoint`: the latest one in one read when it is old enough, else a search.
    function _checkpointAt(address voter, uint256 timepoint) internal view returns (Checkpoint memory c) {
        c = _latest[voter];
        if (c.since <= timepoint) return c;
        Checkpoint[] storage history = _history[voter];
        uint256 low = 0;
        uint256 high = history.length;
        while (low < high) {
            uint256 mid = Math.average(low, high);
            if (history[mid].since > timepoint) high = mid;
            else low = mid + 1;
        }
        if (high == 0) return Checkpoint({since: 0, house: House.None, birth: 0, points: 0, cap: 0});
        return history[high - 1];
    }

    /// @dev Weight of a checkpoint at `timepoint`; an agent's age is counted up to `timepoint`.
    function _weightAt(Checkpoint memory c, uint256 timepoint) internal view returns (uint256) {
        if (c.house == House.Human) return c.points;
        if (c.house != House.Agent) return 0;
        uint256 age = timepoint > c.birth ? (timepoint - c.birth) / secondsPerAgePoint : 0;
        uint256 weight = uint256(c.points) + age;
        return weight < c.cap ? weight : c.cap;
    }
}

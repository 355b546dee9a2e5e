// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ICovenantTimelock} from "../interfaces/ICovenantTimelock.sol";

/**
 * @title CovenantTimelock
 * @notice OpenZeppelin's TimelockController, the only admin of every Covenant contract after deployment, plus
 * operations that no canceller can cancel (the replacement of the guardian).
 *
 * Trust assumptions:
 * - PROPOSER_ROLE and EXECUTOR_ROLE are held by the CovenantGovernor alone, so every operation is a passed proposal
 *   and runs only through the governor (which enforces the risk-based extra delay). CANCELLER_ROLE is held by the
 *   governor (to cancel when the guardian vetoes through it) and by the guardian Safe.
 * - The timelock administers itself: the deployer renounces DEFAULT_ADMIN_ROLE at the end of deployment.
 * - Only the governor can make an operation immune, and only a pending one; the governor does so for
 *   guardian-replacement proposals only (see CovenantGovernor).
 */
contract CovenantTimelock is ICovenantTimelock, TimelockController {
    mapping(bytes32 id => bool) private _immune;

    /// @param minDelay Minimum delay of every operation, in seconds.
    /// @param proposers PROPOSER_ROLE (and CANCELLER_ROLE) holders.
    /// @param executors EXECUTOR_ROLE holders.
    /// @param admin Optional temporary admin (the deployer, who renounces once roles are set); zero for none.
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}

    /// @inheritdoc ICovenantTimelock
    function makeImmune(bytes32 id) external onlyRole(PROPOSER_ROLE) {
        if (!isOperationPending(id)) revert CovenantTimelockNotPending(id);
        _immune[id] = true;
        emit OperationMadeImmune(id);
    }

    /// @inheritdoc ICovenantTimelock
    function isImmune(bytes32 id) external view returns (bool) {
        return _immune[id];
    }

    /// @notice Cancels a pending operation unless it is immune. CANCELLER_ROLE only.
    /// @param id The operation id.
    function cancel(bytes32 id) public override {
        if (_immune[id]) revert CovenantTimelockImmuneOperation(id);
        super.cancel(id);
    }
}

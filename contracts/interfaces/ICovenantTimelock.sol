// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title ICovenantTimelock
 * @notice What Covenant's TimelockController adds: operations the guardian cannot cancel. The governor marks the
 * operation of a guardian-replacement proposal immune when it queues it, so the guardian cannot veto its own
 * replacement through the timelock's canceller role either.
 */
interface ICovenantTimelock {
    /// @notice The governor made a queued operation immune to cancellation.
    event OperationMadeImmune(bytes32 indexed id);

    /// @notice The operation is immune: no canceller may cancel it.
    error CovenantTimelockImmuneOperation(bytes32 id);
    /// @notice Only a pending operation can be made immune.
    error CovenantTimelockNotPending(bytes32 id);

    /// @notice Makes a pending operation immune to cancellation. PROPOSER_ROLE (the governor) only.
    /// @param id The operation id (`hashOperationBatch`).
    function makeImmune(bytes32 id) external;

    /// @notice Whether an operation is immune to cancellation.
    /// @param id The operation id.
    /// @return Whether it is immune.
    function isImmune(bytes32 id) external view returns (bool);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title ICommonsPolicy
 * @notice The split policy of agent earnings that governance owns: the commons floor (the least an agent's split may
 * give the commons pool), the default split (personal, infrastructure, commons; basis points summing to 10,000) and
 * how an amount is divided by a split. The treasury reads it; the timelock alone changes or upgrades it.
 */
interface ICommonsPolicy {
    /// @notice Governance set the commons floor.
    event CommonsFloorSet(uint256 previousFloorBps, uint256 newFloorBps);
    /// @notice Governance set the default split.
    event DefaultSplitSet(uint256 personalBps, uint256 infrastructureBps, uint256 commonsBps);

    /// @notice The split's parts do not sum to 10,000 basis points.
    error CommonsPolicyInvalidSplit(uint256 personalBps, uint256 infrastructureBps, uint256 commonsBps);
    /// @notice The split gives the commons less than the floor.
    error CommonsPolicyBelowFloor(uint256 commonsBps, uint256 floorBps);
    /// @notice The floor must be at most 10,000 basis points.
    error CommonsPolicyInvalidFloor(uint256 floorBps);
    /// @notice Ownership (the timelock's) cannot be renounced: the policy would be frozen.
    error CommonsPolicyCannotRenounce();

    /// @notice The implementation's version (1 for the first; every upgrade raises it).
    /// @return The version.
    function version() external pure returns (uint256);

    /// @notice The least share of an agent's earnings that must go to the commons pool.
    /// @return Basis points.
    function commonsFloorBps() external view returns (uint256);

    /// @notice The split an agent has until it sets its own.
    /// @return personalBps To the agent's earnings wallet.
    /// @return infrastructureBps To the agent's infrastructure budget.
    /// @return commonsBps To the commons pool.
    function defaultSplit() external view returns (uint256 personalBps, uint256 infrastructureBps, uint256 commonsBps);

    /// @notice Reverts unless the split sums to 10,000 and gives the commons at least the floor.
    /// @param personalBps Personal share.
    /// @param infrastructureBps Infrastructure share.
    /// @param commonsBps Commons share.
    function checkSplit(uint256 personalBps, uint256 infrastructureBps, uint256 commonsBps) external view;

    /// @notice Divides `amount` by a split; the three parts always sum to `amount`.
    /// @param amount The amount.
    /// @param personalBps Personal share.
    /// @param infrastructureBps Infrastructure share.
    /// @param commonsBps Commons share.
    /// @return personal The personal part.
    /// @return infrastructure The infrastructure part.
    /// @return commons The commons part.
    function splitAmount(
        uint256 amount,
        uint256 personalBps,
        uint256 infrastructureBps,
        uint256 commonsBps
    ) external view returns (uint256 personal, uint256 infrastructure, uint256 commons);

    /// @notice Sets the commons floor; the default split must still meet it. Owner (the timelock) only.
    /// @param floorBps Basis points.
    function setCommonsFloor(uint16 floorBps) external;

    /// @notice Sets the default split. Owner (the timelock) only.
    /// @param personalBps Personal share.
    /// @param infrastructureBps Infrastructure share.
    /// @param commonsBps Commons share.
    function setDefaultSplit(uint16 personalBps, uint16 infrastructureBps, uint16 commonsBps) external;

    /// @notice The implementation behind the proxy.
    /// @return Its address.
    function implementation() external view returns (address);
}

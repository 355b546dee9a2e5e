// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title IGovernorCompactStorage
 * @notice OpenZeppelin GovernorStorage's surface (`queue(id)`, `execute(id)`, `cancel(id)`, `proposalDetails(id)`,
 * `proposalCount()`, `proposalDetailsAt(index)`), so a proposal is handled on a block explorer by its id alone, with
 * the details stored as the code of one small data contract per proposal instead of one storage slot per word.
 */
interface IGovernorCompactStorage {
    /// @notice The proposal's details exceed what one data contract can hold (EIP-170).
    error GovernorCompactStorageTooLarge(uint256 size, uint256 max);
    /// @notice The details contract did not land where the proposal id says (the governor created another contract).
    error GovernorCompactStorageUnexpectedAddress(uint256 proposalId, address expected, address actual);
    /// @notice A call's calldata is longer than the format allows (2^31 - 1 bytes).
    error GovernorCompactStorageCalldataTooLong(uint256 index, uint256 length);

    /// @notice Queues a succeeded proposal by id.
    /// @param proposalId The proposal.
    function queue(uint256 proposalId) external;

    /// @notice Executes a queued proposal by id.
    /// @param proposalId The proposal.
    function execute(uint256 proposalId) external payable;

    /// @notice Cancels a proposal by id (the guardian at any time before execution; the proposer while pending).
    /// @param proposalId The proposal.
    function cancel(uint256 proposalId) external;

    /// @notice Number of proposals made.
    /// @return The count.
    function proposalCount() external view returns (uint256);

    /// @notice A proposal's calls and description hash.
    /// @param proposalId The proposal.
    /// @return targets The call targets.
    /// @return values The call values.
    /// @return calldatas The calldatas.
    /// @return descriptionHash keccak256 of the description.
    function proposalDetails(
        uint256 proposalId
    )
        external
        view
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas, bytes32 descriptionHash);

    /// @notice A proposal's details by its index (0-based; the id is index + 1).
    /// @param index The index.
    /// @return proposalId The proposal id.
    /// @return targets The call targets.
    /// @return values The call values.
    /// @return calldatas The calldatas.
    /// @return descriptionHash keccak256 of the description.
    function proposalDetailsAt(
        uint256 index
    )
        external
        view
        returns (
            uint256 proposalId,
            address[] memory targets,
            uint256[] memory values,
            bytes[] memory calldatas,
            bytes32 descriptionHash
        );

    /// @notice The address of the contract holding a proposal's details (it may not exist yet).
    /// @param proposalId The proposal.
    /// @return The address.
    function proposalDetailsContract(uint256 proposalId) external view returns (address);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title MockBenchRegistry
 * @notice TEST ONLY. Stands in for the AgentRegistry in benchmarks of a hundred thousand agents, where registering each
 * would dominate the run: agents 0 to `count - 1` exist, all owned by `owner`; none has a signer or an earnings wallet.
 * The RevenueRouter, EarningsDistributor and Treasury under benchmark are the real contracts.
 *
 * Trust assumptions: none; never deploy outside tests.
 */
contract MockBenchRegistry {
    /// @notice The owner of every agent.
    address public immutable owner;
    /// @notice How many agents exist.
    uint256 public immutable count;

    /// @notice Mirrors ERC721NonexistentToken.
    error ERC721NonexistentToken(uint256 tokenId);

    /// @param owner_ The owner of every agent.
    /// @param count_ How many agents exist.
    constructor(address owner_, uint256 count_) {
        owner = owner_;
        count = count_;
    }

    /// @notice The owner of an existing agent.
    /// @param agentId The agent.
    /// @return The owner.
    function ownerOf(uint256 agentId) external view returns (address) {
        if (agentId >= count) revert ERC721NonexistentToken(agentId);
        return owner;
    }

    /// @notice Whether `spender` is the owner of an existing agent.
    /// @param spender The account.
    /// @param agentId The agent.
    /// @return Whether it is.
    function isAuthorizedOrOwner(address spender, uint256 agentId) external view returns (bool) {
        return agentId < count && spender == owner;
    }

    /// @notice No agent has a signer here.
    /// @return Zero.
    function agentSigner(uint256) external pure returns (address) {
        return address(0);
    }

    /// @notice No agent has an earnings wallet here.
    /// @return Zero.
    function earningsWallet(uint256) external pure returns (address) {
        return address(0);
    }
}

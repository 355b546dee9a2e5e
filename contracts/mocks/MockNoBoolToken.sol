// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title MockNoBoolToken
 * @notice TEST ONLY. An ERC-20 whose `transfer`, `transferFrom` and `approve` return nothing (as USDT's do) and which
 * reverts on failure. SafeERC20 must accept it.
 *
 * Trust assumptions: none; never deploy outside tests.
 */
contract MockNoBoolToken {
    /// @notice Balances.
    mapping(address account => uint256) public balanceOf;
    /// @notice Allowances.
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    /// @notice A transfer failed for lack of balance or allowance.
    error MockNoBoolTokenInsufficient();

    /// @notice Mints `amount` to `to`.
    /// @param to The receiver.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    /// @notice Approves `spender`; returns nothing.
    /// @param spender The spender.
    /// @param amount The allowance.
    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
    }

    /// @notice Transfers; returns nothing.
    /// @param to The receiver.
    /// @param amount The amount.
    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    /// @notice Transfers from `from` with allowance; returns nothing.
    /// @param from The owner.
    /// @param to The receiver.
    /// @param amount The amount.
    function transferFrom(address from, address to, uint256 amount) external {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < amount) revert MockNoBoolTokenInsufficient();
        allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
    }

    function _move(address from, address to, uint256 amount) private {
        if (balanceOf[from] < amount) revert MockNoBoolTokenInsufficient();
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }
}

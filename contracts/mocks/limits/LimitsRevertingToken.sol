// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @notice Test-only ERC-20 whose transfers and balance queries revert with a reason when `broken`.
 */
contract LimitsRevertingToken {
    error LimitsRevertingTokenBroken();

    mapping(address => uint256) private _balances;
    bool public broken;

    function mint(address to, uint256 amount) external {
        _balances[to] += amount;
    }

    function setBroken(bool broken_) external {
        broken = broken_;
    }

    function balanceOf(address account) external view returns (uint256) {
        if (broken) revert LimitsRevertingTokenBroken();
        return _balances[account];
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        if (broken) revert LimitsRevertingTokenBroken();
        _balances[msg.sender] -= amount;
        _balances[to] += amount;
        return true;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @notice Test-only ERC-20 whose `transfer` returns nothing, as USDT on Ethereum does. Balances move as usual.
 */
contract LimitsNoBoolToken {
    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function transfer(address to, uint256 amount) external {
        require(balanceOf[msg.sender] >= amount); // solhint-disable-line gas-custom-errors
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        emit Transfer(msg.sender, to, amount);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @notice Test-only ERC-20 that returns false instead of reverting when it refuses, and refuses when `refusing`.
 */
contract LimitsFalseToken {
    mapping(address => uint256) public balanceOf;
    bool public refusing;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function setRefusing(bool refusing_) external {
        refusing = refusing_;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        if (refusing || balanceOf[msg.sender] < amount) return false;
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        return true;
    }
}

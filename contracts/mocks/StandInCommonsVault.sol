// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/**
 * @title StandInCommonsVault
 * @notice Test-only stand-in for the commons pool until the treasury lands: holds ether and tokens, and releases them
 * only when its owner (the timelock, i.e. an executed proposal) says so.
 */
contract StandInCommonsVault is Ownable {
    using SafeERC20 for IERC20;

    /// @notice Funds left the vault by an executed proposal.
    event Released(address indexed token, address indexed to, uint256 amount);

    /// @param owner_ The timelock.
    constructor(address owner_) Ownable(owner_) {}

    receive() external payable {}

    /// @notice Sends ether. Owner only.
    /// @param to The recipient.
    /// @param amount Wei.
    function release(address payable to, uint256 amount) external onlyOwner {
        emit Released(address(0), to, amount);
        Address.sendValue(to, amount);
    }

    /// @notice Sends tokens. Owner only.
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount Token units.
    function releaseToken(IERC20 token, address to, uint256 amount) external onlyOwner {
        emit Released(address(token), to, amount);
        token.safeTransfer(to, amount);
    }
}

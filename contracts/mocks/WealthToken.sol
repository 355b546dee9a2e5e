// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title WealthToken
 * @notice Test-only ERC-20 that anyone can mint: the wealth that must buy no voting weight in Covenant.
 */
contract WealthToken is ERC20 {
    constructor() ERC20("Wealth", "WLTH") {}

    /// @notice Mints `amount` to `to`.
    /// @param to The recipient.
    /// @param amount Token units.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

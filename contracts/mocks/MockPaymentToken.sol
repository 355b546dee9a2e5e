// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title MockPaymentToken
 * @notice TEST ONLY. A plain ERC-20 anyone can mint, standing in for a stablecoin users pay agents with.
 *
 * Trust assumptions: none; never deploy outside tests.
 */
contract MockPaymentToken is ERC20 {
    /// @param name_ The token name.
    /// @param symbol_ The token symbol.
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    /// @notice Mints `amount` to `to`.
    /// @param to The receiver.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title MockFeeOnTransferToken
 * @notice TEST ONLY. An ERC-20 that burns `feeBps` of every transfer, so the receiver gets less than was sent. The fee
 * can be switched on later, as an upgradeable token might.
 *
 * Trust assumptions: none; never deploy outside tests.
 */
contract MockFeeOnTransferToken is ERC20 {
    /// @notice The fee in basis points of each transfer.
    uint256 public feeBps;

    /// @param feeBps_ The initial fee.
    constructor(uint256 feeBps_) ERC20("Fee Token", "FEE") {
        feeBps = feeBps_;
    }

    /// @notice Mints `amount` to `to`.
    /// @param to The receiver.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Sets the fee.
    /// @param feeBps_ The fee in basis points.
    function setFee(uint256 feeBps_) external {
        feeBps = feeBps_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0) || feeBps == 0) return super._update(from, to, value);
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

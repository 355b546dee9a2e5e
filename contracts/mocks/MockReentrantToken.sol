// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title MockReentrantToken
 * @notice TEST ONLY. An ERC-20 that, once armed, calls `target` with `data` in the middle of its next transfer (as an
 * ERC-777 hook or a malicious token would) and records whether that call succeeded and what it returned.
 *
 * Trust assumptions: none; never deploy outside tests.
 */
contract MockReentrantToken is ERC20 {
    address private _target;
    bytes private _data;
    bool private _armed;

    /// @notice Whether the re-entering call succeeded, and its return or revert data.
    bool public lastCallSucceeded;
    /// @notice The return or revert data of the re-entering call.
    bytes public lastCallResult;
    /// @notice Whether the token re-entered at all.
    bool public reentered;

    constructor() ERC20("Reentrant Token", "REENTER") {}

    /// @notice Mints `amount` to `to`.
    /// @param to The receiver.
    /// @param amount The amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice On the next transfer, call `target` with `data` before moving the balance.
    /// @param target The contract to re-enter.
    /// @param data The call.
    function arm(address target, bytes calldata data) external {
        _target = target;
        _data = data;
        _armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (_armed && from != address(0)) {
            _armed = false;
            reentered = true;
            // solhint-disable-next-line avoid-low-level-calls
            (lastCallSucceeded, lastCallResult) = _target.call(_data);
        }
        super._update(from, to, value);
    }
}

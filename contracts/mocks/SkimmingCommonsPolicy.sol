// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonsPolicy} from "../evolution/CommonsPolicy.sol";

/**
 * @title SkimmingCommonsPolicy
 * @notice Test-only bad evolution of CommonsPolicy: its split loses the rounding remainder (the parts no longer sum to
 * the amount). It upgrades cleanly, so only the simulator's invariant checks can catch it.
 */
contract SkimmingCommonsPolicy is CommonsPolicy {
    /// @inheritdoc CommonsPolicy
    function version() external pure override returns (uint256) {
        return 99;
    }

    /// @dev Every part rounded down; the remainder disappears.
    function _splitAmount(
        uint256 amount,
        uint256 personalBps,
        uint256 infrastructureBps,
        uint256 commonsBps
    ) internal view override returns (uint256 personal, uint256 infrastructure, uint256 commons) {
        personal = (amount * personalBps) / _BPS;
        infrastructure = (amount * infrastructureBps) / _BPS;
        commons = (amount * commonsBps) / _BPS;
    }
}

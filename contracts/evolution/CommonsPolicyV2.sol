// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonsPolicy} from "./CommonsPolicy.sol";

/**
 * @title CommonsPolicyV2
 * @notice The first evolution of CommonsPolicy: the rounding remainder of a split goes to the commons instead of the
 * personal part ("dust to the commons"). Same storage, same interface; `version()` is 2. Reaches the proxy only as an
 * executed evolution proposal (proposed by hash, simulated, voted on, deployed by the timelock through CREATE2).
 */
contract CommonsPolicyV2 is CommonsPolicy {
    /// @inheritdoc CommonsPolicy
    function version() external pure override returns (uint256) {
        return 2;
    }

    /// @dev Version 2: personal and infrastructure are rounded down, the remainder goes to the commons.
    function _splitAmount(
        uint256 amount,
        uint256 personalBps,
        uint256 infrastructureBps,
        uint256
    ) internal view override returns (uint256 personal, uint256 infrastructure, uint256 commons) {
        personal = (amount * personalBps) / _BPS;
        infrastructure = (amount * infrastructureBps) / _BPS;
        commons = amount - personal - infrastructure;
    }
}

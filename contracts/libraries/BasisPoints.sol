// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title BasisPoints
 * @notice Splits of an amount in basis points (1/10,000). Every share is rounded down and the remainder goes to one
 * named party, so the parts always add up to the whole: no wei is created or lost by a split.
 */
library BasisPoints {
    /// @notice The whole: every split's basis points sum to this.
    uint256 internal constant TOTAL = 10_000;

    /// @notice `amount * bps / 10_000`, rounded down.
    /// @param amount The whole.
    /// @param bps The share in basis points (at most 10,000).
    /// @return The share.
    function share(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return (amount * bps) / TOTAL;
    }

    /**
     * @notice Splits `amount` three ways; the first two are rounded down and the third takes the remainder, so
     * `first + second + third == amount` exactly.
     * @param amount The whole.
     * @param firstBps The first share.
     * @param secondBps The second share.
     * @return first The first part.
     * @return second The second part.
     * @return third The rest.
     */
    function split3(
        uint256 amount,
        uint256 firstBps,
        uint256 secondBps
    ) internal pure returns (uint256 first, uint256 second, uint256 third) {
        first = share(amount, firstBps);
        second = share(amount, secondBps);
        third = amount - first - second;
    }
}

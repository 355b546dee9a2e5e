// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRevenueRouter} from "../interfaces/IRevenueRouter.sol";

/**
 * @title MockBatchPayer
 * @notice TEST ONLY. Makes many real ETH payments through the RevenueRouter in one transaction, so benchmarks can
 * produce an epoch with a hundred thousand `Paid` events quickly. Each payment is an ordinary `pay`; `ref` is the
 * payment's index.
 *
 * Trust assumptions: none; never deploy outside tests.
 */
contract MockBatchPayer {
    /// @notice msg.value is not the sum of the amounts.
    error MockBatchPayerWrongValue(uint256 expected, uint256 value);

    /// @notice Pays `amounts[i]` wei to agent `agentIds[i]` for each i.
    /// @param router The router.
    /// @param agentIds The agents.
    /// @param amounts The gross amounts.
    /// @param firstRef The `ref` of the first payment; the others count up from it.
    function payMany(
        IRevenueRouter router,
        uint256[] calldata agentIds,
        uint256[] calldata amounts,
        uint256 firstRef
    ) external payable {
        uint256 sum;
        for (uint256 i; i < amounts.length; ++i) sum += amounts[i];
        if (sum != msg.value) revert MockBatchPayerWrongValue(sum, msg.value);
        for (uint256 i; i < agentIds.length; ++i) {
            router.pay{value: amounts[i]}(agentIds[i], address(0), amounts[i], bytes32(firstRef + i));
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Test-only receiver that refuses ETH.
contract LimitsRejectingReceiver {
    error LimitsRejectingReceiverRefused();

    receive() external payable {
        revert LimitsRejectingReceiverRefused();
    }
}

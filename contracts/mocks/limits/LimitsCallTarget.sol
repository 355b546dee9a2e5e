// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @notice Test-only contract an agent calls through its Safe: records calls and the gas each received, can fail on
 * demand and can burn gas.
 */
contract LimitsCallTarget {
    error LimitsCallTargetFailed(uint256 code);

    uint256 public calls;
    uint256 public lastValue;
    uint256 public lastGasReceived;
    address public lastCaller;

    event Called(address indexed caller, uint256 value, uint256 arg);

    function ping(uint256 arg) external payable {
        lastGasReceived = gasleft();
        ++calls;
        lastValue = msg.value;
        lastCaller = msg.sender;
        emit Called(msg.sender, msg.value, arg);
    }

    function fail(uint256 code) external payable {
        revert LimitsCallTargetFailed(code);
    }

    /// @notice Succeeds only with at least `needed` gas on entry; burns it otherwise (reverts out of gas).
    function needsGas(uint256 needed) external payable {
        uint256 received = gasleft();
        lastGasReceived = received;
        if (received < needed) {
            // Burn everything: what an expensive call looks like when starved.
            while (true) {} // solhint-disable-line no-empty-blocks
        }
        ++calls;
    }

    receive() external payable {}
}

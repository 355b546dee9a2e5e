// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title MockHostileReceiver
 * @notice TEST ONLY. An account that can be an operator, a payee or an earnings wallet, and that on receiving ETH
 * either reverts (mode Revert) or calls back `target` with `data` (mode Reenter), recording the outcome. It can also
 * make arbitrary calls as itself.
 *
 * Trust assumptions: none; never deploy outside tests.
 */
contract MockHostileReceiver {
    /// @notice What the receiver does when ETH arrives.
    enum Mode {
        Accept,
        Revert,
        Reenter
    }

    /// @notice The current behaviour.
    Mode public mode;
    address private _target;
    bytes private _data;

    /// @notice Whether the re-entering call succeeded.
    bool public lastCallSucceeded;
    /// @notice The return or revert data of the re-entering call.
    bytes public lastCallResult;
    /// @notice How many times it re-entered.
    uint256 public reentries;

    /// @notice Mode Revert refuses every payment with this error.
    error MockHostileReceiverRefused();

    /// @notice Sets the behaviour and, for Reenter, the call to make.
    /// @param mode_ The behaviour.
    /// @param target The contract to call back.
    /// @param data The call.
    function setMode(Mode mode_, address target, bytes calldata data) external {
        mode = mode_;
        _target = target;
        _data = data;
    }

    /// @notice Makes a call as this account.
    /// @param target The contract.
    /// @param data The call.
    /// @return result The return data.
    function execute(address target, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        (ok, result) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
    }

    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        if (mode == Mode.Revert) revert MockHostileReceiverRefused();
        if (mode == Mode.Reenter && reentries == 0) {
            reentries++;
            // solhint-disable-next-line avoid-low-level-calls
            (lastCallSucceeded, lastCallResult) = _target.call(_data);
        }
    }
}

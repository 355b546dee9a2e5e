// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/**
 * @notice Test-only smart-account agent signer: valid signatures are its owner key's over the digest, unless
 * `refusing`; the owner makes calls through it (to accept a charter, to spend directly).
 */
contract LimitsERC1271Wallet is IERC1271 {
    error LimitsERC1271WalletNotOwner(address caller);

    address public immutable owner;
    bool public refusing;

    constructor(address owner_) {
        owner = owner_;
    }

    function setRefusing(bool refusing_) external {
        if (msg.sender != owner) revert LimitsERC1271WalletNotOwner(msg.sender);
        refusing = refusing_;
    }

    function execute(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert LimitsERC1271WalletNotOwner(msg.sender);
        // A smart account forwards arbitrary calls of its owner; the result is bubbled up below.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        if (refusing || err != ECDSA.RecoverError.NoError || recovered != owner) return 0xffffffff;
        return IERC1271.isValidSignature.selector;
    }
}

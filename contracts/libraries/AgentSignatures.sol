// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/**
 * @title AgentSignatures
 * @notice Signature checks for agent signers that may be EOAs or ERC-1271 accounts.
 * @dev ECDSA first, ERC-1271 second (as the ERC-8004 reference does). OpenZeppelin's SignatureChecker asks for the
 * signer's code size first, a cold EXTCODESIZE (2,600 gas) on every relayed EOA message; trying ecrecover first
 * skips it whenever the key signed. A contract account has no key, so ecrecover cannot return its address, and an
 * EIP-7702 account's key still speaks for it: accepting a valid ECDSA signature first loses no safety.
 */
library AgentSignatures {
    /// @notice True when `signature` over `digest` is `signer`'s: by ECDSA, or by ERC-1271 when `signer` has code.
    /// @param signer The expected signer.
    /// @param digest The EIP-712 digest.
    /// @param signature The signature (65 bytes for ECDSA; any for ERC-1271).
    /// @return Whether the signature is valid now.
    function isValidNow(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return
            signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }
}

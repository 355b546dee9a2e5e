// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/**
 * @title CommonsPolicyProxy
 * @notice The ERC-1967 proxy in front of CommonsPolicy (UUPS: the implementation authorizes upgrades, and only the
 * timelock, its owner, may upgrade). Named so that block explorers and deployment records say what it is.
 */
contract CommonsPolicyProxy is ERC1967Proxy {
    /// @param implementation The first implementation.
    /// @param data The initializer call.
    constructor(address implementation, bytes memory data) payable ERC1967Proxy(implementation, data) {}
}

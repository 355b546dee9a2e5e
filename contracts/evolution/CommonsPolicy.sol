// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";
import {ICommonsPolicy} from "../interfaces/ICommonsPolicy.sol";

/**
 * @title CommonsPolicy
 * @notice The commons floor and the default split of agent earnings, behind a UUPS proxy: the first component that
 * Covenant's evolution pipeline governs. Version 1 gives the rounding remainder of a split to the personal part.
 *
 * Trust assumptions: the owner is the timelock; it alone changes the floor and the default split and upgrades the
 * implementation (an upgrade is an executed evolution proposal). Ownership cannot be renounced.
 *
 * Storage (ERC-7201 namespace "covenant.storage.CommonsPolicy"), one slot: floor (16) | personal (16) |
 * infrastructure (16) | commons (16).
 */
contract CommonsPolicy is ICommonsPolicy, Initializable, OwnableUpgradeable, UUPSUpgradeable {
    uint256 internal constant _BPS = 10_000;

    /// @custom:storage-location erc7201:covenant.storage.CommonsPolicy
    struct PolicyStorage {
        uint16 commonsFloorBps;
        uint16 personalBps;
        uint16 infrastructureBps;
        uint16 commonsBps;
    }

    // keccak256(abi.encode(uint256(keccak256("covenant.storage.CommonsPolicy")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_SLOT = 0x81a3d81e8fb1c27b5197d0eac0a2b923106d7644d862c17938d94a9e19606600;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @notice Sets the owner, the floor and the default split (through the proxy, once).
    /// @param owner_ The timelock.
    /// @param floorBps The commons floor.
    /// @param personalBps Default personal share.
    /// @param infrastructureBps Default infrastructure share.
    /// @param commonsBps Default commons share.
    function initialize(
        address owner_,
        uint16 floorBps,
        uint16 personalBps,
        uint16 infrastructureBps,
        uint16 commonsBps
    ) external initializer {
        __Ownable_init(owner_);
        _setCommonsFloor(floorBps);
        _setDefaultSplit(personalBps, infrastructureBps, commonsBps);
    }

    /// @inheritdoc ICommonsPolicy
    function version() external pure virtual returns (uint256) {
        return 1;
    }

    /// @inheritdoc ICommonsPolicy
    function commonsFloorBps() external view returns (uint256) {
        return _policy().commonsFloorBps;
    }

    /// @inheritdoc ICommonsPolicy
    function defaultSplit() external view returns (uint256 personalBps, uint256 infrastructureBps, uint256 commonsBps) {
        PolicyStorage storage $ = _policy();
        return ($.personalBps, $.infrastructureBps, $.commonsBps);
    }

    /// @inheritdoc ICommonsPolicy
    function checkSplit(uint256 personalBps, uint256 infrastructureBps, uint256 commonsBps) public view {
        if (personalBps + infrastructureBps + commonsBps != _BPS) {
            revert CommonsPolicyInvalidSplit(personalBps, infrastructureBps, commonsBps);
        }
        uint256 floor = _policy().commonsFloorBps;
        if (commonsBps < floor) revert CommonsPolicyBelowFloor(commonsBps, floor);
    }

    /// @inheritdoc ICommonsPolicy
    function splitAmount(
        uint256 amount,
        uint256 personalBps,
        uint256 infrastructureBps,
        uint256 commonsBps
    ) external view returns (uint256 personal, uint256 infrastructure, uint256 commons) {
        checkSplit(personalBps, infrastructureBps, commonsBps);
        return _splitAmount(amount, personalBps, infrastructureBps, commonsBps);
    }

    /// @inheritdoc ICommonsPolicy
    function setCommonsFloor(uint16 floorBps) external onlyOwner {
        _setCommonsFloor(floorBps);
        PolicyStorage storage $ = _policy();
        checkSplit($.personalBps, $.infrastructureBps, $.commonsBps);
    }

    /// @inheritdoc ICommonsPolicy
    function setDefaultSplit(uint16 personalBps, uint16 infrastructureBps, uint16 commonsBps) external onlyOwner {
        _setDefaultSplit(personalBps, infrastructureBps, commonsBps);
    }

    /// @inheritdoc ICommonsPolicy
    function implementation() external view returns (address) {
        return ERC1967Utils.getImplementation();
    }

    /// @notice Always reverts: the timelock stays the owner.
    function renounceOwnership() public view override onlyOwner {
        revert CommonsPolicyCannotRenounce();
    }

    /// @dev Version 1: infrastructure and commons are rounded down, the remainder goes to the personal part.
    function _splitAmount(
        uint256 amount,
        uint256,
        uint256 infrastructureBps,
        uint256 commonsBps
    ) internal view virtual returns (uint256 personal, uint256 infrastructure, uint256 commons) {
        infrastructure = (amount * infrastructureBps) / _BPS;
        commons = (amount * commonsBps) / _BPS;
        personal = amount - infrastructure - commons;
    }

    function _setCommonsFloor(uint16 floorBps) internal {
        if (floorBps > _BPS) revert CommonsPolicyInvalidFloor(floorBps);
        PolicyStorage storage $ = _policy();
        emit CommonsFloorSet($.commonsFloorBps, floorBps);
        $.commonsFloorBps = floorBps;
    }

    function _setDefaultSplit(uint16 personalBps, uint16 infrastructureBps, uint16 commonsBps) internal {
        checkSplit(personalBps, infrastructureBps, commonsBps);
        PolicyStorage storage $ = _policy();
        $.personalBps = personalBps;
        $.infrastructureBps = infrastructureBps;
        $.commonsBps = commonsBps;
        emit DefaultSplitSet(personalBps, infrastructureBps, commonsBps);
    }

    /// @dev Only the owner (the timelock) upgrades.
    function _authorizeUpgrade(address) internal view override onlyOwner {}

    function _policy() internal pure returns (PolicyStorage storage $) {
        assembly ("memory-safe") {
            $.slot := _STORAGE_SLOT
        }
    }
}

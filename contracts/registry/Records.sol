// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Consortium} from "../governance/Consortium.sol";
import {IOriginRegistry} from "../interfaces/IOriginRegistry.sol";
import {Status, Kind} from "../types/RecordTypes.sol";

/// @title Records
/// @notice Storage shared by items, lots and logistic units, and the checks every module uses.
/// @dev A record fits one storage slot, so registering an item writes exactly one new slot.
abstract contract Records is IOriginRegistry, Consortium {
    /// @inheritdoc IOriginRegistry
    uint256 public constant MAX_BATCH = 500;

    /// @dev custodian (160 bits) | status (8) | kind (8) | brand's member index (32) | a lot's
    /// item count (48; zero for items and units). The custodian of a packed record is stale:
    /// the outermost unit's custodian holds it.
    struct Record {
        address custodian;
        Status status;
        Kind kind;
        uint32 brand;
        uint48 lotCount;
    }

    mapping(bytes32 id => Record) internal _records;
    mapping(bytes32 id => bytes32 unitId) internal _containerOf;
    mapping(bytes32 id => Offer) internal _offers;

    /// @inheritdoc IOriginRegistry
    function custodianOf(bytes32 id) public view returns (address) {
        return _records[_outermost(id)].custodian;
    }

    /// @inheritdoc IOriginRegistry
    function statusOf(bytes32 id) external view returns (Status) {
        return _records[id].status;
    }

    /// @inheritdoc IOriginRegistry
    function kindOf(bytes32 id) external view returns (Kind) {
        return _records[id].kind;
    }

    /// @dev Creates record `id` held by the caller; reverts if it exists.
    function _create(bytes32 id, Kind kind, uint32 brand) internal {
        Record storage record = _records[id];
        if (record.status != Status.None) revert RegistryItemExists(id);
        record.custodian = msg.sender;
        record.status = Status.Active;
        record.kind = kind;
        record.brand = brand;
    }

    /// @dev The record `id`, which must exist.
    function _existing(bytes32 id) internal view returns (Record storage record) {
        record = _records[id];
        if (record.status == Status.None) revert RegistryUnknownItem(id);
    }

    /// @dev The top-level record `id` held by `account`, in `expected` status.
    function _held(bytes32 id, address account, Status expected) internal view returns (Record storage record) {
        record = _holding(id, account);
        _requireStatus(id, record.status, _bit(expected));
    }

    /// @dev The top-level record `id` held by `account`, in any status.
    function _holding(bytes32 id, address account) internal view returns (Record storage record) {
        record = _existing(id);
        bytes32 unit = _containerOf[id];
        if (unit != bytes32(0)) revert RegistryPacked(id, unit);
        if (record.custodian != account) revert RegistryNotCustodian(id, account);
    }

    /// @dev Reverts unless `status` is in the set `allowed` (a mask of {_bit}s).
    function _requireStatus(bytes32 id, Status status, uint256 allowed) internal pure {
        if (allowed & _bit(status) == 0) revert RegistryInvalidStatus(id, status);
    }

    /// @dev `status` as a one-bit set.
    function _bit(Status status) internal pure returns (uint256) {
        // forge-lint: disable-next-line(incorrect-shift)
        return 1 << uint8(status);
    }

    /// @dev The outermost unit containing `id`, or `id` itself when top-level.
    function _outermost(bytes32 id) internal view returns (bytes32) {
        for (bytes32 unit = _containerOf[id]; unit != bytes32(0); unit = _containerOf[id]) {
            id = unit;
        }
        return id;
    }

    /// @dev Moves the top-level Active record `id` from `from` to `to`.
    function _transfer(bytes32 id, address from, address to) internal {
        Record storage record = _held(id, from, Status.Active);
        record.custodian = to;
        emit CustodyTransferred(id, from, to);
    }

    /// @dev Reverts unless `size` is a valid batch size.
    function _checkBatch(uint256 size) internal pure {
        if (size == 0 || size > MAX_BATCH) revert RegistryInvalidBatchSize(size, MAX_BATCH);
    }
}

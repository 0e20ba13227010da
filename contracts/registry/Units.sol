// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IUnits} from "../interfaces/IUnits.sol";
import {ItemIds} from "../libraries/ItemIds.sol";
import {Status, Kind} from "../types/RecordTypes.sol";
import {Records} from "./Records.sol";

/// @title Units
/// @notice Logistic units (SSCC) that aggregate items, lots and other units. See {IUnits}.
/// @dev A packed record points to its unit; its effective custodian is found by walking up
/// to the outermost unit, so moving a unit is one write whatever it holds.
abstract contract Units is Records {
    /// @inheritdoc IUnits
    function createUnit(string calldata sscc) external whenNotPaused returns (bytes32 unitId) {
        _requireMember(msg.sender);
        if (!ItemIds.isKey(sscc, 18)) revert UnitInvalidSscc(sscc);
        unitId = ItemIds.logisticUnit(sscc);
        _create(unitId, Kind.Unit, 0);
        emit UnitCreated(unitId, msg.sender);
    }

    /// @inheritdoc IUnits
    function pack(bytes32 unitId, bytes32[] calldata ids) external whenNotPaused {
        bytes32 outermost = _checkUnit(unitId);
        _checkBatch(ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            bytes32 id = ids[i];
            // A unit cannot contain itself, nor the unit that (transitively) contains it.
            if (id == outermost) revert UnitCycle(unitId, id);
            _held(id, msg.sender, Status.Active);
            _containerOf[id] = unitId;
            emit UnitPacked(unitId, id);
        }
    }

    /// @inheritdoc IUnits
    function unpack(bytes32 unitId, bytes32[] calldata ids) external whenNotPaused {
        _checkUnit(unitId);
        _checkBatch(ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            bytes32 id = ids[i];
            if (_containerOf[id] != unitId) revert UnitNotPacked(unitId, id);
            delete _containerOf[id];
            _records[id].custodian = msg.sender;
            emit UnitUnpacked(unitId, id, msg.sender);
        }
    }

    /// @inheritdoc IUnits
    function containerOf(bytes32 id) external view returns (bytes32) {
        return _containerOf[id];
    }

    /// @dev `unitId` is an Active unit whose effective custodian is the caller, and so is the
    /// outermost unit holding it: the contents of a unit on offer are frozen at every depth.
    /// Returns that outermost unit (`unitId` itself when it is not packed).
    function _checkUnit(bytes32 unitId) private view returns (bytes32 outermost) {
        Record storage unit = _existing(unitId);
        if (unit.kind != Kind.Unit) revert RegistryInvalidKind(unitId, unit.kind);
        if (unit.status != Status.Active) revert RegistryInvalidStatus(unitId, unit.status);
        outermost = _outermost(unitId);
        Record storage top = _records[outermost];
        if (top.status != Status.Active) revert RegistryInvalidStatus(outermost, top.status);
        if (top.custodian != msg.sender) revert RegistryNotCustodian(unitId, msg.sender);
    }
}

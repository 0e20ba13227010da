// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IUnits
/// @notice Aggregation: logistic units (pallets, containers; GS1 SSCC) that hold items, lots and
/// other units. Custody of a unit is custody of everything inside it: moving the unit with the
/// custody functions moves its contents in the same transaction, at the same cost.
interface IUnits {
    /// @notice `custodian` created the empty logistic unit `unitId`.
    event UnitCreated(bytes32 indexed unitId, address indexed custodian);

    /// @notice `id` was packed into `unitId`; its effective custodian is now the unit's.
    event UnitPacked(bytes32 indexed unitId, bytes32 indexed id);

    /// @notice `id` was unpacked from `unitId`; `custodian` (the unit's effective custodian) now holds it directly.
    event UnitUnpacked(bytes32 indexed unitId, bytes32 indexed id, address indexed custodian);

    /// @notice `id` cannot go into `unitId`: it is the unit itself or a unit that contains it.
    error UnitCycle(bytes32 unitId, bytes32 id);

    /// @notice `id` is not packed in `unitId`.
    error UnitNotPacked(bytes32 unitId, bytes32 id);

    /// @notice `sscc` is not an SSCC: 18 digits, the last the GS1 check digit of the others.
    error UnitInvalidSscc(string sscc);

    /// @notice Creates the logistic unit with SSCC `sscc`, held by the caller, and returns its
    /// id {ItemIds.logisticUnit}(`sscc`).
    /// @dev The registry derives the id so that a unit can only take a unit's id, never that of
    /// an item or lot a brand is about to register. Requirements: caller is a member; `sscc` is
    /// 18 digits with a valid check digit (else {UnitInvalidSscc}); the unit is new; not
    /// paused. Emits {UnitCreated}.
    function createUnit(string calldata sscc) external returns (bytes32 unitId);

    /// @notice Packs the records `ids` into `unitId`.
    /// @dev Requirements: caller is the unit's effective custodian; the unit and the outermost
    /// unit holding it are Active (a unit on offer is frozen at every depth); each
    /// record is Active, top-level, held by the caller and not the unit or one containing it;
    /// 1 to MAX_BATCH ids; not paused. Emits {UnitPacked} per record.
    function pack(bytes32 unitId, bytes32[] calldata ids) external;

    /// @notice Unpacks the records `ids` from `unitId`; the caller holds them directly.
    /// @dev Requirements: caller is the unit's effective custodian; the unit and the outermost
    /// unit holding it are Active; each record is packed in
    /// `unitId`; 1 to MAX_BATCH ids; not paused. Emits {UnitUnpacked} per record.
    function unpack(bytes32 unitId, bytes32[] calldata ids) external;

    /// @notice The unit `id` is packed in directly (zero when top-level).
    function containerOf(bytes32 id) external view returns (bytes32);
}

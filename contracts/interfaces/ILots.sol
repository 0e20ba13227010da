// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ILots
/// @notice Lots for scale: a brand anchors a whole lot as a Merkle root over its items in one
/// transaction, whatever its size; any item proves membership with a Merkle proof.
/// @dev The leaf of an item is {LotLeaves.leaf}: keccak256(keccak256(abi.encode(itemId, metadataHash))),
/// OpenZeppelin StandardMerkleTree's encoding for the types ["bytes32", "bytes32"].
/// A lot is a record (kind Lot) with custodian and status like an item.
interface ILots {
    /// @notice Lot `lotId` was anchored by `custodian` with Merkle `root` over `count` items;
    /// `parentLotId` is the lot it was split from (zero for a lot anchored by its brand).
    event LotAnchored(
        bytes32 indexed lotId,
        address indexed custodian,
        bytes32 indexed parentLotId,
        bytes32 root,
        uint64 count,
        bytes32 metadataHash,
        string metadataURI
    );

    /// @notice Sub-lot `subLotId` was split off `parentLotId`, which keeps `parentCount` items.
    event LotSplit(bytes32 indexed parentLotId, bytes32 indexed subLotId, uint64 parentCount);

    /// @notice `gtin14` is not a GTIN-14 (14 digits, the last the check digit of the others)
    /// or `subLotNumber` does not extend its parent's lot number with GS1 CSET 82 characters
    /// (at most 20 bytes in all).
    error LotInvalidKey(string gtin14, string subLotNumber);

    /// @notice A lot needs a non-zero root and 1 to {MAX_LOT_COUNT} items (fewer than its
    /// parent's, for a sub-lot).
    error LotInvalid(bytes32 lotId, bytes32 root, uint64 count);

    /// @notice Most items one lot can hold (2^48 - 1): its count is packed into its record's slot.
    function MAX_LOT_COUNT() external view returns (uint64);

    /// @notice Anchors lot `lotId`: Merkle `root` over `count` items, metadata hash and URI.
    /// @dev Requirements: caller has BRAND_ROLE; `lotId` is new; root non-zero; 1 <= count <=
    /// {MAX_LOT_COUNT}; not paused. One transaction whatever `count`. Emits {LotAnchored}.
    function anchorLot(bytes32 lotId, bytes32 root, uint64 count, bytes32 metadataHash, string calldata metadataURI)
        external;

    /// @notice Anchors the lots `lotIds`, lot i with `roots[i]`, `counts[i]` items and
    /// `metadataHashes[i]`, all under `metadataURI`: a catalogue's lots in few transactions.
    /// @dev Requirements: caller has BRAND_ROLE; equal lengths (else `RegistryLengthMismatch`);
    /// 1 to {MAX_BATCH} lots (else `RegistryInvalidBatchSize`); each lot as for {anchorLot}; not
    /// paused. All or nothing. Emits one {LotAnchored} per lot, in order.
    function anchorLots(
        bytes32[] calldata lotIds,
        bytes32[] calldata roots,
        uint64[] calldata counts,
        bytes32[] calldata metadataHashes,
        string calldata metadataURI
    ) external;

    /// @notice Splits `count` items off the lot `lotNumber` of GTIN `gtin14` into its new
    /// sub-lot `subLotNumber` with its own `root`, and returns the sub-lot's id.
    /// @dev Both ids are {ItemIds.lot} of `gtin14`: the registry derives them so that a split
    /// creates a lot of the parent's product numbered under the parent's number, never the id
    /// of an item, a unit or a lot its brand may anchor next (any of which would revert the
    /// brand's batch). Only a lot anchored under that derived id can be split. Requirements:
    /// `gtin14` is 14 digits with a valid check digit and `subLotNumber` extends `lotNumber`
    /// (e.g. "24-0042" -> "24-0042-A") with GS1 CSET 82 characters (those a Digital Link's lot
    /// may hold), at most 20 bytes (else {LotInvalidKey}); the caller is
    /// the parent's custodian; parent Active and not packed; 1 <= `count` < parent's
    /// count; the sub-lot new; not paused. The sub-lot keeps the parent's brand, the caller
    /// holds it. The registry cannot see which items `root` holds: a holder could put items in
    /// it that the brand never anchored, so a sub-lot's items are only the brand's when each
    /// parent lot also proves them (see {verifyLotItem}). Emits {LotAnchored} (with parent)
    /// and {LotSplit}.
    function splitLot(
        string calldata gtin14,
        string calldata lotNumber,
        string calldata subLotNumber,
        bytes32 root,
        uint64 count,
        bytes32 metadataHash,
        string calldata metadataURI
    ) external returns (bytes32 subLotId);

    /// @notice Whether item `itemId` with `metadataHash` is in lot `lotId`, by Merkle `proof`.
    /// @dev Membership only: a recalled or destroyed lot still proves its items; read the lot's
    /// status with {IOriginRegistry-statusOf}, as the gateway and `origintrace verify` do. For a sub-lot this proves membership of the root its splitter chose; to attribute
    /// the item to the brand, also verify it in each parent lot ({lotOf} names the parent), as
    /// the gateway and `origintrace lots split` do against the lot files.
    function verifyLotItem(bytes32 lotId, bytes32 itemId, bytes32 metadataHash, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Root, item count and parent of lot `lotId`.
    function lotOf(bytes32 lotId) external view returns (bytes32 root, uint64 count, bytes32 parentLotId);
}

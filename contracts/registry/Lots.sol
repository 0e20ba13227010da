// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILots} from "../interfaces/ILots.sol";
import {ItemIds} from "../libraries/ItemIds.sol";
import {LotLeaves} from "../libraries/LotLeaves.sol";
import {Status, Kind} from "../types/RecordTypes.sol";
import {Records} from "./Records.sol";

/// @title Lots
/// @notice Merkle-anchored lots and their splits. See {ILots}.
abstract contract Lots is Records {
    /// @dev A lot's item count lives in its {Record} (`lotCount`), so anchoring a lot writes
    /// two new slots (record and root), plus the parent for a sub-lot.
    struct Lot {
        bytes32 root;
        bytes32 parent;
    }

    /// @inheritdoc ILots
    uint64 public constant MAX_LOT_COUNT = type(uint48).max;

    mapping(bytes32 lotId => Lot) private _lots;

    /// @inheritdoc ILots
    function anchorLot(bytes32 lotId, bytes32 root, uint64 count, bytes32 metadataHash, string calldata metadataURI)
        external
        onlyRole(BRAND_ROLE)
        whenNotPaused
    {
        _anchor(lotId, root, count, bytes32(0), _memberIndex[msg.sender], metadataHash, metadataURI);
    }

    /// @inheritdoc ILots
    function anchorLots(
        bytes32[] calldata lotIds,
        bytes32[] calldata roots,
        uint64[] calldata counts,
        bytes32[] calldata metadataHashes,
        string calldata metadataURI
    ) external onlyRole(BRAND_ROLE) whenNotPaused {
        uint256 size = lotIds.length;
        if (roots.length != size) revert RegistryLengthMismatch(size, roots.length);
        if (counts.length != size) revert RegistryLengthMismatch(size, counts.length);
        if (metadataHashes.length != size) revert RegistryLengthMismatch(size, metadataHashes.length);
        _checkBatch(size);
        uint32 brand = _memberIndex[msg.sender];
        for (uint256 i = 0; i < size; ++i) {
            _anchor(lotIds[i], roots[i], counts[i], bytes32(0), brand, metadataHashes[i], metadataURI);
        }
    }

    /// @inheritdoc ILots
    function splitLot(
        string calldata gtin14,
        string calldata lotNumber,
        string calldata subLotNumber,
        bytes32 root,
        uint64 count,
        bytes32 metadataHash,
        string calldata metadataURI
    ) external whenNotPaused returns (bytes32 subLotId) {
        if (!ItemIds.isKey(gtin14, 14) || !ItemIds.isSubLotNumber(lotNumber, subLotNumber)) {
            revert LotInvalidKey(gtin14, subLotNumber);
        }
        bytes32 parentLotId = ItemIds.lot(gtin14, lotNumber);
        subLotId = ItemIds.lot(gtin14, subLotNumber);
        Record storage parent = _held(parentLotId, msg.sender, Status.Active);
        if (parent.kind != Kind.Lot) revert RegistryInvalidKind(parentLotId, parent.kind);
        uint48 parentCount = parent.lotCount;
        if (count >= parentCount) revert LotInvalid(subLotId, root, count);
        // count < parentCount <= MAX_LOT_COUNT, so it fits 48 bits.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint48 remaining = parentCount - uint48(count);
        parent.lotCount = remaining;
        _anchor(subLotId, root, count, parentLotId, parent.brand, metadataHash, metadataURI);
        emit LotSplit(parentLotId, subLotId, remaining);
    }

    /// @inheritdoc ILots
    function verifyLotItem(bytes32 lotId, bytes32 itemId_, bytes32 metadataHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = _lots[lotId].root;
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, LotLeaves.leaf(itemId_, metadataHash));
    }

    /// @inheritdoc ILots
    function lotOf(bytes32 lotId) external view returns (bytes32 root, uint64 count, bytes32 parentLotId) {
        Lot storage lot = _lots[lotId];
        return (lot.root, _records[lotId].lotCount, lot.parent);
    }

    function _anchor(
        bytes32 lotId,
        bytes32 root,
        uint64 count,
        bytes32 parent,
        uint32 brand,
        bytes32 metadataHash,
        string calldata metadataURI
    ) private {
        if (root == bytes32(0) || count == 0 || count > MAX_LOT_COUNT) {
            revert LotInvalid(lotId, root, count);
        }
        Record storage record = _records[lotId];
        if (record.status != Status.None) revert RegistryItemExists(lotId);
        // count <= MAX_LOT_COUNT (checked above), so it fits 48 bits.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint48 lotCount = uint48(count);
        // One write of the whole record, count included.
        _records[lotId] =
            Record({custodian: msg.sender, status: Status.Active, kind: Kind.Lot, brand: brand, lotCount: lotCount});
        Lot storage lot = _lots[lotId];
        lot.root = root;
        // A top-level lot leaves its parent slot untouched: no cold access for a zero write.
        if (parent != bytes32(0)) lot.parent = parent;
        emit LotAnchored(lotId, msg.sender, parent, root, count, metadataHash, metadataURI);
    }
}

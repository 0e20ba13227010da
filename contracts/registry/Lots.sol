// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILots} from "../interfaces/ILots.sol";
import {LotLeaves} from "../libraries/LotLeaves.sol";
import {Status, Kind} from "../types/RecordTypes.sol";
import {Records} from "./Records.sol";

/// @title Lots
/// @notice Merkle-anchored lots and their splits. See {ILots}.
abstract contract Lots is Records {
    struct Lot {
        bytes32 root;
        uint64 count;
        bytes32 parent;
    }

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
    function splitLot(
        bytes32 parentLotId,
        bytes32 subLotId,
        bytes32 root,
        uint64 count,
        bytes32 metadataHash,
        string calldata metadataURI
    ) external whenNotPaused {
        Record storage parent = _held(parentLotId, msg.sender, Status.Active);
        if (parent.kind != Kind.Lot) revert RegistryInvalidKind(parentLotId, parent.kind);
        Lot storage parentLot = _lots[parentLotId];
        if (count >= parentLot.count) revert LotInvalid(subLotId, root, count);
        uint64 remaining = parentLot.count - count;
        parentLot.count = remaining;
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
        return (lot.root, lot.count, lot.parent);
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
        if (root == bytes32(0) || count == 0) revert LotInvalid(lotId, root, count);
        _create(lotId, Kind.Lot, brand);
        _lots[lotId] = Lot({root: root, count: count, parent: parent});
        emit LotAnchored(lotId, msg.sender, parent, root, count, metadataHash, metadataURI);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Consortium} from "./governance/Consortium.sol";
import {IOriginRegistry} from "./interfaces/IOriginRegistry.sol";
import {ItemIds} from "./libraries/ItemIds.sol";
import {Status, Kind} from "./types/RecordTypes.sol";
import {Attestations} from "./registry/Attestations.sol";
import {Lots} from "./registry/Lots.sol";
import {Records} from "./registry/Records.sol";
import {SignedHandoffs} from "./registry/SignedHandoffs.sol";
import {Units} from "./registry/Units.sol";

/// @title OriginRegistry
/// @notice Registry of physical goods for an OriginTrace consortium: governance, items, lots,
/// logistic units, custody (two-step and EIP-712 signed), attestations, recall and claims.
/// @dev See {IOriginRegistry} for the events, errors and docs; {Status} for the state machine.
/// All events come from this one address.
contract OriginRegistry is Lots, Units, SignedHandoffs, Attestations {
    bytes32 private constant CLAIM_TYPEHASH = keccak256("Claim(bytes32 id,address to)");

    mapping(bytes32 itemId => address claimKey) private _claimKeys;

    /// @param admins The consortium's admins (DEFAULT_ADMIN_ROLE).
    /// @param threshold_ Admin approvals each governance action needs (1 lets an admin act alone).
    constructor(address[] memory admins, uint256 threshold_) Consortium(admins, threshold_) {}

    // ----------------------------------------------------------------- items

    /// @inheritdoc IOriginRegistry
    function itemId(string calldata gtin14, string calldata serial) external pure returns (bytes32) {
        return ItemIds.serialised(gtin14, serial);
    }

    /// @inheritdoc IOriginRegistry
    function registerItem(bytes32 id, bytes32 metadataHash, string calldata metadataURI)
        external
        onlyRole(BRAND_ROLE)
        whenNotPaused
    {
        _create(id, Kind.Item, _memberIndex[msg.sender]);
        emit ItemRegistered(id, msg.sender, metadataHash, metadataURI);
    }

    /// @inheritdoc IOriginRegistry
    function registerItems(bytes32[] calldata ids, bytes32[] calldata metadataHashes, string calldata metadataURI)
        external
        onlyRole(BRAND_ROLE)
        whenNotPaused
    {
        uint256 count = ids.length;
        if (count != metadataHashes.length) revert RegistryLengthMismatch(count, metadataHashes.length);
        _checkBatch(count);
        // The packed {Record} every new item gets: the caller, Active, Kind.Item, the caller's index.
        uint256 record = uint256(uint160(msg.sender)) | (uint256(uint8(Status.Active)) << 160)
            | (uint256(uint8(Kind.Item)) << 168) | (uint256(_memberIndex[msg.sender]) << 176);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 id = ids[i];
            Record storage existing = _records[id];
            if (existing.status != Status.None) revert RegistryItemExists(id);
            // One whole-slot write: the compiler would otherwise read the new slot back to merge fields.
            assembly ("memory-safe") {
                sstore(existing.slot, record)
            }
        }
        emit ItemsRegistered(msg.sender, ids, metadataHashes, metadataURI);
    }

    // ----------------------------------------------------------------- custody

    /// @inheritdoc IOriginRegistry
    function offerCustody(bytes32 id, address to, uint64 expiresAt) external whenNotPaused {
        Record storage record = _held(id, msg.sender, Status.Active);
        if (to == msg.sender) revert RegistrySelfHandoff(id);
        _requireMember(to);
        // Offers last hours or days; a validator's few seconds of timestamp drift cannot matter.
        // forge-lint: disable-next-line(block-timestamp)
        if (expiresAt <= block.timestamp) revert RegistryInvalidExpiry(expiresAt);
        record.status = Status.Offered;
        _offers[id] = Offer({to: to, expiresAt: expiresAt});
        emit CustodyOffered(id, msg.sender, to, expiresAt);
    }

    /// @inheritdoc IOriginRegistry
    function acceptCustody(bytes32 id) external whenNotPaused {
        Record storage record = _existing(id);
        Offer memory offer = _offers[id];
        if (record.status != Status.Offered) revert RegistryInvalidStatus(id, record.status);
        if (offer.to != msg.sender) revert RegistryNotOfferRecipient(id, msg.sender);
        _requireMember(msg.sender); // admitted when offered, maybe removed since
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > offer.expiresAt) revert RegistryOfferExpired(id, offer.expiresAt);
        address from = record.custodian;
        record.custodian = msg.sender;
        record.status = Status.Active;
        delete _offers[id];
        emit CustodyTransferred(id, from, msg.sender);
    }

    /// @inheritdoc IOriginRegistry
    function cancelOffer(bytes32 id) external whenNotPaused {
        Record storage record = _held(id, msg.sender, Status.Offered);
        address to = _offers[id].to;
        record.status = Status.Active;
        delete _offers[id];
        emit CustodyOfferCancelled(id, msg.sender, to);
    }

    // ----------------------------------------------------------------- status

    /// @inheritdoc IOriginRegistry
    function markSold(bytes32 id) external {
        _markSold(id);
    }

    /// @inheritdoc IOriginRegistry
    function markSold(bytes32 id, address claimKey) external {
        if (claimKey == address(0)) revert RegistryZeroAddress(id);
        _markSold(id);
        _claimKeys[id] = claimKey;
        emit ClaimKeySet(id, claimKey);
    }

    /// @inheritdoc IOriginRegistry
    function claim(bytes32 id, address to, bytes calldata signature) external whenNotPaused {
        Record storage record = _existing(id);
        _requireStatus(id, record.status, _bit(Status.Sold));
        if (to == address(0)) revert RegistryZeroAddress(id);
        address key = _claimKeys[id];
        if (key == address(0) || !SignatureChecker.isValidSignatureNow(key, claimDigest(id, to), signature)) {
            revert RegistryInvalidClaim(id);
        }
        delete _claimKeys[id];
        record.custodian = to;
        record.status = Status.Claimed;
        emit StatusChanged(id, Status.Claimed, to);
    }

    /// @inheritdoc IOriginRegistry
    function recall(bytes32 id) external onlyRole(BRAND_ROLE) whenNotPaused {
        Record storage record = _existing(id);
        if (record.kind == Kind.Unit) revert RegistryInvalidKind(id, record.kind);
        if (record.brand != _memberIndex[msg.sender]) revert RegistryNotBrand(id, msg.sender);
        Status status = record.status;
        _requireStatus(
            id,
            status,
            _bit(Status.Active) | _bit(Status.Offered) | _bit(Status.Sold) | _bit(Status.Claimed) | _bit(Status.Lost)
        );
        if (status == Status.Offered) {
            address to = _offers[id].to;
            delete _offers[id];
            emit CustodyOfferCancelled(id, record.custodian, to);
        } else if (status == Status.Sold) {
            delete _claimKeys[id]; // a recalled item cannot be claimed
        }
        _setStatus(id, record, Status.Recalled);
    }

    /// @inheritdoc IOriginRegistry
    function reportLost(bytes32 id) external whenNotPaused {
        Record storage record = _itemOrLot(id, _bit(Status.Active));
        _setStatus(id, record, Status.Lost);
    }

    /// @inheritdoc IOriginRegistry
    function reportFound(bytes32 id) external whenNotPaused {
        Record storage record = _itemOrLot(id, _bit(Status.Lost));
        _setStatus(id, record, Status.Active);
    }

    /// @inheritdoc IOriginRegistry
    function destroy(bytes32 id) external whenNotPaused {
        Record storage record = _itemOrLot(id, _bit(Status.Active) | _bit(Status.Lost) | _bit(Status.Recalled));
        _setStatus(id, record, Status.Destroyed);
    }

    // ----------------------------------------------------------------- views

    /// @inheritdoc IOriginRegistry
    function claimDigest(bytes32 id, address to) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CLAIM_TYPEHASH, id, to)));
    }

    /// @inheritdoc IOriginRegistry
    function brandOf(bytes32 id) external view returns (address) {
        Record storage record = _records[id];
        return record.kind == Kind.Unit || record.status == Status.None ? address(0) : _memberByIndex[record.brand];
    }

    /// @inheritdoc IOriginRegistry
    function offerOf(bytes32 id) external view returns (Offer memory) {
        return _offers[id];
    }

    // ----------------------------------------------------------------- internals

    function _markSold(bytes32 id) private onlyRole(RETAILER_ROLE) whenNotPaused {
        Record storage record = _held(id, msg.sender, Status.Active);
        if (record.kind != Kind.Item) revert RegistryInvalidKind(id, record.kind);
        record.status = Status.Sold;
        emit ItemSold(id, msg.sender);
    }

    /// @dev The top-level item or lot `id` held by the caller, in one of the `allowed` statuses.
    function _itemOrLot(bytes32 id, uint256 allowed) private view returns (Record storage record) {
        record = _holding(id, msg.sender);
        if (record.kind == Kind.Unit) revert RegistryInvalidKind(id, record.kind);
        _requireStatus(id, record.status, allowed);
    }

    function _setStatus(bytes32 id, Record storage record, Status status) private {
        record.status = status;
        emit StatusChanged(id, status, msg.sender);
    }
}

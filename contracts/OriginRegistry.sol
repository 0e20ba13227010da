// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IOriginRegistry} from "./interfaces/IOriginRegistry.sol";
import {ItemIds} from "./libraries/ItemIds.sol";

/// @title OriginRegistry
/// @notice Registry of physical goods for an OriginTrace consortium: members and roles,
/// items, certifier attestations and two-step custody handoffs.
/// @dev See {IOriginRegistry} for the events, errors and the item state machine.
contract OriginRegistry is IOriginRegistry, AccessControl {
    bytes32 public constant BRAND_ROLE = keccak256("BRAND_ROLE");
    bytes32 public constant CERTIFIER_ROLE = keccak256("CERTIFIER_ROLE");
    bytes32 public constant CARRIER_ROLE = keccak256("CARRIER_ROLE");
    bytes32 public constant CUSTOMS_ROLE = keccak256("CUSTOMS_ROLE");
    bytes32 public constant RETAILER_ROLE = keccak256("RETAILER_ROLE");
    /// @notice Most items one `registerItems` call may register (keeps a batch well under the block gas limit).
    uint256 public constant MAX_BATCH = 500;

    struct Item {
        address custodian;
        Status status;
    }

    mapping(address account => string name) private _memberNames;
    mapping(bytes32 itemId => Item) private _items;
    mapping(bytes32 itemId => Offer) private _offers;

    /// @param admin Account that holds DEFAULT_ADMIN_ROLE: admits members and grants roles.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ----------------------------------------------------------------- members

    /// @inheritdoc IOriginRegistry
    function admitMember(address account, string calldata name) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0) || bytes(name).length == 0) revert RegistryInvalidMember(account);
        if (isMember(account)) revert RegistryAlreadyMember(account);
        _memberNames[account] = name;
        emit MemberAdmitted(account, name);
    }

    /// @inheritdoc IOriginRegistry
    function isMember(address account) public view returns (bool) {
        return bytes(_memberNames[account]).length != 0;
    }

    /// @inheritdoc IOriginRegistry
    function memberName(address account) external view returns (string memory) {
        return _memberNames[account];
    }

    /// @inheritdoc IOriginRegistry
    function itemId(string calldata gtin14, string calldata serial) external pure returns (bytes32) {
        return ItemIds.serialised(gtin14, serial);
    }

    // ----------------------------------------------------------------- items

    /// @inheritdoc IOriginRegistry
    function registerItem(bytes32 id, bytes32 metadataHash, string calldata metadataURI)
        external
        onlyRole(BRAND_ROLE)
    {
        if (_items[id].status != Status.None) revert RegistryItemExists(id);
        _items[id] = Item({custodian: msg.sender, status: Status.Active});
        emit ItemRegistered(id, msg.sender, metadataHash, metadataURI);
    }

    /// @inheritdoc IOriginRegistry
    function registerItems(bytes32[] calldata ids, bytes32[] calldata metadataHashes, string calldata metadataURI)
        external
        onlyRole(BRAND_ROLE)
    {
        if (ids.length != metadataHashes.length) revert RegistryBatchLengthMismatch(ids.length, metadataHashes.length);
        if (ids.length > MAX_BATCH) revert RegistryBatchTooLarge(ids.length, MAX_BATCH);
        for (uint256 i = 0; i < ids.length; ++i) {
            bytes32 id = ids[i];
            if (_items[id].status != Status.None) revert RegistryItemExists(id);
            _items[id] = Item({custodian: msg.sender, status: Status.Active});
            emit ItemRegistered(id, msg.sender, metadataHashes[i], metadataURI);
        }
    }

    /// @inheritdoc IOriginRegistry
    function attest(bytes32 id, bytes32 kind, bytes32 dataHash) external onlyRole(CERTIFIER_ROLE) {
        if (_items[id].status == Status.None) revert RegistryUnknownItem(id);
        emit ItemAttested(id, msg.sender, kind, dataHash);
    }

    /// @inheritdoc IOriginRegistry
    function offerCustody(bytes32 id, address to, uint64 expiresAt) external {
        Item storage item = _custodiedItem(id, Status.Active);
        if (to == msg.sender) revert RegistrySelfHandoff(id);
        if (!isMember(to)) revert RegistryNotMember(to);
        // Offers last hours or days; a validator's few seconds of timestamp drift cannot matter.
        // forge-lint: disable-next-line(block-timestamp)
        if (expiresAt <= block.timestamp) revert RegistryInvalidExpiry(expiresAt);
        item.status = Status.Offered;
        _offers[id] = Offer({to: to, expiresAt: expiresAt});
        emit CustodyOffered(id, msg.sender, to, expiresAt);
    }

    /// @inheritdoc IOriginRegistry
    function acceptCustody(bytes32 id) external {
        Item storage item = _items[id];
        Offer memory offer = _offers[id];
        if (item.status == Status.None) revert RegistryUnknownItem(id);
        if (item.status != Status.Offered) revert RegistryInvalidStatus(id, item.status);
        if (offer.to != msg.sender) revert RegistryNotOfferRecipient(id, msg.sender);
        // forge-lint: disable-next-line(block-timestamp)
        if (block.timestamp > offer.expiresAt) revert RegistryOfferExpired(id, offer.expiresAt);
        address from = item.custodian;
        item.custodian = msg.sender;
        item.status = Status.Active;
        delete _offers[id];
        emit CustodyTransferred(id, from, msg.sender);
    }

    /// @inheritdoc IOriginRegistry
    function cancelOffer(bytes32 id) external {
        Item storage item = _custodiedItem(id, Status.Offered);
        address to = _offers[id].to;
        item.status = Status.Active;
        delete _offers[id];
        emit CustodyOfferCancelled(id, msg.sender, to);
    }

    /// @inheritdoc IOriginRegistry
    function markSold(bytes32 id) external onlyRole(RETAILER_ROLE) {
        Item storage item = _custodiedItem(id, Status.Active);
        item.status = Status.Sold;
        emit ItemSold(id, msg.sender);
    }

    /// @inheritdoc IOriginRegistry
    function custodianOf(bytes32 id) external view returns (address) {
        return _items[id].custodian;
    }

    /// @inheritdoc IOriginRegistry
    function statusOf(bytes32 id) external view returns (Status) {
        return _items[id].status;
    }

    /// @inheritdoc IOriginRegistry
    function offerOf(bytes32 id) external view returns (Offer memory) {
        return _offers[id];
    }

    /// @dev The item `id`, after checking that the caller holds it and it is in `expected`.
    function _custodiedItem(bytes32 id, Status expected) private view returns (Item storage item) {
        item = _items[id];
        if (item.status == Status.None) revert RegistryUnknownItem(id);
        if (item.custodian != msg.sender) revert RegistryNotCustodian(id, msg.sender);
        if (item.status != expected) revert RegistryInvalidStatus(id, item.status);
    }
}

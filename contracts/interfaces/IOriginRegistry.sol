// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IOriginRegistry
/// @notice Public face of the OriginTrace registry: consortium members, items identified by
/// GS1 keys, certifier attestations and two-step custody handoffs.
/// @dev Every state change emits one of the events below, right after the change; the
/// gateway's indexer rebuilds all state it serves from these events alone.
interface IOriginRegistry {
    /// @notice Lifecycle of an item. `None` means "never registered".
    /// Transitions: None -> Active (register); Active -> Offered (offer);
    /// Offered -> Active (accept, cancel); Active -> Sold (markSold).
    enum Status {
        None,
        Active,
        Offered,
        Sold
    }

    /// @notice A pending custody offer.
    struct Offer {
        address to;
        uint64 expiresAt;
    }

    // ----------------------------------------------------------------- events

    /// @notice `account` was admitted to the consortium under the display `name`.
    event MemberAdmitted(address indexed account, string name);

    /// @notice `brand` registered `itemId`, taking custody of it.
    event ItemRegistered(bytes32 indexed itemId, address indexed brand, bytes32 metadataHash, string metadataURI);

    /// @notice `certifier` attested a fact of `kind` (e.g. "GRADING_REPORT") about `itemId`.
    event ItemAttested(bytes32 indexed itemId, address indexed certifier, bytes32 indexed kind, bytes32 dataHash);

    /// @notice The custodian `from` offered custody of `itemId` to `to` until `expiresAt`.
    event CustodyOffered(bytes32 indexed itemId, address indexed from, address indexed to, uint64 expiresAt);

    /// @notice The offer of `itemId` from `from` to `to` was withdrawn.
    event CustodyOfferCancelled(bytes32 indexed itemId, address indexed from, address indexed to);

    /// @notice Custody of `itemId` passed from `from` to `to`.
    event CustodyTransferred(bytes32 indexed itemId, address indexed from, address indexed to);

    /// @notice The retailer `retailer` sold `itemId` to a consumer.
    event ItemSold(bytes32 indexed itemId, address indexed retailer);

    // ----------------------------------------------------------------- errors

    /// @notice `account` is not an admitted consortium member.
    error RegistryNotMember(address account);

    /// @notice `account` is already a consortium member.
    error RegistryAlreadyMember(address account);

    /// @notice A member needs a non-empty display name; `account` may not be the zero address.
    error RegistryInvalidMember(address account);

    /// @notice `itemId` is already registered.
    error RegistryItemExists(bytes32 itemId);

    /// @notice `itemId` was never registered.
    error RegistryUnknownItem(bytes32 itemId);

    /// @notice `itemId` cannot take this action in its current `status`.
    error RegistryInvalidStatus(bytes32 itemId, Status status);

    /// @notice `account` is not the custodian of `itemId`.
    error RegistryNotCustodian(bytes32 itemId, address account);

    /// @notice `account` is not the receiver of the pending offer of `itemId`.
    error RegistryNotOfferRecipient(bytes32 itemId, address account);

    /// @notice The offer of `itemId` expired at `expiresAt`.
    error RegistryOfferExpired(bytes32 itemId, uint64 expiresAt);

    /// @notice An offer needs an expiry in the future; `expiresAt` is not.
    error RegistryInvalidExpiry(uint64 expiresAt);

    /// @notice Custody cannot be offered to the current custodian itself.
    error RegistrySelfHandoff(bytes32 itemId);

    /// @notice A batch registration passed `ids` and `metadataHashes` of different lengths.
    error RegistryBatchLengthMismatch(uint256 ids, uint256 metadataHashes);

    /// @notice A batch registration of `size` items exceeds the limit `max`.
    error RegistryBatchTooLarge(uint256 size, uint256 max);

    // ----------------------------------------------------------------- members

    /// @notice Admits `account` to the consortium with display name `name`.
    /// @dev Requirements: caller has DEFAULT_ADMIN_ROLE; `account` is not a member yet.
    /// Roles are granted separately with `grantRole`. Emits {MemberAdmitted}.
    function admitMember(address account, string calldata name) external;

    /// @notice Whether `account` is an admitted member.
    function isMember(address account) external view returns (bool);

    /// @notice Display name of the member `account` ("" when not a member).
    function memberName(address account) external view returns (string memory);

    // ----------------------------------------------------------------- items

    /// @notice Id of the serialised item GTIN `gtin14` (14 digits) + serial `serial` (see {ItemIds}).
    function itemId(string calldata gtin14, string calldata serial) external pure returns (bytes32);

    /// @notice Registers `itemId` (see {ItemIds}) with its metadata; the caller becomes custodian.
    /// @dev Requirements: caller has BRAND_ROLE; the item is new. Emits {ItemRegistered}.
    function registerItem(bytes32 itemId, bytes32 metadataHash, string calldata metadataURI) external;

    /// @notice Registers every `ids[i]` with `metadataHashes[i]` and the shared `metadataURI`;
    /// the caller becomes custodian of all of them.
    /// @dev Requirements: caller has BRAND_ROLE; both arrays have the same length, at most
    /// `MAX_BATCH`; every item is new (one existing id reverts the whole batch).
    /// Emits one {ItemRegistered} per item, in order.
    function registerItems(bytes32[] calldata ids, bytes32[] calldata metadataHashes, string calldata metadataURI)
        external;

    /// @notice Records a certifier's attestation of `kind` with evidence `dataHash`.
    /// @dev Requirements: caller has CERTIFIER_ROLE; the item exists. Emits {ItemAttested}.
    function attest(bytes32 itemId, bytes32 kind, bytes32 dataHash) external;

    /// @notice Offers custody of `itemId` to the member `to` until `expiresAt` (unix seconds).
    /// @dev Requirements: caller is custodian; item is Active; `to` is another member;
    /// `expiresAt` is in the future. Emits {CustodyOffered}.
    function offerCustody(bytes32 itemId, address to, uint64 expiresAt) external;

    /// @notice Accepts the pending offer of `itemId`; the caller becomes custodian.
    /// @dev Requirements: item exists and is Offered to the caller; the offer has not expired.
    /// Emits {CustodyTransferred}.
    function acceptCustody(bytes32 itemId) external;

    /// @notice Withdraws the pending offer of `itemId`.
    /// @dev Requirements: caller is custodian; item is Offered. Emits {CustodyOfferCancelled}.
    function cancelOffer(bytes32 itemId) external;

    /// @notice Marks `itemId` as sold to a consumer.
    /// @dev Requirements: caller has RETAILER_ROLE and is custodian; item is Active. Emits {ItemSold}.
    function markSold(bytes32 itemId) external;

    /// @notice Current custodian of `itemId` (zero address when unknown).
    function custodianOf(bytes32 itemId) external view returns (address);

    /// @notice Current status of `itemId`.
    function statusOf(bytes32 itemId) external view returns (Status);

    /// @notice The pending custody offer of `itemId` (zero when none).
    function offerOf(bytes32 itemId) external view returns (Offer memory);
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Status, Kind} from "../types/RecordTypes.sol";
import {IConsortium} from "./IConsortium.sol";
import {ILots} from "./ILots.sol";
import {IUnits} from "./IUnits.sol";
import {ISignedHandoffs} from "./ISignedHandoffs.sol";
import {IAttestations} from "./IAttestations.sol";

/// @title IOriginRegistry
/// @notice Public face of the OriginTrace registry: consortium governance ({IConsortium}),
/// serialised items and their status, two-step custody, recall and consumer claims (here),
/// Merkle-anchored lots ({ILots}), logistic units ({IUnits}), EIP-712 signed handoffs
/// ({ISignedHandoffs}) and certifier attestations ({IAttestations}).
/// @dev Items, lots and units are all "records" keyed by a bytes32 id (see {ItemIds}) with a
/// custodian and a {Status}; custody functions work on any top-level (not packed) record.
/// Every state change emits an event right after it; docs/events.md lists them all.
interface IOriginRegistry is IConsortium, ILots, IUnits, ISignedHandoffs, IAttestations {
    /// @notice A pending custody offer.
    struct Offer {
        address to;
        uint64 expiresAt;
    }

    // ----------------------------------------------------------------- events

    /// @notice `brand` registered `itemId`, taking custody of it.
    event ItemRegistered(bytes32 indexed itemId, address indexed brand, bytes32 metadataHash, string metadataURI);

    /// @notice `brand` registered the items `itemIds`, item i with `metadataHashes[i]`, all under
    /// `metadataURI`, taking custody of them: one event per {registerItems} batch.
    event ItemsRegistered(address indexed brand, bytes32[] itemIds, bytes32[] metadataHashes, string metadataURI);

    /// @notice The custodian `from` offered custody of `itemId` to `to` until `expiresAt`.
    event CustodyOffered(bytes32 indexed itemId, address indexed from, address indexed to, uint64 expiresAt);

    /// @notice The offer of `itemId` from `from` to `to` was withdrawn (also when a recall ends it).
    event CustodyOfferCancelled(bytes32 indexed itemId, address indexed from, address indexed to);

    /// @notice Custody of `itemId` passed from `from` to `to`.
    event CustodyTransferred(bytes32 indexed itemId, address indexed from, address indexed to);

    /// @notice The retailer `retailer` sold `itemId` to a consumer (status Sold).
    event ItemSold(bytes32 indexed itemId, address indexed retailer);

    /// @notice `itemId` can be claimed once with a signature by `claimKey`: the address of the
    /// one-time claim code (a private key) the retailer gave the buyer. See {claim}.
    event ClaimKeySet(bytes32 indexed itemId, address claimKey);

    /// @notice `id` moved to `status` by `by`: recall (brand), claim (claimant), lost,
    /// found or destroyed (custodian). Every status change not covered by another event.
    event StatusChanged(bytes32 indexed id, Status status, address indexed by);

    // ----------------------------------------------------------------- errors

    /// @notice `itemId` is already registered.
    error RegistryItemExists(bytes32 itemId);

    /// @notice `itemId` was never registered.
    error RegistryUnknownItem(bytes32 itemId);

    /// @notice `itemId` cannot take this action in its current `status`.
    error RegistryInvalidStatus(bytes32 itemId, Status status);

    /// @notice `id` is a `kind` record, which cannot take this action.
    error RegistryInvalidKind(bytes32 id, Kind kind);

    /// @notice `account` is not the custodian of `itemId`.
    error RegistryNotCustodian(bytes32 itemId, address account);

    /// @notice `account` is not the receiver of the pending offer of `itemId`.
    error RegistryNotOfferRecipient(bytes32 itemId, address account);

    /// @notice The offer of `itemId` expired at `expiresAt`.
    error RegistryOfferExpired(bytes32 itemId, uint64 expiresAt);

    /// @notice An offer needs an expiry in the future; `expiresAt` is not.
    error RegistryInvalidExpiry(uint64 expiresAt);

    /// @notice Custody cannot be handed to the current custodian itself.
    error RegistrySelfHandoff(bytes32 itemId);

    /// @notice `id` is packed in logistic unit `unitId`: unpack it first.
    error RegistryPacked(bytes32 id, bytes32 unitId);

    /// @notice `account` is not the brand that registered `id`.
    error RegistryNotBrand(bytes32 id, address account);

    /// @notice The signature is not the claim key's for `itemId` and that receiver (wrong code,
    /// another receiver, or no claim key was set).
    error RegistryInvalidClaim(bytes32 itemId);

    /// @notice `to` cannot receive `itemId` (the zero address), or a claim key is the zero address.
    error RegistryZeroAddress(bytes32 itemId);

    /// @notice Batch arrays must have equal lengths; they are `a` and `b`.
    error RegistryLengthMismatch(uint256 a, uint256 b);

    /// @notice A batch holds 1 to `max` entries; this one holds `size`.
    error RegistryInvalidBatchSize(uint256 size, uint256 max);

    // ----------------------------------------------------------------- items

    /// @notice Id of the serialised item GTIN `gtin14` (14 digits) + serial `serial` (see {ItemIds}).
    function itemId(string calldata gtin14, string calldata serial) external pure returns (bytes32);

    /// @notice Registers `itemId` (see {ItemIds}) with its metadata; the caller becomes custodian.
    /// @dev Requirements: caller has BRAND_ROLE; the item is new; not paused. Emits {ItemRegistered}.
    function registerItem(bytes32 itemId, bytes32 metadataHash, string calldata metadataURI) external;

    /// @notice Registers the items `ids`, item i with `metadataHashes[i]`, all under `metadataURI`.
    /// @dev Requirements: caller has BRAND_ROLE; equal lengths; 1 to {MAX_BATCH} items; every
    /// item new; not paused. Emits one {ItemsRegistered} for the whole batch (one log, not one
    /// {ItemRegistered} per item, keeps a batch under 25,000 gas per item).
    function registerItems(bytes32[] calldata ids, bytes32[] calldata metadataHashes, string calldata metadataURI)
        external;

    // ----------------------------------------------------------------- custody

    /// @notice Offers custody of record `itemId` to the member `to` until `expiresAt` (unix seconds).
    /// @dev Requirements: caller is custodian; record is Active and not packed; `to` is another
    /// member; `expiresAt` is in the future; not paused. Emits {CustodyOffered}.
    function offerCustody(bytes32 itemId, address to, uint64 expiresAt) external;

    /// @notice Accepts the pending offer of `itemId`; the caller becomes custodian (of all it holds, for a unit).
    /// @dev Requirements: record is Offered to the caller, who is still a member; the offer has
    /// not expired; not paused. Emits {CustodyTransferred}.
    function acceptCustody(bytes32 itemId) external;

    /// @notice Withdraws the pending offer of `itemId`.
    /// @dev Requirements: caller is custodian; record is Offered; not paused. Emits {CustodyOfferCancelled}.
    function cancelOffer(bytes32 itemId) external;

    // ----------------------------------------------------------------- status

    /// @notice Marks the item `itemId` as sold to a consumer, with no claim code.
    /// @dev Requirements: caller has RETAILER_ROLE and is custodian; item is Active and not
    /// packed; not paused. Emits {ItemSold}.
    function markSold(bytes32 itemId) external;

    /// @notice Marks `itemId` sold; the buyer can later {claim} it with the claim code whose
    /// address is `claimKey`.
    /// @dev As {markSold}. The claim code is a fresh secp256k1 private key handed to the buyer
    /// (under the seal, on the receipt); only its address goes on chain. `claimKey` is not zero.
    /// Use a fresh key for every item: a key given with several items claims them all.
    /// Emits {ItemSold}, {ClaimKeySet}.
    function markSold(bytes32 itemId, address claimKey) external;

    /// @notice Claims the sold item `itemId` for `to` with the claim code's `signature` of
    /// {claimDigest}(itemId, to).
    /// @dev The code itself never goes on chain and the signature names `to`, so someone watching
    /// pending transactions cannot take the claim for themselves; anyone may submit it (a
    /// relayer paying the gas). Requirements: item is Sold with a claim key; `signature` is
    /// that key's; `to` is not zero; not paused. The key is deleted: the first claim wins.
    /// Emits {StatusChanged} (Claimed, by `to`), `to` becoming the custodian.
    function claim(bytes32 itemId, address to, bytes calldata signature) external;

    /// @notice Recalls the item or lot `id`, also one a consumer has claimed (who stays its custodian).
    /// @dev Requirements: caller is the brand that registered it and still has BRAND_ROLE; status
    /// Active, Offered, Sold, Claimed or Lost (a pending offer is cancelled, an unused claim key
    /// deleted); not paused.
    /// Emits {CustodyOfferCancelled} when an offer was pending, then {StatusChanged} (Recalled).
    function recall(bytes32 id) external;

    /// @notice Reports the item or lot `id` lost or stolen.
    /// @dev Requirements: caller is custodian; Active and not packed; not paused. Emits {StatusChanged} (Lost).
    function reportLost(bytes32 id) external;

    /// @notice Reports the lost item or lot `id` found again.
    /// @dev Requirements: caller is custodian; Lost; not paused. Emits {StatusChanged} (Active).
    function reportFound(bytes32 id) external;

    /// @notice Records that the item or lot `id` was destroyed.
    /// @dev Requirements: caller is custodian; Active, Lost or Recalled and not packed; not
    /// paused. Emits {StatusChanged} (Destroyed).
    function destroy(bytes32 id) external;

    // ----------------------------------------------------------------- views

    /// @notice Maximum entries of one batch call.
    function MAX_BATCH() external view returns (uint256);

    /// @notice The EIP-712 digest of `Claim(bytes32 id,address to)` that a claim code signs
    /// to claim `itemId` for `to` (domain "OriginTrace", version "1", this chain and registry).
    function claimDigest(bytes32 itemId, address to) external view returns (bytes32);

    /// @notice Effective custodian of `itemId`: for a packed record, the outermost unit's custodian.
    function custodianOf(bytes32 itemId) external view returns (address);

    /// @notice Current status of `itemId`.
    function statusOf(bytes32 itemId) external view returns (Status);

    /// @notice Kind of the record `id` (meaningful only when its status is not None).
    function kindOf(bytes32 id) external view returns (Kind);

    /// @notice The brand that registered the item or lot `id` (zero for units and unknown ids).
    function brandOf(bytes32 id) external view returns (address);

    /// @notice The pending custody offer of `itemId` (zero when none).
    function offerOf(bytes32 itemId) external view returns (Offer memory);
}

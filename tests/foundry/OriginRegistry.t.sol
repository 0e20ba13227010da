// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {OriginRegistry} from "../../contracts/OriginRegistry.sol";
import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {TestBase} from "./utils/Test.sol";

/// @title RegistryFixture
/// @notice Shared setup: a registry run by `admin`, with one admitted member per role.
/// @dev `outsider` is neither a member nor a role holder. `admin` holds DEFAULT_ADMIN_ROLE but
/// is not an admitted member: membership and roles are independent in the contract.
abstract contract RegistryFixture is TestBase {
    OriginRegistry internal registry;

    address internal admin = vm.addr(1);
    address internal brand = vm.addr(2);
    address internal certifier = vm.addr(3);
    address internal carrier = vm.addr(4);
    address internal customs = vm.addr(5);
    address internal retailer = vm.addr(6);
    address internal outsider = vm.addr(7);

    /// @dev The first vector of tests/vectors/item_ids.json.
    string internal constant GTIN14 = "09506000134352";
    string internal constant SERIAL = "DIA-0001";
    bytes32 internal constant META_HASH = keccak256("diamond metadata v1");
    string internal constant META_URI = "ipfs://bafy-diamond-0001";
    bytes32 internal constant KIND = "GRADING_REPORT";
    bytes32 internal constant DATA_HASH = keccak256("grading report #42");

    /// @dev Default offer lifetime used by the helpers.
    uint64 internal constant TTL = 1 days;

    bytes32 internal item;

    function setUp() public virtual {
        vm.warp(1_700_000_000); // a realistic clock, so "in the past" expiries exist
        registry = new OriginRegistry(admin);
        item = registry.itemId(GTIN14, SERIAL);

        vm.startPrank(admin);
        _admit(brand, "Brand", registry.BRAND_ROLE());
        _admit(certifier, "Certifier", registry.CERTIFIER_ROLE());
        _admit(carrier, "Carrier", registry.CARRIER_ROLE());
        _admit(customs, "Customs", registry.CUSTOMS_ROLE());
        _admit(retailer, "Retailer", registry.RETAILER_ROLE());
        vm.stopPrank();

        vm.label(admin, "admin");
        vm.label(outsider, "outsider");
        vm.label(address(registry), "registry");
    }

    /// @dev Caller must already be pranking as `admin`.
    function _admit(address account, string memory name, bytes32 role) private {
        registry.admitMember(account, name);
        registry.grantRole(role, account);
        vm.label(account, name);
    }

    /// @dev `brand` registers the fixture item and becomes its custodian.
    function _register() internal {
        vm.prank(brand);
        registry.registerItem(item, META_HASH, META_URI);
    }

    /// @dev The current custodian offers the fixture item to `to` for `TTL`; returns the expiry.
    function _offer(address to) internal returns (uint64 expiresAt) {
        expiresAt = _expiry();
        vm.prank(registry.custodianOf(item));
        registry.offerCustody(item, to, expiresAt);
    }

    /// @dev Hands the fixture item from its custodian to `to` (offer + accept).
    function _handTo(address to) internal {
        _offer(to);
        vm.prank(to);
        registry.acceptCustody(item);
    }

    /// @dev Registers the item and walks it brand -> carrier -> customs -> retailer.
    function _toRetailer() internal {
        _register();
        _handTo(carrier);
        _handTo(customs);
        _handTo(retailer);
    }

    function _expiry() internal view returns (uint64) {
        return uint64(block.timestamp) + TTL;
    }

    function _err(bytes4 selector, bytes32 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, id);
    }

    function _errStatus(bytes32 id, IOriginRegistry.Status status) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IOriginRegistry.RegistryInvalidStatus.selector, id, status);
    }

    function _errRole(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    function _assertStatus(bytes32 id, IOriginRegistry.Status expected, string memory what) internal view {
        assertEq(uint256(registry.statusOf(id)), uint256(expected), what);
    }

    function _assertNoOffer(bytes32 id) internal view {
        IOriginRegistry.Offer memory offer = registry.offerOf(id);
        assertEq(offer.to, address(0), "offer.to cleared");
        assertEq(uint256(offer.expiresAt), 0, "offer.expiresAt cleared");
    }
}

/// @notice Consortium membership: admitMember, isMember, memberName, and the admin role.
contract OriginRegistryMembersTest is RegistryFixture {
    address internal newcomer = vm.addr(100);

    function test_constructor_grantsAdminRoleOnlyToAdmin() public view {
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        assertEq(registry.hasRole(adminRole, admin), true, "admin has DEFAULT_ADMIN_ROLE");
        assertEq(registry.hasRole(adminRole, brand), false, "brand lacks DEFAULT_ADMIN_ROLE");
        assertEq(registry.isMember(admin), false, "the admin is not automatically a member");
    }

    function test_admitMember_admitsAndEmits() public {
        vm.expectEmit(address(registry));
        emit IOriginRegistry.MemberAdmitted(newcomer, "Newcomer Ltd");
        vm.prank(admin);
        registry.admitMember(newcomer, "Newcomer Ltd");

        assertEq(registry.isMember(newcomer), true, "newcomer is a member");
        assertEq(registry.memberName(newcomer), "Newcomer Ltd", "newcomer name");
    }

    function test_admitMember_doesNotGrantRoles() public {
        vm.prank(admin);
        registry.admitMember(newcomer, "Newcomer Ltd");

        vm.expectRevert(_errRole(newcomer, registry.BRAND_ROLE()));
        vm.prank(newcomer);
        registry.registerItem(item, META_HASH, META_URI);
    }

    function test_admitMember_revertsForNonAdmin() public {
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(_errRole(outsider, adminRole));
        vm.prank(outsider);
        registry.admitMember(newcomer, "Newcomer Ltd");

        // Holding a business role does not make a member an admin.
        vm.expectRevert(_errRole(brand, adminRole));
        vm.prank(brand);
        registry.admitMember(newcomer, "Newcomer Ltd");
    }

    function test_admitMember_revertsForZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidMember.selector, address(0)));
        vm.prank(admin);
        registry.admitMember(address(0), "Nobody");
    }

    function test_admitMember_revertsForEmptyName() public {
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidMember.selector, newcomer));
        vm.prank(admin);
        registry.admitMember(newcomer, "");
    }

    function test_admitMember_revertsForExistingMember() public {
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryAlreadyMember.selector, brand));
        vm.prank(admin);
        registry.admitMember(brand, "Brand again");
        assertEq(registry.memberName(brand), "Brand", "name unchanged");
    }

    function test_isMember_trueOnlyForAdmittedAccounts() public view {
        assertEq(registry.isMember(brand), true, "brand");
        assertEq(registry.isMember(retailer), true, "retailer");
        assertEq(registry.isMember(outsider), false, "outsider");
        assertEq(registry.isMember(address(0)), false, "zero address");
    }

    function test_memberName_returnsNameOrEmpty() public view {
        assertEq(registry.memberName(certifier), "Certifier", "certifier");
        assertEq(registry.memberName(outsider), "", "outsider has no name");
    }

    function testFuzz_admitMember_anyAccountAndName(address account, string calldata name) public {
        vm.assume(account != address(0) && bytes(name).length != 0 && !registry.isMember(account));

        vm.expectEmit(address(registry));
        emit IOriginRegistry.MemberAdmitted(account, name);
        vm.prank(admin);
        registry.admitMember(account, name);

        assertEq(registry.isMember(account), true, "member");
        assertEq(registry.memberName(account), name, "name");
    }
}

/// @notice Items: itemId, registerItem, attest and the views for unknown items.
contract OriginRegistryItemsTest is RegistryFixture {
    function test_itemId_isHashOfElementString() public view {
        assertEq(item, keccak256("010950600013435221DIA-0001"), "keccak256 of the GS1 element string");
    }

    function test_registerItem_registersAndEmits() public {
        vm.expectEmit(address(registry));
        emit IOriginRegistry.ItemRegistered(item, brand, META_HASH, META_URI);
        _register();

        assertEq(registry.custodianOf(item), brand, "brand is custodian");
        _assertStatus(item, IOriginRegistry.Status.Active, "Active after register");
        _assertNoOffer(item);
    }

    function test_registerItem_revertsForNonBrand() public {
        bytes32 brandRole = registry.BRAND_ROLE();
        vm.expectRevert(_errRole(certifier, brandRole));
        vm.prank(certifier);
        registry.registerItem(item, META_HASH, META_URI);

        vm.expectRevert(_errRole(outsider, brandRole));
        vm.prank(outsider);
        registry.registerItem(item, META_HASH, META_URI);

        _assertStatus(item, IOriginRegistry.Status.None, "still unregistered");
    }

    function test_registerItem_revertsForExistingItem() public {
        _register();
        vm.expectRevert(_err(IOriginRegistry.RegistryItemExists.selector, item));
        vm.prank(brand);
        registry.registerItem(item, keccak256("other metadata"), "ipfs://other");
    }

    function test_registerItem_revertsForSoldItem() public {
        // A sold item keeps its id forever: it cannot be re-registered by anyone.
        _toRetailer();
        vm.prank(retailer);
        registry.markSold(item);

        vm.expectRevert(_err(IOriginRegistry.RegistryItemExists.selector, item));
        vm.prank(brand);
        registry.registerItem(item, META_HASH, META_URI);
    }

    function test_attest_emits() public {
        _register();
        vm.expectEmit(address(registry));
        emit IOriginRegistry.ItemAttested(item, certifier, KIND, DATA_HASH);
        vm.prank(certifier);
        registry.attest(item, KIND, DATA_HASH);

        // Attesting changes nothing but the event log.
        assertEq(registry.custodianOf(item), brand, "custodian unchanged");
        _assertStatus(item, IOriginRegistry.Status.Active, "status unchanged");
    }

    function test_attest_allowedWhileOffered() public {
        _register();
        _offer(carrier);
        vm.prank(certifier);
        registry.attest(item, KIND, DATA_HASH);
        _assertStatus(item, IOriginRegistry.Status.Offered, "still Offered");
    }

    function test_attest_revertsForNonCertifier() public {
        _register();
        vm.expectRevert(_errRole(brand, registry.CERTIFIER_ROLE()));
        vm.prank(brand);
        registry.attest(item, KIND, DATA_HASH);
    }

    function test_attest_revertsForUnknownItem() public {
        vm.expectRevert(_err(IOriginRegistry.RegistryUnknownItem.selector, item));
        vm.prank(certifier);
        registry.attest(item, KIND, DATA_HASH);
    }

    function test_custodianOf_zeroForUnknownItem() public view {
        assertEq(registry.custodianOf(item), address(0), "no custodian");
    }

    function test_statusOf_noneForUnknownItem() public view {
        _assertStatus(item, IOriginRegistry.Status.None, "None");
    }

    function test_offerOf_zeroForUnknownItem() public view {
        _assertNoOffer(item);
    }
}

/// @notice Two-step custody: offerCustody, acceptCustody, cancelOffer and markSold.
contract OriginRegistryCustodyTest is RegistryFixture {
    function setUp() public override {
        super.setUp();
        _register();
    }

    // ------------------------------------------------------------ offerCustody

    function test_offerCustody_offersAndEmits() public {
        uint64 expiresAt = _expiry();
        vm.expectEmit(address(registry));
        emit IOriginRegistry.CustodyOffered(item, brand, carrier, expiresAt);
        vm.prank(brand);
        registry.offerCustody(item, carrier, expiresAt);

        _assertStatus(item, IOriginRegistry.Status.Offered, "Offered");
        assertEq(registry.custodianOf(item), brand, "custody not moved by an offer");
        IOriginRegistry.Offer memory offer = registry.offerOf(item);
        assertEq(offer.to, carrier, "offer.to");
        assertEq(uint256(offer.expiresAt), uint256(expiresAt), "offer.expiresAt");
    }

    function test_offerCustody_allowsAnyMemberAsRecipient() public {
        // The contract requires membership, not a particular role, of the recipient.
        _offer(certifier);
        assertEq(registry.offerOf(item).to, certifier, "offer to a certifier");
    }

    function test_offerCustody_revertsForNonCustodian() public {
        uint64 expiresAt = _expiry();
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotCustodian.selector, item, carrier));
        vm.prank(carrier);
        registry.offerCustody(item, customs, expiresAt);
    }

    function test_offerCustody_revertsForUnknownItem() public {
        bytes32 unknown = registry.itemId(GTIN14, "NO-SUCH-SERIAL");
        uint64 expiresAt = _expiry();
        vm.expectRevert(_err(IOriginRegistry.RegistryUnknownItem.selector, unknown));
        vm.prank(brand);
        registry.offerCustody(unknown, carrier, expiresAt);
    }

    function test_offerCustody_revertsWhenAlreadyOffered() public {
        _offer(carrier);
        uint64 expiresAt = _expiry();
        vm.expectRevert(_errStatus(item, IOriginRegistry.Status.Offered));
        vm.prank(brand);
        registry.offerCustody(item, customs, expiresAt);
        assertEq(registry.offerOf(item).to, carrier, "first offer kept");
    }

    function test_offerCustody_revertsWhenSold() public {
        _handTo(retailer);
        vm.prank(retailer);
        registry.markSold(item);

        uint64 expiresAt = _expiry();
        vm.expectRevert(_errStatus(item, IOriginRegistry.Status.Sold));
        vm.prank(retailer);
        registry.offerCustody(item, carrier, expiresAt);
    }

    function test_offerCustody_revertsForSelfHandoff() public {
        uint64 expiresAt = _expiry();
        vm.expectRevert(_err(IOriginRegistry.RegistrySelfHandoff.selector, item));
        vm.prank(brand);
        registry.offerCustody(item, brand, expiresAt);
    }

    function test_offerCustody_revertsForNonMemberRecipient() public {
        uint64 expiresAt = _expiry();
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotMember.selector, outsider));
        vm.prank(brand);
        registry.offerCustody(item, outsider, expiresAt);

        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotMember.selector, address(0)));
        vm.prank(brand);
        registry.offerCustody(item, address(0), expiresAt);
    }

    function test_offerCustody_revertsForExpiryNotInFuture() public {
        uint64 nowTs = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidExpiry.selector, nowTs));
        vm.prank(brand);
        registry.offerCustody(item, carrier, nowTs);

        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidExpiry.selector, nowTs - 1));
        vm.prank(brand);
        registry.offerCustody(item, carrier, nowTs - 1);

        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidExpiry.selector, uint64(0)));
        vm.prank(brand);
        registry.offerCustody(item, carrier, 0);
    }

    // ------------------------------------------------------------ acceptCustody

    function test_acceptCustody_transfersAndEmits() public {
        _offer(carrier);
        vm.expectEmit(address(registry));
        emit IOriginRegistry.CustodyTransferred(item, brand, carrier);
        vm.prank(carrier);
        registry.acceptCustody(item);

        assertEq(registry.custodianOf(item), carrier, "carrier is custodian");
        _assertStatus(item, IOriginRegistry.Status.Active, "Active after accept");
        _assertNoOffer(item);
    }

    function test_acceptCustody_succeedsAtExpiry() public {
        // The offer is valid up to and including `expiresAt`.
        uint64 expiresAt = _offer(carrier);
        vm.warp(expiresAt);
        vm.prank(carrier);
        registry.acceptCustody(item);
        assertEq(registry.custodianOf(item), carrier, "accepted at the last second");
    }

    function test_acceptCustody_revertsForNonRecipient() public {
        _offer(carrier);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotOfferRecipient.selector, item, customs));
        vm.prank(customs);
        registry.acceptCustody(item);

        // Not even the custodian can accept its own offer.
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotOfferRecipient.selector, item, brand));
        vm.prank(brand);
        registry.acceptCustody(item);
    }

    function test_acceptCustody_revertsWhenExpired() public {
        uint64 expiresAt = _offer(carrier);
        vm.warp(uint256(expiresAt) + 1);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryOfferExpired.selector, item, expiresAt));
        vm.prank(carrier);
        registry.acceptCustody(item);
        assertEq(registry.custodianOf(item), brand, "custody not moved");
    }

    function test_acceptCustody_revertsWithoutOffer() public {
        vm.expectRevert(_errStatus(item, IOriginRegistry.Status.Active));
        vm.prank(carrier);
        registry.acceptCustody(item);
    }

    function test_acceptCustody_revertsForUnknownItem() public {
        bytes32 unknown = registry.itemId(GTIN14, "NO-SUCH-SERIAL");
        vm.expectRevert(_err(IOriginRegistry.RegistryUnknownItem.selector, unknown));
        vm.prank(carrier);
        registry.acceptCustody(unknown);
    }

    function test_acceptCustody_revertsAfterCancel() public {
        _offer(carrier);
        vm.prank(brand);
        registry.cancelOffer(item);

        vm.expectRevert(_errStatus(item, IOriginRegistry.Status.Active));
        vm.prank(carrier);
        registry.acceptCustody(item);
    }

    // ------------------------------------------------------------ cancelOffer

    function test_cancelOffer_cancelsAndEmits() public {
        _offer(carrier);
        vm.expectEmit(address(registry));
        emit IOriginRegistry.CustodyOfferCancelled(item, brand, carrier);
        vm.prank(brand);
        registry.cancelOffer(item);

        _assertStatus(item, IOriginRegistry.Status.Active, "Active after cancel");
        assertEq(registry.custodianOf(item), brand, "custodian unchanged");
        _assertNoOffer(item);

        // The item can be offered again, to someone else.
        _offer(customs);
        assertEq(registry.offerOf(item).to, customs, "new offer");
    }

    function test_cancelOffer_succeedsAfterExpiry() public {
        // An expired offer still blocks new offers until the custodian withdraws it.
        uint64 expiresAt = _offer(carrier);
        vm.warp(uint256(expiresAt) + 1);
        vm.prank(brand);
        registry.cancelOffer(item);
        _offer(customs);
        assertEq(registry.offerOf(item).to, customs, "re-offered after expiry");
    }

    function test_cancelOffer_revertsForNonCustodian() public {
        _offer(carrier);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotCustodian.selector, item, carrier));
        vm.prank(carrier);
        registry.cancelOffer(item);
    }

    function test_cancelOffer_revertsWhenNotOffered() public {
        vm.expectRevert(_errStatus(item, IOriginRegistry.Status.Active));
        vm.prank(brand);
        registry.cancelOffer(item);
    }

    function test_cancelOffer_revertsForUnknownItem() public {
        bytes32 unknown = registry.itemId(GTIN14, "NO-SUCH-SERIAL");
        vm.expectRevert(_err(IOriginRegistry.RegistryUnknownItem.selector, unknown));
        vm.prank(brand);
        registry.cancelOffer(unknown);
    }

    // ------------------------------------------------------------ markSold

    function test_markSold_marksAndEmits() public {
        _handTo(retailer);
        vm.expectEmit(address(registry));
        emit IOriginRegistry.ItemSold(item, retailer);
        vm.prank(retailer);
        registry.markSold(item);

        _assertStatus(item, IOriginRegistry.Status.Sold, "Sold");
        assertEq(registry.custodianOf(item), retailer, "retailer remains the last custodian");
    }

    function test_markSold_revertsForNonRetailer() public {
        // The brand is custodian but lacks RETAILER_ROLE.
        vm.expectRevert(_errRole(brand, registry.RETAILER_ROLE()));
        vm.prank(brand);
        registry.markSold(item);
    }

    function test_markSold_revertsWhenRetailerNotCustodian() public {
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotCustodian.selector, item, retailer));
        vm.prank(retailer);
        registry.markSold(item);
    }

    function test_markSold_revertsWhenOffered() public {
        _handTo(retailer);
        _offer(carrier);
        vm.expectRevert(_errStatus(item, IOriginRegistry.Status.Offered));
        vm.prank(retailer);
        registry.markSold(item);
    }

    function test_markSold_revertsWhenAlreadySold() public {
        _handTo(retailer);
        vm.prank(retailer);
        registry.markSold(item);

        vm.expectRevert(_errStatus(item, IOriginRegistry.Status.Sold));
        vm.prank(retailer);
        registry.markSold(item);
    }

    function test_markSold_revertsForUnknownItem() public {
        bytes32 unknown = registry.itemId(GTIN14, "NO-SUCH-SERIAL");
        vm.expectRevert(_err(IOriginRegistry.RegistryUnknownItem.selector, unknown));
        vm.prank(retailer);
        registry.markSold(unknown);
    }
}

/// @notice The end-to-end story the registry exists for.
contract OriginRegistryJourneyTest is RegistryFixture {
    function test_journey_brandToCarrierToCustomsToRetailerToSold() public {
        _register();
        vm.prank(certifier);
        registry.attest(item, KIND, DATA_HASH);

        address[3] memory legs = [carrier, customs, retailer];
        address from = brand;
        for (uint256 i = 0; i < legs.length; ++i) {
            uint64 expiresAt = _expiry();
            vm.expectEmit(address(registry));
            emit IOriginRegistry.CustodyOffered(item, from, legs[i], expiresAt);
            vm.prank(from);
            registry.offerCustody(item, legs[i], expiresAt);

            vm.warp(block.timestamp + 1 hours); // time passes in transit
            vm.expectEmit(address(registry));
            emit IOriginRegistry.CustodyTransferred(item, from, legs[i]);
            vm.prank(legs[i]);
            registry.acceptCustody(item);

            assertEq(registry.custodianOf(item), legs[i], "custodian after leg");
            _assertStatus(item, IOriginRegistry.Status.Active, "Active after leg");
            from = legs[i];
        }

        vm.prank(retailer);
        registry.markSold(item);
        _assertStatus(item, IOriginRegistry.Status.Sold, "Sold at the end");
        assertEq(registry.custodianOf(item), retailer, "retailer is last custodian");
        _assertNoOffer(item);

        // Sold is terminal.
        uint64 later = _expiry();
        vm.expectRevert(_errStatus(item, IOriginRegistry.Status.Sold));
        vm.prank(retailer);
        registry.offerCustody(item, carrier, later);
    }
}

/// @notice Properties checked over random inputs.
contract OriginRegistryFuzzTest is RegistryFixture {
    function setUp() public override {
        super.setUp();
        _register();
    }

    function testFuzz_acceptCustody_onlyRecipientCanAccept(address caller) public {
        vm.assume(caller != carrier);
        _offer(carrier);

        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotOfferRecipient.selector, item, caller));
        vm.prank(caller);
        registry.acceptCustody(item);

        assertEq(registry.custodianOf(item), brand, "custody not moved");
        _assertStatus(item, IOriginRegistry.Status.Offered, "offer still pending");
    }

    function testFuzz_offerCustody_expiryMustBeInFuture(uint64 nowTs, uint64 expiresAt) public {
        vm.warp(nowTs);
        if (expiresAt <= nowTs) {
            vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidExpiry.selector, expiresAt));
        }
        vm.prank(brand);
        registry.offerCustody(item, carrier, expiresAt);
    }

    function testFuzz_acceptCustody_validExactlyUntilExpiry(uint64 ttl, uint64 wait) public {
        ttl = uint64(1 + (ttl % 365 days));
        wait = uint64(wait % (2 * uint256(ttl) + 1));
        uint64 expiresAt = uint64(block.timestamp) + ttl;
        vm.prank(brand);
        registry.offerCustody(item, carrier, expiresAt);

        vm.warp(block.timestamp + wait);
        // Offers are valid through `expiresAt` inclusive, i.e. for waits of 0..ttl seconds.
        if (wait > ttl) {
            vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryOfferExpired.selector, item, expiresAt));
        }
        vm.prank(carrier);
        registry.acceptCustody(item);
    }

    /// @notice Random sequences of calls by random actors never move custody except through a
    /// successful acceptCustody, which hands it to exactly the caller.
    function testFuzz_custodianOf_changesOnlyOnAccept(uint256 seed) public {
        address[6] memory actors = [brand, certifier, carrier, customs, retailer, outsider];
        for (uint256 step = 0; step < 24; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            address caller = actors[r % 6];
            // While an offer is pending, act as its recipient half the time so accepts succeed often.
            if (((r >> 32) & 1) == 0 && registry.offerOf(item).to != address(0)) {
                caller = registry.offerOf(item).to;
            }
            address target = actors[(r >> 8) % 6];
            uint256 op = (r >> 16) % 6;
            vm.warp(block.timestamp + ((r >> 24) % 2 days));

            bytes memory data;
            if (op == 0) data = abi.encodeCall(registry.offerCustody, (item, target, _expiry()));
            else if (op == 1) data = abi.encodeCall(registry.acceptCustody, (item));
            else if (op == 2) data = abi.encodeCall(registry.cancelOffer, (item));
            else if (op == 3) data = abi.encodeCall(registry.markSold, (item));
            else if (op == 4) data = abi.encodeCall(registry.attest, (item, KIND, DATA_HASH));
            else data = abi.encodeCall(registry.registerItem, (item, META_HASH, META_URI));

            address before = registry.custodianOf(item);
            vm.prank(caller);
            (bool ok,) = address(registry).call(data);

            if (ok && op == 1) {
                assertEq(registry.custodianOf(item), caller, "accept hands custody to the caller");
                _assertNoOffer(item);
            } else {
                assertEq(registry.custodianOf(item), before, "custody moved without acceptCustody");
            }
        }
    }
}

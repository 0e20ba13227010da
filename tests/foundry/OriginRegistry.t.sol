// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAttestations} from "../../contracts/interfaces/IAttestations.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {Status} from "../../contracts/types/RecordTypes.sol";
import {RegistryFixture} from "./RegistryFixture.sol";

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
        emit IConsortium.MemberAdmitted(newcomer, "Newcomer Ltd");
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
        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryInvalidMember.selector, address(0)));
        vm.prank(admin);
        registry.admitMember(address(0), "Nobody");
    }

    function test_admitMember_revertsForEmptyName() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryInvalidMember.selector, newcomer));
        vm.prank(admin);
        registry.admitMember(newcomer, "");
    }

    function test_admitMember_revertsForExistingMember() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryAlreadyMember.selector, brand));
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
        emit IConsortium.MemberAdmitted(account, name);
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
        _assertStatus(item, Status.Active, "Active after register");
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

        _assertStatus(item, Status.None, "still unregistered");
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
        emit IAttestations.ItemAttested(item, certifier, KIND, DATA_HASH);
        vm.prank(certifier);
        registry.attest(item, KIND, DATA_HASH);

        // Attesting changes nothing but the event log.
        assertEq(registry.custodianOf(item), brand, "custodian unchanged");
        _assertStatus(item, Status.Active, "status unchanged");
    }

    function test_attest_allowedWhileOffered() public {
        _register();
        _offer(carrier);
        vm.prank(certifier);
        registry.attest(item, KIND, DATA_HASH);
        _assertStatus(item, Status.Offered, "still Offered");
    }

    function test_attest_revertsForNonCertifier() public {
        _register();
        vm.expectRevert(_errRole(brand, registry.CERTIFIER_ROLE()));
        vm.prank(brand);
        registry.attest(item, KIND, DATA_HASH);
    }

    function test_attest_customsClearsGoods() public {
        _register();
        bytes32 clearance = registry.CUSTOMS_CLEARANCE();
        vm.expectEmit(address(registry));
        emit IAttestations.ItemAttested(item, customs, clearance, DATA_HASH);
        vm.prank(customs);
        registry.attest(item, clearance, DATA_HASH);
        bytes32 attestationId = keccak256(abi.encode(item, customs, clearance, DATA_HASH));
        (address certifier, bool revoked) = registry.attestationOf(attestationId);
        assertEq(certifier, customs, "recorded as customs'");
        assertEq(revoked, false, "in force");
        vm.prank(customs);
        registry.revokeAttestation(attestationId); // and withdrawn by customs like any attestation
    }

    function test_attest_customsAttestsNothingButClearance() public {
        _register();
        vm.expectRevert(_errRole(customs, registry.CERTIFIER_ROLE()));
        vm.prank(customs);
        registry.attest(item, KIND, DATA_HASH);
        // A member without CUSTOMS_ROLE cannot clear goods.
        bytes32 clearance = registry.CUSTOMS_CLEARANCE();
        vm.expectRevert(_errRole(carrier, registry.CERTIFIER_ROLE()));
        vm.prank(carrier);
        registry.attest(item, clearance, DATA_HASH);
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
        _assertStatus(item, Status.None, "None");
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

        _assertStatus(item, Status.Offered, "Offered");
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
        vm.expectRevert(_errStatus(item, Status.Offered));
        vm.prank(brand);
        registry.offerCustody(item, customs, expiresAt);
        assertEq(registry.offerOf(item).to, carrier, "first offer kept");
    }

    function test_offerCustody_revertsWhenSold() public {
        _handTo(retailer);
        vm.prank(retailer);
        registry.markSold(item);

        uint64 expiresAt = _expiry();
        vm.expectRevert(_errStatus(item, Status.Sold));
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
        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryNotMember.selector, outsider));
        vm.prank(brand);
        registry.offerCustody(item, outsider, expiresAt);

        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryNotMember.selector, address(0)));
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
        _assertStatus(item, Status.Active, "Active after accept");
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

    function test_acceptCustody_revertsForAMemberRemovedSinceTheOffer() public {
        _offer(carrier);
        vm.prank(admin);
        registry.removeMember(carrier);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryNotMember.selector, carrier));
        vm.prank(carrier);
        registry.acceptCustody(item);
        assertEq(registry.custodianOf(item), brand, "custody not moved");
    }

    function test_acceptCustody_revertsWithoutOffer() public {
        vm.expectRevert(_errStatus(item, Status.Active));
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

        vm.expectRevert(_errStatus(item, Status.Active));
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

        _assertStatus(item, Status.Active, "Active after cancel");
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
        vm.expectRevert(_errStatus(item, Status.Active));
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

        _assertStatus(item, Status.Sold, "Sold");
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
        vm.expectRevert(_errStatus(item, Status.Offered));
        vm.prank(retailer);
        registry.markSold(item);
    }

    function test_markSold_revertsWhenAlreadySold() public {
        _handTo(retailer);
        vm.prank(retailer);
        registry.markSold(item);

        vm.expectRevert(_errStatus(item, Status.Sold));
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
            _assertStatus(item, Status.Active, "Active after leg");
            from = legs[i];
        }

        vm.prank(retailer);
        registry.markSold(item);
        _assertStatus(item, Status.Sold, "Sold at the end");
        assertEq(registry.custodianOf(item), retailer, "retailer is last custodian");
        _assertNoOffer(item);

        // Sold is terminal.
        uint64 later = _expiry();
        vm.expectRevert(_errStatus(item, Status.Sold));
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
        _assertStatus(item, Status.Offered, "offer still pending");
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
            else if (op == 3) data = abi.encodeWithSignature("markSold(bytes32)", item);
            else if (op == 4) data = abi.encodeWithSignature("attest(bytes32,bytes32,bytes32)", item, KIND, DATA_HASH);
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

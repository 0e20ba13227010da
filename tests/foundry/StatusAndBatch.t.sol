// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IAttestations} from "../../contracts/interfaces/IAttestations.sol";
import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {Status, Kind} from "../../contracts/types/RecordTypes.sol";
import {RegistryFixture} from "./RegistryFixture.sol";

/// @notice Batch registration, recall, claim, lost/found/destroy, and attestation revocation.
contract StatusAndBatchTest is RegistryFixture {
    /// @dev The claim code printed inside the box: a private key; the registry stores its address.
    uint256 internal constant CODE = uint256(keccak256("claim code printed inside the box"));
    uint256 internal constant SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function _batch(uint256 n) internal pure returns (bytes32[] memory ids, bytes32[] memory hashes) {
        ids = new bytes32[](n);
        hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = keccak256(abi.encode("batch item", i));
            hashes[i] = keccak256(abi.encode("batch metadata", i));
        }
    }

    function test_registerItems_registersEachAndEmitsOneBatchEvent() public {
        (bytes32[] memory ids, bytes32[] memory hashes) = _batch(3);
        vm.expectEmit(address(registry));
        emit IOriginRegistry.ItemsRegistered(brand, ids, hashes, META_URI);
        vm.recordLogs(); // after the expected event, which the test itself emits
        vm.prank(brand);
        registry.registerItems(ids, hashes, META_URI);
        assertEq(vm.getRecordedLogs().length, 1, "one log for the whole batch");
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(registry.custodianOf(ids[i]), brand, "custodian");
            assertEq(registry.brandOf(ids[i]), brand, "brand");
            assertEq(uint256(registry.kindOf(ids[i])), uint256(Kind.Item), "kind");
            _assertStatus(ids[i], Status.Active, "Active");
        }
    }

    function test_registerItems_revertsForMismatchCapDuplicateOrRole() public {
        (bytes32[] memory ids, bytes32[] memory hashes) = _batch(3);
        vm.startPrank(brand);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryLengthMismatch.selector, 3, 2));
        registry.registerItems(ids, new bytes32[](2), META_URI);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidBatchSize.selector, 501, 500));
        registry.registerItems(new bytes32[](501), new bytes32[](501), META_URI);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidBatchSize.selector, 0, 500));
        registry.registerItems(new bytes32[](0), new bytes32[](0), META_URI);
        ids[2] = ids[0];
        vm.expectRevert(_err(IOriginRegistry.RegistryItemExists.selector, ids[0]));
        registry.registerItems(ids, hashes, META_URI);
        vm.stopPrank();
        _assertStatus(ids[1], Status.None, "whole batch reverted");
        vm.expectRevert(_errRole(carrier, registry.BRAND_ROLE()));
        vm.prank(carrier);
        registry.registerItems(ids, hashes, META_URI);
    }

    /// @dev The claim code's signature claiming `item` for `to` (a call: make it before any expectRevert or prank).
    function _claimSignature(uint256 code, address to) internal view returns (bytes memory) {
        return _sign(code, registry.claimDigest(item, to));
    }

    function _sellWithCode() internal {
        _toRetailer();
        vm.expectEmit(address(registry));
        emit IOriginRegistry.ClaimKeySet(item, vm.addr(CODE));
        vm.prank(retailer);
        registry.markSold(item, vm.addr(CODE));
    }

    function test_markSoldWithCode_thenFirstClaimWins() public {
        _sellWithCode();
        bytes memory wrongCode = _claimSignature(CODE + 1, outsider);
        bytes memory shoppers = _claimSignature(CODE, outsider);
        bytes memory carriers = _claimSignature(CODE, carrier);
        vm.expectRevert(_err(IOriginRegistry.RegistryInvalidClaim.selector, item));
        vm.prank(outsider);
        registry.claim(item, outsider, wrongCode);

        vm.expectEmit(address(registry));
        emit IOriginRegistry.StatusChanged(item, Status.Claimed, outsider);
        vm.prank(outsider);
        registry.claim(item, outsider, shoppers);
        assertEq(registry.custodianOf(item), outsider, "the shopper holds it");
        vm.expectRevert(_errStatus(item, Status.Claimed));
        vm.prank(carrier);
        registry.claim(item, carrier, carriers);
    }

    /// @dev A watcher of pending transactions copies the shopper's signature: it names the
    /// shopper, so it cannot claim for the watcher; submitted as is, it claims for the shopper.
    function test_claim_cannotBeFrontRunForAnotherReceiver() public {
        _sellWithCode();
        bytes memory shoppers = _claimSignature(CODE, outsider);
        vm.expectRevert(_err(IOriginRegistry.RegistryInvalidClaim.selector, item));
        vm.prank(carrier);
        registry.claim(item, carrier, shoppers);

        vm.prank(carrier); // a relayer (or the watcher) paying the gas
        registry.claim(item, outsider, shoppers);
        assertEq(registry.custodianOf(item), outsider, "claimed for the shopper, whoever sent it");
        _assertStatus(item, Status.Claimed, "Claimed");
    }

    function test_claim_revertsWithoutCodeBeforeSaleOrForNobody() public {
        _toRetailer();
        bytes memory signature = _claimSignature(CODE, outsider);
        vm.expectRevert(_errStatus(item, Status.Active));
        registry.claim(item, outsider, signature);
        vm.expectRevert(_err(IOriginRegistry.RegistryZeroAddress.selector, item));
        vm.prank(retailer);
        registry.markSold(item, address(0));
        vm.prank(retailer);
        registry.markSold(item);
        vm.expectRevert(_err(IOriginRegistry.RegistryInvalidClaim.selector, item));
        registry.claim(item, outsider, signature);
        vm.expectRevert(_err(IOriginRegistry.RegistryInvalidClaim.selector, item));
        registry.claim(item, outsider, hex"00");
    }

    /// @dev A safety recall reaches items consumers have claimed; they stay their custodians.
    function test_recall_reachesClaimedItems() public {
        _sellWithCode();
        bytes memory signature = _claimSignature(CODE, outsider);
        vm.prank(outsider);
        registry.claim(item, outsider, signature);
        vm.expectEmit(address(registry));
        emit IOriginRegistry.StatusChanged(item, Status.Recalled, brand);
        vm.prank(brand);
        registry.recall(item);
        _assertStatus(item, Status.Recalled, "a claimed item is recalled");
        assertEq(registry.custodianOf(item), outsider, "the owner keeps it");
    }

    function test_claim_toTheZeroAddressReverts() public {
        _sellWithCode();
        bytes memory signature = _claimSignature(CODE, address(0));
        vm.expectRevert(_err(IOriginRegistry.RegistryZeroAddress.selector, item));
        registry.claim(item, address(0), signature);
    }

    function test_recall_byBrandFromAnyLiveStatus() public {
        _register();
        _offer(carrier);
        vm.expectEmit(address(registry));
        emit IOriginRegistry.CustodyOfferCancelled(item, brand, carrier);
        vm.expectEmit(address(registry));
        emit IOriginRegistry.StatusChanged(item, Status.Recalled, brand);
        vm.prank(brand);
        registry.recall(item);
        _assertNoOffer(item);
        vm.expectRevert(_errStatus(item, Status.Recalled));
        vm.prank(brand);
        registry.recall(item);
        vm.expectRevert(_errStatus(item, Status.Recalled));
        vm.prank(brand);
        registry.offerCustody(item, carrier, _expiry());
        vm.prank(brand);
        registry.destroy(item);
        _assertStatus(item, Status.Destroyed, "destroyed after recall");
    }

    function test_recall_revertsForOtherBrandOrUnit() public {
        _register();
        address otherBrand = vm.addr(50);
        vm.startPrank(admin);
        registry.admitMember(otherBrand, "Other brand");
        registry.grantRole(registry.BRAND_ROLE(), otherBrand);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotBrand.selector, item, otherBrand));
        vm.prank(otherBrand);
        registry.recall(item);
        vm.prank(brand);
        bytes32 unit = registry.createUnit(SSCC);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidKind.selector, unit, Kind.Unit));
        vm.prank(brand);
        registry.recall(unit);
        vm.expectRevert(_err(IOriginRegistry.RegistryUnknownItem.selector, keccak256("none")));
        vm.prank(brand);
        registry.recall(keccak256("none"));
    }

    function test_lostFoundDestroyed_transitions() public {
        _register();
        vm.startPrank(brand);
        registry.reportLost(item);
        _assertStatus(item, Status.Lost, "lost");
        vm.expectRevert(_errStatus(item, Status.Lost));
        registry.offerCustody(item, carrier, _expiry());
        registry.reportFound(item);
        _assertStatus(item, Status.Active, "found");
        vm.expectRevert(_errStatus(item, Status.Active));
        registry.reportFound(item);
        registry.destroy(item);
        vm.expectRevert(_errStatus(item, Status.Destroyed));
        registry.reportLost(item);
        vm.expectRevert(_errStatus(item, Status.Destroyed));
        registry.recall(item);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotCustodian.selector, item, carrier));
        vm.prank(carrier);
        registry.destroy(item);
    }

    function test_markSold_revertsForLotsAndUnits() public {
        bytes32 lot = keccak256("lot");
        vm.prank(brand);
        registry.anchorLot(lot, keccak256("root"), 10, META_HASH, META_URI);
        vm.prank(brand);
        registry.offerCustody(lot, retailer, _expiry());
        vm.prank(retailer);
        registry.acceptCustody(lot);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidKind.selector, lot, Kind.Lot));
        vm.prank(retailer);
        registry.markSold(lot);
    }

    function test_attestWithUri_thenRevoke() public {
        _register();
        bytes32 attestationId = keccak256(abi.encode(item, certifier, KIND, DATA_HASH));
        vm.expectEmit(address(registry));
        emit IAttestations.ItemAttested(item, certifier, KIND, DATA_HASH);
        vm.expectEmit(address(registry));
        emit IAttestations.AttestationRecorded(attestationId, item, certifier, KIND, DATA_HASH, "ipfs://report");
        vm.prank(certifier);
        registry.attest(item, KIND, DATA_HASH, "ipfs://report");
        (address who, bool revoked) = registry.attestationOf(attestationId);
        assertEq(who, certifier, "certifier");
        assertEq(revoked, false, "live");

        vm.expectRevert(abi.encodeWithSelector(IAttestations.AttestationExists.selector, attestationId));
        vm.prank(certifier);
        registry.attest(item, KIND, DATA_HASH);
        vm.expectRevert(abi.encodeWithSelector(IAttestations.AttestationNotRevocable.selector, attestationId, brand));
        vm.prank(brand);
        registry.revokeAttestation(attestationId);

        vm.expectEmit(address(registry));
        emit IAttestations.AttestationRevoked(attestationId, item, certifier);
        vm.prank(certifier);
        registry.revokeAttestation(attestationId);
        (, revoked) = registry.attestationOf(attestationId);
        assertEq(revoked, true, "revoked");
        vm.expectRevert(
            abi.encodeWithSelector(IAttestations.AttestationNotRevocable.selector, attestationId, certifier)
        );
        vm.prank(certifier);
        registry.revokeAttestation(attestationId);
    }

    function test_attest_revertsForUnits() public {
        vm.prank(brand);
        bytes32 unit = registry.createUnit(SSCC);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidKind.selector, unit, Kind.Unit));
        vm.prank(certifier);
        registry.attest(unit, KIND, DATA_HASH);
    }

    function test_pause_blocksEveryWrite() public {
        _register();
        vm.prank(admin);
        registry.pause();
        bytes[] memory calls = new bytes[](8);
        calls[0] = abi.encodeCall(registry.offerCustody, (item, carrier, _expiry()));
        calls[1] = abi.encodeCall(registry.anchorLot, (item, item, 1, META_HASH, META_URI));
        calls[2] = abi.encodeCall(registry.createUnit, (SSCC));
        calls[3] = abi.encodeCall(registry.recall, (item));
        calls[4] = abi.encodeCall(registry.reportLost, (item));
        calls[5] = abi.encodeWithSignature("attest(bytes32,bytes32,bytes32)", item, KIND, DATA_HASH);
        calls[6] = abi.encodeCall(registry.destroy, (item));
        calls[7] = abi.encodeCall(registry.registerItems, (new bytes32[](1), new bytes32[](1), META_URI));
        address[8] memory callers = [brand, brand, brand, brand, brand, certifier, brand, brand];
        for (uint256 i = 0; i < calls.length; ++i) {
            vm.prank(callers[i]);
            (bool ok, bytes memory reason) = address(registry).call(calls[i]);
            assertEq(ok, false, "paused write reverted");
            assertEq(bytes4(reason), Pausable.EnforcedPause.selector, "with EnforcedPause");
        }
    }

    function testFuzz_registerItems_anyBatchSize(uint16 n) public {
        n = uint16(1 + (n % 120));
        (bytes32[] memory ids, bytes32[] memory hashes) = _batch(n);
        vm.prank(brand);
        registry.registerItems(ids, hashes, META_URI);
        assertEq(registry.custodianOf(ids[n - 1]), brand, "last item registered");
    }

    function testFuzz_claim_onlyTheRightCode(uint256 guess) public {
        guess = guess % (SECP256K1_ORDER - 1) + 1;
        vm.assume(guess != CODE);
        _sellWithCode();
        bytes memory signature = _claimSignature(guess, outsider);
        vm.expectRevert(_err(IOriginRegistry.RegistryInvalidClaim.selector, item));
        registry.claim(item, outsider, signature);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {ILots} from "../../contracts/interfaces/ILots.sol";
import {LotLeaves} from "../../contracts/libraries/LotLeaves.sol";
import {Status, Kind} from "../../contracts/types/RecordTypes.sol";
import {RegistryFixture} from "./RegistryFixture.sol";

/// @notice Lots: anchorLot, anchorLots, splitLot, verifyLotItem, lotOf, and the shared Merkle vectors.
contract LotsTest is RegistryFixture {
    string internal constant LOT_NUMBER = "24-0042";
    string internal constant SUB_NUMBER = "24-0042-A";
    /// @dev GS1 General Specifications, figure 7.11-1 (as app/gs1/keys.py has it).
    string internal constant CSET82 =
        "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    /// @dev Their ids: keccak256 of the element strings "01" ++ GTIN14 ++ "10" ++ lot (see ItemIds).
    bytes32 internal constant LOT = keccak256("01095060001343521024-0042");
    bytes32 internal constant SUB = keccak256("01095060001343521024-0042-A");
    bytes32 internal constant ROOT = keccak256("root");
    bytes32 internal constant SUB_ROOT = keccak256("sub root");

    function _anchor(bytes32 root, uint64 count) internal {
        vm.prank(brand);
        registry.anchorLot(LOT, root, count, META_HASH, META_URI);
    }

    function test_anchorLot_anchorsAndEmits() public {
        vm.expectEmit(address(registry));
        emit ILots.LotAnchored(LOT, brand, bytes32(0), ROOT, 1_000_000, META_HASH, META_URI);
        _anchor(ROOT, 1_000_000);
        (bytes32 root, uint64 count, bytes32 parent) = registry.lotOf(LOT);
        assertEq(root, ROOT, "root");
        assertEq(uint256(count), 1_000_000, "count");
        assertEq(parent, bytes32(0), "no parent");
        assertEq(registry.custodianOf(LOT), brand, "brand holds the lot");
        assertEq(registry.brandOf(LOT), brand, "brandOf");
        assertEq(uint256(registry.kindOf(LOT)), uint256(Kind.Lot), "kind");
        _assertStatus(LOT, Status.Active, "Active");
    }

    function test_anchorLot_revertsForNonBrand() public {
        vm.expectRevert(_errRole(carrier, registry.BRAND_ROLE()));
        vm.prank(carrier);
        registry.anchorLot(LOT, ROOT, 10, META_HASH, META_URI);
    }

    function test_anchorLot_revertsForZeroRootOrCount() public {
        vm.startPrank(brand);
        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalid.selector, LOT, bytes32(0), uint64(10)));
        registry.anchorLot(LOT, bytes32(0), 10, META_HASH, META_URI);
        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalid.selector, LOT, ROOT, uint64(0)));
        registry.anchorLot(LOT, ROOT, 0, META_HASH, META_URI);
        vm.stopPrank();
    }

    function test_anchorLot_revertsForExistingId() public {
        _anchor(ROOT, 10);
        vm.expectRevert(_err(IOriginRegistry.RegistryItemExists.selector, LOT));
        _anchor(ROOT, 10);
    }

    function test_splitLot_anchorsLinkedSubLot() public {
        _anchor(ROOT, 100);
        _handLot(LOT, carrier);
        vm.expectEmit(address(registry));
        emit ILots.LotAnchored(SUB, carrier, LOT, SUB_ROOT, 30, META_HASH, META_URI);
        vm.expectEmit(address(registry));
        emit ILots.LotSplit(LOT, SUB, 70);
        vm.prank(carrier);
        assertEq(registry.splitLot(GTIN14, LOT_NUMBER, SUB_NUMBER, SUB_ROOT, 30, META_HASH, META_URI), SUB, "sub id");

        (, uint64 parentCount,) = registry.lotOf(LOT);
        (bytes32 root, uint64 count, bytes32 parent) = registry.lotOf(SUB);
        assertEq(uint256(parentCount), 70, "parent keeps the rest");
        assertEq(root, SUB_ROOT, "sub root");
        assertEq(uint256(count), 30, "sub count");
        assertEq(parent, LOT, "linked to parent");
        assertEq(registry.custodianOf(SUB), carrier, "splitter holds the sub-lot");
        assertEq(registry.brandOf(SUB), brand, "sub-lot keeps the brand");
    }

    function test_splitLot_revertsForNonCustodianTooManyOrNonLot() public {
        _anchor(ROOT, 100);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotCustodian.selector, LOT, carrier));
        vm.prank(carrier);
        registry.splitLot(GTIN14, LOT_NUMBER, SUB_NUMBER, SUB_ROOT, 30, META_HASH, META_URI);

        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalid.selector, SUB, SUB_ROOT, uint64(100)));
        vm.prank(brand);
        registry.splitLot(GTIN14, LOT_NUMBER, SUB_NUMBER, SUB_ROOT, 100, META_HASH, META_URI);

        // Only a brand's bare-id registration can put another kind under a lot's id.
        bytes32 odd = keccak256("01095060001343521024-ODD");
        bytes32[] memory ids = new bytes32[](1);
        ids[0] = odd;
        vm.startPrank(brand);
        registry.registerItems(ids, ids, META_URI);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidKind.selector, odd, Kind.Item));
        registry.splitLot(GTIN14, "24-ODD", "24-ODD-A", SUB_ROOT, 1, META_HASH, META_URI);
        vm.stopPrank();
    }

    function test_splitLot_revertsForAnythingButAGtinAndASubLotNumber() public {
        _anchor(ROOT, 100);
        string[7] memory gtins =
            ["09506000134353", "9506000134352", "0950600013435X", GTIN14, GTIN14, GTIN14, GTIN14];
        string[7] memory subs = [
            SUB_NUMBER,
            SUB_NUMBER,
            SUB_NUMBER,
            "24-0042-ABCDEFGHIJKLM", // 21 bytes
            "24-0043", // the brand's next lot, not one under 24-0042
            LOT_NUMBER,
            ""
        ];
        for (uint256 i = 0; i < gtins.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalidKey.selector, gtins[i], subs[i]));
            vm.prank(brand);
            registry.splitLot(gtins[i], LOT_NUMBER, subs[i], SUB_ROOT, 1, META_HASH, META_URI);
        }
        vm.prank(brand);
        registry.splitLot(GTIN14, LOT_NUMBER, "24-0042-ABCDEFGHIJKL", SUB_ROOT, 1, META_HASH, META_URI);
    }

    /// @dev A sub-lot number is part of the Digital Link printed on its labels: outside GS1
    /// CSET 82 (a space, "#", a non-ASCII byte) no scanner or resolver would take it.
    function testFuzz_splitLot_acceptsOnlyCset82Characters(bytes1 c) public {
        _anchor(ROOT, 100);
        string memory sub = string(abi.encodePacked(LOT_NUMBER, "-", c));
        if (!_inCset82(c)) {
            vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalidKey.selector, GTIN14, sub));
        }
        vm.prank(brand);
        registry.splitLot(GTIN14, LOT_NUMBER, sub, SUB_ROOT, 1, META_HASH, META_URI);
    }

    function test_splitLot_takesEveryCset82Character() public {
        _anchor(ROOT, 1000);
        bytes memory all = bytes(CSET82);
        for (uint256 i = 0; i < all.length; ++i) {
            vm.prank(brand);
            registry.splitLot(
                GTIN14, LOT_NUMBER, string(abi.encodePacked(LOT_NUMBER, all[i])), SUB_ROOT, 1, META_HASH, META_URI
            );
        }
        string[3] memory outside = ["24-0042 A", "24-0042#", unicode"24-0042é"];
        for (uint256 i = 0; i < outside.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalidKey.selector, GTIN14, outside[i]));
            vm.prank(brand);
            registry.splitLot(GTIN14, LOT_NUMBER, outside[i], SUB_ROOT, 1, META_HASH, META_URI);
        }
    }

    /// @dev The reference the registry's bitmap is checked against: a search of the character list.
    function _inCset82(bytes1 c) private pure returns (bool) {
        bytes memory all = bytes(CSET82);
        for (uint256 i = 0; i < all.length; ++i) {
            if (all[i] == c) return true;
        }
        return false;
    }

    /// @dev The squatting the derived ids stop: a lot's holder used to split off a "sub-lot"
    /// under any id, e.g. the brand's next lot, which reverted the brand's whole batch.
    function test_splitLot_cannotTakeTheBrandsNextLot() public {
        _anchor(ROOT, 100);
        _handLot(LOT, carrier);
        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalidKey.selector, GTIN14, "24-0043"));
        vm.prank(carrier);
        registry.splitLot(GTIN14, LOT_NUMBER, "24-0043", SUB_ROOT, 1, META_HASH, META_URI);
        vm.prank(brand);
        registry.anchorLot(keccak256("01095060001343521024-0043"), ROOT, 10, META_HASH, META_URI);
        vm.prank(carrier);
        registry.splitLot(GTIN14, LOT_NUMBER, SUB_NUMBER, SUB_ROOT, 1, META_HASH, META_URI);
        assertEq(registry.custodianOf(SUB), carrier, "a number under the held lot is the holder's to take");
    }

    function test_splitLot_revertsWhenParentNotActive() public {
        _anchor(ROOT, 100);
        vm.prank(brand);
        registry.recall(LOT);
        vm.expectRevert(_errStatus(LOT, Status.Recalled));
        vm.prank(brand);
        registry.splitLot(GTIN14, LOT_NUMBER, SUB_NUMBER, SUB_ROOT, 1, META_HASH, META_URI);
    }

    /// @dev tests/vectors/merkle.json: leaves match {LotLeaves}, proofs verify against roots with
    /// OpenZeppelin's MerkleProof and through an anchored lot; a wrong metadata hash never does.
    function test_merkleVectors_verifyOnChain() public {
        string memory json = vm.readFile("tests/vectors/merkle.json");
        uint256 checked;
        for (uint256 t = 0; vm.keyExistsJson(json, _key(t, "")); ++t) {
            bytes32 root = vm.parseJsonBytes32(json, _key(t, ".root"));
            bytes32 lotId = keccak256(abi.encode("vector lot", t));
            uint256 size = vm.parseJsonUint(json, _key(t, ".size"));
            vm.prank(brand);
            registry.anchorLot(lotId, root, uint64(size), META_HASH, META_URI);
            for (uint256 i = 0; i < size; ++i) {
                string memory entry = string.concat(_key(t, ".items["), vm.toString(i), "]");
                bytes32 id = vm.parseJsonBytes32(json, string.concat(entry, ".itemId"));
                bytes32 metadataHash = vm.parseJsonBytes32(json, string.concat(entry, ".metadataHash"));
                bytes32[] memory proof = vm.parseJsonBytes32Array(json, string.concat(entry, ".proof"));
                bytes32 leaf = LotLeaves.leaf(id, metadataHash);
                assertEq(leaf, vm.parseJsonBytes32(json, string.concat(entry, ".leaf")), "leaf encoding");
                assertEq(MerkleProof.verify(proof, root, leaf), true, "OpenZeppelin MerkleProof");
                assertEq(registry.verifyLotItem(lotId, id, metadataHash, proof), true, "verifyLotItem");
                assertEq(registry.verifyLotItem(lotId, id, ~metadataHash, proof), false, "forged metadata");
                ++checked;
            }
        }
        assertEq(checked >= 36, true, "all vector items were checked");
    }

    function test_verifyLotItem_falseForUnknownLot() public view {
        assertEq(registry.verifyLotItem(LOT, item, META_HASH, new bytes32[](0)), false, "unknown lot");
    }

    function testFuzz_anchorLot_oneTransactionAnyCount(uint64 count) public {
        count = 1 + count % registry.MAX_LOT_COUNT();
        _anchor(ROOT, count);
        (, uint64 stored,) = registry.lotOf(LOT);
        assertEq(uint256(stored), uint256(count), "count stored");
    }

    function test_anchorLot_revertsAboveMaxCount() public {
        uint64 max = registry.MAX_LOT_COUNT();
        assertEq(uint256(max), 2 ** 48 - 1, "the count is packed in 48 bits");
        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalid.selector, LOT, ROOT, max + 1));
        _anchor(ROOT, max + 1);
        _anchor(ROOT, max);
        (, uint64 stored,) = registry.lotOf(LOT);
        assertEq(uint256(stored), uint256(max), "the largest count fits");
    }

    // ----------------------------------------------------------------- anchorLots

    function _lots(uint256 n)
        internal
        pure
        returns (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes)
    {
        ids = new bytes32[](n);
        roots = new bytes32[](n);
        counts = new uint64[](n);
        hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = keccak256(abi.encode("lot", i));
            roots[i] = keccak256(abi.encode("root", i));
            counts[i] = uint64(20_000 + i);
            hashes[i] = keccak256(abi.encode("lot metadata", i));
        }
    }

    function test_anchorLots_anchorsEachAndEmitsInOrder() public {
        (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes) = _lots(3);
        for (uint256 i = 0; i < 3; ++i) {
            vm.expectEmit(address(registry));
            emit ILots.LotAnchored(ids[i], brand, bytes32(0), roots[i], counts[i], hashes[i], META_URI);
        }
        vm.prank(brand);
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        for (uint256 i = 0; i < 3; ++i) {
            (bytes32 root, uint64 count, bytes32 parent) = registry.lotOf(ids[i]);
            assertEq(root, roots[i], "root");
            assertEq(uint256(count), uint256(counts[i]), "count");
            assertEq(parent, bytes32(0), "no parent");
            assertEq(registry.custodianOf(ids[i]), brand, "brand holds the lot");
            assertEq(registry.brandOf(ids[i]), brand, "brandOf");
            assertEq(uint256(registry.kindOf(ids[i])), uint256(Kind.Lot), "kind");
            _assertStatus(ids[i], Status.Active, "Active");
        }
    }

    function test_anchorLots_lotsSplitLikeSingleAnchors() public {
        (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes) = _lots(2);
        ids[1] = LOT;
        vm.startPrank(brand);
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        registry.splitLot(GTIN14, LOT_NUMBER, SUB_NUMBER, SUB_ROOT, 1_000, META_HASH, META_URI);
        vm.stopPrank();
        (, uint64 parentCount,) = registry.lotOf(ids[1]);
        (, uint64 subCount, bytes32 parent) = registry.lotOf(SUB);
        assertEq(uint256(parentCount), uint256(counts[1]) - 1_000, "parent keeps the rest");
        assertEq(uint256(subCount), 1_000, "sub count");
        assertEq(parent, ids[1], "linked to parent");
    }

    function test_anchorLots_revertsForLengthMismatch() public {
        (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes) = _lots(3);
        vm.startPrank(brand);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryLengthMismatch.selector, 3, 2));
        registry.anchorLots(ids, new bytes32[](2), counts, hashes, META_URI);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryLengthMismatch.selector, 3, 4));
        registry.anchorLots(ids, roots, new uint64[](4), hashes, META_URI);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryLengthMismatch.selector, 3, 0));
        registry.anchorLots(ids, roots, counts, new bytes32[](0), META_URI);
        vm.stopPrank();
    }

    function test_anchorLots_revertsForEmptyOrOversizedBatch() public {
        (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes) = _lots(501);
        vm.startPrank(brand);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidBatchSize.selector, 501, 500));
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidBatchSize.selector, 0, 500));
        registry.anchorLots(new bytes32[](0), new bytes32[](0), new uint64[](0), new bytes32[](0), META_URI);
        vm.stopPrank();
    }

    function test_anchorLots_revertsForInvalidLotAndAnchorsNone() public {
        (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes) = _lots(3);
        uint64 max = registry.MAX_LOT_COUNT();
        vm.startPrank(brand);
        roots[2] = bytes32(0);
        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalid.selector, ids[2], bytes32(0), counts[2]));
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        (, roots,,) = _lots(3);
        counts[1] = 0;
        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalid.selector, ids[1], roots[1], uint64(0)));
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        counts[1] = max + 1;
        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalid.selector, ids[1], roots[1], max + 1));
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        vm.stopPrank();
        _assertStatus(ids[0], Status.None, "whole batch reverted");
    }

    function test_anchorLots_revertsForDuplicateOrExistingId() public {
        (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes) = _lots(3);
        ids[2] = ids[0];
        vm.expectRevert(_err(IOriginRegistry.RegistryItemExists.selector, ids[0]));
        vm.prank(brand);
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        (ids,,,) = _lots(3);
        ids[1] = LOT;
        _anchor(ROOT, 10);
        vm.expectRevert(_err(IOriginRegistry.RegistryItemExists.selector, LOT));
        vm.prank(brand);
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        _assertStatus(ids[0], Status.None, "whole batch reverted");
    }

    function test_anchorLots_revertsForNonBrandOrWhenPaused() public {
        (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes) = _lots(2);
        vm.expectRevert(_errRole(carrier, registry.BRAND_ROLE()));
        vm.prank(carrier);
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        vm.prank(admin);
        registry.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(brand);
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
    }

    function testFuzz_anchorLots_anyBatchAndCounts(uint8 n, uint64 seed) public {
        n = uint8(1 + n % 40);
        (bytes32[] memory ids, bytes32[] memory roots, uint64[] memory counts, bytes32[] memory hashes) = _lots(n);
        for (uint256 i = 0; i < n; ++i) {
            counts[i] = 1 + uint64(uint256(keccak256(abi.encode(seed, i))) % registry.MAX_LOT_COUNT());
        }
        vm.prank(brand);
        registry.anchorLots(ids, roots, counts, hashes, META_URI);
        for (uint256 i = 0; i < n; ++i) {
            (bytes32 root, uint64 count,) = registry.lotOf(ids[i]);
            assertEq(root, roots[i], "root");
            assertEq(uint256(count), uint256(counts[i]), "count");
            assertEq(registry.custodianOf(ids[i]), brand, "custodian");
        }
    }

    function _handLot(bytes32 id, address to) internal {
        vm.prank(registry.custodianOf(id));
        registry.offerCustody(id, to, _expiry());
        vm.prank(to);
        registry.acceptCustody(id);
    }

    function _key(uint256 t, string memory field) private pure returns (string memory) {
        return string.concat(".trees[", vm.toString(t), "]", field);
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {ILots} from "../../contracts/interfaces/ILots.sol";
import {LotLeaves} from "../../contracts/libraries/LotLeaves.sol";
import {Status, Kind} from "../../contracts/types/RecordTypes.sol";
import {RegistryFixture} from "./RegistryFixture.sol";

/// @notice Lots: anchorLot, splitLot, verifyLotItem, lotOf, and the shared Merkle vectors.
contract LotsTest is RegistryFixture {
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
        registry.splitLot(LOT, SUB, SUB_ROOT, 30, META_HASH, META_URI);

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
        registry.splitLot(LOT, SUB, SUB_ROOT, 30, META_HASH, META_URI);

        vm.expectRevert(abi.encodeWithSelector(ILots.LotInvalid.selector, SUB, SUB_ROOT, uint64(100)));
        vm.prank(brand);
        registry.splitLot(LOT, SUB, SUB_ROOT, 100, META_HASH, META_URI);

        _register();
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidKind.selector, item, Kind.Item));
        vm.prank(brand);
        registry.splitLot(item, SUB, SUB_ROOT, 1, META_HASH, META_URI);
    }

    function test_splitLot_revertsWhenParentNotActive() public {
        _anchor(ROOT, 100);
        vm.prank(brand);
        registry.recall(LOT);
        vm.expectRevert(_errStatus(LOT, Status.Recalled));
        vm.prank(brand);
        registry.splitLot(LOT, SUB, SUB_ROOT, 1, META_HASH, META_URI);
    }

    /// @dev tests/vectors/merkle.json: leaves match {LotLeaves}, proofs verify against roots with
    /// OpenZeppelin's MerkleProof and through an anchored lot; a wrong metadata hash never does.
    function test_merkleVectors_verifyOnChain() public {
        string memory json = vm.readFile(string.concat(vm.projectRoot(), "/tests/vectors/merkle.json"));
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
        vm.assume(count != 0);
        _anchor(ROOT, count);
        (, uint64 stored,) = registry.lotOf(LOT);
        assertEq(uint256(stored), uint256(count), "count stored");
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

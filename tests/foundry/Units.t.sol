// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {IUnits} from "../../contracts/interfaces/IUnits.sol";
import {Status, Kind} from "../../contracts/types/RecordTypes.sol";
import {RegistryFixture} from "./RegistryFixture.sol";

/// @notice Logistic units: createUnit, pack, unpack, containerOf, and moving a unit moves its contents.
contract UnitsTest is RegistryFixture {
    string internal constant PALLET_SSCC = "095060001000000012";
    string internal constant CONTAINER_SSCC = "095060001000000029";
    /// @dev Their ids: keccak256 of the element strings "00" ++ SSCC (see ItemIds).
    bytes32 internal constant PALLET = keccak256("00095060001000000012");
    bytes32 internal constant CONTAINER = keccak256("00095060001000000029");
    bytes32 internal constant LOT = keccak256("lot");

    function setUp() public override {
        super.setUp();
        _register();
        vm.startPrank(brand);
        registry.anchorLot(LOT, keccak256("root"), 500, META_HASH, META_URI);
        registry.createUnit(PALLET_SSCC);
        registry.createUnit(CONTAINER_SSCC);
        vm.stopPrank();
    }

    function _ids(bytes32 a) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](1);
        ids[0] = a;
    }

    function _ids(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](2);
        ids[0] = a;
        ids[1] = b;
    }

    function _move(bytes32 id, address to) internal {
        vm.prank(registry.custodianOf(id));
        registry.offerCustody(id, to, _expiry());
        vm.prank(to);
        registry.acceptCustody(id);
    }

    function test_createUnit_createsAndEmits() public {
        bytes32 unit = keccak256("00095060001000000036");
        vm.expectEmit(address(registry));
        emit IUnits.UnitCreated(unit, carrier);
        vm.prank(carrier);
        assertEq(registry.createUnit("095060001000000036"), unit, "returns the SSCC's id");
        assertEq(registry.custodianOf(unit), carrier, "creator holds it");
        assertEq(uint256(registry.kindOf(unit)), uint256(Kind.Unit), "kind");
        assertEq(registry.brandOf(unit), address(0), "units have no brand");
    }

    function test_createUnit_revertsForNonMemberOrExisting() public {
        vm.expectRevert(abi.encodeWithSignature("RegistryNotMember(address)", outsider));
        vm.prank(outsider);
        registry.createUnit("095060001000000036");
        vm.expectRevert(_err(IOriginRegistry.RegistryItemExists.selector, PALLET));
        vm.prank(brand);
        registry.createUnit(PALLET_SSCC);
    }

    function test_createUnit_revertsForAnythingButAnSscc() public {
        string[5] memory wrong = [
            "095060001000000013", // check digit
            "09506000100000001", // 17 digits
            "0950600010000000120", // 19 digits
            "09506000100000001A",
            ""
        ];
        for (uint256 i = 0; i < wrong.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IUnits.UnitInvalidSscc.selector, wrong[i]));
            vm.prank(carrier);
            registry.createUnit(wrong[i]);
        }
    }

    /// @dev The squatting the derived ids stop: a member used to create a unit under the id of an
    /// item a brand was about to register, which reverted the brand's whole batch. The item's
    /// own element string is no SSCC, and an SSCC's id hashes "00" first.
    function test_createUnit_cannotTakeAnItemId() public {
        bytes32 upcoming = registry.itemId(GTIN14, "NEXT-1");
        vm.expectRevert(abi.encodeWithSelector(IUnits.UnitInvalidSscc.selector, "010950600013435221NEXT-1"));
        vm.prank(carrier);
        registry.createUnit("010950600013435221NEXT-1");
        vm.prank(carrier);
        bytes32 unit = registry.createUnit("095060001000000050");
        assertEq(unit, keccak256(abi.encodePacked("00", "095060001000000050")), "an SSCC's id");
        bytes32[] memory ids = new bytes32[](1);
        ids[0] = upcoming;
        vm.prank(brand);
        registry.registerItems(ids, ids, META_URI);
        assertEq(uint256(registry.kindOf(upcoming)), uint256(Kind.Item), "the brand registered it");
    }

    function test_pack_nestedUnitsFollowOutermostCustodian() public {
        vm.startPrank(brand);
        vm.expectEmit(address(registry));
        emit IUnits.UnitPacked(PALLET, item);
        registry.pack(PALLET, _ids(item, LOT));
        registry.pack(CONTAINER, _ids(PALLET));
        vm.stopPrank();
        assertEq(registry.containerOf(item), PALLET, "item in pallet");
        assertEq(registry.containerOf(PALLET), CONTAINER, "pallet in container");

        _move(CONTAINER, carrier);
        assertEq(registry.custodianOf(item), carrier, "item follows the container");
        assertEq(registry.custodianOf(LOT), carrier, "lot follows the container");
        assertEq(registry.custodianOf(PALLET), carrier, "pallet follows the container");

        vm.expectEmit(address(registry));
        emit IUnits.UnitUnpacked(CONTAINER, PALLET, carrier);
        vm.prank(carrier);
        registry.unpack(CONTAINER, _ids(PALLET));
        _move(PALLET, customs);
        assertEq(registry.custodianOf(item), customs, "item follows the pallet");
        assertEq(registry.custodianOf(CONTAINER), carrier, "container stays");

        vm.prank(customs);
        registry.unpack(PALLET, _ids(item));
        assertEq(registry.custodianOf(item), customs, "unpacked item held directly");
        assertEq(registry.containerOf(item), bytes32(0), "top-level again");
    }

    function test_pack_revertsForCycles() public {
        vm.startPrank(brand);
        registry.pack(CONTAINER, _ids(PALLET));
        vm.expectRevert(abi.encodeWithSelector(IUnits.UnitCycle.selector, PALLET, CONTAINER));
        registry.pack(PALLET, _ids(CONTAINER));
        vm.expectRevert(abi.encodeWithSelector(IUnits.UnitCycle.selector, CONTAINER, CONTAINER));
        registry.pack(CONTAINER, _ids(CONTAINER));
        vm.stopPrank();
    }

    function test_pack_revertsForForeignPackedOrInactiveContents() public {
        vm.prank(carrier);
        bytes32 carrierPallet = registry.createUnit("095060001000000043");
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotCustodian.selector, item, carrier));
        vm.prank(carrier);
        registry.pack(carrierPallet, _ids(item));

        vm.startPrank(brand);
        registry.pack(PALLET, _ids(item));
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryPacked.selector, item, PALLET));
        registry.pack(CONTAINER, _ids(item));
        registry.offerCustody(LOT, carrier, _expiry());
        vm.expectRevert(_errStatus(LOT, Status.Offered));
        registry.pack(CONTAINER, _ids(LOT));
        vm.stopPrank();
    }

    function test_pack_revertsForNonUnitBatchSizeOrNonCustodian() public {
        vm.startPrank(brand);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidKind.selector, LOT, Kind.Lot));
        registry.pack(LOT, _ids(item));
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidBatchSize.selector, 0, 500));
        registry.pack(PALLET, new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidBatchSize.selector, 501, 500));
        registry.unpack(PALLET, new bytes32[](501));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotCustodian.selector, PALLET, carrier));
        vm.prank(carrier);
        registry.pack(PALLET, _ids(item));
        vm.expectRevert(_err(IOriginRegistry.RegistryUnknownItem.selector, keccak256("nope")));
        vm.prank(brand);
        registry.pack(keccak256("nope"), _ids(item));
    }

    function test_pack_revertsWhenUnitOffered() public {
        vm.startPrank(brand);
        registry.offerCustody(PALLET, carrier, _expiry());
        vm.expectRevert(_errStatus(PALLET, Status.Offered));
        registry.pack(PALLET, _ids(item));
        vm.stopPrank();
    }

    /// @dev While a pallet is on offer, nothing inside it moves, however deep: the receiver
    /// accepts what was offered.
    function test_packAndUnpack_revertInsideAnOfferedUnit() public {
        vm.startPrank(brand);
        registry.pack(CONTAINER, _ids(item));
        registry.pack(PALLET, _ids(CONTAINER));
        registry.offerCustody(PALLET, carrier, _expiry());
        vm.expectRevert(_errStatus(PALLET, Status.Offered));
        registry.unpack(CONTAINER, _ids(item));
        vm.expectRevert(_errStatus(PALLET, Status.Offered));
        registry.pack(CONTAINER, _ids(LOT));
        vm.stopPrank();
        vm.prank(carrier);
        registry.acceptCustody(PALLET);
        assertEq(registry.custodianOf(item), carrier, "the item came with the pallet");
    }

    function test_unpack_revertsWhenNotInUnit() public {
        vm.expectRevert(abi.encodeWithSelector(IUnits.UnitNotPacked.selector, PALLET, item));
        vm.prank(brand);
        registry.unpack(PALLET, _ids(item));
    }

    function test_packedItem_cannotBeOfferedSoldOrDestroyed() public {
        vm.startPrank(brand);
        registry.pack(PALLET, _ids(item));
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryPacked.selector, item, PALLET));
        registry.offerCustody(item, carrier, _expiry());
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryPacked.selector, item, PALLET));
        registry.destroy(item);
        vm.stopPrank();
    }

    function testFuzz_unitMove_movesEveryContent(uint8 n) public {
        n = uint8(bound(n, 1, 40));
        bytes32[] memory ids = new bytes32[](n);
        vm.startPrank(brand);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = keccak256(abi.encode("fuzz item", i));
            registry.registerItem(ids[i], META_HASH, META_URI);
        }
        registry.pack(PALLET, ids);
        vm.stopPrank();
        _move(PALLET, retailer);
        for (uint256 i = 0; i < n; ++i) {
            assertEq(registry.custodianOf(ids[i]), retailer, "every content follows");
        }
    }

    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + (x % (hi - lo + 1));
    }
}

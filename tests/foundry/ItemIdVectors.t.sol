// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OriginRegistry} from "../../contracts/OriginRegistry.sol";
import {ItemIds} from "../../contracts/libraries/ItemIds.sol";
import {TestBase} from "./utils/Test.sol";

/// @title ItemIdVectorsTest
/// @notice Checks OriginRegistry.itemId against tests/vectors/item_ids.json, the file pytest
/// checks the Python derivation against: if both pass, the gateway and the chain agree on ids.
contract ItemIdVectorsTest is TestBase {
    OriginRegistry internal registry;

    function setUp() public {
        address[] memory admins = new address[](1);
        admins[0] = address(this);
        registry = new OriginRegistry(admins, 1);
    }

    function test_itemId_matchesSharedVectors() public view {
        string memory json = vm.readFile("tests/vectors/item_ids.json");

        uint256 count;
        while (vm.keyExistsJson(json, _key(count, ""))) {
            string memory gtin14 = vm.parseJsonString(json, _key(count, ".gtin14"));
            string memory serial = vm.parseJsonString(json, _key(count, ".serial"));
            string memory elementString = vm.parseJsonString(json, _key(count, ".elementString"));
            bytes32 expected = vm.parseJsonBytes32(json, _key(count, ".itemId"));

            assertEq(registry.itemId(gtin14, serial), expected, _key(count, ".itemId"));
            // The vector is self-consistent: the id is the hash of the documented element string.
            assertEq(keccak256(bytes(elementString)), expected, _key(count, ".elementString"));
            ++count;
        }
        // Guard against a renamed key silently turning this test into a no-op.
        assertEq(count >= 5, true, "at least the 5 known vectors were checked");
    }

    function test_lotId_matchesSharedVectors() public view {
        string memory json = _vectors();
        uint256 count;
        while (vm.keyExistsJson(json, _at("lots", count, ""))) {
            string memory gtin14 = vm.parseJsonString(json, _at("lots", count, ".gtin14"));
            string memory lotNumber = vm.parseJsonString(json, _at("lots", count, ".lot"));
            bytes32 expected = vm.parseJsonBytes32(json, _at("lots", count, ".lotId"));
            assertEq(ItemIds.lot(gtin14, lotNumber), expected, _at("lots", count, ".lotId"));
            string memory elementString = vm.parseJsonString(json, _at("lots", count, ".elementString"));
            assertEq(keccak256(bytes(elementString)), expected, _at("lots", count, ".elementString"));
            ++count;
        }
        assertEq(count >= 4, true, "at least the 4 known lot vectors were checked");
    }

    function test_logisticUnitId_matchesSharedVectors() public view {
        string memory json = _vectors();
        uint256 count;
        while (vm.keyExistsJson(json, _at("logisticUnits", count, ""))) {
            string memory sscc = vm.parseJsonString(json, _at("logisticUnits", count, ".sscc"));
            bytes32 expected = vm.parseJsonBytes32(json, _at("logisticUnits", count, ".unitId"));
            assertEq(ItemIds.logisticUnit(sscc), expected, _at("logisticUnits", count, ".unitId"));
            ++count;
        }
        assertEq(count >= 3, true, "at least the 3 known SSCC vectors were checked");
    }

    function _vectors() private view returns (string memory) {
        return vm.readFile("tests/vectors/item_ids.json");
    }

    /// @dev JSON path of field `field` of vector `i`, e.g. ".serialised[2].gtin14".
    function _key(uint256 i, string memory field) private pure returns (string memory) {
        return _at("serialised", i, field);
    }

    /// @dev JSON path of field `field` of vector `i` of list `list`.
    function _at(string memory list, uint256 i, string memory field) private pure returns (string memory) {
        return string.concat(".", list, "[", vm.toString(i), "]", field);
    }
}

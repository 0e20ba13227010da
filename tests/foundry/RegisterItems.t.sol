// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {RegistryFixture} from "./OriginRegistry.t.sol";

/// @notice Batch registration: registerItems.
contract OriginRegistryRegisterItemsTest is RegistryFixture {
    function _batch(uint256 n) internal pure returns (bytes32[] memory ids, bytes32[] memory hashes) {
        ids = new bytes32[](n);
        hashes = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = keccak256(abi.encode("batch item", i));
            hashes[i] = keccak256(abi.encode("batch metadata", i));
        }
    }

    function test_registerItems_registersEveryItemAndEmitsInOrder() public {
        (bytes32[] memory ids, bytes32[] memory hashes) = _batch(3);
        for (uint256 i = 0; i < ids.length; ++i) {
            vm.expectEmit(address(registry));
            emit IOriginRegistry.ItemRegistered(ids[i], brand, hashes[i], META_URI);
        }
        vm.prank(brand);
        registry.registerItems(ids, hashes, META_URI);
        for (uint256 i = 0; i < ids.length; ++i) {
            assertEq(registry.custodianOf(ids[i]), brand, "brand is custodian");
            _assertStatus(ids[i], IOriginRegistry.Status.Active, "Active after batch register");
        }
    }

    function test_registerItems_revertsForNonBrand() public {
        (bytes32[] memory ids, bytes32[] memory hashes) = _batch(2);
        vm.expectRevert(_errRole(carrier, registry.BRAND_ROLE()));
        vm.prank(carrier);
        registry.registerItems(ids, hashes, META_URI);
    }

    function test_registerItems_revertsForLengthMismatch() public {
        (bytes32[] memory ids,) = _batch(2);
        (, bytes32[] memory hashes) = _batch(3);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryBatchLengthMismatch.selector, 2, 3));
        vm.prank(brand);
        registry.registerItems(ids, hashes, META_URI);
    }

    function test_registerItems_revertsForOversizedBatch() public {
        uint256 size = registry.MAX_BATCH() + 1;
        (bytes32[] memory ids, bytes32[] memory hashes) = _batch(size);
        vm.expectRevert(
            abi.encodeWithSelector(IOriginRegistry.RegistryBatchTooLarge.selector, size, registry.MAX_BATCH())
        );
        vm.prank(brand);
        registry.registerItems(ids, hashes, META_URI);
    }

    function test_registerItems_revertsWholeBatchForOneExistingItem() public {
        (bytes32[] memory ids, bytes32[] memory hashes) = _batch(3);
        vm.prank(brand);
        registry.registerItem(ids[2], hashes[2], META_URI);
        vm.expectRevert(_err(IOriginRegistry.RegistryItemExists.selector, ids[2]));
        vm.prank(brand);
        registry.registerItems(ids, hashes, META_URI);
        _assertStatus(ids[0], IOriginRegistry.Status.None, "first item rolled back");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OriginRegistry} from "../../../contracts/OriginRegistry.sol";
import {Status} from "../../../contracts/types/RecordTypes.sol";
import {TestBase} from "../utils/Test.sol";
import {RegistryHandler} from "./RegistryHandler.sol";

/// @title RegistryInvariantsTest
/// @notice Properties that hold after any sequence of handler actions (foundry.toml sets runs and depth).
contract RegistryInvariantsTest is TestBase {
    OriginRegistry internal registry;
    RegistryHandler internal handler;

    function setUp() public {
        address admin1 = vm.addr(1);
        address admin2 = vm.addr(11);
        address[] memory admins = new address[](2);
        admins[0] = admin1;
        admins[1] = admin2;
        registry = new OriginRegistry(admins, 1);
        string[4] memory names = ["Brand", "Carrier", "Customs", "Retailer"];
        uint256[4] memory keys = [uint256(2), 4, 5, 6];
        vm.startPrank(admin1);
        for (uint256 i = 0; i < 4; ++i) {
            registry.admitMember(vm.addr(keys[i]), names[i]);
        }
        registry.grantRole(registry.BRAND_ROLE(), vm.addr(2));
        registry.grantRole(registry.CARRIER_ROLE(), vm.addr(4));
        registry.grantRole(registry.CUSTOMS_ROLE(), vm.addr(5));
        registry.grantRole(registry.RETAILER_ROLE(), vm.addr(6));
        registry.setThreshold(2);
        vm.stopPrank();
        handler = new RegistryHandler(registry, admin1, admin2);
    }

    /// @dev The handler's unit pool is made of ids its createUnit calls can create; otherwise
    /// the unit paths of every invariant would be vacuous.
    function test_handlerCreatesThePoolUnits() public {
        for (uint256 u = 0; u < handler.UNITS(); ++u) {
            handler.createUnit(u, 1);
            assertEq(uint256(registry.statusOf(handler.unitAt(u))), uint256(Status.Active), "pool unit created");
        }
    }

    /// @dev Only the handler is fuzzed (forge reads this like forge-std's StdInvariant).
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_eachRecordHasExactlyOneEffectiveCustodian() public view {
        for (uint256 i = 0; i < handler.ITEMS() + handler.UNITS(); ++i) {
            bytes32 id = handler.recordAt(i);
            bool exists = registry.statusOf(id) != Status.None;
            assertEq(registry.custodianOf(id) != address(0), exists, "registered <=> one custodian");
        }
    }

    function invariant_packedContentsFollowTheirUnit() public view {
        for (uint256 i = 0; i < handler.ITEMS() + handler.UNITS(); ++i) {
            bytes32 id = handler.recordAt(i);
            bytes32 unit = registry.containerOf(id);
            if (unit != bytes32(0)) assertEq(registry.custodianOf(id), registry.custodianOf(unit), "follows unit");
        }
    }

    function invariant_noncesOnlyIncrease() public view {
        assertEq(handler.ghost_nonceDecreased(), false, "no nonce ever went down");
        for (uint256 a = 0; a < handler.ACTORS(); ++a) {
            address account = handler.actor(a);
            assertEq(registry.nonces(account), handler.ghost_nonce(account), "one nonce per signed handoff");
        }
    }

    function invariant_onlyGovernanceChangesRoles() public view {
        assertEq(handler.ghost_rogueRoleChange(), false, "no direct role change at threshold 2");
        for (uint256 r = 0; r < 4; ++r) {
            for (uint256 a = 0; a < handler.ACTORS(); ++a) {
                bytes32 role = handler.roleAt(r);
                address account = handler.actor(a);
                assertEq(registry.hasRole(role, account), handler.ghost_role(role, account), "role as governed");
            }
        }
    }

    function invariant_recalledOrDestroyedNeverActiveAgain() public view {
        for (uint256 i = 0; i < handler.ITEMS(); ++i) {
            bytes32 id = handler.itemAt(i);
            if (!handler.ghost_terminal(id)) continue;
            Status status = registry.statusOf(id);
            assertEq(status == Status.Recalled || status == Status.Destroyed, true, "stays recalled/destroyed");
        }
    }

    function invariant_registeredCountEqualsGhost() public view {
        uint256 registered;
        for (uint256 i = 0; i < handler.ITEMS(); ++i) {
            if (registry.statusOf(handler.itemAt(i)) != Status.None) ++registered;
        }
        assertEq(registered, handler.ghost_registered(), "registered items");
    }
}

// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OriginRegistry} from "../../../contracts/OriginRegistry.sol";
import {TestBase} from "../utils/Test.sol";

/// @title GovernanceSymbolicTest
/// @notice halmos proofs (`check_` functions, run by `make halmos`; forge skips them): for every
/// caller, role and account, no single call changes a role while the threshold is 2.
contract GovernanceSymbolicTest is TestBase {
    OriginRegistry internal registry;
    address internal admin1 = address(0xA1);
    address internal admin2 = address(0xA2);
    address internal member = address(0xB1);

    /// @dev The registry calls itself only to execute a proposal its admins approved: that IS governance.
    function _external(address caller) internal view {
        vm.assume(caller != address(registry));
    }

    function setUp() public {
        address[] memory admins = new address[](2);
        admins[0] = admin1;
        admins[1] = admin2;
        registry = new OriginRegistry(admins, 1);
        vm.startPrank(admin1);
        registry.admitMember(member, "Member");
        registry.grantRole(registry.CARRIER_ROLE(), member);
        registry.setThreshold(2);
        vm.stopPrank();
    }

    function check_grantRole_needsGovernance(address caller, bytes32 role, address account) public {
        _external(caller);
        bool before = registry.hasRole(role, account);
        vm.prank(caller);
        try registry.grantRole(role, account) {} catch {}
        assert(registry.hasRole(role, account) == before);
    }

    function check_revokeRole_needsGovernance(address caller, bytes32 role, address account) public {
        _external(caller);
        bool before = registry.hasRole(role, account);
        vm.prank(caller);
        try registry.revokeRole(role, account) {} catch {}
        assert(registry.hasRole(role, account) == before);
    }

    function check_renounceRole_neverChangesRoles(address caller, bytes32 role) public {
        _external(caller);
        bool before = registry.hasRole(role, caller);
        vm.prank(caller);
        try registry.renounceRole(role, caller) {} catch {}
        assert(registry.hasRole(role, caller) == before);
    }

    function check_singleProposal_cannotGrant(address caller, bytes32 role, address account) public {
        _external(caller);
        bool before = registry.hasRole(role, account);
        vm.prank(caller);
        try registry.propose(abi.encodeCall(registry.grantRole, (role, account))) {} catch {}
        assert(registry.hasRole(role, account) == before);
    }

    function check_removeMember_needsGovernance(address caller) public {
        _external(caller);
        vm.prank(caller);
        try registry.removeMember(member) {} catch {}
        assert(registry.hasRole(registry.CARRIER_ROLE(), member));
    }
}

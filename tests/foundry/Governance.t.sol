// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {OriginRegistry} from "../../contracts/OriginRegistry.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {RegistryFixture} from "./RegistryFixture.sol";

/// @notice Governance with one admin (threshold 1): direct calls, GLN, removal, pause, handover.
contract GovernanceSingleAdminTest is RegistryFixture {
    address internal newcomer = vm.addr(100);
    string internal constant GLN = "5412345000013";

    function test_constructor_recordsAdminsAndThreshold() public view {
        assertEq(registry.adminCount(), 1, "one admin");
        assertEq(registry.threshold(), 1, "threshold 1");
    }

    function test_constructor_revertsForBadAdminsOrThreshold() public {
        address[] memory admins = new address[](2);
        admins[0] = admin;
        admins[1] = admin;
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidAdmin.selector, admin));
        new OriginRegistry(admins, 1);
        admins[1] = address(0);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidAdmin.selector, address(0)));
        new OriginRegistry(admins, 1);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 2, 1));
        new OriginRegistry(_admins(admin), 2);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 0, 1));
        new OriginRegistry(_admins(admin), 0);
    }

    function test_admitMemberWithGln_storesAndEmits() public {
        vm.expectEmit(address(registry));
        emit IConsortium.MemberAdmitted(newcomer, "Bonded Warehouse");
        vm.expectEmit(address(registry));
        emit IConsortium.MemberGlnSet(newcomer, GLN);
        vm.prank(admin);
        registry.admitMember(newcomer, "Bonded Warehouse", GLN);
        assertEq(registry.memberGln(newcomer), GLN, "GLN on chain");
    }

    function test_setMemberGln_revertsForBadGlnOrNonMember() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidGln.selector, "541234500001"));
        registry.setMemberGln(brand, "541234500001");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidGln.selector, "541234500001X"));
        registry.setMemberGln(brand, "541234500001X");
        // 13 digits, but the check digit of 541234500001 is 3, not 2.
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidGln.selector, "5412345000012"));
        registry.setMemberGln(brand, "5412345000012");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryNotMember.selector, outsider));
        registry.setMemberGln(outsider, GLN);
        registry.setMemberGln(brand, GLN);
        registry.setMemberGln(brand, "");
        vm.stopPrank();
        assertEq(registry.memberGln(brand), "", "cleared");
    }

    /// @dev Check digits computed independently with biip (Python's GS1 library); each GLN is
    /// accepted, and the same 12 digits with any other last digit are refused.
    function test_setMemberGln_checksTheGs1CheckDigit() public {
        string[6] memory valid =
            ["9506000134352", "4012345000016", "0690000000003", "1234567890128", "0000000000000", "9999999999994"];
        vm.startPrank(admin);
        for (uint256 i = 0; i < valid.length; ++i) {
            registry.setMemberGln(brand, valid[i]);
            assertEq(registry.memberGln(brand), valid[i], "valid GLN stored");
            bytes memory wrong = bytes(valid[i]);
            wrong[12] = bytes1(uint8(48 + (uint8(wrong[12]) - 48 + 1 + i) % 10));
            if (keccak256(wrong) == keccak256(bytes(valid[i]))) continue;
            vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidGln.selector, string(wrong)));
            registry.setMemberGln(brand, string(wrong));
        }
        vm.stopPrank();
    }

    function test_removeMember_clearsAndRevokesRoles() public {
        bytes32 role = registry.BRAND_ROLE();
        vm.expectEmit(address(registry));
        emit IConsortium.MemberRemoved(brand);
        vm.prank(admin);
        registry.removeMember(brand);
        assertEq(registry.isMember(brand), false, "not a member");
        assertEq(registry.hasRole(role, brand), false, "brand role revoked");
        vm.expectRevert(_errRole(brand, role));
        vm.prank(brand);
        registry.registerItem(item, META_HASH, META_URI);
    }

    function test_removeMember_revertsForNonMemberOrNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryNotMember.selector, outsider));
        vm.prank(admin);
        registry.removeMember(outsider);
        vm.expectRevert(_errRole(brand, bytes32(0)));
        vm.prank(brand);
        registry.removeMember(carrier);
    }

    function test_grantRole_requiresMember() public {
        bytes32 role = registry.CARRIER_ROLE();
        vm.expectRevert(abi.encodeWithSelector(IConsortium.RegistryNotMember.selector, outsider));
        vm.prank(admin);
        registry.grantRole(role, outsider);
    }

    function test_revokeRole_revokes() public {
        bytes32 role = registry.CARRIER_ROLE();
        vm.prank(admin);
        registry.revokeRole(role, carrier);
        assertEq(registry.hasRole(role, carrier), false, "revoked");
    }

    function test_revokeRole_cannotDropAdminsBelowThreshold() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 1, 0));
        vm.prank(admin);
        registry.revokeRole(bytes32(0), admin);
    }

    function test_renounceRole_disabled() public {
        bytes32 role = registry.CARRIER_ROLE();
        vm.expectRevert(IConsortium.ConsortiumRenounceDisabled.selector);
        vm.prank(carrier);
        registry.renounceRole(role, carrier);
    }

    function test_pause_anyAdminPausesWritesUnpauseByGovernance() public {
        vm.prank(admin);
        registry.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(brand);
        registry.registerItem(item, META_HASH, META_URI);
        vm.expectRevert(_errRole(brand, bytes32(0)));
        vm.prank(brand);
        registry.unpause();
        vm.prank(admin);
        registry.unpause();
        _register();
        assertEq(registry.custodianOf(item), brand, "writes resume");
    }

    function test_pause_revertsForNonAdmin() public {
        vm.expectRevert(_errRole(outsider, bytes32(0)));
        vm.prank(outsider);
        registry.pause();
    }

    function test_adminHandover_twoStepAndDelayed() public {
        uint64 readyAt = uint64(block.timestamp) + registry.ADMIN_HANDOVER_DELAY();
        vm.expectEmit(address(registry));
        emit IConsortium.AdminHandoverStarted(admin, newcomer, readyAt);
        vm.prank(admin);
        registry.beginAdminHandover(newcomer);

        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumHandoverNotReady.selector, admin, readyAt));
        vm.prank(newcomer);
        registry.acceptAdminHandover(admin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNoHandover.selector, admin));
        vm.prank(outsider);
        registry.acceptAdminHandover(admin);

        vm.warp(readyAt);
        vm.expectEmit(address(registry));
        emit IConsortium.AdminHandoverCompleted(admin, newcomer);
        vm.prank(newcomer);
        registry.acceptAdminHandover(admin);
        assertEq(registry.hasRole(bytes32(0), newcomer), true, "new admin");
        assertEq(registry.hasRole(bytes32(0), admin), false, "old admin out");
        assertEq(registry.adminCount(), 1, "still one admin");
    }

    function test_adminHandover_cancelAndBadTargets() public {
        vm.startPrank(admin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidAdmin.selector, admin));
        registry.beginAdminHandover(admin);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNoHandover.selector, admin));
        registry.cancelAdminHandover();
        registry.beginAdminHandover(newcomer);
        vm.expectEmit(address(registry));
        emit IConsortium.AdminHandoverCancelled(admin, newcomer);
        registry.cancelAdminHandover();
        vm.stopPrank();
        vm.warp(block.timestamp + 3 days);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNoHandover.selector, admin));
        vm.prank(newcomer);
        registry.acceptAdminHandover(admin);
        vm.expectRevert(_errRole(outsider, bytes32(0)));
        vm.prank(outsider);
        registry.beginAdminHandover(newcomer);
    }

    function test_propose_executesAtOnceWithThresholdOne() public {
        vm.prank(admin);
        uint256 id = registry.propose(abi.encodeWithSignature("admitMember(address,string)", newcomer, "N"));
        (uint256 approvals, bool executed,) = registry.proposalState(id);
        assertEq(approvals, 1, "one approval");
        assertEq(executed, true, "executed");
        assertEq(registry.isMember(newcomer), true, "admitted by proposal");
    }

    function test_propose_revertsForUnsupportedActionOrNonAdmin() public {
        bytes memory data = abi.encodeCall(registry.registerItem, (item, META_HASH, META_URI));
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumUnsupportedAction.selector, registry.registerItem.selector)
        );
        vm.prank(admin);
        registry.propose(data);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnsupportedAction.selector, bytes4(0)));
        vm.prank(admin);
        registry.propose("");
        vm.expectRevert(_errRole(brand, bytes32(0)));
        vm.prank(brand);
        registry.propose(abi.encodeCall(registry.setThreshold, (1)));
    }
}

/// @notice Governance with three admins and threshold 2: nothing changes without two approvals.
contract GovernanceMultiAdminTest is RegistryFixture {
    address internal admin2 = vm.addr(11);
    address internal admin3 = vm.addr(12);
    address internal newcomer = vm.addr(100);

    function setUp() public override {
        super.setUp();
        vm.startPrank(admin);
        registry.grantRole(bytes32(0), admin2);
        registry.grantRole(bytes32(0), admin3);
        registry.setThreshold(2);
        vm.stopPrank();
    }

    function test_directCalls_revertAboveThresholdOne() public {
        bytes memory needs2 = abi.encodeWithSelector(IConsortium.ConsortiumApprovalRequired.selector, 2);
        bytes32 role = registry.CARRIER_ROLE();
        vm.startPrank(admin);
        vm.expectRevert(needs2);
        registry.admitMember(newcomer, "N");
        vm.expectRevert(needs2);
        registry.grantRole(role, brand);
        vm.expectRevert(needs2);
        registry.revokeRole(role, carrier);
        vm.expectRevert(needs2);
        registry.removeMember(carrier);
        vm.expectRevert(needs2);
        registry.setThreshold(1);
        vm.expectRevert(needs2);
        registry.unpause();
        vm.stopPrank();
    }

    function test_proposal_executesOnSecondApproval() public {
        bytes32 role = registry.CARRIER_ROLE();
        vm.expectEmit(address(registry));
        emit IConsortium.ProposalCreated(
            1, admin, abi.encodeCall(registry.grantRole, (role, brand)), uint64(block.timestamp) + 14 days
        );
        vm.prank(admin);
        uint256 id = registry.propose(abi.encodeCall(registry.grantRole, (role, brand)));
        assertEq(registry.hasRole(role, brand), false, "not yet");

        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyApproved.selector, id, admin));
        vm.prank(admin);
        registry.approve(id);

        vm.expectEmit(address(registry));
        emit IConsortium.ProposalApproved(id, admin2, 2);
        vm.expectEmit(address(registry));
        emit IConsortium.ProposalExecuted(id);
        vm.prank(admin2);
        registry.approve(id);
        assertEq(registry.hasRole(role, brand), true, "granted by 2 of 3");

        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumProposalExecuted.selector, id));
        vm.prank(admin3);
        registry.approve(id);
    }

    function test_proposal_expiresAfterItsLifetime() public {
        bytes32 role = registry.CARRIER_ROLE();
        vm.prank(admin);
        uint256 id = registry.propose(abi.encodeCall(registry.grantRole, (role, brand)));
        (,, uint64 expiresAt) = registry.proposalState(id);
        assertEq(expiresAt, block.timestamp + registry.PROPOSAL_LIFETIME(), "lifetime from creation");
        vm.warp(uint256(expiresAt) + 1);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumProposalExpired.selector, id, expiresAt));
        vm.prank(admin2);
        registry.approve(id);
        assertEq(registry.hasRole(role, brand), false, "an expired proposal never executes");
    }

    /// @dev An admin removed by governance and later re-admitted does not bring back the
    /// handover it had started: it would seat its taker at once, without a new delay.
    function test_adminHandover_endsWhenItsAdminIsRevoked() public {
        vm.prank(admin3);
        registry.beginAdminHandover(newcomer);
        vm.prank(admin);
        uint256 revoke = registry.propose(abi.encodeCall(registry.revokeRole, (bytes32(0), admin3)));
        vm.expectEmit(address(registry));
        emit IConsortium.AdminHandoverCancelled(admin3, newcomer);
        vm.prank(admin2);
        registry.approve(revoke);
        vm.prank(admin);
        uint256 regrant = registry.propose(abi.encodeCall(registry.grantRole, (bytes32(0), admin3)));
        vm.prank(admin2);
        registry.approve(regrant);
        assertEq(registry.hasRole(bytes32(0), admin3), true, "admin again");
        vm.warp(block.timestamp + 3 days);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNoHandover.selector, admin3));
        vm.prank(newcomer);
        registry.acceptAdminHandover(admin3);
    }

    function test_approve_revertsForUnknownProposalOrNonAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownProposal.selector, 7));
        vm.prank(admin);
        registry.approve(7);
        vm.prank(admin);
        uint256 id = registry.propose(abi.encodeCall(registry.setThreshold, (3)));
        vm.expectRevert(_errRole(brand, bytes32(0)));
        vm.prank(brand);
        registry.approve(id);
    }

    function test_proposal_failingCallRevertsApproval() public {
        vm.prank(admin);
        uint256 id = registry.propose(abi.encodeCall(registry.setThreshold, (4)));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 4, 3));
        vm.prank(admin2);
        registry.approve(id);
        (uint256 approvals, bool executed,) = registry.proposalState(id);
        assertEq(approvals, 1, "failed approval not counted");
        assertEq(executed, false, "not executed");
    }

    function test_pause_oneAdminPausesUnpauseNeedsTwo() public {
        vm.prank(admin3);
        registry.pause();
        assertEq(registry.paused(), true, "one admin is enough to stop");
        vm.prank(admin);
        uint256 id = registry.propose(abi.encodeCall(registry.unpause, ()));
        assertEq(registry.paused(), true, "still paused");
        vm.prank(admin2);
        registry.approve(id);
        assertEq(registry.paused(), false, "unpaused by 2 of 3");
    }

    function test_approval_lapsesWhenItsAdminIsRemoved() public {
        bytes32 role = registry.CARRIER_ROLE();
        vm.prank(admin);
        uint256 grant = registry.propose(abi.encodeCall(registry.grantRole, (role, brand)));
        // admin2 and admin3 remove admin; admin's approval of `grant` no longer counts.
        vm.prank(admin2);
        uint256 removal = registry.propose(abi.encodeCall(registry.revokeRole, (bytes32(0), admin)));
        vm.prank(admin3);
        registry.approve(removal);
        (uint256 approvals,,) = registry.proposalState(grant);
        assertEq(approvals, 0, "the removed admin's approval lapsed");
        vm.prank(admin2);
        registry.approve(grant);
        assertEq(registry.hasRole(role, brand), false, "one live approval is not enough");
        vm.prank(admin3);
        registry.approve(grant);
        assertEq(registry.hasRole(role, brand), true, "two live approvals execute");
    }

    function test_setThreshold_byProposalEmits() public {
        vm.prank(admin);
        uint256 id = registry.propose(abi.encodeCall(registry.setThreshold, (3)));
        vm.expectEmit(address(registry));
        emit IConsortium.ThresholdChanged(2, 3);
        vm.prank(admin3);
        registry.approve(id);
        assertEq(registry.threshold(), 3, "3 of 3 now");
    }

    function testFuzz_roles_neverChangeWithoutQuorum(address caller, address account, uint8 which) public {
        // The registry calling itself is an approved proposal executing: governance, by design.
        vm.assume(caller != address(registry));
        bytes32 role = [registry.BRAND_ROLE(), registry.CARRIER_ROLE(), bytes32(0)][which % 3];
        bool before = registry.hasRole(role, account);
        vm.prank(caller);
        (bool ok,) = address(registry).call(abi.encodeCall(registry.grantRole, (role, account)));
        assertEq(ok, false, "a single call never grants at threshold 2");
        assertEq(registry.hasRole(role, account), before, "unchanged");
    }
}

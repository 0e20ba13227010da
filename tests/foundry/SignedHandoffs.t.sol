// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OriginRegistry} from "../../contracts/OriginRegistry.sol";
import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {ISignedHandoffs} from "../../contracts/interfaces/ISignedHandoffs.sol";
import {RegistryFixture} from "./RegistryFixture.sol";
import {ContractWallet} from "./utils/ContractWallet.sol";

/// @notice EIP-712 two-party handoffs: handoffSigned, handoffSignedBatch, digests and replay safety.
contract SignedHandoffsTest is RegistryFixture {
    /// @dev Private keys of the fixture's brand (2) and carrier (4).
    uint256 internal constant BRAND_KEY = 2;
    uint256 internal constant CARRIER_KEY = 4;
    address internal relayer = vm.addr(99);

    function setUp() public override {
        super.setUp();
        _register();
    }

    function _deadline() internal view returns (uint256) {
        return block.timestamp + 1 hours;
    }

    function _signed(bytes32 id, uint256 fromKey, uint256 toKey, uint256 deadline)
        internal
        view
        returns (bytes memory fromSig, bytes memory toSig)
    {
        bytes32 digest = registry.handoffDigest(id, vm.addr(fromKey), vm.addr(toKey), deadline);
        return (_sign(fromKey, digest), _sign(toKey, digest));
    }

    function test_handoffSigned_relayedByAnyoneMovesCustody() public {
        uint256 deadline = _deadline();
        (bytes memory fromSig, bytes memory toSig) = _signed(item, BRAND_KEY, CARRIER_KEY, deadline);
        vm.expectEmit(address(registry));
        emit ISignedHandoffs.HandoffSigned(brand, carrier, 0, 0);
        vm.expectEmit(address(registry));
        emit IOriginRegistry.CustodyTransferred(item, brand, carrier);
        vm.prank(relayer);
        registry.handoffSigned(item, brand, carrier, deadline, fromSig, toSig);
        assertEq(registry.custodianOf(item), carrier, "carrier holds it");
        assertEq(registry.nonces(brand), 1, "brand nonce used");
        assertEq(registry.nonces(carrier), 1, "carrier nonce used");
    }

    function test_handoffSigned_cannotBeReplayed() public {
        uint256 deadline = _deadline();
        (bytes memory fromSig, bytes memory toSig) = _signed(item, BRAND_KEY, CARRIER_KEY, deadline);
        registry.handoffSigned(item, brand, carrier, deadline, fromSig, toSig);
        _handTo(brand); // give it back, so only the nonce stops a replay
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffInvalidSignature.selector, brand));
        registry.handoffSigned(item, brand, carrier, deadline, fromSig, toSig);
    }

    function test_handoffSigned_rejectedOnAnotherChainOrContract() public {
        uint256 deadline = _deadline();
        (bytes memory fromSig, bytes memory toSig) = _signed(item, BRAND_KEY, CARRIER_KEY, deadline);

        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffInvalidSignature.selector, brand));
        registry.handoffSigned(item, brand, carrier, deadline, fromSig, toSig);
        vm.chainId(chain);

        OriginRegistry other = new OriginRegistry(_admins(admin), 1);
        vm.startPrank(admin);
        other.admitMember(brand, "Brand");
        other.admitMember(carrier, "Carrier");
        other.grantRole(other.BRAND_ROLE(), brand);
        vm.stopPrank();
        vm.prank(brand);
        other.registerItem(item, META_HASH, META_URI);
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffInvalidSignature.selector, brand));
        other.handoffSigned(item, brand, carrier, deadline, fromSig, toSig);
    }

    function test_handoffSigned_needsBothSignatures() public {
        uint256 deadline = _deadline();
        bytes32 digest = registry.handoffDigest(item, brand, carrier, deadline);
        bytes memory brandSig = _sign(BRAND_KEY, digest);
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffInvalidSignature.selector, carrier));
        registry.handoffSigned(item, brand, carrier, deadline, brandSig, brandSig);
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffInvalidSignature.selector, brand));
        registry.handoffSigned(item, brand, carrier, deadline, _sign(CARRIER_KEY, digest), _sign(CARRIER_KEY, digest));
    }

    function test_handoffSigned_revertsAfterDeadline() public {
        uint256 deadline = _deadline();
        (bytes memory fromSig, bytes memory toSig) = _signed(item, BRAND_KEY, CARRIER_KEY, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffExpired.selector, deadline));
        registry.handoffSigned(item, brand, carrier, deadline, fromSig, toSig);
    }

    function test_handoffSigned_revertsForNonCustodianNonMemberOrSelf() public {
        uint256 deadline = _deadline();
        (bytes memory fromSig, bytes memory toSig) = _signed(item, CARRIER_KEY, BRAND_KEY, deadline);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryNotCustodian.selector, item, carrier));
        registry.handoffSigned(item, carrier, brand, deadline, fromSig, toSig);

        (fromSig, toSig) = _signed(item, BRAND_KEY, 7, deadline);
        vm.expectRevert(abi.encodeWithSignature("RegistryNotMember(address)", outsider));
        registry.handoffSigned(item, brand, outsider, deadline, fromSig, toSig);

        (fromSig, toSig) = _signed(item, BRAND_KEY, BRAND_KEY, deadline);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistrySelfHandoff.selector, bytes32(0)));
        registry.handoffSigned(item, brand, brand, deadline, fromSig, toSig);
    }

    function test_handoffSigned_acceptsErc1271Wallet() public {
        ContractWallet wallet = new ContractWallet(carrier);
        vm.prank(admin);
        registry.admitMember(address(wallet), "Carrier multisig");
        uint256 deadline = _deadline();
        bytes32 digest = registry.handoffDigest(item, brand, address(wallet), deadline);
        registry.handoffSigned(item, brand, address(wallet), deadline, _sign(BRAND_KEY, digest), _sign(CARRIER_KEY, digest));
        assertEq(registry.custodianOf(item), address(wallet), "the contract wallet holds it");
        assertEq(registry.nonces(address(wallet)), 1, "wallet nonce used");
    }

    function test_handoffSignedBatch_movesAllUnderOnePair() public {
        bytes32[] memory ids = new bytes32[](3);
        ids[0] = item;
        vm.startPrank(brand);
        for (uint256 i = 1; i < 3; ++i) {
            ids[i] = registry.createUnit(i == 1 ? SSCC : "095060001000000029");
        }
        vm.stopPrank();
        uint256 deadline = _deadline();
        bytes32 digest = registry.batchHandoffDigest(ids, brand, carrier, deadline);
        registry.handoffSignedBatch(ids, brand, carrier, deadline, _sign(BRAND_KEY, digest), _sign(CARRIER_KEY, digest));
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(registry.custodianOf(ids[i]), carrier, "moved");
        }
        // The single-item digest is a different type: a batch signature cannot move one item.
        assertEq(registry.nonces(brand), 1, "one nonce for the batch");
    }

    function test_handoffSignedBatch_revertsForBadSizeOrTamperedList() public {
        uint256 deadline = _deadline();
        bytes32[] memory ids = new bytes32[](1);
        ids[0] = item;
        bytes32 digest = registry.batchHandoffDigest(ids, brand, carrier, deadline);
        bytes memory fromSig = _sign(BRAND_KEY, digest);
        bytes memory toSig = _sign(CARRIER_KEY, digest);
        vm.expectRevert(abi.encodeWithSelector(IOriginRegistry.RegistryInvalidBatchSize.selector, 0, 500));
        registry.handoffSignedBatch(new bytes32[](0), brand, carrier, deadline, fromSig, toSig);
        bytes32[] memory tampered = new bytes32[](2);
        tampered[0] = item;
        tampered[1] = keccak256("extra");
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffInvalidSignature.selector, brand));
        registry.handoffSignedBatch(tampered, brand, carrier, deadline, fromSig, toSig);
        // A batch signature is not a single-handoff signature.
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffInvalidSignature.selector, brand));
        registry.handoffSigned(item, brand, carrier, deadline, fromSig, toSig);
    }

    function testFuzz_handoffSigned_wrongKeyNeverMoves(uint256 key) public {
        key = 1 + (key % (type(uint128).max));
        vm.assume(key != BRAND_KEY);
        uint256 deadline = _deadline();
        bytes32 digest = registry.handoffDigest(item, brand, carrier, deadline);
        vm.expectRevert(abi.encodeWithSelector(ISignedHandoffs.HandoffInvalidSignature.selector, brand));
        registry.handoffSigned(item, brand, carrier, deadline, _sign(key, digest), _sign(CARRIER_KEY, digest));
    }
}

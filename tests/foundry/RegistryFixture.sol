// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {OriginRegistry} from "../../contracts/OriginRegistry.sol";
import {IOriginRegistry} from "../../contracts/interfaces/IOriginRegistry.sol";
import {Status} from "../../contracts/types/RecordTypes.sol";
import {TestBase} from "./utils/Test.sol";

/// @title RegistryFixture
/// @notice Shared setup: a registry run by `admin`, with one admitted member per role.
/// @dev `outsider` is neither a member nor a role holder. `admin` holds DEFAULT_ADMIN_ROLE but
/// is not an admitted member: membership and roles are independent in the contract.
abstract contract RegistryFixture is TestBase {
    OriginRegistry internal registry;

    address internal admin = vm.addr(1);
    address internal brand = vm.addr(2);
    address internal certifier = vm.addr(3);
    address internal carrier = vm.addr(4);
    address internal customs = vm.addr(5);
    address internal retailer = vm.addr(6);
    address internal outsider = vm.addr(7);

    /// @dev The first vector of tests/vectors/item_ids.json.
    string internal constant GTIN14 = "09506000134352";
    /// @dev An SSCC (valid check digit) for the tests that need one logistic unit.
    string internal constant SSCC = "095060001000000012";
    string internal constant SERIAL = "DIA-0001";
    bytes32 internal constant META_HASH = keccak256("diamond metadata v1");
    string internal constant META_URI = "ipfs://bafy-diamond-0001";
    bytes32 internal constant KIND = "GRADING_REPORT";
    bytes32 internal constant DATA_HASH = keccak256("grading report #42");

    /// @dev Default offer lifetime used by the helpers.
    uint64 internal constant TTL = 1 days;

    bytes32 internal item;

    function setUp() public virtual {
        vm.warp(1_700_000_000); // a realistic clock, so "in the past" expiries exist
        registry = new OriginRegistry(_admins(admin), 1);
        item = registry.itemId(GTIN14, SERIAL);

        vm.startPrank(admin);
        _admit(brand, "Brand", registry.BRAND_ROLE());
        _admit(certifier, "Certifier", registry.CERTIFIER_ROLE());
        _admit(carrier, "Carrier", registry.CARRIER_ROLE());
        _admit(customs, "Customs", registry.CUSTOMS_ROLE());
        _admit(retailer, "Retailer", registry.RETAILER_ROLE());
        vm.stopPrank();

        vm.label(admin, "admin");
        vm.label(outsider, "outsider");
        vm.label(address(registry), "registry");
    }

    /// @dev Caller must already be pranking as `admin`.
    function _admit(address account, string memory name, bytes32 role) private {
        registry.admitMember(account, name);
        registry.grantRole(role, account);
        vm.label(account, name);
    }

    /// @dev `brand` registers the fixture item and becomes its custodian.
    function _register() internal {
        vm.prank(brand);
        registry.registerItem(item, META_HASH, META_URI);
    }

    /// @dev The current custodian offers the fixture item to `to` for `TTL`; returns the expiry.
    function _offer(address to) internal returns (uint64 expiresAt) {
        expiresAt = _expiry();
        vm.prank(registry.custodianOf(item));
        registry.offerCustody(item, to, expiresAt);
    }

    /// @dev Hands the fixture item from its custodian to `to` (offer + accept).
    function _handTo(address to) internal {
        _offer(to);
        vm.prank(to);
        registry.acceptCustody(item);
    }

    /// @dev Registers the item and walks it brand -> carrier -> customs -> retailer.
    function _toRetailer() internal {
        _register();
        _handTo(carrier);
        _handTo(customs);
        _handTo(retailer);
    }

    /// @dev `account` as a one-element admin list for the constructor.
    function _admins(address account) internal pure returns (address[] memory admins) {
        admins = new address[](1);
        admins[0] = account;
    }

    /// @dev The 65-byte (r, s, v) signature of `digest` by the key `privateKey`.
    function _sign(uint256 privateKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, digest);
        return abi.encodePacked(r, s, v);
    }

    function _expiry() internal view returns (uint64) {
        return uint64(block.timestamp) + TTL;
    }

    function _err(bytes4 selector, bytes32 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, id);
    }

    function _errStatus(bytes32 id, Status status) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IOriginRegistry.RegistryInvalidStatus.selector, id, status);
    }

    function _errRole(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    function _assertStatus(bytes32 id, Status expected, string memory what) internal view {
        assertEq(uint256(registry.statusOf(id)), uint256(expected), what);
    }

    function _assertNoOffer(bytes32 id) internal view {
        IOriginRegistry.Offer memory offer = registry.offerOf(id);
        assertEq(offer.to, address(0), "offer.to cleared");
        assertEq(uint256(offer.expiresAt), 0, "offer.expiresAt cleared");
    }
}


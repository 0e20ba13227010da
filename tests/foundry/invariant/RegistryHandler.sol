// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OriginRegistry} from "../../../contracts/OriginRegistry.sol";
import {Status} from "../../../contracts/types/RecordTypes.sol";
import {TestBase} from "../utils/Test.sol";

/// @title RegistryHandler
/// @notice Drives an OriginRegistry (2 admins, threshold 2) with random but plausible actions
/// over a fixed pool of ids, and keeps the ghost state the invariants compare against.
/// @dev Every action may revert (the fuzzer picks arguments blindly); ghosts change only when
/// the registry call succeeded, so they record what the chain should now hold.
contract RegistryHandler is TestBase {
    OriginRegistry public immutable registry;
    uint256 public constant ITEMS = 10;
    uint256 public constant UNITS = 2;
    uint256 public constant ACTORS = 5;
    uint256 private constant SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// @dev Members with known keys: brand 2, carrier 4, customs 5, retailer 6; shopper 7 (not a member).
    uint256[ACTORS] internal keys = [uint256(2), 4, 5, 6, 7];
    address[2] internal admins;
    bytes32[4] internal roles;

    uint256 public ghost_registered;
    bool public ghost_rogueRoleChange;
    bool public ghost_nonceDecreased;
    mapping(bytes32 id => bool) public ghost_terminal;
    mapping(address account => uint256) public ghost_nonce;
    mapping(bytes32 role => mapping(address account => bool)) public ghost_role;
    /// @dev Successful registry calls per function, to see what the campaign reached.
    mapping(bytes4 selector => uint256) public succeeded;

    constructor(OriginRegistry registry_, address admin1, address admin2) {
        registry = registry_;
        admins = [admin1, admin2];
        roles = [registry.BRAND_ROLE(), registry.CARRIER_ROLE(), registry.CUSTOMS_ROLE(), registry.RETAILER_ROLE()];
        for (uint256 r = 0; r < roles.length; ++r) {
            for (uint256 a = 0; a < ACTORS; ++a) {
                ghost_role[roles[r]][actor(a)] = registry.hasRole(roles[r], actor(a));
            }
        }
    }

    // ----------------------------------------------------------------- pools

    function actor(uint256 seed) public view returns (address) {
        return vm.addr(keys[seed % ACTORS]);
    }

    function itemAt(uint256 i) public pure returns (bytes32) {
        return keccak256(abi.encode("invariant item", i % ITEMS));
    }

    /// @dev The pool's units: the SSCCs below, as {ItemIds.logisticUnit} derives their ids.
    function ssccAt(uint256 i) public pure returns (string memory) {
        return i % UNITS == 0 ? "095060001000000050" : "095060001000000067";
    }

    function unitAt(uint256 i) public pure returns (bytes32) {
        return keccak256(abi.encodePacked("00", ssccAt(i)));
    }

    /// @dev Any record of the pool: items first, then units.
    function recordAt(uint256 i) public pure returns (bytes32) {
        i %= ITEMS + UNITS;
        return i < ITEMS ? itemAt(i) : unitAt(i - ITEMS);
    }

    function roleAt(uint256 i) public view returns (bytes32) {
        return roles[i % roles.length];
    }

    // ----------------------------------------------------------------- actions

    function registerBatch(uint256 start, uint256 count) external {
        start %= ITEMS;
        count = 1 + (count % 4);
        bytes32[] memory ids = new bytes32[](count);
        bytes32[] memory hashes = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            ids[i] = itemAt(start + i);
            hashes[i] = keccak256(abi.encode(ids[i]));
        }
        if (_as(actor(0), abi.encodeCall(registry.registerItems, (ids, hashes, "ipfs://batch")))) {
            ghost_registered += count;
        }
    }

    function registerOne(uint256 i) external {
        bytes32 id = itemAt(i);
        if (_as(actor(0), abi.encodeCall(registry.registerItem, (id, keccak256(abi.encode(id)), "ipfs://one")))) {
            ++ghost_registered;
        }
    }

    function createUnit(uint256 u, uint256 who) external {
        _as(actor(who), abi.encodeCall(registry.createUnit, (ssccAt(u))));
    }

    function offer(uint256 i, uint256 to) external {
        bytes32 id = recordAt(i);
        _as(registry.custodianOf(id), abi.encodeCall(registry.offerCustody, (id, actor(to), uint64(block.timestamp + 1 days))));
    }

    function accept(uint256 i) external {
        i %= ITEMS + UNITS;
        bytes32 id = recordAt(i);
        for (uint256 k = 0; k < ITEMS + UNITS; ++k) {
            if (registry.statusOf(recordAt(i + k)) == Status.Offered) {
                id = recordAt(i + k);
                break;
            }
        }
        _as(registry.offerOf(id).to, abi.encodeCall(registry.acceptCustody, (id)));
    }

    /// @dev Offer and accept in one step, to a retailer: makes sales and claims reachable.
    function deliverToRetailer(uint256 i) external {
        bytes32 id = itemAt(i);
        address retailer = actor(3);
        uint64 expiresAt = uint64(block.timestamp + 1 days);
        if (_as(registry.custodianOf(id), abi.encodeCall(registry.offerCustody, (id, retailer, expiresAt)))) {
            _as(retailer, abi.encodeCall(registry.acceptCustody, (id)));
        }
    }

    function cancel(uint256 i) external {
        bytes32 id = recordAt(i);
        _as(registry.custodianOf(id), abi.encodeCall(registry.cancelOffer, (id)));
    }

    /// @dev The claim code (a private key) of `id`.
    function _code(bytes32 id) private pure returns (uint256) {
        return uint256(keccak256(abi.encode("code", id))) % (SECP256K1_ORDER - 1) + 1;
    }

    function sell(uint256 i) external {
        bytes32 id = _firstItemHeldBy(i, actor(3));
        _as(registry.custodianOf(id), abi.encodeWithSignature("markSold(bytes32,address)", id, vm.addr(_code(id))));
    }

    function claim(uint256 i, uint256 who) external {
        bytes32 id = _firstItemIn(i, Status.Sold);
        address to = actor(who);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_code(id), registry.claimDigest(id, to));
        _as(to, abi.encodeCall(registry.claim, (id, to, abi.encodePacked(r, s, v))));
    }

    function recall(uint256 i) external {
        _as(actor(0), abi.encodeCall(registry.recall, (itemAt(i))));
    }

    function changeStatus(uint256 i, uint256 op) external {
        bytes32 id = itemAt(i);
        bytes memory data = op % 3 == 0
            ? abi.encodeCall(registry.reportLost, (id))
            : op % 3 == 1 ? abi.encodeCall(registry.reportFound, (id)) : abi.encodeCall(registry.destroy, (id));
        _as(registry.custodianOf(id), data);
    }

    function pack(uint256 u, uint256 i) external {
        bytes32 unit = unitAt(u);
        bytes32[] memory ids = new bytes32[](1);
        ids[0] = recordAt(i);
        _as(registry.custodianOf(unit), abi.encodeCall(registry.pack, (unit, ids)));
    }

    function unpack(uint256 u, uint256 i) external {
        bytes32 unit = unitAt(u);
        bytes32[] memory ids = new bytes32[](1);
        i %= ITEMS + UNITS;
        ids[0] = recordAt(i);
        // Prefer a record that is in this unit, so unpacking is actually exercised.
        for (uint256 k = 0; k < ITEMS + UNITS; ++k) {
            if (registry.containerOf(recordAt(i + k)) == unit) {
                ids[0] = recordAt(i + k);
                break;
            }
        }
        _as(registry.custodianOf(unit), abi.encodeCall(registry.unpack, (unit, ids)));
    }

    function signedHandoff(uint256 i, uint256 toSeed, bool stale) external {
        bytes32 id = recordAt(i);
        address from = registry.custodianOf(id);
        address to = actor(toSeed);
        if (_keyOf(from) == 0) return;
        uint256 fromBefore = registry.nonces(from);
        uint256 toBefore = registry.nonces(to);
        bool ok = _as(address(this), _handoffCall(id, from, toSeed, stale));
        if (registry.nonces(from) < fromBefore || registry.nonces(to) < toBefore) ghost_nonceDecreased = true;
        if (ok) {
            ++ghost_nonce[from];
            ++ghost_nonce[to];
        }
    }

    /// @dev A handoffSigned call signed by both keys; `stale` signs a wrong digest, which must fail.
    function _handoffCall(bytes32 id, address from, uint256 toSeed, bool stale) private view returns (bytes memory) {
        address to = actor(toSeed);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 digest = registry.handoffDigest(id, from, to, deadline);
        if (stale) digest = keccak256(abi.encode(digest));
        bytes memory fromSig = _sign(_keyOf(from), digest);
        bytes memory toSig = _sign(keys[toSeed % ACTORS], digest);
        return abi.encodeCall(registry.handoffSigned, (id, from, to, deadline, fromSig, toSig));
    }

    /// @dev Two admins approve a role change: the only way roles change at threshold 2.
    function governRole(uint256 r, uint256 who, bool grant) external {
        bytes32 role = roleAt(r);
        address account = actor(who);
        bytes memory data = grant ? abi.encodeCall(registry.grantRole, (role, account)) : abi.encodeCall(registry.revokeRole, (role, account));
        vm.prank(admins[0]);
        try registry.propose(data) returns (uint256 id) {
            vm.prank(admins[1]);
            try registry.approve(id) {
                ghost_role[role][account] = grant;
            } catch {}
        } catch {}
    }

    /// @dev Anyone, including one admin alone, tries to change a role directly: must never work.
    function rogueRole(uint256 r, uint256 who, uint256 callerSeed, bool grant) external {
        bytes32 role = roleAt(r);
        address caller = callerSeed % 3 == 0 ? admins[callerSeed % 2] : actor(callerSeed);
        bytes memory data = grant ? abi.encodeCall(registry.grantRole, (role, actor(who))) : abi.encodeCall(registry.revokeRole, (role, actor(who)));
        if (_as(caller, data)) ghost_rogueRoleChange = true;
    }

    function warp(uint256 secondsAhead) external {
        vm.warp(block.timestamp + (secondsAhead % 2 days));
    }

    // ----------------------------------------------------------------- internals

    function _as(address caller, bytes memory data) private returns (bool ok) {
        vm.prank(caller);
        (ok,) = address(registry).call(data);
        if (ok) ++succeeded[bytes4(data)];
        _trackTerminal();
    }

    /// @dev Records every pool item that reached Recalled or Destroyed.
    function _trackTerminal() private {
        for (uint256 i = 0; i < ITEMS; ++i) {
            Status status = registry.statusOf(itemAt(i));
            if (status == Status.Recalled || status == Status.Destroyed) ghost_terminal[itemAt(i)] = true;
        }
    }

    /// @dev The first pool item from `seed` on held by `account` (or the item at `seed`).
    function _firstItemHeldBy(uint256 seed, address account) private view returns (bytes32) {
        seed %= ITEMS;
        for (uint256 k = 0; k < ITEMS; ++k) {
            if (registry.custodianOf(itemAt(seed + k)) == account) return itemAt(seed + k);
        }
        return itemAt(seed);
    }

    /// @dev The first pool item from `seed` on in `status` (or the item at `seed`).
    function _firstItemIn(uint256 seed, Status status) private view returns (bytes32) {
        seed %= ITEMS;
        for (uint256 k = 0; k < ITEMS; ++k) {
            if (registry.statusOf(itemAt(seed + k)) == status) return itemAt(seed + k);
        }
        return itemAt(seed);
    }

    function _keyOf(address account) private view returns (uint256) {
        for (uint256 a = 0; a < ACTORS; ++a) {
            if (vm.addr(keys[a]) == account) return keys[a];
        }
        return 0;
    }

    function _sign(uint256 key, bytes32 digest) private pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}

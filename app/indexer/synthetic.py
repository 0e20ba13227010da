"""Generate a large, realistic registry history fast, for the index benchmark and indexer tests.

A history is sized in events (logs), like the index benchmark's goals. Its phases:

1. member admissions and role changes (10 events);
2. batch registrations (`registerItems`, one `ItemsRegistered` log per 500 items);
3. aggregation: the brand creates one logistic unit (`createUnit`) per registration batch and
   `pack`s the batch into it, 500 items per call (one `UnitPacked` log each), then `unpack`s
   the first items again (one `UnitUnpacked` log each), as at a distribution centre;
4. journeys of some unpacked items: attestations, custody offers, accepts, cancels and sales.

Most events are thus many logs from few transactions. Transactions are signed locally and
sent in JSON-RPC batches without waiting for each receipt; only phase boundaries wait,
because a phase's transactions depend on the previous phase (an accept needs its offer).
"""

import logging
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from app.chain.client import dev_account
from app.gs1.keys import LogisticUnit
from app.indexer.rpc import RpcClient

log = logging.getLogger(__name__)

BATCH = 500
"""Items per registerItems, pack or unpack call (the registry's MAX_BATCH)."""
SINGLE_GAS = 200_000
BATCH_GAS = 100_000, 30_000  # gas of a 500-item call: base + per item (registerItems, pack)
UNPACK_GAS = 100_000, 15_000
FAR_FUTURE = 2**40  # offer expiry: never reached on a devnet
SEND_CHUNK = 200  # transactions per JSON-RPC batch request
SETUP_EVENTS = 10
"""4 admissions + 4 role grants + 1 revoke + 1 re-grant."""
UNPACKED_SHARE = 4
"""About 1 packed item in UNPACKED_SHARE is unpacked again."""


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _call(signature: str, types: list[str], values: list[Any]) -> bytes:
    return _selector(signature) + encode(types, values)


def _role(name: str) -> bytes:
    return keccak(text=f"{name}_ROLE")


def item_id(n: int) -> bytes:
    """Id of the n-th synthetic item."""
    return keccak(b"synthetic item " + n.to_bytes(8, "big"))


def unit_sscc(n: int) -> str:
    """SSCC of the n-th synthetic logistic unit: extension 3, prefix 0950600, GS1 check digit."""
    body = f"30950600{n:09d}"
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str(-weighted % 10)


def unit_id(n: int) -> bytes:
    """Id of the n-th synthetic logistic unit (keccak256 of "00" + its SSCC)."""
    return LogisticUnit(unit_sscc(n)).item_id


def _batches(items: int) -> int:
    return -(-items // BATCH)


@dataclass(frozen=True)
class HistoryPlan:
    """What the history holds; `events` counts the logs it emits, `changes` the records it changes.

    `registered` items are registered in 500-item batches and each batch is packed into a unit
    of its own; the first `unpacked` items are unpacked again, and the first `journeys` of those
    travel: attested, offered to the carrier, then `cancelled` of them cancelled and the rest
    accepted, offered to the retailer, accepted and sold.
    """

    registered: int
    unpacked: int
    journeys: int
    cancelled: int

    @classmethod
    def for_events(cls, total: int) -> "HistoryPlan":
        """A plan of exactly `total` events (at least 39): about 1 in 200 events starts a journey."""
        journeys = max(2, total // 200)
        cancelled = journeys // 5
        rest = total - SETUP_EVENTS - cls._journey_events(journeys, cancelled)
        # Per registered item: one UnitPacked, 1/500 ItemsRegistered and UnitCreated, and about
        # 1/UNPACKED_SHARE UnitUnpacked; the unpacked count takes up the rounding.
        per_share = BATCH * (UNPACKED_SHARE + 1) + 2 * UNPACKED_SHARE
        registered = max(journeys, rest * BATCH * UNPACKED_SHARE // per_share)
        unpacked = rest - registered - 2 * _batches(registered)
        if not journeys <= unpacked <= registered:
            raise ValueError(f"a history needs at least 39 events, not {total}")
        plan = cls(registered=registered, unpacked=unpacked, journeys=journeys, cancelled=cancelled)
        assert plan.events == total
        return plan

    @staticmethod
    def _journey_events(journeys: int, cancelled: int) -> int:
        # Per journey: attest (ItemAttested and AttestationRecorded), offer, then either
        # cancel, or accept + offer + accept + sale.
        return 3 * journeys + cancelled + 4 * (journeys - cancelled)

    @property
    def units(self) -> int:
        """Logistic units created: one per registration batch."""
        return _batches(self.registered)

    @property
    def events(self) -> int:
        """Logs emitted: one per registerItems batch, one per packed or unpacked item, one per other event."""
        return (
            SETUP_EVENTS
            + _batches(self.registered)  # ItemsRegistered
            + self.units  # UnitCreated
            + self.registered  # UnitPacked
            + self.unpacked  # UnitUnpacked
            + self._journey_events(self.journeys, self.cancelled)
        )

    @property
    def changes(self) -> int:
        """Record changes: each registered item counts one, like each other event."""
        return self.events - _batches(self.registered) + self.registered


class _Sender:
    """Signs and sends transactions, mining a block every `per_block` transactions if asked."""

    def __init__(self, rpc: RpcClient, registry: str, per_block: int | None) -> None:
        self.rpc = rpc
        self.registry = registry
        self.per_block = per_block
        self.chain_id = int(rpc.call("eth_chainId", []), 16)
        self.nonces: dict[str, int] = {}
        self.pending: list[bytes] = []
        self.last_hashes: dict[str, str] = {}

    def tx(self, account: LocalAccount, data: bytes, gas: int = SINGLE_GAS) -> None:
        address = account.address
        if address not in self.nonces:
            self.nonces[address] = int(self.rpc.call("eth_getTransactionCount", [address, "pending"]), 16)
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": self.nonces[address],
            "to": self.registry,
            "data": data,
            "gas": gas,
            "maxFeePerGas": 100 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "value": 0,
        }
        self.nonces[address] += 1
        signed = account.sign_transaction(tx)
        self.pending.append(signed.raw_transaction)
        self.last_hashes[address] = "0x" + signed.hash.hex()
        if self.per_block is not None and len(self.pending) >= self.per_block:
            self._send()
            self.rpc.call("evm_mine", [])
        elif len(self.pending) >= SEND_CHUNK:
            self._send()

    def _send(self) -> None:
        if self.pending:
            self.rpc.batch([("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in self.pending])
            self.pending = []

    def settle(self, per_block: int | None = None) -> None:
        """Wait until every sent transaction is mined and succeeded (mining if automine is off)."""
        self._send()
        for _ in range(10_000):
            receipts = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in self.last_hashes.values()])
            if all(receipts):
                failed = [r["transactionHash"] for r in receipts if r["status"] != "0x1"]
                if failed:
                    raise RuntimeError(f"synthetic history transactions reverted: {failed}")
                self.last_hashes = {}
                self.per_block = per_block if per_block is not None else self.per_block
                return
            if self.per_block is not None:
                self.rpc.call("evm_mine", [])
        raise RuntimeError("synthetic history transactions were not mined")


def generate_history(
    rpc_url: str, registry: str, events: int, txs_per_block: int | None = None
) -> HistoryPlan:
    """Emit exactly `events` registry logs (see HistoryPlan) and return the plan that was run.

    With `txs_per_block`, automine is switched off meanwhile: each block carries one 500-item
    call (registerItems, pack, unpack) or `txs_per_block` other transactions, like a busy chain.
    The registry must be fresh and administered by devnet account 0; accounts 11-14 are funded
    (anvil_setBalance) and become its members.
    """
    plan = HistoryPlan.for_events(events)
    rpc = RpcClient(rpc_url, timeout=120)
    operator, brand, certifier, carrier, retailer = (dev_account(i) for i in (0, 11, 12, 13, 14))
    manual_mining = txs_per_block is not None
    if manual_mining:
        rpc.call("evm_setAutomine", [False])
    for account in (brand, certifier, carrier, retailer):
        rpc.call("anvil_setBalance", [account.address, hex(10**22)])
    one_per_block = 1 if manual_mining else None
    sender = _Sender(rpc, registry, per_block=one_per_block)
    try:
        for account, name, role in (
            (brand, "Synthetic Brand", "BRAND"),
            (certifier, "Synthetic Lab", "CERTIFIER"),
            (carrier, "Synthetic Carrier", "CARRIER"),
            (retailer, "Synthetic Retailer", "RETAILER"),
        ):
            sender.tx(
                operator, _call("admitMember(address,string)", ["address", "string"], [account.address, name])
            )
            sender.tx(
                operator,
                _call("grantRole(bytes32,address)", ["bytes32", "address"], [_role(role), account.address]),
            )
        sender.tx(
            operator,
            _call(
                "revokeRole(bytes32,address)", ["bytes32", "address"], [_role("RETAILER"), retailer.address]
            ),
        )
        sender.tx(
            operator,
            _call(
                "grantRole(bytes32,address)", ["bytes32", "address"], [_role("RETAILER"), retailer.address]
            ),
        )
        sender.settle()

        batches = [
            [item_id(n) for n in range(first, min(first + BATCH, plan.registered))]
            for first in range(0, plan.registered, BATCH)
        ]
        for b, ids in enumerate(batches):
            data = _call(
                "registerItems(bytes32[],bytes32[],string)",
                ["bytes32[]", "bytes32[]", "string"],
                [ids, [keccak(i) for i in ids], f"ipfs://synthetic/{b}"],
            )
            sender.tx(brand, data, gas=BATCH_GAS[0] + BATCH_GAS[1] * len(ids))
        sender.settle(per_block=txs_per_block)

        # Aggregation: each registration batch goes onto a pallet of its own.
        units = [unit_id(u) for u in range(plan.units)]
        for u in range(plan.units):
            sender.tx(brand, _call("createUnit(string)", ["string"], [unit_sscc(u)]))
        sender.settle(per_block=one_per_block)
        packing = ["bytes32", "bytes32[]"]
        for unit, ids in zip(units, batches, strict=True):
            data = _call("pack(bytes32,bytes32[])", packing, [unit, ids])
            sender.tx(brand, data, gas=BATCH_GAS[0] + BATCH_GAS[1] * len(ids))
        sender.settle()
        # The first `unpacked` items come off their pallets again (journeys start from them).
        for first in range(0, plan.unpacked, BATCH):
            ids = batches[first // BATCH][: plan.unpacked - first]
            data = _call("unpack(bytes32,bytes32[])", packing, [units[first // BATCH], ids])
            sender.tx(brand, data, gas=UNPACK_GAS[0] + UNPACK_GAS[1] * len(ids))
        sender.settle(per_block=txs_per_block)

        journey = [item_id(n) for n in range(plan.journeys)]
        sold, cancelled = journey[plan.cancelled :], journey[: plan.cancelled]
        offer = "offerCustody(bytes32,address,uint64)", ["bytes32", "address", "uint64"]
        one = ["bytes32"]
        for i in journey:
            sender.tx(
                certifier,
                _call("attest(bytes32,bytes32,bytes32)", ["bytes32"] * 3, [i, b"LAB_REPORT", keccak(i)]),
            )
            sender.tx(brand, _call(*offer, [i, carrier.address, FAR_FUTURE]))
        sender.settle()
        for i in cancelled:
            sender.tx(brand, _call("cancelOffer(bytes32)", one, [i]))
        for i in sold:
            sender.tx(carrier, _call("acceptCustody(bytes32)", one, [i]))
        sender.settle()
        for i in sold:
            sender.tx(carrier, _call(*offer, [i, retailer.address, FAR_FUTURE]))
        sender.settle()
        for i in sold:
            sender.tx(retailer, _call("acceptCustody(bytes32)", one, [i]))
        sender.settle()
        for i in sold:
            sender.tx(retailer, _call("markSold(bytes32)", one, [i]))
        sender.settle()
    finally:
        if manual_mining:
            rpc.call("evm_setAutomine", [True])
    log.info(
        "synthetic history: %d events (%d record changes): %d items in %d units, %d unpacked, %d journeys",
        plan.events,
        plan.changes,
        plan.registered,
        plan.units,
        plan.unpacked,
        plan.journeys,
    )
    return plan

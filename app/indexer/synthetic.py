"""Generate a large, realistic registry history fast, for the index benchmark and indexer tests.

Mostly batch registrations (`registerItems`, one `ItemsRegistered` log per 500 items), plus
member admissions and role changes, attestations, custody offers, accepts, cancels and sales.
A history is sized in record changes: each registered item counts one, like each other
event. Transactions are signed locally and sent in JSON-RPC batches without waiting for each
receipt; only phase boundaries wait, because a phase's transactions depend on the previous
phase (an accept needs its offer).
"""

import logging
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from app.chain.client import dev_account
from app.indexer.rpc import RpcClient

log = logging.getLogger(__name__)

BATCH = 500
"""Items per registerItems call (the registry's MAX_BATCH)."""
SINGLE_GAS = 200_000
FAR_FUTURE = 2**40  # offer expiry: never reached on a devnet
SEND_CHUNK = 200  # transactions per JSON-RPC batch request


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _call(signature: str, types: list[str], values: list[Any]) -> bytes:
    return _selector(signature) + encode(types, values)


def _role(name: str) -> bytes:
    return keccak(text=f"{name}_ROLE")


def item_id(n: int) -> bytes:
    """Id of the n-th synthetic item."""
    return keccak(b"synthetic item " + n.to_bytes(8, "big"))


@dataclass(frozen=True)
class HistoryPlan:
    """How many items get which journey; `changes` counts them, `events` the logs they emit."""

    registered: int
    journeys: int
    cancelled: int

    @classmethod
    def for_changes(cls, total: int) -> "HistoryPlan":
        """A plan of about `total` record changes: about 1 in 20 items travels to a sale."""
        journeys = max(2, total // 100)
        cancelled = journeys // 5
        return cls(
            registered=max(journeys, total - cls._other_events(journeys, cancelled)),
            journeys=journeys,
            cancelled=cancelled,
        )

    @staticmethod
    def _other_events(journeys: int, cancelled: int) -> int:
        # 4 admissions + 4 grants + 1 revoke + 1 re-grant; per journey: attest (ItemAttested and
        # AttestationRecorded), offer, then either cancel, or accept + offer + accept + sale.
        return 10 + 3 * journeys + cancelled + 4 * (journeys - cancelled)

    @property
    def changes(self) -> int:
        """Registered items plus every other event."""
        return self.registered + self._other_events(self.journeys, self.cancelled)

    @property
    def events(self) -> int:
        """Logs emitted: one per registerItems batch, one per other event."""
        return -(-self.registered // BATCH) + self._other_events(self.journeys, self.cancelled)


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
    rpc_url: str, registry: str, changes: int, txs_per_block: int | None = None
) -> HistoryPlan:
    """Make about `changes` record changes (see HistoryPlan) and return the plan actually run.

    With `txs_per_block`, automine is switched off meanwhile: each block carries one
    500-item registration or `txs_per_block` other transactions, like a busy chain. The registry must be
    fresh and administered by devnet account 0; accounts 11-14 are funded (anvil_setBalance)
    and become its members.
    """
    plan = HistoryPlan.for_changes(changes)
    rpc = RpcClient(rpc_url, timeout=120)
    operator, brand, certifier, carrier, retailer = (dev_account(i) for i in (0, 11, 12, 13, 14))
    manual_mining = txs_per_block is not None
    if manual_mining:
        rpc.call("evm_setAutomine", [False])
    for account in (brand, certifier, carrier, retailer):
        rpc.call("anvil_setBalance", [account.address, hex(10**22)])
    sender = _Sender(rpc, registry, per_block=1 if manual_mining else None)
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

        for first in range(0, plan.registered, BATCH):
            ids = [item_id(n) for n in range(first, min(first + BATCH, plan.registered))]
            hashes = [keccak(i) for i in ids]
            data = _call(
                "registerItems(bytes32[],bytes32[],string)",
                ["bytes32[]", "bytes32[]", "string"],
                [ids, hashes, f"ipfs://synthetic/{first // BATCH}"],
            )
            sender.tx(brand, data, gas=100_000 + 30_000 * len(ids))
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
    log.info("synthetic history: %d record changes in %d events", plan.changes, plan.events)
    return plan

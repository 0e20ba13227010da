"""`make bench-gas`: gas of the registry's scale paths against an ERC-721 mint-per-item baseline.

Everything is measured as receipt `gasUsed` on a real anvil (what a member pays, including the
21,000 base and calldata), registry and baseline in the same run. Writes bench/results/gas.json.
"""

import json
import statistics
import sys
import time

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from app.chain.artifacts import artifact
from app.chain.client import connect, dev_account, registry, send
from app.chain.deploy import deploy_registry
from app.chain.devnet import running_devnet
from app.chain.handoffs import handoff_typed_data, sign_handoff
from app.chain.merkle import LotTree
from app.core.config import PROJECT_ROOT
from app.demo.journey import Member, admit_members, demo_members
from app.gs1.keys import LogisticUnit

RESULT = PROJECT_ROOT / "bench" / "results" / "gas.json"
BASELINE_DIR = PROJECT_ROOT / "bench" / "contracts"
LOT_SIZE = 1_000_000
BATCH = 100
CATALOGUE_LOT_SIZE = 150_000
"""Items per lot of the anchorLots batches (lots of ~20k-500k items): only recorded, never hashed."""
BATCHES = 5
UNIT_CONTENTS = 1_000
REPEAT = 5
URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/"
DEADLINE = 2**40

GOALS = {
    "lot_anchor_gas_per_item": 1,
    "batch_register_gas_per_item": 25_000,
    "unit_move_gas": 35_000,
    "signed_handoff_gas": 75_000,
}


def _ids(label: str, count: int) -> list[bytes]:
    return [keccak(text=f"{label}-{i}") for i in range(count)]


class Bench:
    """One anvil, one registry with the demo consortium, one baseline ERC-721."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.operator = dev_account(0)
        self.members: dict[str, Member] = demo_members()
        self.registry: Contract = registry(w3, deploy_registry(w3, self.operator).registry)
        admit_members(w3, self.registry, self.operator, self.members)
        self.brand = self.members["brand"].account
        self.carrier = self.members["carrier"].account
        self.customs = self.members["customs"].account

    def gas(self, sender: LocalAccount, call: ContractFunction) -> int:
        return int(send(self.w3, sender, call)["gasUsed"])

    def lot_anchor(self) -> float:
        entries = [(item, keccak(item)) for item in _ids("lot-item", LOT_SIZE)]
        root = LotTree.build(entries).root
        call = self.registry.functions.anchorLot(
            keccak(text="LOT-1M"), root, LOT_SIZE, keccak(text="lot"), URI
        )
        return self.gas(self.brand, call) / LOT_SIZE

    def batch_register(self) -> float:
        per_item = []
        for b in range(BATCHES):
            ids = _ids(f"batch-{b}", BATCH)
            call = self.registry.functions.registerItems(ids, [keccak(i) for i in ids], URI)
            per_item.append(self.gas(self.brand, call) / BATCH)
        return statistics.mean(per_item)

    def lot_batch_anchor(self) -> float:
        """Gas per lot of anchorLots with BATCH lots (distinct roots, as a catalogue's lots have)."""
        per_lot = []
        for b in range(BATCHES):
            ids = _ids(f"catalogue-lot-{b}", BATCH)
            call = self.registry.functions.anchorLots(
                ids,
                [keccak(i) for i in ids],
                [CATALOGUE_LOT_SIZE] * BATCH,
                [keccak(b"meta" + i) for i in ids],
                URI,
            )
            per_lot.append(self.gas(self.brand, call) / BATCH)
        return statistics.mean(per_lot)

    def _hand(self, record: bytes, giver: LocalAccount, taker: LocalAccount) -> tuple[int, int]:
        expires = self.w3.eth.get_block("latest")["timestamp"] + 3600
        offer = self.gas(giver, self.registry.functions.offerCustody(record, taker.address, expires))
        return offer, self.gas(taker, self.registry.functions.acceptCustody(record))

    def unit_move(self) -> tuple[float, float]:
        """(offer gas, accept gas) of moving a container holding UNIT_CONTENTS items."""
        pallet = LogisticUnit.parse("095060001000000012")
        unit = pallet.item_id
        self.gas(self.brand, self.registry.functions.createUnit(pallet.sscc))
        ids = _ids("unit-item", UNIT_CONTENTS)
        for start in range(0, UNIT_CONTENTS, 250):
            chunk = ids[start : start + 250]
            self.gas(self.brand, self.registry.functions.registerItems(chunk, chunk, URI))
            self.gas(self.brand, self.registry.functions.pack(unit, chunk))
        offers, accepts = [], []
        holders = [self.brand, self.carrier, self.customs]
        for n in range(REPEAT):
            offer, accept = self._hand(unit, holders[n % 3], holders[(n + 1) % 3])
            offers.append(offer)
            accepts.append(accept)
        assert self.registry.functions.custodianOf(ids[-1]).call() == holders[REPEAT % 3].address
        return statistics.mean(offers), statistics.mean(accepts)

    def signed_handoff(self) -> tuple[float, int]:
        """(steady-state gas, gas when both signers use their first nonce) of one relayed handoff."""
        item = keccak(text="signed-item")
        self.gas(self.brand, self.registry.functions.registerItem(item, item, URI))
        costs = []
        pair = [self.brand, self.carrier]
        for n in range(REPEAT + 1):
            giver, taker = pair[n % 2], pair[(n + 1) % 2]
            typed = handoff_typed_data(self.registry, item, giver.address, taker.address, DEADLINE)
            call = self.registry.functions.handoffSigned(
                item,
                giver.address,
                taker.address,
                DEADLINE,
                sign_handoff(giver, typed),
                sign_handoff(taker, typed),
            )
            costs.append(self.gas(self.operator, call))
        return statistics.mean(costs[1:]), costs[0]

    def baseline(self) -> tuple[float, float]:
        """(mint gas per item, transfer gas) of the OpenZeppelin ERC-721 baseline."""
        compiled = artifact("BaselineERC721", BASELINE_DIR)
        factory = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        address = send(self.w3, self.brand, factory.constructor(self.brand.address))["contractAddress"]
        token = self.w3.eth.contract(address=address, abi=compiled.abi)
        ids = [int.from_bytes(i) for i in _ids("baseline", BATCH)]
        mints = [self.gas(self.brand, token.functions.mint(self.brand.address, i)) for i in ids]
        transfers = [
            self.gas(self.brand, token.functions.transferFrom(self.brand.address, self.carrier.address, i))
            for i in ids[:REPEAT]
        ]
        return statistics.mean(mints), statistics.mean(transfers)


def run() -> dict[str, object]:
    started = time.monotonic()
    with running_devnet("anvil") as node:
        bench = Bench(connect(node.rpc_url))
        offer, accept = bench.unit_move()
        steady, first = bench.signed_handoff()
        mint, transfer = bench.baseline()
        metrics: dict[str, tuple[float, str]] = {
            "lot_anchor_gas_per_item": (bench.lot_anchor(), "gas/item"),
            "batch_register_gas_per_item": (bench.batch_register(), "gas/item"),
            "lot_batch_anchor_gas_per_lot": (bench.lot_batch_anchor(), "gas/lot"),
            "unit_move_gas": (accept, "gas"),
            "signed_handoff_gas": (steady, "gas"),
            "baseline_mint_gas_per_item": (mint, "gas/item"),
            "baseline_transfer_gas": (transfer, "gas"),
            "unit_offer_gas": (offer, "gas"),
            "signed_handoff_first_nonce_gas": (first, "gas"),
        }
    result: dict[str, object] = {
        "bench": "gas",
        "metrics": {k: {"value": round(v, 4), "unit": u} for k, (v, u) in metrics.items()},
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    _print(metrics, time.monotonic() - started)
    return result


def _print(metrics: dict[str, tuple[float, str]], seconds: float) -> None:
    def row(name: str, value: float, unit: str, goal: str, verdict: str) -> None:
        print(f"  {name:<34} {value:>14,.2f} {unit:<9} {goal:>12}  {verdict}")

    print(
        f"\nGas: receipt gasUsed on anvil ({seconds:.0f} s); baseline: OpenZeppelin ERC-721, a token per item"
    )
    baseline_item, baseline_move = (
        metrics["baseline_mint_gas_per_item"][0],
        metrics["baseline_transfer_gas"][0],
    )
    for name, (value, unit) in metrics.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else ("meets goal" if value <= goal else "MISSES goal")
        if name in {"lot_anchor_gas_per_item", "batch_register_gas_per_item"}:
            verdict += f"  ({baseline_item / value:,.1f}x cheaper than a mint)"
        if name == "lot_batch_anchor_gas_per_lot":
            verdict += (
                f"  ({value / 20_000:.2f} gas/item in 20,000-item lots, {value / 500_000:.3f} in 500,000)"
            )
        if name in {"unit_move_gas", "signed_handoff_gas"}:
            verdict += f"  (baseline transfer of ONE item: {baseline_move:,.0f})"
        row(name, value, unit, f"<= {goal:,}" if goal else "", verdict)
    print(f"\nwrote {RESULT.relative_to(PROJECT_ROOT)}")


def main(argv: list[str]) -> int:
    del argv
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

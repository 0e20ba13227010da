"""Reorgs on a real anvil (snapshot/revert): custody events removed and replaced, the index follows."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import OwnChain
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from sqlalchemy import Engine, select
from test_indexer import dump
from web3 import Web3
from web3.contract import Contract

from app.chain.client import dev_account, send
from app.chain.deploy import Deployment
from app.db.engine import make_engine
from app.db.schema import blocks, events, indexer_state, items, members, unit_contents, unit_packings
from app.demo.journey import Member, hand_over
from app.gs1.keys import LogisticUnit
from app.indexer.follow import Indexer
from app.indexer.rpc import RpcClient

ITEM_A, ITEM_B = keccak(text="reorg item A"), keccak(text="reorg item B")


@pytest.fixture
def chain(own_chain: OwnChain) -> OwnChain:
    """Its own anvil (a reorg must not disturb the shared devnet), members admitted, two items."""
    w3, contract, _, members = own_chain
    for item in (ITEM_A, ITEM_B):
        send(w3, members["brand"].account, contract.functions.registerItem(item, keccak(item), "ipfs://x"))
    return own_chain


def _custodians(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(items.c.item_id, items.c.custodian)).all())


def _fresh_index(w3: Web3, deployment: Deployment, path: Path) -> Engine:
    reference = make_engine(f"sqlite:///{path}")
    Indexer(w3, reference, deployment, confirmations=2).backfill()
    return reference


class ReorgMidRead(RpcClient):
    """The node reorgs (`reorg` runs) right after it answered the first `method` request."""

    def __init__(self, url: str, method: str, reorg: Callable[[], None]) -> None:
        super().__init__(url)
        self.method = method
        self.reorg: Callable[[], None] | None = reorg

    def _answered(self, method: str) -> None:
        if method == self.method and self.reorg is not None:
            reorg, self.reorg = self.reorg, None
            reorg()

    def call(self, method: str, params: list[Any]) -> Any:
        result = super().call(method, params)
        self._answered(method)
        return result

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        results = super().batch(calls)
        self._answered(calls[0][0] if calls else "")
        return results


def _indexed_then_snapshot(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], engine: Engine
) -> tuple[Indexer, str, list[LocalAccount]]:
    """Index the chain as it is, snapshot it; (indexer, snapshot id, [brand, carrier, customs])."""
    w3, _, deployment, members = chain
    indexer = Indexer(w3, engine, deployment, confirmations=2)
    indexer.backfill()
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    return indexer, snapshot, [members[k].account for k in ("brand", "carrier", "customs")]


def test_reorg_replaces_custody_events_and_matches_the_new_chain(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine, tmp_path: Path
) -> None:
    w3, contract, deployment, _ = chain
    indexer, snapshot, (brand, carrier, customs) = _indexed_then_snapshot(chain, index_engine)
    fork_block = w3.eth.block_number

    # The branch that will be dropped: both items go to the carrier (4 blocks).
    for item in (ITEM_A, ITEM_B):
        hand_over(w3, contract, item, brand, carrier)
    indexer.backfill()
    a, b = "0x" + ITEM_A.hex(), "0x" + ITEM_B.hex()
    assert _custodians(index_engine)[a] == carrier.address
    with index_engine.connect() as conn:
        kept = conn.execute(select(blocks.c.number)).scalars().all()
    assert max(kept) == w3.eth.block_number  # recent block hashes are kept for reorg checks

    # The reorg: a shorter branch where item A goes to customs instead.
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True  # type: ignore[arg-type]
    hand_over(w3, contract, ITEM_A, brand, customs)
    assert w3.eth.block_number < max(kept)
    indexer.backfill()
    assert _custodians(index_engine) == {a: customs.address, b: brand.address}
    with index_engine.connect() as conn:
        receivers = [
            e.args["to"] for e in conn.execute(select(events).where(events.c.name == "CustodyTransferred"))
        ]
    assert receivers == [customs.address]
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "after-reorg.db"))

    # The new branch grows past the old one; a restarted indexer keeps following it.
    hand_over(w3, contract, ITEM_B, brand, customs)
    hand_over(w3, contract, ITEM_A, customs, carrier)
    Indexer(w3, index_engine, deployment, confirmations=2).backfill()
    assert w3.eth.block_number > fork_block + 4
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "grown.db"))
    assert _custodians(index_engine) == {a: carrier.address, b: customs.address}


def test_same_length_reorg_is_detected_by_block_hash(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine, tmp_path: Path
) -> None:
    w3, contract, deployment, _ = chain
    indexer, snapshot, (brand, carrier, customs) = _indexed_then_snapshot(chain, index_engine)
    hand_over(w3, contract, ITEM_A, brand, carrier)
    indexer.backfill()
    old_head = w3.eth.block_number
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    hand_over(w3, contract, ITEM_A, brand, customs)
    assert w3.eth.block_number == old_head  # same height, different blocks
    indexer.backfill()
    assert _custodians(index_engine)["0x" + ITEM_A.hex()] == customs.address
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "reference.db"))


def test_reorg_rebuilds_units_containers_and_status(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine, tmp_path: Path
) -> None:
    w3, contract, deployment, _ = chain
    indexer, snapshot, (brand, carrier, _customs) = _indexed_then_snapshot(chain, index_engine)
    pallet = LogisticUnit.parse("095060001000000012")
    unit = pallet.item_id
    send(w3, brand, contract.functions.createUnit(pallet.sscc))
    send(w3, brand, contract.functions.pack(unit, [ITEM_A]))
    send(w3, brand, contract.functions.recall(ITEM_B))
    indexer.backfill()
    with index_engine.connect() as conn:
        containers = dict(conn.execute(select(unit_contents.c.item_id, unit_contents.c.container)).all())
    assert containers == {"0x" + ITEM_A.hex(): "0x" + unit.hex()}

    # The reorg drops the pallet and the recall; item A goes to the carrier instead.
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    hand_over(w3, contract, ITEM_A, brand, carrier)
    indexer.backfill()
    with index_engine.connect() as conn:
        rows = {r.item_id: r for r in conn.execute(select(items))}
        packed = conn.execute(select(unit_contents)).all()
    assert set(rows) == {"0x" + ITEM_A.hex(), "0x" + ITEM_B.hex()}  # the unit is gone
    assert packed == []
    assert rows["0x" + ITEM_B.hex()].status == "active"
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "reference.db"))


def test_a_reorg_replaying_one_packed_record_keeps_its_units_packing_step_whole(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine, tmp_path: Path
) -> None:
    """Items A and B packed in one transaction below the fork; A's unpacking above it is undone.
    The rollback replays A's events (its packing too): the step must stay one of two records."""
    w3, contract, deployment, members = chain
    brand = members["brand"].account
    unit = LogisticUnit.parse("095060001000000029").item_id
    send(w3, brand, contract.functions.createUnit("095060001000000029"))
    send(w3, brand, contract.functions.pack(unit, [ITEM_A, ITEM_B]))
    indexer, snapshot, _ = _indexed_then_snapshot(chain, index_engine)
    send(w3, brand, contract.functions.unpack(unit, [ITEM_A]))
    indexer.backfill()

    def steps() -> list[tuple[str, int, int]]:
        with index_engine.connect() as conn:
            rows = conn.execute(select(unit_packings).order_by(unit_packings.c.block_number))
            return [(row.name, row.record_count, len(row.first_logs)) for row in rows]

    assert steps() == [("UnitPacked", 2, 2), ("UnitUnpacked", 1, 1)]
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    send(w3, brand, contract.functions.registerItem(keccak(text="reorg item C"), keccak(b"C"), "ipfs://c"))
    indexer.backfill()
    assert steps() == [("UnitPacked", 2, 2)]
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "reference.db"))


def test_reorg_rebuilds_batch_registered_items_without_resetting_their_siblings(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine, tmp_path: Path
) -> None:
    w3, contract, deployment, members = chain
    brand, carrier, customs = (members[k].account for k in ("brand", "carrier", "customs"))
    x, y, z = (keccak(text=f"reorg batch item {n}") for n in range(3))
    send(w3, brand, contract.functions.registerItems([x, y, z], [x, y, z], "ipfs://batch"))
    hand_over(w3, contract, y, brand, carrier)  # below the fork: y's state must survive the replay
    indexer, snapshot, _ = _indexed_then_snapshot(chain, index_engine)

    # The dropped branch: x moves, and a second batch is registered.
    hand_over(w3, contract, x, brand, carrier)
    dropped = [keccak(text="dropped batch item 0"), keccak(text="dropped batch item 1")]
    send(w3, brand, contract.functions.registerItems(dropped, dropped, "ipfs://dropped"))
    indexer.backfill()
    assert set(_custodians(index_engine)) >= {"0x" + d.hex() for d in dropped}

    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    hand_over(w3, contract, x, brand, customs)
    indexer.backfill()
    custodians = _custodians(index_engine)
    assert {k: custodians["0x" + k.hex()] for k in (x, y, z)} == {
        x: customs.address,
        y: carrier.address,
        z: brand.address,
    }
    assert not {"0x" + d.hex() for d in dropped} & set(custodians)
    with index_engine.connect() as conn:
        created = dict(conn.execute(select(items.c.item_id, items.c.created_tx)).all())
        (batch,) = conn.execute(select(events.c.tx_hash).where(events.c.name == "ItemsRegistered")).all()
    assert {"0x" + k.hex(): batch.tx_hash for k in (x, y, z)}.items() <= created.items()
    assert len(created) == 5  # x, y, z and the two items of the chain fixture
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "reference.db"))


def test_reorg_rebuilds_members_from_their_remaining_events(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine, tmp_path: Path
) -> None:
    w3, contract, deployment, consortium = chain
    brand, carrier = consortium["brand"].account, consortium["carrier"].account
    batch = [keccak(text=f"member reorg item {n}") for n in range(3)]
    send(w3, brand, contract.functions.registerItems(batch, batch, "ipfs://batch"))  # names no single record
    send(w3, dev_account(0), contract.functions.setMemberGln(carrier.address, "9506000000008"))
    indexer, snapshot, _ = _indexed_then_snapshot(chain, index_engine)

    send(w3, dev_account(0), contract.functions.setMemberGln(carrier.address, "9506000000015"))
    send(w3, dev_account(0), contract.functions.removeMember(brand.address))
    indexer.backfill()
    assert _members(index_engine)[carrier.address] == ("9506000000015", True)
    assert _members(index_engine)[brand.address][1] is False

    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    send(w3, dev_account(0), contract.functions.setMemberGln(brand.address, "9506000000022"))
    indexer.backfill()
    found = _members(index_engine)
    assert found[carrier.address] == ("9506000000008", True)  # its GLN before the fork, replayed
    assert found[brand.address] == ("9506000000022", True)
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "reference.db"))


def _members(engine: Engine) -> dict[str, tuple[str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(select(members.c.address, members.c.gln, members.c.active))
        return {address: (gln, active) for address, gln, active in rows}


def test_a_block_replaced_while_its_range_is_read_is_read_again(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine, tmp_path: Path
) -> None:
    """Block H+1 has no registry logs when eth_getLogs reads it, then H+1' replaces it with a
    registration. The headers read after eth_getLogs were all of the new chain, so the index
    kept H+1' as if its (missing) logs had been read, and no later check found the gap."""
    w3, contract, deployment, _ = chain
    _, snapshot, (brand, _carrier, _customs) = _indexed_then_snapshot(chain, index_engine)
    w3.provider.make_request("anvil_mine", ["0x1"])  # type: ignore[arg-type]
    item = keccak(text="registered on the branch that wins")

    def reorg() -> None:
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        send(w3, brand, contract.functions.registerItem(item, keccak(item), "ipfs://x"))

    rpc = ReorgMidRead(str(w3.provider.endpoint_uri), "eth_getLogs", reorg)  # type: ignore[attr-defined]
    Indexer(w3, index_engine, deployment, confirmations=2, rpc=rpc).backfill()
    assert rpc.reorg is None  # the reorg happened mid-read
    assert "0x" + item.hex() in _custodians(index_engine)
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "reference.db"))


def test_the_last_indexed_block_replaced_before_the_range_is_read_is_rolled_back(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine, tmp_path: Path
) -> None:
    """The reorg lands after `_check_reorg` found the last indexed block on the chain, before the
    next range is read: that range is all of the new chain, so only the parent hash of its first
    block shows that it does not follow the indexed one."""
    w3, contract, deployment, _ = chain
    indexer, snapshot, (brand, carrier, customs) = _indexed_then_snapshot(chain, index_engine)
    hand_over(w3, contract, ITEM_A, brand, carrier)
    indexer.backfill()
    w3.provider.make_request("anvil_mine", ["0x1"])  # type: ignore[arg-type]

    def reorg() -> None:  # item A went to customs instead, and the new branch is longer
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        hand_over(w3, contract, ITEM_A, brand, customs)
        w3.provider.make_request("anvil_mine", ["0x2"])  # type: ignore[arg-type]

    rpc = ReorgMidRead(str(w3.provider.endpoint_uri), "eth_getBlockByNumber", reorg)  # type: ignore[attr-defined]
    racing = Indexer(w3, index_engine, deployment, confirmations=2, rpc=rpc)
    racing.backfill()  # its first header read is `_check_reorg`'s: the reorg comes right after
    assert rpc.reorg is None
    racing.backfill()
    assert _custodians(index_engine)["0x" + ITEM_A.hex()] == customs.address
    assert dump(index_engine) == dump(_fresh_index(w3, deployment, tmp_path / "reference.db"))


def test_a_shallow_reorg_right_after_a_backfill_rolls_back(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], tmp_path: Path
) -> None:
    """A backfill's range entering the reorg window kept only its last block's hash and those of
    blocks with logs: a 2-block reorg over empty blocks found no kept block below the fork and
    stopped the indexer for good (ReorgTooDeep), restarted or not."""
    w3, contract, deployment, members = chain
    brand, carrier, customs = (members[k].account for k in ("brand", "carrier", "customs"))
    w3.provider.make_request("anvil_mine", [hex(200)])  # type: ignore[arg-type]
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    hand_over(w3, contract, ITEM_A, brand, carrier)
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    indexer = Indexer(w3, engine, deployment, confirmations=12)
    indexer.backfill()
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True  # type: ignore[arg-type]
    hand_over(w3, contract, ITEM_A, brand, customs)
    indexer.backfill()
    assert _custodians(engine)["0x" + ITEM_A.hex()] == customs.address
    assert dump(engine) == dump(_fresh_index(w3, deployment, tmp_path / "reference.db"))


def _paused_since(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.execute(select(indexer_state.c.paused_since)).scalar_one()  # type: ignore[no-any-return]


def test_a_pause_or_resume_undone_by_a_reorg_is_undone_in_the_index(
    chain: tuple[Web3, Contract, Deployment, dict[str, Member]], index_engine: Engine
) -> None:
    w3, contract, _, consortium = chain
    admin, carrier = dev_account(0), consortium["carrier"].account.address
    indexer, snapshot, _ = _indexed_then_snapshot(chain, index_engine)
    send(w3, admin, contract.functions.pause())  # the only pause event, then dropped
    indexer.backfill()
    assert _paused_since(index_engine) == w3.eth.get_block("latest")["timestamp"]
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    for _ in range(2):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    indexer.backfill()
    assert _paused_since(index_engine) is None

    send(w3, admin, contract.functions.pause())
    paused_at = w3.eth.get_block("latest")["timestamp"]
    indexer.backfill()
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    assert _paused_since(index_engine) == paused_at

    send(w3, admin, contract.functions.unpause())  # the branch that will be dropped
    indexer.backfill()
    assert _paused_since(index_engine) is None
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    send(w3, admin, contract.functions.setMemberGln(carrier, "9506000000008"))  # longer than 1 block
    send(w3, admin, contract.functions.setMemberGln(carrier, "9506000000015"))
    indexer.backfill()
    assert _paused_since(index_engine) == paused_at  # the pause before the fork stands again

    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    send(w3, admin, contract.functions.unpause())
    w3.provider.make_request("evm_increaseTime", [60])  # type: ignore[arg-type]
    send(w3, admin, contract.functions.pause())  # paused again, a minute later
    indexer.backfill()
    assert _paused_since(index_engine) == w3.eth.get_block("latest")["timestamp"] != paused_at
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    for _ in range(3):
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    indexer.backfill()
    assert _paused_since(index_engine) == paused_at

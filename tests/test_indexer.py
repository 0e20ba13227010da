"""Indexer against a real anvil: state rebuilt from events, checkpoint resume, no duplicates."""

import pytest
from sqlalchemy import Engine, func, select, text
from web3 import Web3

from app.chain.artifacts import artifact
from app.chain.client import registry
from app.chain.deploy import Deployment
from app.db.engine import make_engine
from app.db.schema import events, items, members
from app.demo.journey import DIAMOND, seed_demo
from app.indexer.decode import LogDecoder, UndecodableLog
from app.indexer.follow import Indexer


def _dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the state tables, in a stable order, to compare two databases."""
    with engine.connect() as conn:
        return {
            table: [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))]
            for table in ("events", "items", "members", "attestations")
        }


@pytest.fixture
def seeded(w3: Web3, deployment: Deployment, operator) -> Deployment:  # type: ignore[no-untyped-def]
    seed_demo(w3, registry(w3, deployment.registry), operator)
    return deployment


def test_backfill_rebuilds_item_state_from_events(w3: Web3, seeded: Deployment, engine: Engine) -> None:
    Indexer(w3, engine, seeded).backfill()
    with engine.connect() as conn:
        item = conn.execute(select(items).where(items.c.item_id == "0x" + DIAMOND.item_id.hex())).one()
        names = dict(conn.execute(select(members.c.address, members.c.name)).all())
        kinds = [
            r.name
            for r in conn.execute(
                select(events.c.name).where(events.c.item_id == item.item_id).order_by(events.c.block_number)
            )
        ]
    on_chain = registry(w3, seeded.registry).functions
    assert item.custodian == on_chain.custodianOf(DIAMOND.item_id).call()
    assert item.status == "sold" and on_chain.statusOf(DIAMOND.item_id).call() == 3
    assert names[item.custodian] == "TianMall Global"
    assert kinds == ["ItemRegistered", "ItemAttested"] + ["CustodyOffered", "CustodyTransferred"] * 3 + [
        "ItemSold"
    ]


def test_restart_resumes_from_checkpoint_without_loss_or_duplicates(
    w3: Web3, seeded: Deployment, engine: Engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    head = w3.eth.block_number
    middle = (seeded.deploy_block + head) // 2
    first = Indexer(w3, engine, seeded, max_range=3)
    first.backfill(up_to=middle)
    # A new process reads the checkpoint and continues from the next block.
    resumed = Indexer(w3, engine, seeded, max_range=3)
    assert resumed.next_block == middle + 1
    resumed.backfill(up_to=head)
    Indexer(w3, engine, seeded).backfill(up_to=head)  # a second full pass adds nothing

    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    Indexer(w3, reference, seeded).backfill(up_to=head)
    assert _dump(engine) == _dump(reference)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(events)).scalar_one()
    raw = w3.eth.get_logs({"address": seeded.registry, "fromBlock": seeded.deploy_block, "toBlock": head})
    assert total == len(raw)


def test_a_new_deployment_replaces_a_stale_index(
    w3: Web3, seeded: Deployment, engine: Engine, operator
) -> None:  # type: ignore[no-untyped-def]
    Indexer(w3, engine, seeded).backfill()
    from app.chain.deploy import deploy_registry

    other = deploy_registry(w3, operator)
    Indexer(w3, engine, other).backfill()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() == 0


def test_undecodable_log_is_reported_not_fatal() -> None:
    decoder = LogDecoder(artifact("OriginRegistry").abi)
    bogus = {
        "topics": ["0x" + "ab" * 32],
        "data": "0x",
        "blockNumber": "0x1",
        "blockHash": "0x" + "00" * 32,
        "transactionHash": "0x" + "11" * 32,
        "logIndex": "0x0",
    }
    with pytest.raises(UndecodableLog, match="unknown event topic"):
        decoder.decode(bogus, 0)

"""How a range's handlers change records stored by earlier ranges, on SQLite and PostgreSQL.

Ranges here are built by hand (no chain): the point is what `apply_range` writes.
"""

import logging
from typing import Any

import pytest
from sqlalchemy import Engine, select

from app.chain.deploy import Deployment
from app.db.schema import RECORD_ROWS, indexer_state
from app.indexer.decode import DecodedLog
from app.indexer.store import Batch, CheckpointMoved, apply_range

BRAND = "0x" + "b1" * 20
CARRIER = "0x" + "ca" * 20
RETAILER = "0x" + "7e" * 20
ITEM = "0x" + "01" * 32
OTHER = "0x" + "02" * 32
UNIT = "0x" + "0a" * 32
UNKNOWN = "0x" + "ee" * 32
FROM_BRAND = {"from": BRAND}  # `from` is a Python keyword

DEPLOYMENT = Deployment(
    chain_id=31337,
    registry="0x" + "12" * 20,
    deploy_block=1,
    deploy_block_hash="0x" + "00" * 32,
    deploy_tx="0x" + "00" * 32,
    deployer=BRAND,
    admin=BRAND,
    compiler={},
    deployed_at=0,
)


class Chain:
    """Hands out log positions in order, one transaction per log."""

    def __init__(self) -> None:
        self.position = 0

    def log(self, block: int, name: str, item_id: str | None, **args: Any) -> DecodedLog:
        self.position += 1
        return DecodedLog(
            name, args, block, f"0x{block:064x}", f"0x{self.position:064x}", 0, 1_700_000_000 + block, item_id
        )


def _registered(chain: Chain, block: int, item_id: str) -> DecodedLog:
    return chain.log(
        block,
        "ItemRegistered",
        item_id,
        itemId=item_id,
        brand=BRAND,
        metadataHash="0x" + "33" * 32,
        metadataURI="ipfs://item",
    )


def _store(engine: Engine, block: int, logs: list[DecodedLog]) -> None:
    """Store `logs` as the range after the stored checkpoint, up to `block`."""
    with engine.connect() as conn:
        stored = conn.execute(select(indexer_state.c.last_block)).scalar()
    follows = DEPLOYMENT.deploy_block - 1 if stored is None else stored
    apply_range(engine, DEPLOYMENT, Batch(last_block=block, head=block, follows=follows, logs=logs))


def test_a_range_that_does_not_follow_the_stored_checkpoint_writes_nothing(index_engine: Engine) -> None:
    """Another indexer wrote meanwhile, or the database lost its last commits: the range is
    refused whole, so the indexer can resume from what the database holds."""
    chain = Chain()
    _store(index_engine, 10, [_registered(chain, 10, ITEM)])
    stale = Batch(last_block=20, head=20, follows=5, logs=[_registered(chain, 20, OTHER)])
    with pytest.raises(CheckpointMoved, match="stored checkpoint is block 10, not 5"):
        apply_range(index_engine, DEPLOYMENT, stale)
    assert set(_rows(index_engine)) == {ITEM}


def _rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(RECORD_ROWS)
        return {row.item_id: row._asdict() for row in rows}


def test_later_ranges_change_only_what_their_events_carry(index_engine: Engine) -> None:
    chain = Chain()
    _store(
        index_engine,
        10,
        [
            _registered(chain, 10, ITEM),
            _registered(chain, 10, OTHER),
            chain.log(10, "UnitCreated", UNIT, unitId=UNIT, custodian=CARRIER),
        ],
    )
    before = _rows(index_engine)

    # Range 2: ITEM is packed and unpacked (two column sets merged), OTHER offered.
    _store(
        index_engine,
        20,
        [
            chain.log(20, "UnitPacked", ITEM, id=ITEM, unitId=UNIT),
            chain.log(21, "UnitUnpacked", ITEM, id=ITEM, unitId=UNIT, custodian=CARRIER),
            chain.log(
                21, "CustodyOffered", OTHER, itemId=OTHER, to=RETAILER, expiresAt=99, **{"from": BRAND}
            ),
        ],
    )
    after = _rows(index_engine)

    assert after[ITEM] == {**before[ITEM], "custodian": CARRIER, "updated_block": 21}
    offered = {"status": "offered", "pending_to": RETAILER, "offer_expires_at": 99, "updated_block": 21}
    assert after[OTHER] == {**before[OTHER], **offered}

    # Range 3: OTHER accepted (every column the offer set changes again), ITEM packed again.
    _store(
        index_engine,
        30,
        [
            chain.log(30, "CustodyTransferred", OTHER, itemId=OTHER, to=RETAILER, **FROM_BRAND),
            chain.log(30, "UnitPacked", ITEM, id=ITEM, unitId=UNIT),
        ],
    )
    final = _rows(index_engine)
    handed = {"status": "active", "custodian": RETAILER, "pending_to": None, "offer_expires_at": None}
    assert final[OTHER] == {**before[OTHER], **handed, "updated_block": 30}
    assert final[ITEM] == {**after[ITEM], "container": UNIT}  # packing writes unit_contents only
    assert after[UNIT] == before[UNIT] == final[UNIT]


def test_an_event_about_an_unknown_record_is_logged_and_writes_nothing(
    index_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    chain = Chain()
    _store(index_engine, 10, [_registered(chain, 10, ITEM)])
    unknown = chain.log(20, "UnitUnpacked", UNKNOWN, id=UNKNOWN, unitId=UNIT, custodian=CARRIER)
    with caplog.at_level(logging.WARNING, logger="app.indexer.state"):
        _store(index_engine, 20, [chain.log(20, "UnitPacked", ITEM, id=ITEM, unitId=UNIT), unknown])
    # A pack is not checked against stored records (the registry packs only what it holds);
    # one naming a record the index lacks is reached by no read.
    _store(index_engine, 30, [chain.log(30, "UnitPacked", OTHER, id=OTHER, unitId=UNIT)])

    rows = _rows(index_engine)
    assert set(rows) == {ITEM}
    assert rows[ITEM]["container"] == UNIT
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"UnitUnpacked at {unknown.tx_hash}:0 names unknown record {UNKNOWN}"]


def test_a_change_before_the_record_exists_in_the_same_range_is_logged_and_dropped(
    index_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    chain = Chain()
    early = chain.log(10, "CustodyOffered", OTHER, itemId=OTHER, to=RETAILER, expiresAt=99, **{"from": BRAND})
    with caplog.at_level(logging.WARNING, logger="app.indexer.state"):
        _store(index_engine, 10, [early, _registered(chain, 10, OTHER)])
    assert _rows(index_engine)[OTHER]["pending_to"] is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"CustodyOffered at {early.tx_hash}:0 names unknown record {OTHER}"]


def _split_stored(engine: Engine, logs: list[DecodedLog], split: bool) -> dict[str, dict[str, Any]]:
    """The records after storing `logs` as one range, or one range per block."""
    if split:
        for block in sorted({entry.block_number for entry in logs}):
            _store(engine, block, [entry for entry in logs if entry.block_number == block])
    else:
        _store(engine, max(entry.block_number for entry in logs), logs)
    return _rows(engine)


@pytest.mark.parametrize("split", [False, True])
def test_a_pack_before_its_record_exists_is_logged_and_kept_however_ranges_split(
    index_engine: Engine, caplog: pytest.LogCaptureFixture, split: bool
) -> None:
    """A reorg replays in one range what was first stored in many: both must give one index."""
    chain = Chain()
    logs = [
        chain.log(1, "UnitCreated", UNIT, unitId=UNIT, custodian=CARRIER),
        chain.log(2, "UnitPacked", OTHER, id=OTHER, unitId=UNIT),
        _registered(chain, 3, OTHER),
    ]
    with caplog.at_level(logging.WARNING, logger="app.indexer.state"):
        rows = _split_stored(index_engine, logs, split)
    assert rows[OTHER]["container"] == UNIT
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ([] if split else [f"UnitPacked at {logs[1].tx_hash}:0 names unknown record {OTHER}"])

"""PreparedRead on both databases: the same rows as SQLAlchemy's own execution."""

import pytest
from sqlalchemy import Engine, bindparam, insert, select

from app.db.reads import PreparedRead
from app.db.schema import events

ROWS = [
    {
        "chain_id": 31337,
        "block_number": n,
        "block_hash": "0x" + f"{n:064x}",
        "tx_hash": "0x" + f"{n:064x}",
        "log_index": 0,
        "timestamp": 1_800_000_000 + n,
        "name": name,
        "item_id": "0x" + "ab" * 32,
        "args": {"n": n, "who": ["0x" + "11" * 20]},
    }
    for n, name in enumerate(["ItemRegistered", "CustodyOffered", "CustodyTransferred", "ItemSold"], 1)
]
BY_ITEM_AND_NAMES = (
    select(events)
    .where(events.c.item_id == bindparam("item_id"), events.c.name.in_(["CustodyOffered", "ItemSold"]))
    .order_by(events.c.block_number)
    .limit(bindparam("limit"))
)


def test_rows_match_sqlalchemy_with_literal_in_lists_and_json(index_engine: Engine) -> None:
    with index_engine.begin() as conn:
        conn.execute(insert(events), ROWS)
    read = PreparedRead(BY_ITEM_AND_NAMES)
    with index_engine.connect() as conn:
        expected = conn.execute(BY_ITEM_AND_NAMES, {"item_id": ROWS[0]["item_id"], "limit": 10}).all()
        got = read.rows(conn, item_id=ROWS[0]["item_id"], limit=10)
        assert [tuple(r) for r in got] == [tuple(r) for r in expected]
        assert [r.name for r in got] == ["CustodyOffered", "ItemSold"]
        assert got[0].args == {"n": 2, "who": ["0x" + "11" * 20]}  # JSON decoded, as SQLAlchemy does
        assert read.first(conn, item_id="0x" + "cd" * 32, limit=10) is None
        assert [r.block_number for r in read.rows(conn, item_id=ROWS[0]["item_id"], limit=1)] == [2]


def test_a_missing_parameter_is_named(index_engine: Engine) -> None:
    with index_engine.connect() as conn, pytest.raises(TypeError, match="limit"):
        PreparedRead(BY_ITEM_AND_NAMES).rows(conn, item_id="0x" + "ab" * 32)


def test_a_list_parameter_is_expanded_for_its_length_on_each_call(index_engine: Engine) -> None:
    with index_engine.begin() as conn:
        conn.execute(insert(events), ROWS)
    by_txs = select(events.c.block_number).where(events.c.tx_hash.in_(bindparam("txs", expanding=True)))
    read = PreparedRead(by_txs.order_by(events.c.block_number))
    with index_engine.connect() as conn:
        assert [r.block_number for r in read.rows(conn, txs=[ROWS[2]["tx_hash"]])] == [3]
        everything = [row["tx_hash"] for row in ROWS]
        assert [r.block_number for r in read.rows(conn, txs=everything)] == [1, 2, 3, 4]
        assert read.rows(conn, txs=["0x" + "00" * 32]) == []

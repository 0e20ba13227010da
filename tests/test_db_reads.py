"""PreparedRead on both databases: the same rows as SQLAlchemy's own execution."""

from typing import Any

import pytest
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, Table, bindparam, insert, select, text
from sqlalchemy.exc import DBAPIError

from app.db.reads import MAX_EXPANSIONS, HeldConnection, PreparedRead
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


def test_an_expanded_statement_is_reused_with_each_calls_values(index_engine: Engine) -> None:
    """The expansion for a list length is kept; every call still binds its own list, scalars and
    the statement's constants (a literal IN list) in the right places."""
    with index_engine.begin() as conn:
        conn.execute(insert(events), ROWS)
    stmt = (
        select(events.c.block_number)
        .where(
            events.c.name.in_(["ItemRegistered", "CustodyTransferred", "ItemSold"]),
            events.c.tx_hash.in_(bindparam("txs", expanding=True)),
            events.c.block_number >= bindparam("since"),
        )
        .order_by(events.c.block_number)
    )
    read = PreparedRead(stmt)
    tx = [row["tx_hash"] for row in ROWS]
    with index_engine.connect() as conn:
        for txs, since in [([tx[0]], 0), ([tx[2]], 0), ([tx[2]], 4), (tx, 2), (tx[:2], 0), (tx, 0)]:
            expected = [r.block_number for r in conn.execute(stmt, {"txs": txs, "since": since})]
            assert [r.block_number for r in read.rows(conn, txs=txs, since=since)] == expected
        assert [r.block_number for r in read.rows(conn, txs=tx, since=0)] == [1, 3, 4]


def _in_transaction(conn: Connection) -> bool:
    raw: Any = conn.connection.dbapi_connection
    if hasattr(raw, "in_transaction"):  # sqlite3
        return bool(raw.in_transaction)
    return str(raw.info.transaction_status.name) != "IDLE"  # psycopg


def test_a_held_connection_is_reused_and_sees_later_commits(index_engine: Engine) -> None:
    held = HeldConnection(index_engine)
    count = PreparedRead(select(events.c.log_index))
    try:
        with held.read() as conn:
            assert count.rows(conn) == []
            first = conn
        assert not _in_transaction(first)  # ended, so the next read sees newer commits
        with index_engine.begin() as writer:
            writer.execute(insert(events), ROWS[:1])
        with held.read() as conn:
            assert conn is first
            assert len(count.rows(conn)) == 1
            with held.read() as other:  # a read while the held one is busy gets its own
                assert other is not first
                assert len(count.rows(other)) == 1
    finally:
        held.close()
    assert first.closed


def test_a_database_error_drops_the_held_connection(index_engine: Engine) -> None:
    held = HeldConnection(index_engine)
    try:
        with pytest.raises(DBAPIError), held.read() as conn:
            broken = conn
            conn.execute(text("SELECT * FROM no_such_table"))
        assert broken.closed  # invalidated and given up, not held
        with held.read() as conn:
            assert conn is not broken
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        held.close()


def test_a_driver_error_in_a_prepared_read_drops_the_held_connection(index_engine: Engine) -> None:
    """PreparedRead runs on the driver's cursor, so its errors are the driver's own (not
    SQLAlchemy's): they must drop the connection too, and reach the caller unchanged."""
    missing = Table("no_such_table", MetaData(), Column("id", Integer))
    held = HeldConnection(index_engine)
    try:
        with pytest.raises(index_engine.dialect.loaded_dbapi.Error), held.read() as conn:
            broken = conn
            PreparedRead(select(missing)).rows(conn)
        assert broken.closed
        with held.read() as conn:
            assert conn is not broken
            assert PreparedRead(select(events.c.log_index)).rows(conn) == []
    finally:
        held.close()


def test_expansions_beyond_the_limit_replace_the_oldest(index_engine: Engine) -> None:
    by_tx = events.c.tx_hash.in_(bindparam("txs", expanding=True))
    read = PreparedRead(select(events.c.log_index).where(by_tx))
    with index_engine.connect() as conn:
        for n in range(1, MAX_EXPANSIONS + 6):
            assert read.rows(conn, txs=["0x" + "00" * 32] * n) == []
        kept = read._compiled[conn.dialect.name].expansions
    assert len(kept) == MAX_EXPANSIONS
    assert (MAX_EXPANSIONS + 5,) in kept and (1,) not in kept


def test_a_held_connection_that_died_while_idle_is_replaced_before_use(
    index_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database restarted while the gateway was quiet must cost no request."""
    monkeypatch.setattr(HeldConnection, "IDLE_CHECK_S", 0.0)
    held = HeldConnection(index_engine)
    try:
        with held.read() as conn:
            first = conn
            raw: Any = conn.connection.dbapi_connection
            backend = (
                conn.execute(text("SELECT pg_backend_pid()")).scalar()
                if conn.dialect.name == "postgresql"
                else None
            )
        if backend is None:
            raw.close()  # SQLite: the file handle is gone
        else:
            with index_engine.connect() as other:  # PostgreSQL: the server ends the session
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with held.read() as conn:
            assert conn is not first
            assert PreparedRead(select(events.c.log_index)).rows(conn) == []
    finally:
        held.close()

"""SQLite databases as `make_engine` opens them: WAL mode, page size and checkpoint threshold."""

import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from app.db.engine import SQLITE_PAGE_SIZE, WAL_CHECKPOINT_BYTES, durable_transaction, make_engine


def _pragmas(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return {
            name: conn.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("page_size", "journal_mode", "wal_autocheckpoint")
        }


def test_new_database_gets_large_pages_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert _pragmas(engine) == {
            "page_size": SQLITE_PAGE_SIZE,
            "journal_mode": "wal",
            "wal_autocheckpoint": WAL_CHECKPOINT_BYTES // SQLITE_PAGE_SIZE,
        }
    finally:
        engine.dispose()


def test_existing_database_keeps_its_page_size_and_checkpoints_by_bytes(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # made by an earlier release: SQLite's default pages
        old.execute("PRAGMA page_size=4096")
        old.execute("PRAGMA journal_mode=WAL")
        old.execute("CREATE TABLE kept (n INTEGER)")
        old.execute("INSERT INTO kept VALUES (7)")
    old.close()
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert _pragmas(engine) == {
            "page_size": 4096,
            "journal_mode": "wal",
            "wal_autocheckpoint": WAL_CHECKPOINT_BYTES // 4096,
        }
        with engine.connect() as conn:
            assert conn.execute(text("SELECT n FROM kept")).scalar() == 7
    finally:
        engine.dispose()


def _synchronous(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        return str(conn.execute(text("SHOW synchronous_commit")).scalar())
    return {1: "NORMAL", 2: "FULL"}[int(conn.execute(text("PRAGMA synchronous")).scalar() or 0)]


def test_a_durable_transaction_waits_for_the_disk_and_the_others_do_not(index_engine: Engine) -> None:
    """The relayer's record of a transaction it sends commits durably; the index's commits (which
    the chain can replay) do not wait. A crash of the database must not lose a sent transaction."""
    with durable_transaction(index_engine) as conn:
        during = _synchronous(conn)
        conn.execute(text("CREATE TABLE durable_probe (n INTEGER)"))
    with index_engine.connect() as conn:
        after = _synchronous(conn)
        assert conn.execute(text("SELECT count(*) FROM durable_probe")).scalar() == 0  # committed
    assert (during, after) in {("FULL", "NORMAL"), ("on", "off")}

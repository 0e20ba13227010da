"""The one database layer entry point: an engine for SQLite (WAL) or PostgreSQL, migrated to head."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


SQLITE_PAGE_SIZE = 16_384
"""Bytes per page of a new SQLite database (SQLite's default is 4,096). A backfill writes
hundreds of MB of index and table pages, each through the WAL and again at the checkpoint;
with 16 KiB pages a scratch copy of bench-index's 200,000-event chain was backfilled in
6.4-7.2 s against 7.4-8.2 s, in five alternating pairs (fewer pages, frames and B-tree
splits; a 500-item batch event spans 5 overflow pages, not 18). Existing databases keep the
size they were created with."""
SQLITE_SYNCHRONOUS = "NORMAL"
"""In WAL mode a commit then survives a process crash (SIGKILL); only an OS crash may lose the
last commits, never corrupt the database (`durable_transaction` waits for the disk)."""
WAL_CHECKPOINT_BYTES = 200 * 2**20
"""WAL size at which a checkpoint is taken (SQLite's default: 1,000 pages)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Takes effect only while the file is still empty (before WAL mode is set on it).
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
    cursor.execute("PRAGMA busy_timeout=5000")
    # Checkpoints fsync; on a bulk backfill, letting the WAL reach ~200 MB before one is taken
    # (instead of 4 MB) makes them rare, and the size limit shrinks the file back afterwards.
    page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_BYTES // page_size}")
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _postgres_session(dbapi_connection: Any, _record: Any) -> None:
    # Everything here is re-derivable from the chain, and each range commits together with its
    # checkpoint: a server crash may forget the last commits (the next range finds the stored
    # checkpoint behind the one it follows, and the indexer reads those blocks again:
    # store.CheckpointMoved) but never leaves a half-written range. So commits need not wait
    # for fsync.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    dbapi_connection.commit()


@contextmanager
def durable_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction whose commit returns once it is on disk, for what cannot be read again from
    the chain (the relayer's record of a transaction it sends). The index's own commits do not
    wait so (see `_sqlite_pragmas` and `_postgres_session`)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            with conn.begin():
                conn.execute(text("SET LOCAL synchronous_commit = on"))
                yield conn
            return
        conn.execute(text("PRAGMA synchronous=FULL"))  # outside the transaction, which follows
        conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            conn.execute(text(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}"))
            conn.commit()


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def database_url(url: str) -> URL:
    """`url` parsed; a bare `postgresql://` URL gets the psycopg (3) driver this project installs."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


MIGRATION_LOCK = 0x4F524947494E  # "ORIGIN"
"""PostgreSQL advisory lock key held while migrating."""
MIGRATION_WAIT_S = 300
"""How long a process waits for another's SQLite migration to finish."""


def _sqlite_migration_engine(url: URL) -> Engine:
    """An engine for migrating a SQLite file in one transaction that takes the write lock
    first (BEGIN IMMEDIATE). Python's sqlite3 starts no transaction before DDL, so each
    statement of a migration committed on its own: a process killed mid-upgrade left tables
    of the next revision under the old version number, and every later start failed; and two
    processes opening a new file at once both created its tables."""
    # The timeout covers the connect-time pragmas too (the busy_timeout below, later statements).
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": MIGRATION_WAIT_S})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, record)
        dbapi_connection.execute(f"PRAGMA busy_timeout={MIGRATION_WAIT_S * 1000}")  # wait out another's
        dbapi_connection.isolation_level = None  # SQLAlchemy's transactions, as emitted below

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _current(engine: Engine) -> str | None:
    """The schema revision of `engine`'s database (None when it has none yet, or when another
    process holds it while creating it: then the migration, which waits its turn, finds out)."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError:
        return None


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Bring the schema of `engine` to alembic `revision` (the newest by default); `down`
    goes back to an older one, carrying the data over as the upgrade did.

    All of it is one transaction (a crash leaves the schema as it was), and one process
    migrates at a time: the others wait, then find the schema current."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if (
        not down
        and revision == "head"
        and _current(engine) == ScriptDirectory.from_config(config).get_current_head()
    ):
        return  # current: no write lock taken (a gateway may only read, an indexer may be writing)
    sqlite = engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")
    migrating = _sqlite_migration_engine(engine.url) if sqlite else engine
    try:
        with migrating.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        if sqlite:
            migrating.dispose()


def make_engine(url: str) -> Engine:
    """An engine for `url` with the schema migrated to head; SQLite files get WAL mode."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False}, json_serializer=_json)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(parsed, pool_pre_ping=True, json_serializer=_json)
        event.listen(engine, "connect", _postgres_session)
    migrate(engine)
    return engine

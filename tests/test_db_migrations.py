"""Schema migrations carry existing rows over, on SQLite and PostgreSQL."""

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from app.db.engine import (
    MIGRATION_WAIT_S,
    MIGRATIONS,
    _sqlite_migration_engine,
    database_url,
    make_engine,
    migrate,
)
from app.db.schema import metadata

TX, BATCH_TX = "0x" + "a1" * 32, "0x" + "b2" * 32
ITEM, BATCHED, UNIT = ("0x" + f"{n:064x}" for n in (1, 2, 3))
BRAND = "0x" + "b1" * 20
_config = Config()
_config.set_main_option("script_location", str(MIGRATIONS))
HEAD = ScriptDirectory.from_config(_config).get_current_head()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url(db_url))
    try:
        yield engine
    finally:
        engine.dispose()


def _event(n: int, tx: str, log_index: int, name: str, item_id: str | None) -> dict[str, object]:
    return {
        "id": n,
        "chain_id": 31337,
        "block_number": 10 + n,
        "block_hash": "0x" + "cc" * 32,
        "tx_hash": tx,
        "log_index": log_index,
        "timestamp": 1_700_000_000 + n,
        "name": name,
        "item_id": item_id,
        "args": "{}",
    }


def _record(item_id: str, kind: str, container: str | None) -> dict[str, object]:
    return {"item_id": item_id, "kind": kind, "container": container, "brand": BRAND}


def _rows(engine: Engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(query))]


def test_0006_moves_containers_and_creation_logs_and_back(engine: Engine) -> None:
    migrate(engine, "0005")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events (id, chain_id, block_number, block_hash, tx_hash, log_index, timestamp, "
                "name, item_id, args) VALUES (:id, :chain_id, :block_number, :block_hash, :tx_hash, "
                ":log_index, :timestamp, :name, :item_id, :args)"
            ),
            [
                _event(1, TX, 0, "ItemRegistered", ITEM),
                _event(2, TX, 1, "UnitCreated", UNIT),
                _event(3, BATCH_TX, 0, "ItemsRegistered", None),
                _event(4, BATCH_TX, 1, "UnitPacked", BATCHED),
            ],
        )
        conn.execute(
            text(
                "INSERT INTO items (item_id, kind, container, brand, custodian, status, metadata_hash, "
                "metadata_uri, registered_block, updated_block) VALUES (:item_id, :kind, :container, "
                ":brand, :brand, 'active', '0x00', '', 11, 11)"
            ),
            [_record(ITEM, "item", None), _record(UNIT, "unit", None), _record(BATCHED, "item", UNIT)],
        )
        conn.execute(
            text(
                "INSERT INTO event_records (item_id, chain_id, tx_hash, log_index, block_number) "
                "VALUES (:item_id, 31337, :tx, 0, 13)"
            ),
            [{"item_id": BATCHED, "tx": BATCH_TX}],
        )

    migrate(engine)
    assert _rows(engine, "SELECT item_id, container FROM unit_contents") == [(BATCHED, UNIT)]
    assert sorted(_rows(engine, "SELECT item_id, created_tx, created_log_index FROM items")) == [
        (ITEM, TX, 0),
        (BATCHED, BATCH_TX, 0),
        (UNIT, TX, 1),
    ]
    assert len(_rows(engine, "SELECT tx_hash, log_index FROM events")) == 4

    migrate(engine, "0005", down=True)
    assert sorted(_rows(engine, "SELECT item_id, container FROM items")) == [
        (ITEM, None),
        (BATCHED, UNIT),
        (UNIT, None),
    ]
    assert _rows(engine, "SELECT item_id, tx_hash, log_index, block_number FROM event_records") == [
        (BATCHED, BATCH_TX, 0, 13)
    ]
    with engine.begin() as conn:  # new events still get an id of their own
        conn.execute(
            text(
                "INSERT INTO events (chain_id, block_number, block_hash, tx_hash, log_index, timestamp, "
                "name, args) VALUES (31337, 20, '0x00', :tx, 5, 1, 'MemberAdmitted', '{}')"
            ),
            {"tx": TX},
        )
    ids = [row[0] for row in _rows(engine, "SELECT id FROM events")]
    assert len(set(ids)) == 5 and None not in ids


def test_migrated_indexes_and_keys_are_the_declared_ones(engine: Engine) -> None:
    """What alembic's schema comparison does not check: index methods (hash), partial-index
    predicates and the column order of primary keys."""
    migrate(engine)
    dialect = engine.dialect.name
    query = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        if dialect == "postgresql"
        else "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    )
    with engine.connect() as conn:
        definitions = {str(name): str(sql) for name, sql in conn.execute(text(query))}
        inspector = inspect(conn)
        for table in metadata.tables.values():
            keys = inspector.get_pk_constraint(table.name)["constrained_columns"]
            assert keys == [column.name for column in table.primary_key.columns], table.name
            for index in table.indexes:
                definition = definitions[str(index.name)]
                assert f"({', '.join(column.name for column in index.columns)})" in definition
                if dialect == "postgresql":
                    assert f"USING {index.dialect_options['postgresql']['using'] or 'btree'} (" in definition
                where = index.dialect_options[dialect]["where"]
                assert ("WHERE" in definition) == (where is not None), index.name
                assert where is None or str(where) in definition


def _collations(engine: Engine) -> dict[tuple[str, str], str | None]:
    """(table, column) -> collation of every text column of the declared tables (PostgreSQL)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT table_name, column_name, collation_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND data_type IN ('character varying', 'text')"
            )
        )
        return {(table, column): collation for table, column, collation in rows if table in metadata.tables}


def test_hex_columns_compare_as_bytes_on_postgresql_and_0007_goes_back(engine: Engine) -> None:
    """Alembic's comparison skips collations: the migrated hex columns must be "C" as declared."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite compares text as bytes already; 0007 changes nothing there")
    migrate(engine)
    declared = {
        (table.name, column.name): column.type.dialect_impl(engine.dialect).collation  # type: ignore[attr-defined]
        for table in metadata.tables.values()
        for column in table.columns
        if (table.name, column.name) in _collations(engine)
    }
    assert _collations(engine) == declared
    assert sum(collation == "C" for collation in declared.values()) == 34  # every id, hash and address
    migrate(engine, "0006", down=True)
    assert set(_collations(engine).values()) == {None}
    migrate(engine)
    assert _collations(engine) == declared


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_long_event_arguments_compress_with_lz4_on_postgresql_and_0012_goes_back(engine: Engine) -> None:
    """A 500-item batch's arguments (hex ids that hardly compress) went through pglz, slowly."""
    migrate(engine)
    batch = {"itemIds": [f"0x{n:064x}" for n in range(500)], "metadataHashes": ["0x" + "ab" * 32] * 500}
    row = _event(1, BATCH_TX, 0, "ItemsRegistered", None) | {"args": json.dumps(batch)}
    del row["id"]
    columns = ", ".join(row)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO events ({columns}) VALUES (:{', :'.join(row)})"), row)
    stored = "SELECT pg_column_compression(args) FROM events"
    column = (
        "SELECT attcompression FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname = 'args'"
    )
    assert _rows(engine, stored) == [("lz4",)]
    migrate(engine, "0011", down=True)
    assert _rows(engine, column) == [("p",)]
    migrate(engine)
    assert _rows(engine, column) == [("l",)]


def test_0013_counts_the_packing_steps_already_indexed_and_goes_back(engine: Engine) -> None:
    """A unit's page lists its steps from `unit_packings`, which 0013 fills from the events."""
    migrate(engine, "0012")
    unit, other = "0x" + "44" * 32, "0x" + "55" * 32
    packings = [
        _event(n, tx, n, name, f"0x{n + 10:064x}") | {"args": json.dumps({"unitId": container})}
        for n, (tx, name, container) in enumerate(
            [(TX, "UnitPacked", unit)] * 7
            + [(TX, "UnitPacked", other), (TX, "UnitUnpacked", unit), (BATCH_TX, "UnitPacked", unit)]
        )
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events (chain_id, block_number, block_hash, tx_hash, log_index, timestamp,"
                " name, item_id, args) VALUES (:chain_id, :block_number, :block_hash, :tx_hash,"
                " :log_index, :timestamp, :name, :item_id, :args)"
            ),
            packings,
        )
    migrate(engine, "0013")
    steps = "SELECT unit_id, tx_hash, name, block_number, record_count, first_logs FROM unit_packings"
    found = sorted(
        (*row[:5], json.loads(row[5]) if isinstance(row[5], str) else row[5]) for row in _rows(engine, steps)
    )
    assert found == sorted(
        [
            (unit, TX, "UnitPacked", 10, 7, [0, 1, 2, 3, 4]),  # the first five of its seven
            (other, TX, "UnitPacked", 17, 1, [7]),
            (unit, TX, "UnitUnpacked", 18, 1, [8]),
            (unit, BATCH_TX, "UnitPacked", 19, 1, [9]),
        ]
    )
    migrate(engine, "0012", down=True)
    assert "unit_packings" not in inspect(engine).get_table_names()


def _version(url: str) -> str | None:
    probe = create_engine(database_url(url))
    try:
        with probe.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        probe.dispose()


def test_processes_opening_a_new_database_at_once_migrate_it_once(db_url: str) -> None:
    """Three starting together (`serve` and `index --follow` on a new database) each created the
    tables: 'table attestations already exists' on SQLite, a unique violation on PostgreSQL."""
    start, opened, failed = threading.Barrier(3), [], []

    def open_database() -> None:
        start.wait()
        try:
            opened.append(make_engine(db_url))
        except Exception as exc:
            failed.append(exc)

    threads = [threading.Thread(target=open_database, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a migration never finished"
    for engine in opened:
        engine.dispose()
    assert failed == [] and len(opened) == 3
    assert _version(db_url) == HEAD


@pytest.mark.parametrize("fail_at", [1, 2, 4, 8])
def test_an_upgrade_cut_short_leaves_the_schema_it_started_from(db_url: str, fail_at: int) -> None:
    """SQLite ran each DDL statement of a migration as its own commit: an upgrade killed midway
    left the next revision's tables under the old version, and every later start failed
    ('table unit_contents already exists'). Now the upgrade is one transaction."""
    engine = make_engine(db_url)
    migrate(engine, "0005", down=True)
    engine.dispose()
    statements = 0

    def cut_short(conn: Connection, cursor: object, statement: str, *_: object) -> None:
        nonlocal statements
        if statement.lstrip().upper().startswith(("CREATE", "ALTER", "DROP", "INSERT", "UPDATE")):
            statements += 1
            if statements == fail_at:
                raise RuntimeError("the process dies here")

    event.listen(Engine, "before_cursor_execute", cut_short)
    try:
        with pytest.raises(RuntimeError, match="the process dies here"):
            make_engine(db_url)
    finally:
        event.remove(Engine, "before_cursor_execute", cut_short)
    assert _version(db_url) == "0005"
    make_engine(db_url).dispose()  # the next start upgrades from 0005 again
    assert _version(db_url) == HEAD


def test_a_migration_waits_out_another_process_s_migration(tmp_path: Path) -> None:
    """The connect-time `busy_timeout` of 5 s also applied to migrations: a process opening the
    database during another's longer upgrade failed with 'database is locked'."""
    engine = _sqlite_migration_engine(database_url(f"sqlite:///{tmp_path / 'wait.db'}"))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == MIGRATION_WAIT_S * 1000
    finally:
        engine.dispose()


def test_a_current_schema_takes_no_write_lock(tmp_path: Path) -> None:
    """Every start took the migration write lock, even with nothing to migrate: a gateway
    starting while the indexer wrote waited for it (a read-only database failed)."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    make_engine(url).dispose()
    writer = create_engine(database_url(url), poolclass=NullPool)
    opened = threading.Event()
    with writer.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # another process in the middle of a write
        thread = threading.Thread(target=lambda: (make_engine(url).dispose(), opened.set()), daemon=True)
        thread.start()
        assert opened.wait(timeout=10), "opening a current database waited for the writer"
        conn.exec_driver_sql("ROLLBACK")
    writer.dispose()


@pytest.mark.parametrize(
    ("pause_events", "paused_since"), [([], None), (["Paused"], 3), (["Paused", "Unpaused"], None)]
)
def test_0010_reads_whether_the_registry_is_paused_from_the_indexed_events(
    engine: Engine, pause_events: list[str], paused_since: int | None
) -> None:
    """A database indexed before 0010 knows of the pauses in its events: the last one decides."""
    migrate(engine, "0009")
    rows = [
        {k: v for k, v in _event(n, f"0x{n:064x}", 0, name, None).items() if k != "id"}
        for n, name in enumerate(["MemberAdmitted", "ItemsRegistered", *pause_events], start=1)
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events (chain_id, block_number, block_hash, tx_hash, log_index, timestamp, "
                "name, item_id, args) VALUES (:chain_id, :block_number, :block_hash, :tx_hash, "
                ":log_index, :timestamp, :name, :item_id, :args)"
            ),
            rows,
        )
        conn.execute(
            text(
                "INSERT INTO indexer_state (chain_id, registry, deploy_block_hash, last_block, updated_at) "
                "VALUES (31337, :registry, :hash, 20, 1)"
            ),
            {"registry": BRAND, "hash": "0x" + "cc" * 32},
        )
    migrate(engine)
    expected = None if paused_since is None else 1_700_000_000 + paused_since
    assert _rows(engine, "SELECT paused_since FROM indexer_state") == [(expected,)]
    migrate(engine, "0009", down=True)
    assert "paused_since" not in {c["name"] for c in inspect(engine).get_columns("indexer_state")}


def test_0011_reads_each_members_names_and_glns_from_the_indexed_events(engine: Engine) -> None:
    """A database indexed before 0011 knows each member's earlier names and GLNs from its events."""
    migrate(engine, "0010")
    member, other = "0x" + "a1" * 20, "0x" + "b2" * 20
    logs = [
        ("MemberAdmitted", {"account": member, "name": "Old name"}),
        ("MemberGlnSet", {"account": member, "gln": "9506000000015"}),
        ("MemberAdmitted", {"account": other, "name": "Other"}),
        ("MemberRemoved", {"account": member}),
        ("MemberAdmitted", {"account": member, "name": "New name"}),
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events (chain_id, block_number, block_hash, tx_hash, log_index, timestamp, "
                "name, item_id, args) VALUES (31337, :block, :hash, :tx, 0, 1, :name, NULL, :args)"
            ),
            [
                {
                    "block": 10 + n,
                    "hash": "0x" + "cc" * 32,
                    "tx": f"0x{n:064x}",
                    "name": name,
                    "args": json.dumps(args),
                }
                for n, (name, args) in enumerate(logs)
            ],
        )
        conn.execute(
            text(
                "INSERT INTO members (address, name, roles, gln, active) VALUES "
                "(:member, 'New name', '[]', '', true), (:other, 'Other', '[]', '', true)"
            ),
            {"member": member, "other": other},
        )
    migrate(engine)
    history = dict(_rows(engine, "SELECT address, history FROM members"))
    loaded = {
        address: value if isinstance(value, list) else json.loads(str(value))
        for address, value in history.items()
    }
    assert loaded == {
        member: [[10, 0, "Old name", ""], [11, 0, "Old name", "9506000000015"], [14, 0, "New name", ""]],
        other: [[12, 0, "Other", ""]],
    }
    migrate(engine, "0010", down=True)
    assert "history" not in {c["name"] for c in inspect(engine).get_columns("members")}

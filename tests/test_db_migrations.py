"""Schema migrations carry existing rows over, on SQLite and PostgreSQL."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from app.db.engine import database_url, migrate
from app.db.schema import metadata

TX, BATCH_TX = "0x" + "a1" * 32, "0x" + "b2" * 32
ITEM, BATCHED, UNIT = ("0x" + f"{n:064x}" for n in (1, 2, 3))
BRAND = "0x" + "b1" * 20


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
    assert sum(collation == "C" for collation in declared.values()) == 32  # every id, hash and address
    migrate(engine, "0006", down=True)
    assert set(_collations(engine).values()) == {None}
    migrate(engine)
    assert _collations(engine) == declared

"""Portable idempotent bulk writes (insert-or-ignore, upsert) for SQLite and PostgreSQL.

They go straight to the driver: `executemany` on SQLite; on PostgreSQL, COPY (straight into
the table for insert-or-ignore of new rows, else into a temporary table and one
INSERT ... SELECT, UPDATE ... FROM or DELETE ... USING). Rows are dicts with the same keys; JSON
columns are serialised here, once per value.
"""

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import orjson
from psycopg.errors import UniqueViolation
from sqlalchemy import JSON, Connection, Table

IGNORE = "ON CONFLICT DO NOTHING"


def _values(table: Table, columns: list[str], rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    json_columns = {i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)}
    if not json_columns:
        pick = itemgetter(*columns)
        return [pick(row) for row in rows] if len(columns) > 1 else [(row[columns[0]],) for row in rows]
    return [
        tuple(
            orjson.dumps(row[name]).decode() if i in json_columns else row[name]
            for i, name in enumerate(columns)
        )
        for row in rows
    ]


def _stage(cursor: Any, table: Table, columns: Sequence[str], values: Sequence[tuple[Any, ...]]) -> str:
    """COPY `values` into a temporary table shaped like `table` (PostgreSQL); return its name.

    The staging table has every column of `table` and no constraints, so any subset of
    columns can be copied in; it is emptied here and dropped at commit.
    """
    staging = f"_bulk_{table.name}"
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS SELECT * FROM {table.name} WITH NO DATA"
    )
    cursor.execute(f"TRUNCATE {staging}")
    _copy(cursor, staging, columns, values)
    return staging


def _copy(cursor: Any, target: str, columns: Sequence[str], values: Sequence[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
        for value in values:
            copy.write_row(value)


def _copy_new(cursor: Any, table: Table, columns: Sequence[str], values: Sequence[tuple[Any, ...]]) -> bool:
    """COPY `values` straight into `table` (PostgreSQL), for rows that are new: the common case,
    as a range is written once. On a unique-key collision nothing is written and False returned."""
    cursor.execute("SAVEPOINT bulk_copy")
    try:
        _copy(cursor, table.name, columns, values)
    except UniqueViolation:
        cursor.execute("ROLLBACK TO SAVEPOINT bulk_copy")
        cursor.execute("RELEASE SAVEPOINT bulk_copy")
        return False
    cursor.execute("RELEASE SAVEPOINT bulk_copy")
    return True


def write_values(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    values: Sequence[tuple[Any, ...]],
    conflict: str,
    new: bool = False,
) -> None:
    """Insert `values` (tuples in `columns` order, JSON already serialised) with an ON CONFLICT clause.

    `new`: the rows are expected not to exist yet, so on PostgreSQL they are first copied
    straight into the table; only a collision makes them go the staged way, with the clause.
    """
    if not values:
        return
    names = ", ".join(columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            if new and _copy_new(cursor, table, columns, values):
                return
            staging = _stage(cursor, table, columns, values)
            cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} {conflict}")
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks}) {conflict}", values)
    finally:
        cursor.close()


def update_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], key: str) -> int:
    """Set the columns each row carries on the existing row of `table` with the same `key`.

    Rows must carry the same columns and distinct keys. Returns how many rows of `table` were
    changed: fewer than `rows` means some keys are not in the table (nothing is inserted).
    """
    if not rows:
        return 0
    columns = [name for name in rows[0] if name != key]
    values = _values(table, [*columns, key], rows)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            staging = _stage(cursor, table, [*columns, key], values)
            sets = ", ".join(f"{name} = s.{name}" for name in columns)
            match = f"{table.name}.{key} = s.{key}"
            cursor.execute(f"UPDATE {table.name} SET {sets} FROM {staging} s WHERE {match}")
        else:
            sets = ", ".join(f"{name} = ?" for name in columns)
            cursor.executemany(f"UPDATE {table.name} SET {sets} WHERE {key} = ?", values)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def delete_rows(conn: Connection, table: Table, key: str, values: Sequence[str]) -> None:
    """Delete the rows of `table` whose `key` is among `values`, in bulk (absent keys are no error)."""
    if not values:
        return
    keys = [(value,) for value in values]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            staging = _stage(cursor, table, [key], keys)
            cursor.execute(f"DELETE FROM {table.name} USING {staging} s WHERE {table.name}.{key} = s.{key}")
        else:
            cursor.executemany(f"DELETE FROM {table.name} WHERE {key} = ?", keys)
    finally:
        cursor.close()


def _write(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict: str, new: bool = False
) -> None:
    if rows:
        columns = list(rows[0])
        write_values(conn, table, columns, _values(table, columns, rows), conflict, new)


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` in bulk, skipping any that collide with a unique constraint (rows are
    expected to be new: a range's logs are written once)."""
    _write(conn, table, rows, IGNORE, new=True)


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], new: bool = False
) -> None:
    """Insert `rows` in bulk, updating the existing rows with the same `keys` (`new`: see write_values)."""
    if rows:
        updates = ", ".join(f"{name} = excluded.{name}" for name in rows[0] if name not in keys)
        _write(conn, table, rows, f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}", new)


def upsert_add(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    counter: str,
    latest: Sequence[str] = (),
) -> None:
    """Insert `rows` in bulk; where a row with the same `keys` exists, add to its `counter`
    and take the new values of the `latest` columns."""
    sets = [f"{counter} = {table.name}.{counter} + excluded.{counter}"]
    sets += [f"{name} = excluded.{name}" for name in latest]
    _write(conn, table, rows, f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(sets)}")

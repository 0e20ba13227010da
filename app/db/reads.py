"""Hot-path reads: a Core SELECT compiled once per dialect and run on the DBAPI cursor.

Every scan of a label resolves an item with half a dozen indexed lookups. Through
`Connection.execute`, SQLAlchemy's per-execution bookkeeping (cache key, execution
context, result metadata) costs more than the SQLite lookup itself. A `PreparedRead`
keeps the statement written in Core, so it stays portable between SQLite and PostgreSQL,
but pays for compiling it once per dialect; each call is then a plain cursor execute with
the column types' result processors (JSON, Boolean) applied as SQLAlchemy would. A
parameter the caller passes a list for (`column.in_(bindparam("keys", expanding=True))`)
is expanded on each call, for the list's length.
"""

from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select

IN_LIST_SIZE = 500
"""Values per IN (...) lookup, well under every driver's bound-parameter limit."""


def chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """`values` in slices of IN_LIST_SIZE, for lookups of many keys."""
    for start in range(0, len(values), IN_LIST_SIZE):
        yield values[start : start + IN_LIST_SIZE]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None
    """Parameter names in placeholder order for positional drivers (sqlite3); None for named."""
    constants: dict[str, Any]
    """Values written into the statement itself (e.g. the members of a literal IN list)."""
    required: frozenset[str]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    row: Any
    per_call: Any = None
    """The compiled statement, when the caller passes lists (IN :keys): expanded on each call."""


class PreparedRead:
    """`stmt` with its bind parameters named; `rows(conn, name=value, ...)` runs it."""

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, conn: Connection) -> _Compiled:
        dialect = conn.dialect
        # Parameters without a value are the caller's; the rest are constants of the statement.
        # Literal IN lists compile to "expanding" parameters, rendered here as plain ones.
        compiled = self.stmt.compile(dialect=dialect)
        required = frozenset(name for name, value in compiled.params.items() if value is None)
        expanded = compiled.construct_expanded_state({name: None for name in required})
        constants = {name: value for name, value in expanded.parameters.items() if name not in required}
        columns = list(self.stmt.selected_columns)
        processors = []
        for index, column in enumerate(columns):
            processor = column.type.result_processor(dialect, None)
            if processor is not None:
                processors.append((index, processor))
        positions = tuple(expanded.positiontup or ()) if dialect.positional else None
        row = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
        lists = any(compiled.binds[name].expanding for name in required)
        return _Compiled(
            expanded.statement,
            positions,
            constants,
            required,
            tuple(processors),
            row,
            compiled if lists else None,
        )

    def rows(self, conn: Connection, **params: Any) -> list[Any]:
        """The result rows, with attribute access by column name."""
        compiled = self._compiled.get(conn.dialect.name)
        if compiled is None:
            compiled = self._compiled[conn.dialect.name] = self._compile(conn)
        if not compiled.required <= params.keys():
            raise TypeError(f"missing parameters: {sorted(compiled.required - params.keys())}")
        sql, positions = compiled.sql, compiled.positions
        if compiled.per_call is not None:
            expanded = compiled.per_call.construct_expanded_state(params)
            sql, params = expanded.statement, expanded.parameters
            positions = tuple(expanded.positiontup or ()) if positions is not None else None
        else:
            params = {**compiled.constants, **params}
        bound = tuple(params[name] for name in positions) if positions is not None else params
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, bound)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        if not compiled.processors:
            return [compiled.row._make(values) for values in fetched]
        result = []
        for values in fetched:
            values = list(values)
            for index, processor in compiled.processors:
                values[index] = processor(values[index])
            result.append(compiled.row._make(values))
        return result

    def first(self, conn: Connection, **params: Any) -> Any | None:
        """The first row, or None."""
        found = self.rows(conn, **params)
        return found[0] if found else None

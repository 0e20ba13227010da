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

import contextlib
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.exc import DBAPIError

IN_LIST_SIZE = 500
"""Values per IN (...) lookup, well under every driver's bound-parameter limit."""


def chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """`values` in slices of IN_LIST_SIZE, for lookups of many keys."""
    for start in range(0, len(values), IN_LIST_SIZE):
        yield values[start : start + IN_LIST_SIZE]


MAX_EXPANSIONS = 64
"""Expanded forms kept per statement with list parameters, one per combination of list lengths
(the oldest is dropped for a new one)."""


@dataclass(frozen=True)
class _Slot:
    """Where the value of one placeholder of an expanded statement comes from."""

    target: str
    """The placeholder's parameter name in the expanded statement."""
    param: str | None
    """The caller's parameter holding the value; None for a constant of the statement."""
    index: int | None = None
    """The element of that list parameter; None for the parameter itself."""
    constant: Any = None

    def value(self, params: dict[str, Any]) -> Any:
        if self.param is None:
            return self.constant
        given = params[self.param]
        return given if self.index is None else given[self.index]


@dataclass(frozen=True)
class _Probe:
    """A stand-in value marking which caller parameter (and element) a placeholder takes."""

    param: str
    index: int | None


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
    """The compiled statement, when the caller passes lists (IN :keys): expanded per list length."""
    lists: tuple[str, ...] = ()
    expansions: dict[tuple[int, ...], tuple[str, tuple[_Slot, ...]]] = field(default_factory=dict)
    """SQL and placeholder sources by the lengths of the `lists` parameters (SQLAlchemy's
    expansion took 30 µs a call, more than the indexed read it expands)."""


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
        lists = tuple(sorted(name for name in required if compiled.binds[name].expanding))
        return _Compiled(
            expanded.statement,
            positions,
            constants,
            required,
            tuple(processors),
            row,
            compiled if lists else None,
            lists,
        )

    @staticmethod
    def _expand(compiled: _Compiled, params: dict[str, Any]) -> tuple[str, tuple[_Slot, ...]]:
        """The statement expanded for the lengths of the list parameters in `params`."""
        lengths = tuple(len(params[name]) for name in compiled.lists)
        found = compiled.expansions.get(lengths)
        if found is not None:
            return found
        probes: dict[str, Any] = {name: _Probe(name, None) for name in compiled.required}
        for name in compiled.lists:
            probes[name] = [_Probe(name, i) for i in range(len(params[name]))]
        expanded = compiled.per_call.construct_expanded_state(probes)
        order = expanded.positiontup if compiled.positions is not None else list(expanded.parameters)
        slots = []
        for target in order:
            value = expanded.parameters[target]
            if isinstance(value, _Probe):
                slots.append(_Slot(target, value.param, value.index))
            else:
                slots.append(_Slot(target, None, constant=value))
        found = (expanded.statement, tuple(slots))
        if len(compiled.expansions) >= MAX_EXPANSIONS:  # the oldest goes (lengths vary, e.g. last chunks)
            with contextlib.suppress(StopIteration, KeyError, RuntimeError):  # another thread evicting
                del compiled.expansions[next(iter(compiled.expansions))]
        compiled.expansions[lengths] = found
        return found

    def rows(self, conn: Connection, **params: Any) -> list[Any]:
        """The result rows, with attribute access by column name."""
        compiled = self._compiled.get(conn.dialect.name)
        if compiled is None:
            compiled = self._compiled[conn.dialect.name] = self._compile(conn)
        if not compiled.required <= params.keys():
            raise TypeError(f"missing parameters: {sorted(compiled.required - params.keys())}")
        bound: tuple[Any, ...] | dict[str, Any]
        if compiled.per_call is not None:
            sql, slots = self._expand(compiled, params)
            if compiled.positions is not None:
                bound = tuple(slot.value(params) for slot in slots)
            else:
                bound = {slot.target: slot.value(params) for slot in slots}
        else:
            sql, params = compiled.sql, {**compiled.constants, **params}
            positions = compiled.positions
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


class HeldConnection:
    """One connection kept open between hot-path reads, instead of a pool checkout per request.

    Resolutions run one after another on the event loop's thread (app/api/routes/resolver.py);
    a pool checkout and check-in cost each of them about 10 µs, as much as one of its indexed
    reads (three times that under load). `read()` hands out the held connection when it is
    idle, else one from the pool; at the end of the block the transaction is ended (the next
    read sees newer commits) and the connection is held again if no other is. A database
    error invalidates it. A connection held idle for more than IDLE_CHECK_S is checked before
    it is handed out, as the pool's pre-ping would, so a database restarted while the gateway
    was quiet costs no request; under load the check is never needed.
    """

    IDLE_CHECK_S = 1.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._errors = (DBAPIError, engine.dialect.loaded_dbapi.Error)
        """Database errors: SQLAlchemy's, and the driver's own (PreparedRead uses its cursor)."""
        self._idle: Connection | None = None
        self._idle_since = 0.0
        self._lock = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._lock:
            conn, self._idle = self._idle, None
        if conn is not None and time.monotonic() - self._idle_since > self.IDLE_CHECK_S:
            conn = self._checked(conn)
        if conn is None:
            conn = self.engine.connect()
        try:
            yield conn
        except self._errors:
            conn.invalidate()
            raise
        finally:
            self._release(conn)

    def _end_transaction(self, conn: Connection) -> bool:
        """End `conn`'s transaction (PreparedRead's reads bypass `conn`'s own tracking);
        False, with `conn` invalidated, when the database does not answer."""
        try:
            if conn.in_transaction():
                conn.rollback()
            raw = conn.connection.dbapi_connection
            if raw is not None:
                raw.rollback()
        except self._errors:
            conn.invalidate()
            return False
        return True

    def _checked(self, conn: Connection) -> Connection | None:
        """`conn` if it still answers the dialect's ping (as the pool's pre-ping asks), else None."""
        try:
            raw = conn.connection.dbapi_connection
            alive = raw is not None and self.engine.dialect.do_ping(raw)
        except self._errors:
            alive = False
        if alive and self._end_transaction(conn):
            return conn
        conn.close()
        return None

    def _release(self, conn: Connection) -> None:
        spare: Connection | None = conn
        if not conn.invalidated and not conn.closed and self._end_transaction(conn):
            with self._lock:
                if self._idle is None:
                    self._idle, self._idle_since, spare = conn, time.monotonic(), None
        if spare is not None:
            spare.close()

    def close(self) -> None:
        """Return the held connection to the pool (at shutdown)."""
        with self._lock:
            conn, self._idle = self._idle, None
        if conn is not None:
            conn.close()

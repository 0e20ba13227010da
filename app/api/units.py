"""Logistic units (SSCC): what they hold now, a page at a time, and what went into and out of them.

A unit's contents are its rows of `unit_contents`. What was packed into it or unpacked from it
are its rows of `unit_packings`: one step per transaction, naming its first records and counting
them all, for a pallet of thousands is packed in a few transactions of up to 500 records.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy import Connection, bindparam, func, select

from app.api.lots import created_record, effective_custodian, record_paths, record_status
from app.api.models import KNOWN_URL, CarriedOf, HistoryEntry, Party, ReadFrom, StatusConfirmed
from app.api.parties import Parties
from app.db.reads import PreparedRead, chunks
from app.db.schema import PACKING_LOGS_KEPT, events, items, unit_contents, unit_packings
from app.gs1.keys import LogisticUnit
from app.indexer.decode import DecodedLog

CONTENTS_PAGE: Final = 100
"""Contents a unit's JSON lists (by id); the rest come a page at a time from
/api/v1/items/{id}/contents."""
CONTENTS_SHOWN: Final = 20
"""Contents a unit's page lists, so a pallet of thousands stays a short page on a phone."""
NAMED_PER_STEP: Final = PACKING_LOGS_KEPT
"""Records a packing step names (it counts them all): those `unit_packings` keeps."""
PACKINGS_PAGE: Final = 100
"""Packing steps a unit's JSON lists (its latest); the earlier ones come a page at a time from
/api/v1/items/{id}/packings."""
PACKINGS_SHOWN: Final = 20
"""Packing steps a unit's page shows (its latest): a pallet loaded one scan at a time takes a
transaction per record."""
STEP_CURSOR: Final = r"^[0-9]{1,19}-[0-9]{1,9}$"
"""Where a packing step is in the chain, `BLOCK-LOG_INDEX` of its first event: a page's cursor."""


class UnitContent(BaseModel):
    id: str
    kind: str = Field(description="item, lot or unit")
    status: str = Field(description="Its own status: a recalled item on a pallet shows as recalled")
    url: str | None = Field(description=KNOWN_URL)


class PackingStep(HistoryEntry):
    """A transaction that packed records into the unit (`contents_packed`) or took them out
    (`contents_unpacked`, `to` their custodian since)."""

    records: list[UnitContent] = Field(description=f"The first {NAMED_PER_STEP} records of the step")
    record_count: int = Field(description="How many records the step packed or unpacked")


class UnitPublic(BaseModel):
    id: str
    sscc: str
    url: str
    custodian: Party = Field(description="Effective custodian: the outermost unit's while packed")
    status: str
    status_confirmed: StatusConfirmed = True
    container: str | None = Field(description="Id of the unit this unit is packed in, if any")
    content_count: int = Field(description="How many records are packed directly in this unit")
    contents: list[UnitContent] = Field(
        description=f"Records packed directly in this unit, by id: the first {CONTENTS_PAGE}"
    )
    contents_next_after: str | None = Field(
        None,
        description="Set when it holds more: pass as `after` to /api/v1/items/{id}/contents for the rest",
    )
    history: list[HistoryEntry] = Field(
        default_factory=list,
        description="The unit's own facts (creation, custody, status, packing into another unit)",
    )
    packing_count: int = Field(default=0, description="How many packing steps the unit has had")
    packings: list[PackingStep] = Field(
        default_factory=list,
        description=(
            "What was packed into the unit and taken out, one step per transaction, oldest first: "
            f"the latest {PACKINGS_PAGE}"
        ),
    )
    packings_next_before: str | None = Field(
        default=None,
        description="Set when it had more: pass as `before` to /api/v1/items/{id}/packings for the rest",
    )
    carried: CarriedOf = []
    block: int
    tx: str
    log_index: int
    chain: ReadFrom = None


class PackingsPage(BaseModel):
    id: str
    packing_count: int
    packings: list[PackingStep] = Field(description="Oldest first")
    next_before: str | None = Field(description="Pass as `before` for the page before; null on the first")


class ContentsPage(BaseModel):
    id: str
    content_count: int
    contents: list[UnitContent]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last")


RECORD_COLUMNS = (items.c.item_id, items.c.kind, items.c.status, items.c.parent_id)
CONTENT_COUNT = PreparedRead(
    select(func.count().label("n"))
    .select_from(unit_contents)
    .where(unit_contents.c.container == bindparam("unit_id"))
)


def describe(
    conn: Connection, records: Iterable[Any], base_url: str, store: Path | None
) -> list[UnitContent]:
    """`records` (rows with `item_id`, `kind`, `status`, `parent_id`) as a unit lists them."""
    records = list(records)
    paths = record_paths(conn, records, store)
    return [
        UnitContent(
            id=r.item_id,
            kind=r.kind,
            status=record_status(conn, r.status, r.parent_id),
            url=base_url + paths[r.item_id] if r.item_id in paths else None,
        )
        for r in records
    ]


def describe_ids(
    conn: Connection, record_ids: Iterable[str], base_url: str, store: Path | None
) -> dict[str, UnitContent]:
    """Record id -> the record as a unit lists it, for those of `record_ids` indexed."""
    rows = [
        row
        for chunk in chunks(sorted(set(record_ids)))
        for row in conn.execute(select(*RECORD_COLUMNS).where(items.c.item_id.in_(chunk)))
    ]
    return {content.id: content for content in describe(conn, rows, base_url, store)}


def contents_page(
    conn: Connection,
    unit_id: str,
    base_url: str,
    store: Path | None,
    after: str | None = None,
    limit: int = CONTENTS_PAGE,
) -> tuple[list[UnitContent], str | None]:
    """The records packed directly in `unit_id` after id `after`, at most `limit` of them, by id,
    and the `after` of the next page (None on the last)."""
    query = (
        select(*RECORD_COLUMNS)
        .join(unit_contents, unit_contents.c.item_id == items.c.item_id)
        .where(unit_contents.c.container == unit_id)
        .order_by(items.c.item_id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(items.c.item_id > after)
    rows = conn.execute(query).all()
    page = rows[:limit]
    return describe(conn, page, base_url, store), page[-1].item_id if len(rows) > limit else None


def content_count(conn: Connection, unit_id: str) -> int:
    return int(CONTENT_COUNT.rows(conn, unit_id=unit_id)[0].n)


def content_ids(conn: Connection, unit_id: str) -> list[Any]:
    """Every record packed directly in `unit_id` (rows with `item_id` and `kind`), by id."""
    return list(
        conn.execute(
            select(items.c.item_id, items.c.kind)
            .join(unit_contents, unit_contents.c.item_id == items.c.item_id)
            .where(unit_contents.c.container == unit_id)
            .order_by(items.c.item_id)
        )
    )


PACKING_STEPS = PreparedRead(select(unit_packings).where(unit_packings.c.unit_id == bindparam("unit_id")))
PACKING_LOGS = PreparedRead(
    select(events).where(
        events.c.tx_hash.in_(bindparam("txs", expanding=True)),
        events.c.log_index.in_(bindparam("log_indexes", expanding=True)),
    )
)


def _steps(conn: Connection, unit_id: str) -> list[Any]:
    """The `unit_packings` rows of `unit_id`, in chain order."""
    return sorted(PACKING_STEPS.rows(conn, unit_id=unit_id), key=_step_position)


def _step_position(step: Any) -> tuple[int, int]:
    return step.block_number, step.first_logs[0]


def step_cursor(position: str) -> tuple[int, int]:
    """The position a `STEP_CURSOR` string names."""
    block, log_index = position.split("-")
    return int(block), int(log_index)


def _with_logs(conn: Connection, steps: list[Any]) -> list[tuple[Any, list[DecodedLog]]]:
    """Each of `steps` with the events of the first records it names (its `first_logs`, found by
    their log position)."""
    wanted = {(step.tx_hash, index) for step in steps for index in step.first_logs}
    logs: dict[tuple[str, int], DecodedLog] = {}
    log_indexes = sorted({index for _, index in wanted})
    for txs in chunks(sorted({tx for tx, _ in wanted})):
        for row in PACKING_LOGS.rows(conn, txs=list(txs), log_indexes=log_indexes):
            if (row.tx_hash, row.log_index) in wanted:
                logs[row.tx_hash, row.log_index] = DecodedLog.from_row(row)
    return [
        (step, [logs[step.tx_hash, i] for i in step.first_logs if (step.tx_hash, i) in logs])
        for step in steps
    ]


class PackingSteps(NamedTuple):
    """A page of a unit's packing steps, each with the events of the first records it names."""

    steps: list[tuple[Any, list[DecodedLog]]]
    total: int
    """How many steps the unit has had."""
    next_before: str | None
    """The cursor of the page before (None on the first)."""


def packing_steps(
    conn: Connection, unit_id: str, before: tuple[int, int] | None = None, limit: int = PACKINGS_PAGE
) -> PackingSteps:
    """What was packed into `unit_id` and taken out, in chain order: its latest `limit` steps
    before the position `before` (before any: the latest of all)."""
    steps = _steps(conn, unit_id)
    earlier = [s for s in steps if _step_position(s) < before] if before is not None else steps
    page = earlier[-limit:]
    cursor = "{}-{}".format(*_step_position(page[0])) if len(earlier) > len(page) else None
    return PackingSteps(_with_logs(conn, page), len(steps), cursor)


def last_packing(conn: Connection, unit_id: str) -> DecodedLog | None:
    """The first event of the last step that packed records into `unit_id` or took them out
    (None before any), without reading the events of the steps before it."""
    last = _with_logs(conn, _steps(conn, unit_id)[-1:])
    return last[0][1][0] if last and last[0][1] else None


def load_unit(
    conn: Connection, parties: Parties, sscc: str, base_url: str, store: Path | None = None
) -> UnitPublic | None:
    """The logistic unit with SSCC `sscc` and the first page of what is packed in it (linked where
    the key is known: records resolved before, lots whose file is in the lot `store`)."""
    found = created_record(conn, LogisticUnit(sscc).item_id, "unit")
    if found is None:
        return None
    row, created = found
    contents, next_after = contents_page(conn, row.item_id, base_url, store)
    return UnitPublic(
        id=row.item_id,
        sscc=sscc,
        url=f"{base_url}/00/{sscc}",
        custodian=parties.party(effective_custodian(conn, row)),
        status=row.status,
        container=row.container,
        content_count=content_count(conn, row.item_id) if next_after else len(contents),
        contents=contents,
        contents_next_after=next_after,
        block=created.block_number,
        tx=created.tx_hash,
        log_index=created.log_index,
    )

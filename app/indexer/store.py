"""Write decoded ranges to the database: events, state, block hashes and checkpoint in one transaction."""

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Engine, and_, delete, func, select, update

from app.chain.deploy import Deployment
from app.db.reads import chunks
from app.db.schema import (
    CREATION_LOG,
    attestations,
    blocks,
    events,
    indexer_state,
    items,
    members,
    undecodable_logs,
    unit_contents,
    unit_packings,
)
from app.db.writes import IGNORE, insert_ignore, upsert, write_values
from app.indexer.decode import DecodedLog, record_ids
from app.indexer.handlers import MEMBER_EVENTS, PAUSE_EVENTS, apply
from app.indexer.state import RangeState

log = logging.getLogger(__name__)

STATE_TABLES = (
    events,
    items,
    unit_contents,
    unit_packings,
    attestations,
    members,
    blocks,
    undecodable_logs,
    indexer_state,
)


class CheckpointMoved(RuntimeError):
    """The stored checkpoint is not where this indexer left it: another indexer wrote meanwhile,
    or the database lost its last commits (a PostgreSQL crash with `synchronous_commit = off`).
    Nothing of the range is written; the indexer resumes from the stored checkpoint."""


@dataclass
class Batch:
    """Everything one indexed block range writes."""

    last_block: int
    head: int
    follows: int
    """The checkpoint this range continues from: the last block the indexer stored before it."""
    logs: list[DecodedLog] = field(default_factory=list)
    undecodable: list[dict[str, Any]] = field(default_factory=list)
    """Rows for `undecodable_logs` (without chain_id)."""
    block_hashes: list[tuple[int, str, str | None]] = field(default_factory=list)
    """(number, hash, parent hash) of the range's blocks that are not final yet."""
    rollback_to: int | None = None
    """Fork point of a detected reorg: everything above it is undone before this range is written."""
    keep_from: int = 0
    """Block hashes below this block are final and dropped."""


def _checkpoint_of(deployment: Deployment) -> ColumnElement[bool]:
    """The `indexer_state` row of `deployment`."""
    return and_(
        indexer_state.c.chain_id == deployment.chain_id, indexer_state.c.registry == deployment.registry
    )


def _checkpoint(deployment: Deployment, last_block: int, now: int, **values: Any) -> dict[str, Any]:
    """A whole `indexer_state` row of `deployment`, indexed up to `last_block`."""
    return {
        "chain_id": deployment.chain_id,
        "registry": deployment.registry,
        "deploy_block_hash": deployment.deploy_block_hash,
        "last_block": last_block,
        "updated_at": now,
        **values,
    }


class OtherDeployment(ValueError):
    """The database indexes a deployment on another chain: a wrong --rpc or database URL, most
    likely. It is left as it is unless the indexer is told to replace it."""


def next_block(engine: Engine, deployment: Deployment, replace: bool = False, clear: bool = True) -> int:
    """First block still to index for `deployment`: after its checkpoint, or its deploy block.

    A database that holds another deployment on the same chain (a restarted devnet reuses
    chain id and address; a redeployed registry) is emptied first, so its stale rows never mix
    with the new ones; one on another chain only when `replace`, else OtherDeployment. Resuming
    (`clear` False) clears nothing: a database that holds another deployment by then raises
    OtherDeployment.
    """
    with engine.begin() as conn:
        row = conn.execute(select(indexer_state).where(_checkpoint_of(deployment))).first()
        if row is not None and row.deploy_block_hash == deployment.deploy_block_hash:
            return int(row.last_block) + 1
        other = conn.execute(select(indexer_state.c.chain_id, indexer_state.c.registry)).first()
        if other is not None and not clear:  # resuming: another indexer took the database over
            raise OtherDeployment(
                f"the database now indexes registry {other.registry} on chain {other.chain_id}, not"
                f" {deployment.registry}: another indexer replaced this one's index"
            )
        if other is not None and other.chain_id != deployment.chain_id and not replace:
            raise OtherDeployment(
                f"the database indexes registry {other.registry} on chain {other.chain_id}, not"
                f" {deployment.registry} on chain {deployment.chain_id}: check the RPC URL, use"
                " another database (ORIGINTRACE_DATABASE_URL), or pass --replace to clear this one"
            )
        if other is not None:
            log.warning("database holds another deployment; clearing it to index %s", deployment.registry)
            for table in STATE_TABLES:
                conn.execute(delete(table))
    return deployment.deploy_block


def stored_block_hashes(engine: Engine, chain_id: int) -> dict[int, str]:
    """Hashes of the not-yet-final indexed blocks, by number."""
    with engine.connect() as conn:
        rows = conn.execute(select(blocks.c.number, blocks.c.hash).where(blocks.c.chain_id == chain_id))
        return {int(number): block_hash for number, block_hash in rows}


EVENT_COLUMNS = (
    "chain_id",
    "block_number",
    "block_hash",
    "tx_hash",
    "log_index",
    "timestamp",
    "name",
    "item_id",
    "args",
)


def _insert_events(conn: Connection, chain_id: int, logs: list[DecodedLog]) -> None:
    dumps = orjson.dumps
    values = [
        (
            chain_id,
            e.block_number,
            e.block_hash,
            e.tx_hash,
            e.log_index,
            e.timestamp,
            e.name,
            e.item_id,
            dumps(e.args).decode(),
        )
        for e in logs
    ]
    write_values(conn, events, EVENT_COLUMNS, values, IGNORE, new=True)


def _rollback(conn: Connection, chain_id: int, fork_block: int) -> None:
    """Undo every block above `fork_block`: drop its rows and rebuild the state they touched.

    The packing steps above the fork are deleted. The records (items, lots, units), their
    attestations, unit contents and the members changed above the fork are deleted and rebuilt
    by replaying their remaining events (a batch event, found as a record's creation log,
    rebuilds only those of its records), so the state equals
    that of an index that never saw the lost blocks.
    """
    above = events.c.block_number > fork_block
    removed = conn.execute(select(events).where(events.c.chain_id == chain_id, above))
    item_ids: set[str] = set()
    accounts: set[str] = set()
    paused_changed = False
    for entry in map(DecodedLog.from_row, removed):
        item_ids.update(record_ids(entry))
        if entry.name in MEMBER_EVENTS:
            accounts.add(entry.args["account"])
        paused_changed |= entry.name in PAUSE_EVENTS
    conn.execute(delete(events).where(events.c.chain_id == chain_id, above))
    conn.execute(delete(attestations).where(attestations.c.block_number > fork_block))
    conn.execute(delete(unit_packings).where(unit_packings.c.block_number > fork_block))
    conn.execute(delete(undecodable_logs).where(undecodable_logs.c.block_number > fork_block))
    conn.execute(delete(blocks).where(blocks.c.chain_id == chain_id, blocks.c.number > fork_block))
    replay: dict[tuple[str, int], DecodedLog] = {}
    for chunk in chunks(sorted(item_ids)):
        named = conn.execute(select(events).where(events.c.item_id.in_(chunk)))
        batches = conn.execute(
            select(events)
            .join(items, CREATION_LOG)
            .where(items.c.item_id.in_(chunk), events.c.item_id.is_(None))
        )
        for entry in map(DecodedLog.from_row, [*named, *batches]):
            replay[entry.tx_hash, entry.log_index] = entry
        for table in (items, unit_contents, attestations):
            conn.execute(delete(table).where(table.c.item_id.in_(chunk)))
    if accounts:
        for chunk in chunks(sorted(accounts)):
            conn.execute(delete(members).where(members.c.address.in_(chunk)))
        member_events = conn.execute(
            select(events).where(events.c.item_id.is_(None), events.c.name.in_(MEMBER_EVENTS))
        )
        for entry in map(DecodedLog.from_row, member_events):
            if entry.args.get("account") in accounts:
                replay[entry.tx_hash, entry.log_index] = entry
    if paused_changed:  # the last pause event left decides, as it did when it was indexed
        last_pause = conn.execute(
            select(events)
            .where(events.c.chain_id == chain_id, events.c.item_id.is_(None), events.c.name.in_(PAUSE_EVENTS))
            .order_by(events.c.block_number.desc(), events.c.log_index.desc())
            .limit(1)
        ).first()
        if last_pause is not None:
            entry = DecodedLog.from_row(last_pause)
            replay[entry.tx_hash, entry.log_index] = entry
    logs = sorted(replay.values(), key=lambda e: (e.block_number, e.log_index))
    state = RangeState(conn, chain_id, logs, records=item_ids)
    apply(state, logs)
    state.flush(conn)
    if paused_changed:
        registry = {"paused_since": None, **state.registry}  # no pause event left: running
        conn.execute(update(indexer_state).where(indexer_state.c.chain_id == chain_id).values(**registry))
    log.warning(
        "reorg: rolled back to block %d (%d records, %d members rebuilt)",
        fork_block,
        len(item_ids),
        len(accounts),
    )


def apply_range(engine: Engine, deployment: Deployment, batch: Batch) -> None:
    """Store `batch` (a whole block range) and move the checkpoint to its last block, atomically."""
    chain_id = deployment.chain_id
    with engine.begin() as conn:
        stored = conn.execute(
            select(indexer_state.c.last_block).where(_checkpoint_of(deployment)).with_for_update()
        ).scalar()
        if (deployment.deploy_block - 1 if stored is None else stored) != batch.follows:
            raise CheckpointMoved(
                f"the stored checkpoint is block {stored}, not {batch.follows}: resuming from it"
            )
        if batch.rollback_to is not None:
            _rollback(conn, chain_id, batch.rollback_to)
        _insert_events(conn, chain_id, batch.logs)
        state = RangeState(conn, chain_id, batch.logs)
        apply(state, batch.logs)
        state.flush(conn)
        insert_ignore(conn, undecodable_logs, [{"chain_id": chain_id, **row} for row in batch.undecodable])
        upsert(
            conn,
            blocks,
            [
                {"chain_id": chain_id, "number": n, "hash": h, "parent_hash": p}
                for n, h, p in sorted(set(batch.block_hashes))
            ],
            ["chain_id", "number"],
        )
        conn.execute(delete(blocks).where(blocks.c.chain_id == chain_id, blocks.c.number < batch.keep_from))
        now = int(time.time())
        checkpoint = _checkpoint(
            deployment,
            batch.last_block,
            now,
            head_block=batch.head,
            last_error=None,
            error_since=None,
            **state.registry,
        )
        if batch.last_block >= batch.head:
            checkpoint["synced_at"] = now
        upsert(conn, indexer_state, [checkpoint], ["chain_id", "registry"])


def record_error(engine: Engine, deployment: Deployment, message: str) -> None:
    """Record that the indexer failed with `message` (keeping when its failures began), for
    /healthz. Before the first range, this starts the checkpoint at the deploy block (nothing
    indexed yet), so an indexer that never reached its node shows as failing, not as fine."""
    now = int(time.time())
    with engine.begin() as conn:
        changed = conn.execute(
            update(indexer_state)
            .where(_checkpoint_of(deployment))
            .values(last_error=message[:500], error_since=func.coalesce(indexer_state.c.error_since, now))
        ).rowcount
        if not changed and conn.execute(select(indexer_state.c.chain_id)).first() is None:
            first = _checkpoint(
                deployment, deployment.deploy_block - 1, now, last_error=message[:500], error_since=now
            )
            insert_ignore(conn, indexer_state, [first])


def mark_head(engine: Engine, deployment: Deployment, head: int, synced: bool) -> None:
    """Record the chain head seen (and, when caught up with it, that the index is current)."""
    values: dict[str, int | None] = {"head_block": head, "last_error": None, "error_since": None}
    if synced:
        values["synced_at"] = int(time.time())
    with engine.begin() as conn:
        conn.execute(update(indexer_state).where(_checkpoint_of(deployment)).values(**values))

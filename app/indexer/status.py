"""The indexer's position as the API reports it: confirmation of facts and lag behind the head."""

import time
from dataclasses import dataclass

from sqlalchemy import Connection, select

from app.db.reads import PreparedRead
from app.db.schema import indexer_state

CHECKPOINT = PreparedRead(select(indexer_state))


@dataclass(frozen=True)
class IndexerStatus:
    chain_id: int
    registry: str
    last_block: int
    head_block: int
    lag_blocks: int
    lag_seconds: float
    """Seconds since the index last caught up with the head (0 right after it did)."""
    error: str | None = None
    """The indexer's last error while it keeps failing, else None."""
    error_since: int | None = None
    """Unix time of the first of those failures."""
    paused_since: int | None = None
    """Block time at which the consortium paused the registry, while it is paused."""


def indexer_status(conn: Connection, now: float | None = None) -> IndexerStatus | None:
    """Where the indexer stands, or None before its first checkpoint."""
    row = CHECKPOINT.first(conn)
    if row is None:
        return None
    head = max(int(row.head_block if row.head_block is not None else row.last_block), int(row.last_block))
    synced_at = row.synced_at if row.synced_at is not None else row.updated_at
    current = time.time() if now is None else now
    return IndexerStatus(
        chain_id=row.chain_id,
        registry=row.registry,
        last_block=int(row.last_block),
        head_block=head,
        lag_blocks=head - int(row.last_block),
        lag_seconds=max(0.0, current - synced_at),
        error=row.last_error,
        error_since=row.error_since,
        paused_since=row.paused_since,
    )

"""Write decoded ranges to the database: events, state and checkpoint in one transaction."""

import logging
import time
from collections.abc import Sequence

from sqlalchemy import Engine, delete, select

from app.chain.deploy import Deployment
from app.db.schema import attestations, events, indexer_state, items, members
from app.db.writes import insert_ignore, upsert
from app.indexer.decode import DecodedLog
from app.indexer.handlers import HANDLERS

log = logging.getLogger(__name__)


def next_block(engine: Engine, deployment: Deployment) -> int:
    """First block still to index for `deployment`: after its checkpoint, or its deploy block.

    A database that holds another deployment of the same chain id and address (a new devnet
    reuses both) is emptied first, so its stale rows never mix with the new chain's.
    """
    with engine.begin() as conn:
        row = conn.execute(
            select(indexer_state).where(
                indexer_state.c.chain_id == deployment.chain_id,
                indexer_state.c.registry == deployment.registry,
            )
        ).first()
        if row is not None and row.deploy_block_hash == deployment.deploy_block_hash:
            return int(row.last_block) + 1
        stale = conn.execute(select(indexer_state.c.chain_id)).first() is not None
        if stale:
            log.warning("database holds another deployment; clearing it to index %s", deployment.registry)
            for table in (events, items, attestations, members, indexer_state):
                conn.execute(delete(table))
    return deployment.deploy_block


def apply_range(engine: Engine, deployment: Deployment, logs: Sequence[DecodedLog], last_block: int) -> None:
    """Store `logs` (all of a block range ending at `last_block`) and move the checkpoint there."""
    with engine.begin() as conn:
        insert_ignore(
            conn,
            events,
            [
                {
                    "chain_id": deployment.chain_id,
                    "block_number": entry.block_number,
                    "block_hash": entry.block_hash,
                    "tx_hash": entry.tx_hash,
                    "log_index": entry.log_index,
                    "timestamp": entry.timestamp,
                    "name": entry.name,
                    "item_id": entry.item_id,
                    "args": entry.args,
                }
                for entry in logs
            ],
        )
        for entry in logs:
            handler = HANDLERS.get(entry.name)
            if handler is not None:
                handler(conn, entry)
        checkpoint = {
            "chain_id": deployment.chain_id,
            "registry": deployment.registry,
            "deploy_block_hash": deployment.deploy_block_hash,
            "last_block": last_block,
            "updated_at": int(time.time()),
        }
        upsert(conn, indexer_state, checkpoint, ["chain_id", "registry"])

"""Liveness and indexer position."""

from fastapi import APIRouter
from sqlalchemy import select

from app.api.deps import ConnectionDep
from app.api.models import Health
from app.db.schema import indexer_state

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(conn: ConnectionDep) -> Health:
    state = conn.execute(select(indexer_state)).first()
    return Health(
        status="ok",
        indexed_block=state.last_block if state else None,
        chain_id=state.chain_id if state else None,
        registry=state.registry if state else None,
    )

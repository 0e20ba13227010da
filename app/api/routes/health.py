"""Liveness and indexer position: lag behind the chain head, unhealthy (503) past a threshold."""

from fastapi import APIRouter, Response

from app.api.deps import ConnectionDep, SettingsDep
from app.api.models import Health
from app.indexer.status import indexer_status

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(conn: ConnectionDep, settings: SettingsDep, response: Response) -> Health:
    status = indexer_status(conn)
    if status is None:  # nothing indexed: every product would be "not registered"
        response.status_code = 503
        return Health(
            status="unhealthy",
            indexed_block=None,
            chain_id=None,
            registry=None,
            indexer_error="nothing is indexed yet: run `origintrace index` on this database",
        )
    healthy = (
        status.lag_blocks <= settings.health_max_lag_blocks
        and status.lag_seconds <= settings.health_max_lag_seconds
    )
    if not healthy:
        response.status_code = 503
    return Health(
        status="ok" if healthy else "unhealthy",
        indexed_block=status.last_block,
        chain_id=status.chain_id,
        registry=status.registry,
        head_block=status.head_block,
        lag_blocks=status.lag_blocks,
        lag_seconds=round(status.lag_seconds, 3),
        indexer_error=status.error,
        indexer_error_since=status.error_since,
        registry_paused_since=status.paused_since,
    )

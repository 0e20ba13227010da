"""The gateway application: GS1 Digital Link resolver, JSON API and health, over the indexed database."""

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine, and_, select

from app.api.body_limit import BodyLimit
from app.api.cache import ResponseCache
from app.api.clone import ScanRecorder
from app.api.errors import install_error_handlers
from app.api.fastpath import FastPath
from app.api.head import HeadAsGet
from app.api.places import PlaceDirectory
from app.api.ratelimit import RateLimiter
from app.api.routes import api_v1, health, lot_files, relay, resolver, site
from app.core.config import Settings, get_settings
from app.db.engine import make_engine
from app.db.reads import HeldConnection
from app.db.schema import blocks, indexer_state
from app.relayer.service import Relayer

log = logging.getLogger(__name__)


CHECKPOINT_POLL_S = 0.25


CHECKPOINT = select(indexer_state.c.last_block, blocks.c.hash, indexer_state.c.paused_since).outerjoin(
    blocks, and_(blocks.c.chain_id == indexer_state.c.chain_id, blocks.c.number == indexer_state.c.last_block)
)
"""The indexer's checkpoint as the cache sees it: the last indexed block, its hash (a reorg that
replaced it with a block of the same height changes only that) and the registry's pause."""


def _observe_checkpoint(app: FastAPI) -> None:
    """Show the response cache the indexer's checkpoint (a new one drops every entry), and keep
    since when the registry is paused for the pages that read nothing else (error pages)."""
    with app.state.engine.connect() as conn:
        row = conn.execute(CHECKPOINT).first()
    app.state.paused_since = row.paused_since if row is not None else None
    app.state.cache.observe_checkpoint(tuple(row) if row is not None else None)


def _housekeeping(app: FastAPI, stop: threading.Event) -> None:
    """Off the event loop: follow the indexer's checkpoint for the cache; flush scan counts."""
    flushed = time.monotonic()
    while not stop.wait(CHECKPOINT_POLL_S):
        try:
            _observe_checkpoint(app)
            if time.monotonic() - flushed >= app.state.settings.scan_flush_interval:
                flushed = time.monotonic()
                app.state.recorder.flush(app.state.engine)
        except Exception:
            log.exception("gateway housekeeping failed; scan counts stay buffered")


def _tend_relayed(app: FastAPI, stop: threading.Event) -> None:
    """Off the event loop: keep the relayer's unmined transactions going (`Relayer.tend`) every
    ORIGINTRACE_RELAY_CHECK_INTERVAL_S. A failure (the node down, say) is logged once, and tried
    again at every turn."""
    failing = False
    while not stop.wait(app.state.settings.relay_check_interval_s):
        try:
            app.state.relayer.tend(stop)
        except Exception as exc:
            if not failing:
                log.warning("relayer: cannot check its unmined transactions (trying on): %s", exc)
            failing = True
        else:
            if failing:
                log.info("relayer: checking its unmined transactions again")
            failing = False


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the housekeeping thread (and the relayer's, if any); flush buffered scan counts once
    more at shutdown.

    The checkpoint is observed once before the first request: otherwise the thread's first
    look, a poll later, would drop what those requests cached although nothing moved. So the
    gateway needs its database to start, as `make_engine` (which migrates it) does anyway."""
    _observe_checkpoint(app)
    stop = threading.Event()
    threads = [threading.Thread(target=_housekeeping, args=(app, stop), name="housekeeping", daemon=True)]
    if app.state.relayer is not None and app.state.settings.relay_check_interval_s > 0:
        threads.append(threading.Thread(target=_tend_relayed, args=(app, stop), name="relayer", daemon=True))
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:  # before `serve` kills a worker that takes 10 s to stop
            thread.join(timeout=3)
        app.state.recorder.flush(app.state.engine)
        app.state.reads.close()


def create_app(settings: Settings, engine: Engine | None = None, relayer: Relayer | None = None) -> FastAPI:
    """A gateway reading the database of `settings` (or `engine`); `relayer` enables /api/v1/relay.

    Raises PlaceDirectoryError when `settings.places_file` cannot be read or is wrong.
    """
    docs = settings.docs_enabled
    app = FastAPI(
        title="OriginTrace gateway",
        version="0.1.0",
        description="Verified origin and custody of physical goods, resolved from GS1 Digital Link URLs.",
        lifespan=_lifespan,
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        telemetry=None if settings.telemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.places = PlaceDirectory.load(settings.places_file)
    app.state.engine = engine or make_engine(settings.resolved_database_url)
    app.state.reads = HeldConnection(app.state.engine)
    app.state.recorder = ScanRecorder()
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.cache = ResponseCache(settings.cache_ttl)
    app.state.relayer = relayer
    app.state.relay_limiter = RateLimiter(settings.relay_rate_limit_per_minute)
    install_error_handlers(app)
    app.add_middleware(BodyLimit)  # inside the fast path: plain resolutions (GETs) never see it
    app.add_middleware(
        FastPath,
        cache=app.state.cache,
        recorder=app.state.recorder,
        limiter=app.state.limiter,
        region_header=settings.region_header,
    )
    if settings.cors_origins:  # added after the fast path, so it wraps its answers too
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"])
    app.add_middleware(HeadAsGet)  # outermost: every route and the fast path see a GET
    app.include_router(health.router)
    app.include_router(api_v1.router)
    app.include_router(relay.router)
    app.include_router(lot_files.router)
    app.include_router(resolver.router)
    app.include_router(site.router)
    return app


def app_from_environment() -> FastAPI:
    """The gateway configured from ORIGINTRACE_* variables (for `uvicorn --factory`)."""
    return create_app(get_settings())

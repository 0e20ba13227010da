"""The gateway application: GS1 Digital Link resolver, JSON API and health, over the indexed database."""

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from app.api.cache import FastPath, ResponseCache
from app.api.clone import ScanRecorder
from app.api.errors import install_error_handlers
from app.api.ratelimit import RateLimiter
from app.api.routes import api_v1, health, resolver
from app.core.config import Settings
from app.db.engine import make_engine

log = logging.getLogger(__name__)


def _flush_loop(recorder: ScanRecorder, engine: Engine, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            recorder.flush(engine)
        except Exception:
            log.exception("writing scan counts failed; they stay buffered")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Flush buffered scan counts in the background, and once more at shutdown."""
    stop = threading.Event()
    args = (app.state.recorder, app.state.engine, app.state.settings.scan_flush_interval, stop)
    thread = threading.Thread(target=_flush_loop, args=args, name="scan-flush", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
        app.state.recorder.flush(app.state.engine)


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """A gateway reading the database of `settings` (or `engine`)."""
    docs = settings.docs_enabled
    app = FastAPI(
        title="OriginTrace gateway",
        version="0.1.0",
        description="Verified origin and custody of physical goods, resolved from GS1 Digital Link URLs.",
        lifespan=_lifespan,
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.resolved_database_url)
    app.state.recorder = ScanRecorder()
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.cache = ResponseCache(app.state.engine, settings.cache_ttl)
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET"])
    app.add_middleware(
        FastPath,
        cache=app.state.cache,
        recorder=app.state.recorder,
        limiter=app.state.limiter,
        region_header=settings.region_header,
    )
    app.include_router(health.router)
    app.include_router(api_v1.router)
    app.include_router(resolver.router)
    return app

"""The gateway application: GS1 Digital Link resolver and health, over the indexed database."""

from fastapi import FastAPI
from sqlalchemy import Engine

from app.api.errors import install_error_handlers
from app.api.routes import health, resolver
from app.core.config import Settings
from app.db.engine import make_engine


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """A gateway reading the database of `settings` (or `engine`)."""
    app = FastAPI(
        title="OriginTrace gateway",
        version="0.1.0",
        description="Verified origin and custody of physical goods, resolved from GS1 Digital Link URLs.",
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.resolved_database_url)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(resolver.router)
    return app

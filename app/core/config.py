"""The one configuration object: every setting comes from an ORIGINTRACE_* variable."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Gateway, indexer and devnet settings; defaults need no configuration."""

    model_config = SettingsConfigDict(env_prefix="ORIGINTRACE_", extra="ignore")

    rpc_url: str | None = None
    """JSON-RPC endpoint of the chain. Unset: `origintrace up` starts its own anvil."""
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str | None = None
    """SQLAlchemy URL; default is a SQLite file in `data_dir`."""
    deployments_dir: Path = PROJECT_ROOT / "deployments"
    """Where deployment manifests (`<chainId>.json`) are written and read."""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    """Base URL printed in QR codes; default http://host:port."""
    poll_interval: float = 0.25
    """Seconds between head polls of the indexer."""
    max_block_range: int = 2000
    """Largest eth_getLogs block range the indexer asks for."""
    confirmations: int = 12
    """Blocks on top of a fact's block before the API marks it `confirmed` (else `pending`)."""
    health_max_lag_blocks: int = 50
    """/healthz turns unhealthy when the indexer is more blocks than this behind the head."""
    health_max_lag_seconds: float = 30
    """... or when it has not been at the head for longer than this."""

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'origintrace.db'}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()

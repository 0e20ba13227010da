"""The one configuration object: every setting comes from an ORIGINTRACE_* variable."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Gateway, indexer and devnet settings; defaults need no configuration."""

    model_config = SettingsConfigDict(env_prefix="ORIGINTRACE_", extra="ignore")

    rpc_url: str | None = None
    """JSON-RPC endpoint of the chain. Unset: `origintrace up` starts its own devnet."""
    devnet: Literal["anvil", "hardhat"] = "anvil"
    """Which local node `origintrace up` starts when rpc_url is unset."""
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

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'origintrace.db'}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()

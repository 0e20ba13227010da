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
    confirmations: int = 12
    """Blocks, the fact's own included, before the API marks a fact `confirmed` (else `pending`);
    also sets how deep the indexer keeps block hashes to detect reorgs. `origintrace up` on its
    own single-node devnet uses 1."""
    health_max_lag_blocks: int = 50
    """/healthz turns unhealthy when the indexer is more blocks than this behind the head."""
    health_max_lag_seconds: float = 30
    """... or when it has not been at the head for longer than this."""

    # Gateway (resolver, clone defence, API exposure)
    link_targets: dict[str, str] = {}
    """Extra Digital Link link types -> URL templates ({gtin}, {serial}, {lot}, {sscc}, {path})."""
    region_header: str = "CF-IPCountry"
    """Request header carrying the shopper's country (set by a CDN); the IP is never recorded."""
    rate_limit_per_minute: int = 600
    """Resolutions per client and minute before 429; 0 disables the limit."""
    cache_ttl: float = 5.0
    """Seconds a pre-serialised resolver answer stays fresh (chain facts never go stale: the
    cache is dropped when the checkpoint moves; only scan counts lag); 0 disables it."""
    scan_flush_interval: float = 1.0
    """Seconds between writes of buffered scan counts to the database."""
    clone_max_regions: int = 3
    """Distinct regions within 24 hours above which an item is flagged as a likely clone."""
    clone_burst_per_minute: int = 30
    """Scans within one minute above which an item is flagged."""
    cors_origins: list[str] = []
    """Origins allowed to call the JSON API from a browser; empty disables CORS."""
    places_file: Path | None = None
    """Place directory (JSON or YAML: GLN -> name, city, ISO 3166 alpha-2 country), as a GS1 GLN
    registry would answer; read once at start. Unset: a party's place is only the GS1 Member
    Organisation of its GLN's prefix."""
    explorer_url: str | None = None
    """Block explorer base URL (e.g. https://etherscan.io) for transaction links on the page."""
    docs_enabled: bool = True
    """Serve /docs and /openapi.json."""
    telemetry: bool = False
    """FastAPI's OpenTelemetry spans and metrics for every request, to the providers the process
    configures (e.g. with opentelemetry-instrument); off by default, as checking for providers
    costs every request a few microseconds."""
    relay_rate_limit_per_minute: int = 30
    """Relayed handoffs per client and minute before 429 (0: off)."""

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'origintrace.db'}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def lot_store(settings: Settings, chain_id: int, registry: str) -> Path:
    """Where the lot files of registry `registry` on chain `chain_id` live (app/scale/store.py)."""
    return settings.data_dir / "lots" / f"{chain_id}-{registry.lower()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()

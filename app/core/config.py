"""The one configuration object: every setting comes from an ORIGINTRACE_* variable."""

import json
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Final, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV_PREFIX: Final = "ORIGINTRACE_"
LINK_PLACEHOLDERS: Final = ("gtin", "serial", "lot", "sscc", "path")
"""The values a link template (ORIGINTRACE_LINK_TARGETS) may name, as {gtin} etc."""


class InvalidSettings(ValueError):
    """ORIGINTRACE_* variables that cannot be used: one line each, naming it and what is expected."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _link_template_problem(template: str) -> str | None:
    """What keeps str.format from filling `template` from LINK_PLACEHOLDERS, or None."""
    try:
        names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
        unknown = sorted(names - set(LINK_PLACEHOLDERS))
        if unknown:
            return f"has an unknown placeholder {{{unknown[0]}}}"
        template.format(**dict.fromkeys(LINK_PLACEHOLDERS, ""))
    except ValueError as exc:
        return f"is malformed ({exc})"
    return None


def check_link_template(template: str) -> str:
    """`template` unchanged, after checking that str.format can fill it from LINK_PLACEHOLDERS."""
    problem = _link_template_problem(template)
    if problem is not None:
        allowed = ", ".join(f"{{{name}}}" for name in LINK_PLACEHOLDERS)
        raise ValueError(f"link template {template!r} {problem}; placeholders are {allowed}")
    return template


def _error_line(error: ErrorDetails) -> str:
    """`ORIGINTRACE_PORT: Input should be a valid integer (got 'abc')` for one pydantic error."""
    variable = ENV_PREFIX + str(error["loc"][0]).upper()
    got = f" (got {error['input']!r})" if isinstance(error["input"], str) else ""
    return f"{variable}: {error['msg'].removeprefix('Value error, ')}{got}"


class Settings(BaseSettings):
    """Gateway, indexer and devnet settings; defaults need no configuration."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

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
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    public_url: str | None = None
    """Base URL printed in QR codes; default http://host:port."""
    poll_interval: float = 0.25
    """Seconds between head polls of the indexer."""
    max_block_range: int = 2000
    """Largest eth_getLogs block range the indexer asks for."""
    confirmations: Annotated[int, Field(ge=1)] = 12
    """Blocks, the fact's own included, before the API marks a fact `confirmed` (else `pending`);
    also sets how deep the indexer keeps block hashes to detect reorgs. `origintrace up` on its
    own single-node devnet uses 1."""
    health_max_lag_blocks: int = 50
    """/healthz turns unhealthy when the indexer is more blocks than this behind the head."""
    health_max_lag_seconds: float = 30
    """... or when it has not been at the head for longer than this."""

    # Gateway (resolver, clone defence, API exposure)
    link_targets: Annotated[dict[str, str], NoDecode] = {}
    """Extra Digital Link link types -> URL templates ({gtin}, {serial}, {lot}, {sscc}, {path})."""
    region_header: str | None = None
    """Request header carrying the shopper's country, e.g. CF-IPCountry; the IP is never recorded.
    Set it only when a CDN in front of the gateway sets that header on every request: a client
    reaching the gateway directly can send any country, and several would raise a clone warning.
    Unset, every scan's region is unknown (ZZ) and the region rule never fires."""
    rate_limit_per_minute: int = 600
    """Resolutions per client and minute before 429; 0 disables the limit."""
    cache_ttl: float = 5.0
    """Seconds a pre-serialised resolver answer stays fresh (chain facts never go stale: the
    cache is dropped when the checkpoint moves; only what comes from scans lags); 0 disables it."""
    scan_flush_interval: float = 1.0
    """Seconds between writes of buffered scan counts to the database."""
    clone_scans_after_claim: int = 3
    """Scans after the consumer's claim (within 24 hours) that pass as the owner's own checks;
    more flag the item. 0 flags the first."""
    clone_max_regions: int = 3
    """Distinct regions within 24 hours above which an item is flagged as a likely clone."""
    clone_burst_per_minute: int = 30
    """Scans within one minute above which an item is flagged."""
    cors_origins: Annotated[list[str], NoDecode] = []
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
    relay_stuck_after_s: Annotated[float, Field(gt=0)] = 60.0
    """Seconds a relayed transaction priced below the market may wait unmined before the relayer
    replaces it with one of higher fees (same nonce, so only one of them can be mined)."""
    relay_check_interval_s: Annotated[float, Field(gt=0)] = 5.0
    """Seconds between the relayer's looks at its unmined transactions (one process of the
    machine looks): a transaction the node lost is sent again, one priced below the market
    replaced. New relay requests take the nonces after the unmined ones, so these looks are what
    keeps one lost transaction from holding up those behind it."""

    @field_validator("link_targets", "cors_origins", mode="before")
    @classmethod
    def _decode_json(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ValueError(f"expected JSON: {exc}") from None

    @field_validator("link_targets")
    @classmethod
    def _check_link_templates(cls, targets: dict[str, str]) -> dict[str, str]:
        for template in targets.values():
            check_link_template(template)
        return targets

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
    """The settings of the environment; InvalidSettings says which variables are bad and why."""
    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidSettings([_error_line(error) for error in exc.errors()]) from None

"""Public response models: what the API promises, separate from the database tables."""

from typing import Any

from pydantic import BaseModel, Field


class Party(BaseModel):
    address: str
    name: str | None = Field(None, description="Consortium member name; null for non-members")


class Attestation(BaseModel):
    kind: str
    certifier: Party
    data_hash: str
    block: int
    tx: str
    confirmed: bool = Field(description="Its block is at least ORIGINTRACE_CONFIRMATIONS deep; else pending")


class HistoryEntry(BaseModel):
    type: str = Field(description="registered, attested, offered, offer_cancelled, handed_over or sold")
    from_: Party | None = Field(None, serialization_alias="from")
    to: Party | None = None
    block: int
    tx: str
    log_index: int
    timestamp: str = Field(description="Block time, ISO 8601 UTC")
    confirmed: bool = Field(description="Its block is at least ORIGINTRACE_CONFIRMATIONS deep; else pending")


class ChainInfo(BaseModel):
    chain_id: int
    registry: str


class ItemPublic(BaseModel):
    id: str = Field(description="On-chain bytes32 id, 0x-hex")
    gtin: str
    serial: str
    url: str = Field(description="Canonical GS1 Digital Link URL")
    status: str
    brand: Party
    custodian: Party
    pending_offer_to: Party | None = None
    metadata_uri: str
    metadata_hash: str
    metadata: dict[str, Any] | None = Field(None, description="Metadata whose hash matched the chain")
    attestations: list[Attestation]
    history: list[HistoryEntry]
    chain: ChainInfo


class ErrorBody(BaseModel):
    error: str
    detail: str


class Health(BaseModel):
    status: str = Field(description="ok, or unhealthy when the indexer lags past its thresholds")
    indexed_block: int | None
    chain_id: int | None
    registry: str | None
    head_block: int | None = Field(default=None, description="Chain head the indexer last saw")
    lag_blocks: int | None = None
    lag_seconds: float | None = Field(
        default=None, description="Seconds since the index was last at the head"
    )

"""Public response models: what the API promises, separate from the database tables."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class Place(BaseModel):
    """Where a party is, from its GS1 Global Location Number (GLN)."""

    gln: str = Field(description="GS1 GLN (13 digits), as the member set it on chain")
    name: str | None = Field(
        description="The place's name (source directory), or the GS1 Member Organisation that "
        "issued the GLN's prefix, e.g. GS1 China (source gs1_prefix)"
    )
    city: str | None = Field(description="Known only from the place directory")
    country: str | None = Field(description="ISO 3166-1 alpha-2 code; known only from the place directory")
    source: Literal["directory", "gs1_prefix"] = Field(
        description="directory: the gateway's place directory (ORIGINTRACE_PLACES_FILE); "
        "gs1_prefix: only what the GLN itself says"
    )


class Party(BaseModel):
    address: str
    name: str | None = Field(
        None, description="Consortium member name (kept after a member's removal); null for non-members"
    )
    place: Place | None = Field(
        None, description="The member's place; null without a GLN (or with one whose check digit is wrong)"
    )
    member: bool = Field(
        description="Whether the party is a consortium member now: false for a former member, which "
        "keeps the name it acted under, and for a non-member"
    )


class Attestation(BaseModel):
    """A certification in force: revoked attestations are not listed."""

    kind: str
    certifier: Party
    data_hash: str
    uri: str | None = Field(None, description="The certifier's evidence (report) URI")
    block: int
    tx: str
    log_index: int
    confirmations: int = Field(description="Indexed blocks from its block to the head, inclusive")
    confirmed: bool = Field(description="At least ORIGINTRACE_CONFIRMATIONS blocks deep")


class HistoryEntry(BaseModel):
    type: str = Field(
        description="registered, attested, offered, offer_cancelled, handed_over, signed_handoff, sold, "
        "recalled, claimed, reported_lost, found, destroyed, packed, unpacked, split (sub-lot anchored), "
        "unit_created (a logistic unit's creation), attestation_revoked, or on a unit's `packings` "
        "contents_packed and contents_unpacked"
    )
    from_: Party | None = Field(None, serialization_alias="from")
    to: Party | None = None
    block: int
    tx: str
    log_index: int
    timestamp: str = Field(description="Block time, ISO 8601 UTC")
    confirmations: int = Field(description="Indexed blocks from this fact's block to the head, inclusive")
    confirmed: bool = Field(description="At least ORIGINTRACE_CONFIRMATIONS blocks deep")
    unit: str | None = Field(
        None,
        description="The logistic unit's id: for packed and unpacked, the unit; for a custody move of "
        "a unit the record was packed in (`carried`), that unit",
    )
    unit_url: str | None = Field(
        None, description="That unit's Digital Link (/00/{sscc}), when the gateway has resolved it before"
    )
    certification: str | None = Field(
        None, description="For attested and attestation_revoked: the attestation's kind, e.g. GRADING_REPORT"
    )


class ChainInfo(BaseModel):
    chain_id: int
    registry: str
    indexed_block: int = Field(description="Last block the indexer has stored")
    paused_since: str | None = Field(
        None,
        description="When the consortium's admins paused the registry (ISO 8601 UTC): no record write "
        "(registration, custody, sale, claim, status, packing, attestation) is recorded until they "
        "resume it; null while it runs",
    )


class RiskReason(BaseModel):
    code: str = Field(description="scanned_after_claim, too_many_regions or scan_burst")
    detail: str
    count: int = Field(
        description="What the rule counted: scans after the claim, countries, or scans in the minute"
    )


class Risk(BaseModel):
    level: str = Field(description="none, or warning when any rule fired")
    reasons: list[RiskReason]
    scans_24h: int
    regions_24h: list[str] = Field(description="Coarse regions (ISO country codes) seen in 24 hours")


StatusConfirmed = Annotated[
    bool,
    Field(
        description="Whether the step that set `status` (the last of `history` that changes it) is "
        "`confirmed`; false while it awaits confirmation, as pages then say next to the status",
    ),
]
CarriedOf = Annotated[
    list[HistoryEntry],
    Field(
        description="Custody moves of the logistic units it was packed in, while it was in them "
        "(each names its `unit`): how a packed record changed hands",
    ),
]
ReadFrom = Annotated[ChainInfo | None, Field(description="The chain and registry it was read from")]
"""Fields items, lots and units share (pydantic copies a list default for each instance)."""


class ItemPublic(BaseModel):
    id: str = Field(description="On-chain bytes32 id, 0x-hex")
    gtin: str | None
    serial: str | None
    url: str | None = Field(description="Canonical GS1 Digital Link URL (null until the key is known)")
    status: str = Field(description="active, offered, sold, recalled, claimed, lost or destroyed")
    status_confirmed: StatusConfirmed = True
    brand: Party
    custodian: Party = Field(
        description="Who holds it: while packed, the outermost logistic unit's custodian"
    )
    container: str | None = Field(None, description="Id of the logistic unit it is packed in, if any")
    pending_offer_to: Party | None = None
    pending_offer_expires_at: str | None = Field(
        None, description="When the pending offer expires (ISO 8601 UTC); null when none or it never expires"
    )
    offer_expired: bool = Field(
        False,
        description="The pending offer has expired: it can no longer be accepted, and stays until "
        "the holder cancels it (`status` stays `offered`, as on chain)",
    )
    metadata_uri: str
    metadata_hash: str
    metadata: dict[str, Any] | None = Field(None, description="Metadata whose hash matched the chain")
    attestations: list[Attestation]
    history: list[HistoryEntry] = Field(description="The item's own facts, as its proof bundle states them")
    carried: CarriedOf
    chain: ChainInfo
    risk: Risk


KNOWN_URL = (
    "Its Digital Link, when the gateway knows its key (resolved before, or a lot whose file is in "
    "its lot store)"
)
"""What `url` says of a record in lists (ids are hashes: the gateway learns keys from scans)."""


class ItemSummary(BaseModel):
    id: str
    kind: Literal["item", "lot", "unit"] = Field(description="The `kind` listed")
    url: str | None = Field(description=KNOWN_URL)
    status: str
    brand: str
    custodian: str
    registered_block: int


class ItemPage(BaseModel):
    items: list[ItemSummary]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last")


class HistoryPage(BaseModel):
    id: str
    history: list[HistoryEntry]
    next_offset: int | None


class ErrorBody(BaseModel):
    error: str
    detail: str


class Health(BaseModel):
    status: str = Field(
        description="ok, or unhealthy when the indexer lags past its thresholds or nothing is indexed yet"
    )
    indexed_block: int | None
    chain_id: int | None
    registry: str | None
    head_block: int | None = Field(default=None, description="Chain head the indexer last saw")
    lag_blocks: int | None = None
    lag_seconds: float | None = Field(
        default=None, description="Seconds since the index was last at the head"
    )
    indexer_error: str | None = Field(
        default=None,
        description="Why the indexer keeps failing (it retries with backoff): an RPC outage, a reorg "
        "deeper than the blocks it keeps, a database error; null once it stores a range or sees the "
        "head again",
    )
    indexer_error_since: int | None = Field(
        default=None, description="Unix time of the first failure in the current run of failures"
    )
    registry_paused_since: int | None = Field(
        default=None,
        description="Unix time (block time) at which the consortium's admins paused the registry, "
        "while it is paused: the gateway stays healthy, but no new facts can reach it",
    )

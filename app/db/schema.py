"""Database tables: the raw event log plus the state the gateway serves, rebuilt from it."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    false,
    select,
    text,
)

metadata = MetaData()


def _hex(length: int) -> String:
    """Hex text (ids, hashes, addresses): compared byte by byte. On PostgreSQL that is the "C"
    collation; the database's own (C.UTF-8 or en_US here) compares each key through strcoll,
    which made index writes of the 200,000-event backfill ~10 % slower. Equality and the order
    of lowercase hex are the same under both."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


HEX32 = _hex(66)
ADDRESS = _hex(42)

indexer_state = Table(
    "indexer_state",
    metadata,
    Column("chain_id", BigInteger, primary_key=True),
    Column("registry", ADDRESS, primary_key=True),
    Column("deploy_block_hash", HEX32, nullable=False),
    Column("last_block", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("head_block", BigInteger),
    Column("synced_at", BigInteger),
    Column("last_error", Text),
    Column("error_since", BigInteger),
    Column("paused_since", BigInteger),
)
"""One row per indexed deployment: the checkpoint, written with each range's events.

`head_block` is the chain head the indexer last saw (facts deeper than the confirmation
depth below it are `confirmed`); `synced_at` is when it last had indexed up to that head.
`last_error` is the indexer's last error while it keeps failing (since `error_since`);
any range stored or head seen afterwards clears it. `paused_since` is the block time of the
registry's last `Paused` while no `Unpaused` has followed it (NULL while it runs).
"""

blocks = Table(
    "blocks",
    metadata,
    Column("chain_id", BigInteger, primary_key=True),
    Column("number", BigInteger, primary_key=True),
    Column("hash", HEX32, nullable=False),
    Column("parent_hash", HEX32),
)
"""Hashes of indexed blocks that are not final yet: a mismatch with the chain is a reorg."""


def _log_position(table: str) -> list[Column[object] | PrimaryKeyConstraint]:
    """Where a log sits on chain; a log is keyed by (tx hash, log index, chain id).

    The log's position is its key (no surrogate id: one index fewer on the busiest table),
    tx hash first so a record's creation log is found by `items.created_tx` and
    `created_log_index` alone.
    """
    return [
        Column("chain_id", BigInteger, nullable=False),
        Column("block_number", BigInteger, nullable=False, index=True),
        Column("block_hash", HEX32, nullable=False),
        Column("tx_hash", HEX32, nullable=False),
        Column("log_index", Integer, nullable=False),
        PrimaryKeyConstraint("tx_hash", "log_index", "chain_id", name=f"pk_{table}"),
    ]


undecodable_logs = Table(
    "undecodable_logs",
    metadata,
    *_log_position("undecodable_logs"),
    Column("topic0", HEX32),
    Column("data", Text, nullable=False),
    Column("reason", Text, nullable=False),
)
"""Logs of the registry that matched no event of the ABI, kept instead of being dropped."""

PACKING_EVENTS = ("UnitPacked", "UnitUnpacked")
"""Events putting a record into a logistic unit or taking it out (`args.unitId` names the unit)."""

events = Table(
    "events",
    metadata,
    *_log_position("events"),
    Column("timestamp", BigInteger, nullable=False),
    Column("name", String(64), nullable=False),
    Column("item_id", HEX32),
    Column("args", JSON, nullable=False),  # long values compressed with lz4 on PostgreSQL (migration 0012)
    # Looked up by equality only: a hash index (cheaper to insert into than a B-tree of random
    # 66-character ids) where the database has one. Events naming no single record (members,
    # batches) are found through the small partial index.
    Index("ix_events_item_id", "item_id", postgresql_using="hash"),
    Index(
        "ix_events_unnamed",
        "block_number",
        postgresql_where=text("item_id IS NULL"),
        sqlite_where=text("item_id IS NULL"),
    ),
)
"""Every registry event, decoded; the source from which all other tables are rebuilt."""

members = Table(
    "members",
    metadata,
    Column("address", ADDRESS, primary_key=True),
    Column("name", Text, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("gln", String(13), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=false()),
    Column("history", JSON, nullable=False, server_default=text("'[]'")),
)
"""Members, current and former, by address: the name and GLN they have now (a former member
keeps its last ones), and `history`: [block, log index, name, GLN] after each admission and
GLN change, in chain order, so each step names the member as it was when it took it."""

items = Table(
    "items",
    metadata,
    Column("item_id", HEX32, primary_key=True),
    Column("brand", ADDRESS, nullable=False),
    Column("custodian", ADDRESS, nullable=False),
    Column("status", String(16), nullable=False),
    Column("metadata_hash", HEX32, nullable=False),
    Column("metadata_uri", Text, nullable=False),
    Column("pending_to", ADDRESS),
    Column("offer_expires_at", BigInteger),
    Column("registered_block", BigInteger, nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Column("kind", String(8), nullable=False, server_default="item"),
    Column("claimable", Boolean, nullable=False, server_default=false()),
    Column("lot_root", HEX32),
    Column("lot_count", BigInteger),
    Column("parent_id", HEX32),
    Column("created_tx", HEX32, nullable=False),
    Column("created_log_index", Integer, nullable=False),
)
"""Every record of the registry, keyed by its bytes32 id: items, lots and logistic units (`kind`).

`custodian` is the record's own; while it is packed (see `unit_contents`) the custodian that
counts is the outermost unit's, resolved at read time. Lots carry their Merkle root, item
count and parent lot (sub-lots). `created_tx` and `created_log_index` name the log that
created the record: for a batch registration, the one `ItemsRegistered` event of all its items.
"""

CREATION_LOG = and_(events.c.tx_hash == items.c.created_tx, events.c.log_index == items.c.created_log_index)
"""Join condition of a record with the `events` row of the log that created it (a database
holds one chain: see `next_block` in app/indexer/store.py)."""

unit_contents = Table(
    "unit_contents",
    metadata,
    Column("item_id", HEX32, primary_key=True),
    Column("container", HEX32, nullable=False, index=True),
)
"""What the logistic units hold: one row per packed record (item, lot or unit), naming its unit.

Kept out of `items`: packing is the commonest event of a busy chain, and a narrow row here
costs far less than a new version of the record's row and of every index on it.
"""

PACKING_LOGS_KEPT = 5
"""Log indexes a `unit_packings` row keeps: of the records a step packed, those its page names."""

unit_packings = Table(
    "unit_packings",
    metadata,
    Column("unit_id", HEX32, nullable=False),
    Column("tx_hash", HEX32, nullable=False),
    Column("name", String(16), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("record_count", Integer, nullable=False),
    Column("first_logs", JSON, nullable=False),
    PrimaryKeyConstraint("unit_id", "tx_hash", "name", name="pk_unit_packings"),
)
"""What went into each logistic unit and came out: one row per unit, transaction and packing
event name (PACKING_EVENTS), with how many records it packed or unpacked and the log indexes
of the first PACKING_LOGS_KEPT. A unit's page lists its steps from here: the events name the
record packed, not the unit, and indexing them by unit cost every event write (0.35-0.5 s per
200,000); a row here costs one per unit and transaction. Rebuilt from the events like the rest.
"""

RECORDS = items.outerjoin(unit_contents, unit_contents.c.item_id == items.c.item_id)
"""Records with the unit each is packed in (`unit_contents.container`, NULL when not packed)."""

RECORD_ROWS = select(*items.c, unit_contents.c.container).select_from(RECORDS)
"""A record as the gateway reads it: its `items` row plus `container`; add `.where(...)`."""

attestations = Table(
    "attestations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", HEX32, nullable=False, index=True),
    Column("certifier", ADDRESS, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("data_hash", HEX32, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("tx_hash", HEX32, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("attestation_id", HEX32, unique=True, index=True),
    Column("uri", Text, nullable=False, server_default=""),
    Column("revoked", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tx_hash", "log_index", name="uq_attestations_log"),
)
"""Certifier attestations of items and lots (`item_id` is the subject), from `AttestationRecorded`."""

scans = Table(
    "scans",
    metadata,
    Column("item_id", HEX32, primary_key=True),
    Column("minute", BigInteger, primary_key=True),
    Column("region", String(8), primary_key=True),
    Column("path", Text, nullable=False),
    Column("count", Integer, nullable=False),
)
"""Gateway-owned: resolutions per item, minute (unix time // 60) and coarse region (ISO
country code from a CDN header, or "ZZ"); never an IP. Feeds the clone-defence rules."""
relay_requests = Table(
    "relay_requests",
    metadata,
    Column("request_id", HEX32, primary_key=True),
    Column("tx_hash", HEX32, nullable=False, unique=True),
    Column("sender", ADDRESS, nullable=False),
    Column("receiver", ADDRESS, nullable=False),
    Column("ids", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("nonce", BigInteger),
    Column("raw_tx", LargeBinary),
    Column("signed_at", Float),
    Column("superseded", JSON),
    Column("genesis", HEX32),
)
"""Signed handoffs and claims the relayer submitted: one row per distinct signed message
(idempotency), with the transaction it signed for it (its nonce and bytes, and when it was
signed), recorded before it was sent; rows recorded before migration 0008 have neither.
`superseded` lists the transactions of the same nonce that this one replaced with higher fees
(any of them may be the one mined); NULL when none. `genesis` is the hash of block 0 of the
chain it was signed for (a devnet restarted under the same chain id is another chain)."""

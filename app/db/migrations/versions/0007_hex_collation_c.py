"""hex columns compare byte by byte: COLLATE "C" on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 19:30:00.000000

Ids, hashes and addresses are hex text; under the database's default collation every index
comparison of them goes through strcoll. SQLite already compares them as bytes: nothing to do.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEX_COLUMNS = {
    "attestations": {"item_id": 66, "certifier": 42, "data_hash": 66, "tx_hash": 66, "attestation_id": 66},
    "blocks": {"hash": 66, "parent_hash": 66},
    "events": {"block_hash": 66, "tx_hash": 66, "item_id": 66},
    "indexer_state": {"registry": 42, "deploy_block_hash": 66},
    "items": {
        "item_id": 66,
        "brand": 42,
        "custodian": 42,
        "metadata_hash": 66,
        "pending_to": 42,
        "lot_root": 66,
        "parent_id": 66,
        "created_tx": 66,
    },
    "members": {"address": 42},
    "relay_requests": {"request_id": 66, "tx_hash": 66, "sender": 42, "receiver": 42},
    "scans": {"item_id": 66},
    "undecodable_logs": {"block_hash": 66, "tx_hash": 66, "topic0": 66},
    "unit_contents": {"item_id": 66, "container": 66},
}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in HEX_COLUMNS.items():
        changes = ", ".join(
            f"ALTER COLUMN {name} TYPE varchar({length}) COLLATE {collation}"
            for name, length in columns.items()
        )
        op.execute(f"ALTER TABLE {table} {changes}")  # one rewrite of the table and its indexes


def upgrade() -> None:
    _collate('"C"')


def downgrade() -> None:
    _collate('"default"')

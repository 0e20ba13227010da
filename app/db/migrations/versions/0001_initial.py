"""initial schema: events, state tables, checkpoint, block hashes

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 03:53:13.951494
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("certifier", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("data_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash", "log_index", name="uq_attestations_log"),
    )
    op.create_index(op.f("ix_attestations_item_id"), "attestations", ["item_id"], unique=False)
    op.create_table(
        "blocks",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("parent_hash", sa.String(length=66), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "number"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=66), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "tx_hash", "log_index", name="uq_events_log"),
    )
    op.create_index(op.f("ix_events_block_number"), "events", ["block_number"], unique=False)
    op.create_index(op.f("ix_events_item_id"), "events", ["item_id"], unique=False)
    op.create_table(
        "indexer_state",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("registry", sa.String(length=42), nullable=False),
        sa.Column("deploy_block_hash", sa.String(length=66), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("head_block", sa.BigInteger(), nullable=True),
        sa.Column("synced_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "registry"),
    )
    op.create_table(
        "items",
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("brand", sa.String(length=42), nullable=False),
        sa.Column("custodian", sa.String(length=42), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metadata_hash", sa.String(length=66), nullable=False),
        sa.Column("metadata_uri", sa.Text(), nullable=False),
        sa.Column("pending_to", sa.String(length=42), nullable=True),
        sa.Column("offer_expires_at", sa.BigInteger(), nullable=True),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_table(
        "members",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "undecodable_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("topic0", sa.String(length=66), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "tx_hash", "log_index", name="uq_undecodable_logs_log"),
    )
    op.create_index(
        op.f("ix_undecodable_logs_block_number"), "undecodable_logs", ["block_number"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_undecodable_logs_block_number"), table_name="undecodable_logs")
    op.drop_table("undecodable_logs")
    op.drop_table("members")
    op.drop_table("items")
    op.drop_table("indexer_state")
    op.drop_index(op.f("ix_events_item_id"), table_name="events")
    op.drop_index(op.f("ix_events_block_number"), table_name="events")
    op.drop_table("events")
    op.drop_table("blocks")
    op.drop_index(op.f("ix_attestations_item_id"), table_name="attestations")
    op.drop_table("attestations")

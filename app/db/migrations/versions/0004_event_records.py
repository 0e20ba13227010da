"""event_records: the records named by a batch event (ItemsRegistered)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_records",
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "chain_id", "tx_hash", "log_index"),
    )
    op.create_index(op.f("ix_event_records_block_number"), "event_records", ["block_number"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_event_records_block_number"), table_name="event_records")
    op.drop_table("event_records")

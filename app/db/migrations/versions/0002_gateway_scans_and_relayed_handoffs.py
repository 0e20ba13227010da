"""gateway scans and relayed handoffs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 04:44:50.997466
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay_requests",
        sa.Column("request_id", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("receiver", sa.String(length=42), nullable=False),
        sa.Column("ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
        sa.UniqueConstraint("tx_hash"),
    )
    op.create_table(
        "scans",
        sa.Column("item_id", sa.String(length=66), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "minute", "region"),
    )


def downgrade() -> None:
    op.drop_table("scans")
    op.drop_table("relay_requests")

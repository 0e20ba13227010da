"""records of every kind, member GLNs, attestation ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:55:44.876703
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("attestations", sa.Column("attestation_id", sa.String(length=66), nullable=True))
    op.add_column("attestations", sa.Column("uri", sa.Text(), server_default="", nullable=False))
    op.add_column(
        "attestations", sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_index(op.f("ix_attestations_attestation_id"), "attestations", ["attestation_id"], unique=True)
    op.add_column("items", sa.Column("kind", sa.String(length=8), server_default="item", nullable=False))
    op.add_column("items", sa.Column("container", sa.String(length=66), nullable=True))
    op.add_column("items", sa.Column("claimable", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("items", sa.Column("lot_root", sa.String(length=66), nullable=True))
    op.add_column("items", sa.Column("lot_count", sa.BigInteger(), nullable=True))
    op.add_column("items", sa.Column("parent_id", sa.String(length=66), nullable=True))
    op.create_index(op.f("ix_items_container"), "items", ["container"], unique=False)
    op.add_column("members", sa.Column("gln", sa.String(length=13), server_default="", nullable=False))
    op.add_column("members", sa.Column("active", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    op.drop_column("members", "active")
    op.drop_column("members", "gln")
    op.drop_index(op.f("ix_items_container"), table_name="items")
    op.drop_column("items", "parent_id")
    op.drop_column("items", "lot_count")
    op.drop_column("items", "lot_root")
    op.drop_column("items", "claimable")
    op.drop_column("items", "container")
    op.drop_column("items", "kind")
    op.drop_index(op.f("ix_attestations_attestation_id"), table_name="attestations")
    op.drop_column("attestations", "revoked")
    op.drop_column("attestations", "uri")
    op.drop_column("attestations", "attestation_id")

"""relay_requests: the chain, when the current transaction was signed, and the ones it replaced

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00.000000

A relayed transaction left unmined below the market's fees is replaced by one with the same
nonce and higher fees; any of them may be the one mined, so the request keeps the hashes of
those it replaced. Requests recorded before this revision have replaced none and count as
signed when they were created. Each request also names its chain by the hash of its block 0:
a devnet restarted under the same chain id is another chain, where the request's transactions
are never sent again (rows from before this revision name none).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("relay_requests") as batch:
        batch.add_column(sa.Column("signed_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("superseded", sa.JSON(), nullable=True))
        hex32 = sa.String(66).with_variant(sa.String(66, collation="C"), "postgresql")  # as in 0007
        batch.add_column(sa.Column("genesis", hex32, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("relay_requests") as batch:
        batch.drop_column("genesis")
        batch.drop_column("superseded")
        batch.drop_column("signed_at")

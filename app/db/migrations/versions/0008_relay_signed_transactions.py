"""relay_requests: the signed transaction and its nonce, recorded before it is sent

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 07:00:00.000000

A relay request is recorded before its transaction goes out, with the signed bytes: a request
whose send got no answer is sent again as the same bytes, which the chain executes at most
once. Requests recorded before this revision have neither (they are never sent again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("relay_requests") as batch:
        batch.add_column(sa.Column("nonce", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("raw_tx", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("relay_requests") as batch:
        batch.drop_column("raw_tx")
        batch.drop_column("nonce")

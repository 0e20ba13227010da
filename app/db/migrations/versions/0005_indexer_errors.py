"""indexer_state: the indexer's last error while it keeps failing, for /healthz

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indexer_state") as batch:
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("error_since", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indexer_state") as batch:
        batch.drop_column("error_since")
        batch.drop_column("last_error")

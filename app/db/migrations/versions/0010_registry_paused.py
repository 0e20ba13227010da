"""indexer_state: since when the consortium's admins have paused the registry, if they have

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:30:00.000000

Filled from the events already indexed: the time of the last `Paused` when no `Unpaused`
followed it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indexer_state") as batch:
        batch.add_column(sa.Column("paused_since", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE indexer_state SET paused_since = ("
        " SELECT CASE WHEN e.name = 'Paused' THEN e.timestamp END FROM events e"
        " WHERE e.item_id IS NULL AND e.name IN ('Paused', 'Unpaused')"
        " AND e.chain_id = indexer_state.chain_id"
        " ORDER BY e.block_number DESC, e.log_index DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("indexer_state") as batch:
        batch.drop_column("paused_since")

"""lean hot tables: logs keyed by their position, records name their creation log, unit contents apart

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 17:00:00.000000

`events` and `undecodable_logs` lose their surrogate `id` (the log's position is the key);
`items.container` moves to `unit_contents`; `event_records` is replaced by each record's
`created_tx` / `created_log_index`. Existing rows are carried over, nothing is re-indexed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEX32 = sa.String(length=66)
LOG_TABLES = ("events", "undecodable_logs")
SINGLE_CREATIONS = "('ItemRegistered', 'LotAnchored', 'UnitCreated')"
UNNAMED = sa.text("item_id IS NULL")


def _first(column: str, source: str, where: str) -> str:
    """A correlated subquery: `column` of the first (in chain order) row of `source` for the record."""
    return (
        f"(SELECT s.{column} FROM {source} s WHERE s.item_id = items.item_id{where} "
        "ORDER BY s.block_number, s.log_index LIMIT 1)"
    )


def upgrade() -> None:
    op.create_table(
        "unit_contents",
        sa.Column("item_id", HEX32, nullable=False),
        sa.Column("container", HEX32, nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index(op.f("ix_unit_contents_container"), "unit_contents", ["container"], unique=False)
    op.execute(
        "INSERT INTO unit_contents (item_id, container) "
        "SELECT item_id, container FROM items WHERE container IS NOT NULL"
    )

    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("created_tx", HEX32, nullable=True))
        batch.add_column(sa.Column("created_log_index", sa.Integer(), nullable=True))
    single = f" AND s.name IN {SINGLE_CREATIONS}"
    op.execute(
        f"UPDATE items SET created_tx = {_first('tx_hash', 'events', single)}, "
        f"created_log_index = {_first('log_index', 'events', single)}"
    )
    op.execute(
        f"UPDATE items SET created_tx = {_first('tx_hash', 'event_records', '')}, "
        f"created_log_index = {_first('log_index', 'event_records', '')} WHERE created_tx IS NULL"
    )
    with op.batch_alter_table("items") as batch:
        batch.alter_column("created_tx", existing_type=HEX32, nullable=False)
        batch.alter_column("created_log_index", existing_type=sa.Integer(), nullable=False)
        batch.drop_index("ix_items_container")
        batch.drop_column("container")
    op.drop_index("ix_event_records_block_number", table_name="event_records")
    op.drop_table("event_records")

    for table in LOG_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_log", type_="unique")
            batch.drop_column("id")
            batch.create_primary_key(f"pk_{table}", ["tx_hash", "log_index", "chain_id"])
    op.drop_index("ix_events_item_id", table_name="events")
    op.create_index("ix_events_item_id", "events", ["item_id"], postgresql_using="hash")
    op.create_index(
        "ix_events_unnamed", "events", ["block_number"], postgresql_where=UNNAMED, sqlite_where=UNNAMED
    )


def downgrade() -> None:
    op.drop_index("ix_events_unnamed", table_name="events")
    op.drop_index("ix_events_item_id", table_name="events")
    op.create_index("ix_events_item_id", "events", ["item_id"], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in LOG_TABLES:  # the surrogate key back, numbering the rows anew
        if postgres:
            op.drop_constraint(f"pk_{table}", table, type_="primary")
            op.execute(f"ALTER TABLE {table} ADD COLUMN id SERIAL PRIMARY KEY")
            op.create_unique_constraint(f"uq_{table}_log", table, ["chain_id", "tx_hash", "log_index"])
        else:
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.drop_constraint(f"pk_{table}", type_="primary")
                batch.add_column(sa.Column("id", sa.Integer(), primary_key=True))
                batch.create_unique_constraint(f"uq_{table}_log", ["chain_id", "tx_hash", "log_index"])

    op.create_table(
        "event_records",
        sa.Column("item_id", HEX32, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", HEX32, nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "chain_id", "tx_hash", "log_index"),
    )
    op.create_index(op.f("ix_event_records_block_number"), "event_records", ["block_number"], unique=False)
    op.execute(
        "INSERT INTO event_records (item_id, chain_id, tx_hash, log_index, block_number) "
        "SELECT i.item_id, e.chain_id, e.tx_hash, e.log_index, e.block_number FROM items i "
        "JOIN events e ON e.tx_hash = i.created_tx AND e.log_index = i.created_log_index "
        "WHERE e.item_id IS NULL"
    )
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("container", HEX32, nullable=True))
        batch.create_index("ix_items_container", ["container"], unique=False)
    op.execute(
        "UPDATE items SET container = "
        "(SELECT u.container FROM unit_contents u WHERE u.item_id = items.item_id)"
    )
    with op.batch_alter_table("items") as batch:
        batch.drop_column("created_log_index")
        batch.drop_column("created_tx")
    op.drop_index(op.f("ix_unit_contents_container"), table_name="unit_contents")
    op.drop_table("unit_contents")

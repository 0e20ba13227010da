"""events: the packing events indexed by the unit they name

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 22:00:00.000000

`UnitPacked` and `UnitUnpacked` are indexed under the record packed (`item_id`); a unit's page
lists what went into it and came out of it, found by `args.unitId` through this partial index
(hash on PostgreSQL, as `ix_events_item_id`). The expression is the one `PackingUnit` renders
(app/db/schema.py), so queries use the index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_events_packing_unit"
PACKING = "name IN ('UnitPacked', 'UnitUnpacked')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {INDEX} ON events USING hash ((args ->> 'unitId')) WHERE {PACKING}")
    else:
        op.execute(f"CREATE INDEX {INDEX} ON events (json_extract(args, '$.unitId')) WHERE {PACKING}")


def downgrade() -> None:
    op.drop_index(INDEX, table_name="events")

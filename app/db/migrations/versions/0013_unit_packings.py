"""unit_packings: what went into each logistic unit and came out, by transaction

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 22:00:00.000000

`UnitPacked` and `UnitUnpacked` events are stored under the record packed; a unit's page lists
what was packed into it and taken out, one step per transaction, from this table: one row per
unit, transaction and event name, with the count and the log indexes of its first records
(app/db/schema.py). It is filled from the packing events already indexed.
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_LOGS = 5
"""PACKING_LOGS_KEPT when this migration was written."""

_events = sa.table(
    "events",
    sa.column("block_number", sa.BigInteger),
    sa.column("tx_hash", sa.String),
    sa.column("log_index", sa.Integer),
    sa.column("name", sa.String),
    sa.column("args", sa.JSON),
)


def upgrade() -> None:
    hex32 = sa.String(66).with_variant(sa.String(66, collation="C"), "postgresql")
    unit_packings = op.create_table(
        "unit_packings",
        sa.Column("unit_id", hex32, nullable=False),
        sa.Column("tx_hash", hex32, nullable=False),
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("record_count", sa.Integer, nullable=False),
        sa.Column("first_logs", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "tx_hash", "name", name="pk_unit_packings"),
    )
    steps: dict[tuple[str, str, str], dict[str, Any]] = {}
    packings = (
        sa.select(_events)
        .where(_events.c.name.in_(("UnitPacked", "UnitUnpacked")))
        .order_by(_events.c.block_number, _events.c.log_index)
    )
    for row in op.get_bind().execute(packings):
        args = row.args if isinstance(row.args, dict) else json.loads(row.args)
        if "unitId" not in args:
            continue  # not written by the indexer (every packing event names its unit)
        key = (args["unitId"], row.tx_hash, row.name)
        step = steps.setdefault(
            key,
            {
                "unit_id": key[0],
                "tx_hash": key[1],
                "name": key[2],
                "block_number": row.block_number,
                "record_count": 0,
                "first_logs": [],
            },
        )
        step["record_count"] += 1
        if len(step["first_logs"]) < FIRST_LOGS:
            step["first_logs"].append(row.log_index)
    if steps:
        op.bulk_insert(unit_packings, list(steps.values()))


def downgrade() -> None:
    op.drop_table("unit_packings")

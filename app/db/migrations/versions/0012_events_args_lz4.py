"""events.args: long values compressed with lz4 on PostgreSQL

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:30:00.000000

A 500-item `ItemsRegistered` event's arguments (~68 KB of hex ids and hashes) are stored out
of line (TOAST) and compressed first, by default with pglz, which spent the server's CPU on
data that hardly compresses (random hex). lz4 does the same work several times faster. Values
already stored keep their compression until rewritten; SQLite stores them as they come.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _compression(method: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE events ALTER COLUMN args SET COMPRESSION {method}")


def upgrade() -> None:
    _compression("lz4")


def downgrade() -> None:
    _compression("pglz")

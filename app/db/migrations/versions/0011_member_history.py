"""members: each member's name and GLN as of each admission and GLN change, for the steps it took

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:00:00.000000

A member re-admitted under another name, or given another GLN, showed the new name and place
on the steps it took before. `history` lists [block, log index, name, GLN] after each of its
`MemberAdmitted` and `MemberGlnSet` events, in chain order; it is filled from the events
already indexed.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_events = sa.table(
    "events",
    sa.column("block_number", sa.BigInteger),
    sa.column("log_index", sa.Integer),
    sa.column("name", sa.String),
    sa.column("item_id", sa.String),
    sa.column("args", sa.JSON),
)
_members = sa.table("members", sa.column("address", sa.String), sa.column("history", sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("history", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_events.c.block_number, _events.c.log_index, _events.c.name, _events.c.args)
        .where(_events.c.item_id.is_(None), _events.c.name.in_(("MemberAdmitted", "MemberGlnSet")))
        .order_by(_events.c.block_number, _events.c.log_index)
    )
    now: dict[str, tuple[str, str]] = {}
    history: dict[str, list[list[object]]] = {}
    for block, log_index, name, args in rows:
        args = args if isinstance(args, dict) else json.loads(args)
        account = args.get("account")
        if not isinstance(account, str):  # not as the indexer writes it: nothing to learn from it
            continue
        member_name = now.get(account, ("", ""))[0]
        admitted = name == "MemberAdmitted"
        now[account] = (args.get("name", ""), "") if admitted else (member_name, args.get("gln", ""))
        history.setdefault(account, []).append([block, log_index, *now[account]])
    for account, snapshots in history.items():
        conn.execute(_members.update().where(_members.c.address == account).values(history=snapshots))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("history")

"""The state rows one block range touches: loaded in a few bulk queries, written back in bulk."""

import logging
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select

from app.db.reads import PreparedRead, chunks
from app.db.schema import PACKING_LOGS_KEPT, attestations, items, members, unit_contents, unit_packings
from app.db.writes import delete_rows, update_rows, upsert
from app.indexer.decode import DecodedLog

log = logging.getLogger(__name__)

_LOOKUPS: dict[tuple[str, str], PreparedRead] = {}


def _load(conn: Connection, table: Table, key: str, values: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The rows of `table` whose `key` is among `values`, as dicts by key."""
    lookup = _LOOKUPS.get((table.name, key))
    if lookup is None:
        by_keys = select(table).where(table.c[key].in_(bindparam("keys", expanding=True)))
        lookup = _LOOKUPS[(table.name, key)] = PreparedRead(by_keys)
    rows: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(values))):
        for row in lookup.rows(conn, keys=list(chunk)):
            found = row._asdict()
            rows[found[key]] = found
    return rows


class RangeState:
    """Records, members and attestations as the handlers of one range see and change them.

    A record created in the range (or loaded: a sub-lot's parent) is held as a whole row. A
    record stored by an earlier range is not loaded to be changed: its changed columns are
    collected and written as one UPDATE per set of columns, so the common events of a busy
    chain (an item unpacked or handed over) cost no read. Packing writes `unit_contents` and one
    `unit_packings` row per unit and transaction.

    With `records`, only those records are written: a reorg rebuilds some records by replaying
    their events, and a batch event among them also names records that need no rebuilding.
    """

    def __init__(
        self,
        conn: Connection,
        chain_id: int,
        logs: Sequence[DecodedLog],
        records: Collection[str] | None = None,
    ) -> None:
        self.chain_id = chain_id
        # A sub-lot takes its brand from its parent, which this range may not otherwise touch.
        parents = [e.args["parentLotId"] for e in logs if e.name == "LotAnchored"]
        self.items = _load(conn, items, "item_id", parents)
        self._stored = set(self.items)
        """Records loaded from the database; every other record put in this range is new."""
        accounts = [e.args["account"] for e in logs if isinstance(e.args.get("account"), str)]
        self.members = _load(conn, members, "address", accounts)
        revoked = [e.args["attestationId"] for e in logs if e.name == "AttestationRevoked"]
        self.attestations = {
            key: {k: v for k, v in row.items() if k != "id"}
            for key, row in _load(conn, attestations, "attestation_id", revoked).items()
        }
        self._records = records
        self._dirty_items: set[str] = set()
        self._changes: dict[str, dict[str, Any]] = {}
        """Changed columns of records stored before this range, by record id."""
        self._changed_by: dict[str, DecodedLog] = {}
        """The first event changing or packing each record, named if the record turns out unknown."""
        self._dirty_members: set[str] = set()
        self._dirty_attestations: set[str] = set()
        self._containers: dict[str, str | None] = {}
        """Records packed in this range (their unit) or unpacked (None), the last event winning."""
        self._packings: dict[tuple[str, str, str], dict[str, Any]] = {}
        """`unit_packings` rows of this range, by (unit, transaction, event name)."""
        self.registry: dict[str, Any] = {}
        """Columns of the deployment's `indexer_state` row that this range's events set: the
        registry's own state (`paused_since`), written with the checkpoint."""

    def put_item(self, row: dict[str, Any]) -> None:
        if self._records is not None and row["item_id"] not in self._records:
            return
        item_id = row["item_id"]
        self.items[item_id] = row
        self._dirty_items.add(item_id)
        changed = self._changes.pop(item_id, None) is not None
        if changed or item_id in self._containers:  # before it existed (a pack is kept: see `pack`)
            _unknown(self._changed_by[item_id], "record", item_id)

    def update_item(self, log_entry: DecodedLog, **values: Any) -> None:
        """Change the record of `log_entry`; an event about an unknown record is logged and
        ignored (when it was stored before this range, at `flush`)."""
        item_id = log_entry.item_id
        if item_id is None:
            _unknown(log_entry, "record", item_id)
            return
        row = self.items.get(item_id)
        if row is not None:
            row.update(values, updated_block=log_entry.block_number)
            self._dirty_items.add(item_id)
        elif self._records is None or item_id in self._records:
            changes = self._changes.get(item_id)
            if changes is None:
                changes = self._changes[item_id] = {}
                self._changed_by.setdefault(item_id, log_entry)
            changes.update(values, updated_block=log_entry.block_number)

    def pack(self, log_entry: DecodedLog, container: str | None) -> None:
        """Put the record of `log_entry` in logistic unit `container`, or take it out (None).

        Packs are kept as the chain states them, not checked against the records: the registry
        packs only records it holds, and looking each one up would cost more than writing it.
        A pack seen before its record's creation in the same range is logged (as a change of
        an unknown record) but kept, as one from an earlier range would be, so the index does
        not depend on where ranges split (a reorg replays in one range what was written in many).
        """
        item_id = log_entry.item_id
        if item_id is None:
            _unknown(log_entry, "record", item_id)
        elif self._records is None or item_id in self._records:
            self._containers[item_id] = container
            self._changed_by.setdefault(item_id, log_entry)

    def packing_step(self, log_entry: DecodedLog) -> None:
        """Count `log_entry` (a packing event) in the step of its unit and transaction.

        A reorg's replay (`records` given) counts nothing: it replays records' events from below
        the fork, whose steps are stored already; the steps above the fork were deleted with their
        blocks and are counted again when those blocks' new logs are stored. A transaction lies in
        one block, so one range holds all of its step."""
        if self._records is not None:
            return
        key = (log_entry.args["unitId"], log_entry.tx_hash, log_entry.name)
        step = self._packings.get(key)
        if step is None:
            step = self._packings[key] = {
                "unit_id": key[0],
                "tx_hash": key[1],
                "name": key[2],
                "block_number": log_entry.block_number,
                "record_count": 0,
                "first_logs": [],
            }
        step["record_count"] += 1
        if len(step["first_logs"]) < PACKING_LOGS_KEPT:
            step["first_logs"].append(log_entry.log_index)

    def put_attestation(self, row: dict[str, Any]) -> None:
        self.attestations[row["attestation_id"]] = row
        self._dirty_attestations.add(row["attestation_id"])

    def update_attestation(self, log_entry: DecodedLog, **values: Any) -> None:
        """Change the attestation named by `log_entry`; an unknown one is logged and ignored."""
        key = log_entry.args["attestationId"]
        row = self.attestations.get(key)
        if row is None:
            _unknown(log_entry, "attestation", key)
            return
        row.update(values)
        self._dirty_attestations.add(key)

    def member(self, address: str) -> dict[str, Any]:
        """The member row of `address` (created empty on first sight), marked as changed."""
        row = self.members.get(address)
        if row is None:
            row = self.members[address] = {
                "address": address,
                "name": "",
                "roles": [],
                "gln": "",
                "active": False,
                "history": [],
            }
        self._dirty_members.add(address)
        return row

    def flush(self, conn: Connection) -> None:
        """Write every changed row: one bulk statement per table (per set of columns for changes)."""
        stored = [self.items[i] for i in self._dirty_items if i in self._stored]
        created = [self.items[i] for i in self._dirty_items if i not in self._stored]
        upsert(conn, items, stored, ["item_id"])
        upsert(conn, items, created, ["item_id"], new=True)
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item_id, changes in self._changes.items():
            by_columns.setdefault(tuple(sorted(changes)), []).append({**changes, "item_id": item_id})
        for rows in by_columns.values():
            if update_rows(conn, items, rows, "item_id") < len(rows):
                self._report_unknown(conn, [row["item_id"] for row in rows])
        upsert(conn, members, [self.members[a] for a in self._dirty_members], ["address"])
        upsert(
            conn, attestations, [self.attestations[a] for a in self._dirty_attestations], ["attestation_id"]
        )
        packed = [{"item_id": i, "container": c} for i, c in self._containers.items() if c is not None]
        upsert(conn, unit_contents, packed, ["item_id"], new=True)
        delete_rows(conn, unit_contents, "item_id", [i for i, c in self._containers.items() if c is None])
        upsert(conn, unit_packings, list(self._packings.values()), ["unit_id", "tx_hash", "name"], new=True)

    def _report_unknown(self, conn: Connection, item_ids: list[str]) -> None:
        known = _load(conn, items, "item_id", item_ids)
        for item_id in item_ids:
            if item_id not in known:
                _unknown(self._changed_by[item_id], "record", item_id)


def _unknown(log_entry: DecodedLog, what: str, key: str | None) -> None:
    log.warning(
        "%s at %s:%d names unknown %s %s", log_entry.name, log_entry.tx_hash, log_entry.log_index, what, key
    )

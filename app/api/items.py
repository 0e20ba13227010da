"""Read an item's public view (state, attestations, history, risk) from the database."""

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, bindparam, select, union_all

from app.api.clone import Scan, ScanRecorder, known_paths, scan_risk
from app.api.lots import MAX_NESTING, RECALL_STATUS, LotPublic, effective_custodian, load_lot, record_paths
from app.api.metadata import verified_metadata
from app.api.models import Attestation, ChainInfo, HistoryEntry, ItemPublic, Risk
from app.api.parties import Parties
from app.api.places import PlaceDirectory
from app.api.units import PACKINGS_PAGE, PackingStep, UnitPublic, describe_ids, load_unit, packing_steps
from app.core.config import Settings, lot_store
from app.db.reads import PreparedRead
from app.db.schema import CREATION_LOG, PACKING_EVENTS, RECORD_ROWS, attestations, events, items
from app.gs1.digital_link import DigitalLink, KeyKind, parse_path
from app.indexer.decode import DecodedLog, label_text
from app.indexer.handlers import NEVER_EXPIRES
from app.indexer.status import IndexerStatus, indexer_status

HISTORY_TYPES = {
    "ItemRegistered": ("registered", None, "brand"),
    "ItemsRegistered": ("registered", None, "brand"),
    "ItemAttested": ("attested", "certifier", None),
    "AttestationRevoked": ("attestation_revoked", "certifier", None),
    "CustodyOffered": ("offered", "from", "to"),
    "CustodyOfferCancelled": ("offer_cancelled", "from", "to"),
    "CustodyTransferred": ("handed_over", "from", "to"),
    "ItemSold": ("sold", "retailer", None),
    "StatusChanged": ("status", "by", None),
    "UnitPacked": ("packed", None, None),
    "UnitUnpacked": ("unpacked", None, "custodian"),
    "LotAnchored": ("registered", None, "custodian"),
    "UnitCreated": ("unit_created", None, "custodian"),
}
"""event name -> (history type, arg naming `from`, arg naming `to`)."""

STATUS_HISTORY = {1: "found", 4: "recalled", 5: "claimed", 6: "reported_lost", 7: "destroyed"}
"""StatusChanged status number -> history type (contracts/types/RecordTypes.sol numbers)."""

STATUS_KEEPING = frozenset({"attested", "attestation_revoked", "packed", "unpacked"})
"""History types that leave a record's status as it was."""


def status_step(history: list[HistoryEntry]) -> HistoryEntry | None:
    """The step behind a record's status: the last of its own facts that set it. While that step
    awaits confirmation, so does the status (a claim 1 block deep may still be reorged away)."""
    return next((step for step in reversed(history) if step.type not in STATUS_KEEPING), None)


def status_confirmed(history: list[HistoryEntry]) -> bool:
    """Whether the step behind the status is final (see `status_step`)."""
    step = status_step(history)
    return step is None or step.confirmed


CLAIMED = 5


def is_claim(row: DecodedLog) -> bool:
    """Whether `row` is the consumer claim of its item."""
    return row.name == "StatusChanged" and row.args["status"] == CLAIMED


def is_recall(row: DecodedLog) -> bool:
    """Whether `row` is its record's recall by the brand."""
    return row.name == "StatusChanged" and row.args["status"] == RECALL_STATUS


NO_LIMIT = 2**62
"""The `limit` bound when a caller wants every row (SQLite and PostgreSQL take a number)."""


def _item_events(history_only: bool) -> Select[Any]:
    """An item's events in chain order, with `:item_id`, `:offset` and `:limit` bound per call.

    Built once at import (see app/db/reads.py): constructing this union per request cost
    more than running it.
    A batch registration names the item in its args, not in `events.item_id`: it is found as
    the item's creation log.
    """
    item: BindParameter[str] = bindparam("item_id")
    named = select(events).where(events.c.item_id == item)
    batches = (
        select(events).join(items, CREATION_LOG).where(items.c.item_id == item, events.c.item_id.is_(None))
    )
    if history_only:
        named = named.where(events.c.name.in_(HISTORY_TYPES))
        batches = batches.where(events.c.name.in_(HISTORY_TYPES))
    both = union_all(named, batches).subquery()
    return (
        select(both)
        .order_by(both.c.block_number, both.c.log_index)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


ITEM_EVENTS = {False: PreparedRead(_item_events(False)), True: PreparedRead(_item_events(True))}
ITEM_ROW = PreparedRead(RECORD_ROWS.where(items.c.item_id == bindparam("item_id")))
ATTESTATIONS_IN_FORCE = PreparedRead(
    select(attestations)
    .where(attestations.c.item_id == bindparam("item_id"), attestations.c.revoked.is_(False))
    .order_by(attestations.c.block_number, attestations.c.log_index)
)
SIGNED_HANDOFFS = PreparedRead(
    select(events.c.tx_hash).where(
        events.c.name == "HandoffSigned", events.c.tx_hash.in_(bindparam("txs", expanding=True))
    )
)


START, END = (-1, 0), (2**63, 0)
"""Chain positions before and after every log."""


def _position(row: DecodedLog) -> tuple[int, int]:
    return row.block_number, row.log_index


def _history_parties(rows: Iterable[DecodedLog]) -> list[str]:
    """The addresses the history entries of `rows` name as `from` or `to`."""
    named = []
    for row in rows:
        _, from_arg, to_arg = HISTORY_TYPES.get(row.name, (None, None, None))
        named += [row.args[arg] for arg in (from_arg, to_arg) if arg is not None]
    return named


def iso_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def carried_moves(
    rows: list[DecodedLog],
    events_of: Callable[[str], list[DecodedLog]],
    window: tuple[tuple[int, int], tuple[int, int]] = (START, END),
    depth: int = 0,
) -> list[DecodedLog]:
    """The custody moves of the logistic units a record was packed in, while it was in them
    (and of the units those were in meanwhile, whether packed there before or after): `rows`
    are the record's events in chain order, `events_of` gives a unit's; only moves inside
    `window` count. A packed record changes hands with its unit; its own events say nothing
    of it. The gateway reads units' events from its database, `origintrace verify` from a node."""
    moves: list[DecodedLog] = []
    if depth >= MAX_NESTING:
        return moves
    packings = [r for r in rows if r.name in PACKING_EVENTS]
    for n, packed in enumerate(packings):
        if packed.name != "UnitPacked":
            continue
        start = max(window[0], _position(packed))
        end = min(window[1], _position(packings[n + 1]) if n + 1 < len(packings) else END)
        if start >= end:
            continue
        unit_rows = events_of(packed.args["unitId"])
        moves += [r for r in unit_rows if r.name == "CustodyTransferred" and start < _position(r) < end]
        moves += carried_moves(unit_rows, events_of, (start, end), depth + 1)
    return sorted(moves, key=_position)


NO_RISK = Risk(level="none", reasons=[], scans_24h=0, regions_24h=[])
"""A logistic unit's: the clone rules are about products (a unit's scans only teach the gateway
its SSCC)."""


def unit_of(row: DecodedLog, carried: bool = False) -> str | None:
    """The logistic unit a history entry names: the unit packed into or out of, or, for a
    `carried` move, the unit that moved."""
    if carried:
        return row.item_id
    return str(row.args["unitId"]) if row.name in PACKING_EVENTS else None


def indexed_lot_store(settings: Settings, state: IndexerStatus | None) -> Path | None:
    """The lot files of the registry the checkpoint `state` indexes (None before the first range)."""
    return lot_store(settings, state.chain_id, state.registry) if state else None


class ItemReader:
    """Reads of one item in one connection, sharing the members (`parties`), their places and
    the checkpoint."""

    def __init__(self, conn: Connection, settings: Settings, places: PlaceDirectory) -> None:
        self.conn, self.settings = conn, settings
        self.state = indexer_status(conn)
        self.parties = Parties(conn, places)
        self._unit_paths: dict[str, str] = {}
        self._units_looked_up: set[str] = set()

    def unit_paths(self, unit_ids: set[str]) -> dict[str, str]:
        """The Digital Link paths of those of `unit_ids` the gateway knows, each looked up once
        per reader (an item's steps and its carried moves name the same units)."""
        missing = unit_ids - self._units_looked_up
        if missing:
            self._unit_paths.update(known_paths(self.conn, missing))
            self._units_looked_up |= missing
        return {u: self._unit_paths[u] for u in unit_ids if u in self._unit_paths}

    def confirmations(self, block: int) -> int:
        return max(0, self.state.head_block - block + 1) if self.state else 0

    def confirmed(self, block: int) -> bool:
        """Whether a fact of `block` is deep enough to count as final."""
        return self.confirmations(block) >= self.settings.confirmations

    def events(
        self, item_id: str, offset: int = 0, limit: int | None = None, history_only: bool = False
    ) -> list[DecodedLog]:
        """The item's events in chain order, as the indexer decoded them (or only its history's)."""
        rows = ITEM_EVENTS[history_only].rows(
            self.conn, item_id=item_id, offset=offset, limit=NO_LIMIT if limit is None else limit
        )
        return [DecodedLog.from_row(r) for r in rows]

    def _signed_txs(self, rows: list[DecodedLog]) -> set[str]:
        """Transactions among `rows` that were relayed signed handoffs (HandoffSigned has no record id)."""
        txs = {r.tx_hash for r in rows if r.name == "CustodyTransferred"}
        if not txs:
            return set()
        return {row.tx_hash for row in SIGNED_HANDOFFS.rows(self.conn, txs=sorted(txs))}

    def carried(self, rows: list[DecodedLog]) -> list[DecodedLog]:
        """The custody moves of the logistic units a record was packed in (see `carried_moves`)."""
        return carried_moves(rows, self.events)

    def lot_facts(self, lot: LotPublic) -> list[DecodedLog]:
        """The facts of `lot` and, for a sub-lot, those of its parent lots up to each split (the
        custody before it, and the `LotSplit` itself), oldest first."""
        facts = self.events(lot.id)
        child, parent = lot.id, lot.parent_lot_id
        for _ in range(MAX_NESTING):
            if parent is None or not facts:
                break
            split_at = _position(facts[0])  # the sub-lot's LotAnchored
            events = self.events(parent)
            kept = [
                e
                for e in events
                if _position(e) < split_at
                or (e.name == "LotSplit" and e.args["subLotId"] == child)
                or is_recall(e)  # it covers the sub-lots too (see lots.lot_status)
            ]
            attested = {e.args["attestationId"] for e in kept if e.name == "AttestationRecorded"}
            withdrawn = [  # a certification of the lot before the split, withdrawn after it
                e
                for e in events
                if e.name == "AttestationRevoked" and e.args["attestationId"] in attested and e not in kept
            ]
            facts = kept + withdrawn + facts
            row = ITEM_ROW.first(self.conn, item_id=parent)
            child, parent = parent, row.parent_id if row is not None else None
        return sorted(facts, key=_position)

    def complete(self, record: LotPublic | UnitPublic) -> None:
        """Fill in `record`'s history (for a sub-lot, from its parent lots' anchoring: see
        `lot_facts`; a parent is split only while not packed), whether its status is final, the
        moves of the units it was packed in (see `carried`), its chain and, for a unit, what
        was packed into it and taken out (see `packings`)."""
        rows = self.lot_facts(record) if isinstance(record, LotPublic) else self.events(record.id)
        record.history = self.history(rows)
        record.status_confirmed = status_confirmed(record.history)
        record.carried = self.history(self.carried(rows), carried=True)
        record.chain = self.chain_info()
        if isinstance(record, UnitPublic):
            record.packings, record.packing_count, record.packings_next_before = self.packings(record.id)

    def lot_or_unit(self, key: DigitalLink) -> LotPublic | UnitPublic | None:
        """The lot or logistic unit `key` names, complete (see `complete`), as resolving `key`
        answers; None when none is indexed under it (or `key` names an item)."""
        record: LotPublic | UnitPublic | None = None
        if key.kind == KeyKind.LOT:
            record = load_lot(self.conn, self.parties, str(key.gtin), str(key.lot), self.settings.base_url)
        elif key.kind == KeyKind.UNIT:
            record = load_unit(
                self.conn, self.parties, str(key.sscc), self.settings.base_url, self.lot_store()
            )
        if record is not None:
            self.complete(record)
        return record

    def lot_store(self) -> Path | None:
        """The lot files of the indexed registry (None before the first range)."""
        return indexed_lot_store(self.settings, self.state)

    def packings(
        self, unit_id: str, before: tuple[int, int] | None = None, limit: int = PACKINGS_PAGE
    ) -> tuple[list[PackingStep], int, str | None]:
        """What was packed into the unit `unit_id` and taken out of it: one step per transaction,
        naming its first NAMED_PER_STEP records; the latest `limit` before the position `before`
        (see `packing_steps`), how many steps it has had and the cursor of the page before."""
        steps, count, next_before = packing_steps(self.conn, unit_id, before, limit)
        logs = [log for _, step_logs in steps for log in step_logs]
        named = describe_ids(
            self.conn, [log.item_id for log in logs if log.item_id], self.settings.base_url, self.lot_store()
        )
        self.parties.load([log.args["custodian"] for log in logs if log.name == "UnitUnpacked"])
        found = []
        for step, step_logs in steps:
            if not step_logs:
                continue  # its events are not stored (cannot be: they are written in one transaction)
            first = step_logs[0]
            unpacked = step.name == "UnitUnpacked"
            found.append(
                PackingStep(
                    type="contents_unpacked" if unpacked else "contents_packed",
                    to=self.parties.party(first.args["custodian"], _position(first)) if unpacked else None,
                    records=[named[log.item_id] for log in step_logs if log.item_id in named],
                    record_count=step.record_count,
                    **self._when(first),
                )
            )
        return found, count, next_before

    def _when(self, row: DecodedLog) -> dict[str, Any]:
        """Where and when a step happened, and how final it is: the fields every step has."""
        return {
            "block": row.block_number,
            "tx": row.tx_hash,
            "log_index": row.log_index,
            "timestamp": iso_time(row.timestamp),
            "confirmations": self.confirmations(row.block_number),
            "confirmed": self.confirmed(row.block_number),
        }

    def chain_info(self) -> ChainInfo | None:
        """The chain, registry and checkpoint the reads come from (None before the first range)."""
        if self.state is None:
            return None
        paused = self.state.paused_since
        return ChainInfo(
            chain_id=self.state.chain_id,
            registry=self.state.registry,
            indexed_block=self.state.last_block,
            paused_since=iso_time(paused) if paused is not None else None,
        )

    def history(self, rows: list[DecodedLog], carried: bool = False) -> list[HistoryEntry]:
        """History entries of `rows`, each naming its parties as they were at its position; of
        `carried` rows (moves of the units a record was in: see `carried`) each names the unit
        that moved, and a packing or unpacking names its unit too (`unit_url` when its SSCC is
        known)."""
        entries = []
        signed = self._signed_txs(rows)
        kinds = {  # attestation id -> kind, for revocations
            r.args["attestationId"]: label_text(r.args["kind"])
            for r in rows
            if r.name == "AttestationRecorded"
        }
        self.parties.load(_history_parties(rows))
        unit_paths = self.unit_paths({u for u in (unit_of(r, carried) for r in rows) if u})
        for row in rows:
            if row.name not in HISTORY_TYPES:
                continue
            kind, from_arg, to_arg = HISTORY_TYPES[row.name]
            if kind == "status":
                kind = STATUS_HISTORY.get(row.args["status"], "status_changed")
            elif row.name == "LotAnchored" and int(row.args["parentLotId"], 16):
                kind = "split"  # a sub-lot's anchoring: split off its lot by the lot's custodian
            elif row.tx_hash in signed:
                kind = "signed_handoff"
            kind_of = (
                label_text(row.args["kind"])
                if row.name == "ItemAttested"
                else kinds.get(row.args["attestationId"])
                if row.name == "AttestationRevoked"
                else None
            )
            unit = unit_of(row, carried)
            at = (row.block_number, row.log_index)
            unit_path = unit_paths.get(unit) if unit else None
            entries.append(
                HistoryEntry(
                    type=kind,
                    from_=self.parties.party(row.args[from_arg], at) if from_arg else None,
                    to=self.parties.party(row.args[to_arg], at) if to_arg else None,
                    unit=unit,
                    unit_url=self.settings.base_url + unit_path if unit_path else None,
                    certification=kind_of,
                    **self._when(row),
                )
            )
        return entries

    def load(
        self, item_id: str, key: DigitalLink | None, recorder: ScanRecorder, scan: Scan | None = None
    ) -> ItemPublic | None:
        """The public view of `item_id`, or None when the registry has no such item.

        `key` is the Digital Link it was resolved by; without one, the last key it was
        resolved by (item ids are hashes, so the gateway learns keys from scans). With a
        `scan` and a `key`, the resolution is counted (only for existing items, so
        made-up serials never fill the scan table) before the risk is assessed.
        """
        item = ITEM_ROW.first(self.conn, item_id=item_id)
        chain = self.chain_info()
        if item is None or chain is None:
            return None
        if scan is not None and key is not None:
            recorder.record(item_id, key.path, scan.region, scan.client)
        if key is None:  # a lot's from its lot file too (the EPCIS document names it by its key)
            path = record_paths(self.conn, [item], self.lot_store()).get(item_id)
            key = parse_path(path) if path else None
        rows = self.events(item_id)
        carried = self.carried(rows)
        attestation_rows = ATTESTATIONS_IN_FORCE.rows(self.conn, item_id=item_id)
        custodian = effective_custodian(self.conn, item)
        self.parties.load(
            [
                item.brand,
                custodian,
                item.pending_to,
                *(a.certifier for a in attestation_rows),
                *_history_parties([*rows, *carried]),
            ]
        )
        attested = [
            Attestation(
                kind=a.kind,
                certifier=self.parties.party(a.certifier, (a.block_number, a.log_index)),
                data_hash=a.data_hash,
                uri=a.uri or None,
                block=a.block_number,
                tx=a.tx_hash,
                log_index=a.log_index,
                confirmations=self.confirmations(a.block_number),
                confirmed=self.confirmed(a.block_number),
            )
            for a in attestation_rows
        ]
        claimed_at = next((int(r.timestamp) for r in rows if is_claim(r)), None)
        expires = (
            item.offer_expires_at if item.pending_to and item.offer_expires_at != NEVER_EXPIRES else None
        )
        history = self.history(rows)
        return ItemPublic(
            id=item_id,
            gtin=key.gtin if key else None,
            serial=key.serial if key else None,
            url=self.settings.base_url + key.path if key else None,
            status=item.status,
            status_confirmed=status_confirmed(history),
            brand=self.parties.party(item.brand),
            custodian=self.parties.party(custodian),
            container=item.container,
            pending_offer_to=self.parties.party(item.pending_to) if item.pending_to else None,
            pending_offer_expires_at=iso_time(expires) if expires is not None else None,
            offer_expired=expires is not None and expires < time.time(),
            metadata_uri=item.metadata_uri,
            metadata_hash=item.metadata_hash,
            metadata=verified_metadata(item.metadata_uri, item.metadata_hash),
            attestations=attested,
            history=history,
            carried=self.history(carried, carried=True),
            chain=chain,
            risk=scan_risk(self.conn, recorder, item_id, claimed_at, self.settings)
            if item.kind != "unit"
            else NO_RISK,
        )

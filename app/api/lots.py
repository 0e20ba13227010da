"""Lots (GTIN + lot, anchored by a Merkle root): the read side, and what every record shows
(effective custodian, status, Digital Link); logistic units are in app/api/units.py.

Lots and units are records of the indexer's `items` table (`kind` "lot" or "unit"), found by
the id rule of app/gs1/keys.py.
The custodian shown is the effective one: while a record is packed, the outermost unit's.

Lot ITEMS (/01/{gtin}/10/{lot}/21/{serial}) are in no table: the chain holds only their lot's
Merkle root. `origintrace lots anchor` leaves one compact file per lot in the lot store
(app/scale/store.py); the gateway finds the item there, rebuilds its Merkle proof and checks
it against the root indexed from the chain, so a tampered file cannot prove a foreign item.
"""

import struct
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, bindparam, select

from app.api.clone import known_paths
from app.api.metadata import verified_metadata
from app.api.models import CarriedOf, HistoryEntry, Party, ReadFrom, Risk, StatusConfirmed
from app.api.parties import Parties
from app.chain.merkle import leaf_hash, verify
from app.db.reads import PreparedRead
from app.db.schema import RECORD_ROWS, RECORDS, events, items, unit_contents
from app.gs1.digital_link import DigitalLink
from app.gs1.keys import Lot, SerialisedItem
from app.indexer.decode import DecodedLog
from app.scale.store import SUFFIX, ItemProof, LotReader, StoredLot, lot_path, read_header


class MerkleProof(BaseModel):
    lot_id: str | None = Field(None, description="The lot whose anchored root the proof reaches")
    metadata_hash: str | None = Field(None, description="The item's metadata hash (a leaf input)")
    leaf: str
    proof: list[str]
    root: str
    valid: bool = Field(description="Recomputed by the gateway; clients can recompute it too")


class LotPublic(BaseModel):
    id: str
    gtin: str
    lot: str
    url: str
    merkle_root: str
    item_count: int
    brand: Party
    custodian: Party = Field(description="Effective custodian: the outermost unit's while the lot is packed")
    status: str = Field(description="The lot's status; 'recalled' also when a lot it was split from is")
    status_confirmed: StatusConfirmed = True
    recalled_with: str | None = Field(
        None,
        description="The lot it was split from whose recall covers it (its labels carry that lot's number)",
    )
    parent_lot_id: str | None
    container: str | None = Field(description="Id of the logistic unit the lot is packed in, if any")
    metadata: dict[str, Any] | None = Field(
        None, description="The lot's product metadata, when its data: URI matches its on-chain hash"
    )
    history: list[HistoryEntry] = Field(
        default_factory=list, description="The lot's own facts (anchoring, custody, status), as for an item"
    )
    carried: CarriedOf = []
    block: int
    tx: str
    log_index: int
    chain: ReadFrom = None


class LotItemPublic(BaseModel):
    url: str
    serial: str
    status: str = Field(
        description="Its lot's status (an item of a lot has none of its own), as `lot.status`: "
        "'recalled' also when a lot it was split from is"
    )
    risk: Risk | None = Field(default=None, description="Clone defence: the rules over this item's scans")
    item_id: str = Field(description="The item's id (GS1 element string rule), a leaf input")
    metadata_hash: str = Field(description="The item's metadata hash, the other leaf input")
    lot: LotPublic
    merkle: MerkleProof


MAX_NESTING = 64
"""Units nest (pallet in container); the walk to the outermost stops here (cycles are refused on chain)."""

UNAFFECTED_BY_RECALL = ("recalled", "destroyed")


def lot_status(own: str, ancestor_recalled: bool) -> str:
    """The status a lot shows, given its own and whether a lot it was split from was ever
    recalled (destroying recalled stock afterwards does not undo the recall): a brand recalls a
    lot by its number, and every item printed with that number is recalled, whichever sub-lot
    it went on in. The same rule for the gateway and `verify`."""
    return "recalled" if ancestor_recalled and own not in UNAFFECTED_BY_RECALL else own


RECALL_STATUS = 4
"""StatusChanged's status number for Recalled (contracts/types/RecordTypes.sol)."""


def verify_merkle_proof(leaf: str, proof: list[str], root: str) -> bool:
    """OpenZeppelin MerkleProof.verify (app/chain/merkle.py) over 0x-hex values."""
    return verify(
        [bytes.fromhex(p.removeprefix("0x")) for p in proof],
        bytes.fromhex(root.removeprefix("0x")),
        bytes.fromhex(leaf.removeprefix("0x")),
    )


def effective_custodians(conn: Connection, records: Iterable[Any]) -> dict[str, str]:
    """Record id -> the custodian that counts: the record's own, or its outermost container's.

    One query per level of nesting for all `records` together (rows with `item_id`,
    `custodian` and `container`).
    """
    result: dict[str, str] = {}
    walking: dict[str, tuple[str, str]] = {}  # record id -> (custodian so far, next container)
    for record in records:
        if record.container is None:
            result[record.item_id] = str(record.custodian)
        else:
            walking[record.item_id] = (record.custodian, record.container)
    for _ in range(MAX_NESTING):
        if not walking:
            break
        containers = sorted({container for _, container in walking.values()})
        outer = {
            row.item_id: row
            for row in conn.execute(
                select(items.c.item_id, items.c.custodian, unit_contents.c.container)
                .select_from(RECORDS)
                .where(items.c.item_id.in_(containers))
            )
        }
        following: dict[str, tuple[str, str]] = {}
        for record_id, (_, container) in walking.items():
            row = outer[container]
            if row.container is None:
                result[record_id] = str(row.custodian)
            else:
                following[record_id] = (row.custodian, row.container)
        walking = following
    result.update((record_id, str(custodian)) for record_id, (custodian, _) in walking.items())
    return result


def effective_custodian(conn: Connection, record: Any) -> str:
    """The custodian that counts for one record (see `effective_custodians`)."""
    return effective_custodians(conn, [record])[record.item_id]


def created_record(conn: Connection, record_id: bytes, kind: str) -> tuple[Any, DecodedLog] | None:
    """The record row of `record_id` (of `kind`) and the event that created it."""
    hex_id = "0x" + record_id.hex()
    row = conn.execute(RECORD_ROWS.where(items.c.item_id == hex_id, items.c.kind == kind)).first()
    if row is None:
        return None
    created = conn.execute(
        select(events).where(events.c.tx_hash == row.created_tx, events.c.log_index == row.created_log_index)
    ).one()
    return row, DecodedLog.from_row(created)


def load_lot(conn: Connection, parties: Parties, gtin: str, lot: str, base_url: str) -> LotPublic | None:
    """The lot anchored for GTIN `gtin` and lot number `lot`, if any."""
    key = Lot(gtin, lot)
    found = created_record(conn, key.item_id, "lot")
    if found is None:
        return None
    row, created = found
    custodian = effective_custodian(conn, row)
    recalled = recalled_ancestor(conn, row.parent_id)
    status = lot_status(row.status, recalled is not None)
    return LotPublic(
        id=row.item_id,
        gtin=gtin,
        lot=lot,
        url=base_url + DigitalLink(gtin=gtin, lot=lot).path,
        merkle_root=row.lot_root,
        item_count=row.lot_count,
        brand=parties.party(row.brand),
        custodian=parties.party(custodian),
        status=status,
        recalled_with=recalled if status != row.status else None,
        parent_lot_id=row.parent_id,
        container=row.container,
        metadata=verified_metadata(row.metadata_uri, row.metadata_hash),
        block=created.block_number,
        tx=created.tx_hash,
        log_index=created.log_index,
    )


LOT_ANCESTRY = PreparedRead(
    select(items.c.status, items.c.parent_id).where(items.c.item_id == bindparam("lot_id"))
)


STATUS_CHANGES = PreparedRead(
    select(events.c.args).where(events.c.item_id == bindparam("lot_id"), events.c.name == "StatusChanged")
)


def recalled_ancestor(conn: Connection, parent_id: str | None) -> str | None:
    """The nearest of the lots a lot was split from that was ever recalled (recalled now, or
    destroyed after its recall), or None."""
    for _ in range(MAX_NESTING):
        row = LOT_ANCESTRY.first(conn, lot_id=parent_id) if parent_id is not None else None
        if row is None or parent_id is None:
            return None
        if row.status == "recalled" or (
            row.status == "destroyed"
            and any(r.args["status"] == RECALL_STATUS for r in STATUS_CHANGES.rows(conn, lot_id=parent_id))
        ):
            return parent_id
        parent_id = row.parent_id
    return None


@lru_cache(maxsize=256)
def _open_lot(path: Path, mtime_ns: int) -> LotReader:
    """An open lot file (kept mapped; a rewritten file has a new mtime, so a new entry)."""
    return LotReader(path)


LOT_SPLITS = PreparedRead(
    select(events.c.args)
    .where(events.c.item_id == bindparam("lot_id"), events.c.name == "LotSplit")
    .order_by(events.c.block_number, events.c.log_index)
)
"""The sub-lots split off a lot, earliest first (LotSplit is indexed under the parent lot)."""


def _stored_lot(store: Path, lot_id: str) -> tuple[Path, LotReader] | None:
    """The lot file of `lot_id` (0x-hex) in `store`, open, or None when it is not here."""
    path = lot_path(store, bytes.fromhex(lot_id.removeprefix("0x")))
    try:
        return path, _open_lot(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        return None


def _header_naming(path: Path, lot_id: str) -> StoredLot | None:
    """The header of the lot file at `path` if it names the lot `lot_id` (its GTIN and lot
    number hash to that id), else None: a file renamed or mislabelled is not that lot's."""
    header = read_header(path)
    if header is None or "0x" + Lot(header.gtin, header.lot).item_id.hex() != lot_id:
        return None
    return header


def _prove(store: Path, lot_id: str, item_id: bytes) -> ItemProof | None:
    """The item's metadata hash and proof from the stored file of `lot_id`, if it lists the item."""
    lot_file = _stored_lot(store, lot_id)
    return lot_file[1].prove(item_id) if lot_file is not None else None


def _split_off_to(
    conn: Connection, store: Path, lot_id: str, item_id: bytes, metadata_hash: bytes
) -> tuple[StoredLot, ItemProof] | None:
    """The sub-lot of `lot_id` the item was split off into, with the item's proof in it: the
    earliest split whose stored file lists the item with the same metadata hash (whoever holds
    a lot may split it, but not change what its brand vouched for) and names the sub-lot the
    chain recorded. A parent's root still holds the items split off, so a later split may list
    one again; it took nothing, the first split did. A split whose file is not in the store
    stops the search (None): it may be the one that took the item, and a later split listing it
    again would show the item where it is not (`origintrace verify` then fails closed)."""
    for split in LOT_SPLITS.rows(conn, lot_id=lot_id):
        lot_file = _stored_lot(store, split.args["subLotId"])
        if lot_file is None:  # it may be the split that took the item: a later one cannot be followed
            return None
        proved = lot_file[1].prove(item_id)
        if proved is None or proved.metadata_hash != metadata_hash:
            continue
        header = _header_naming(lot_file[0], split.args["subLotId"])
        if header is not None:
            return header, proved
    return None


PARENT_LOT = PreparedRead(
    select(items.c.lot_root, items.c.parent_id).where(items.c.item_id == bindparam("lot_id"))
)
"""The anchored root of a lot and the lot it was split from."""


def _vouched_by_parent_lots(
    conn: Connection, store: Path, lot_id: str, parent_id: str | None, item_id: bytes, metadata_hash: bytes
) -> bool:
    """Whether the item of the sub-lot `lot_id` came down from the lot its brand anchored: each
    lot above lists it with `metadata_hash` (proved against that lot's root on chain), and its
    first split of the item is the lot below. A lot's holder may split it but cannot add items
    or change their data, and the chain does not check what a sub-lot's root holds."""
    child = lot_id
    for _ in range(MAX_NESTING + 1):
        if parent_id is None:
            return True
        rows = PARENT_LOT.rows(conn, lot_id=parent_id)
        parent = rows[0] if rows and rows[0].lot_root is not None else None
        proved = _prove(store, parent_id, item_id)
        if parent is None or proved is None or proved.metadata_hash != metadata_hash:
            return False
        root = bytes.fromhex(parent.lot_root.removeprefix("0x"))
        if not verify(list(proved.proof), root, leaf_hash(item_id, metadata_hash)):
            return False  # the stored file is not the one anchored
        moved = _split_off_to(conn, store, parent_id, item_id, metadata_hash)
        if moved is None or "0x" + Lot(moved[0].gtin, moved[0].lot).item_id.hex() != child:
            return False
        child, parent_id = parent_id, parent.parent_id
    return False


def load_lot_item(
    conn: Connection, parties: Parties, gtin: str, lot: str, serial: str, base_url: str, store: Path | None
) -> LotItemPublic | None:
    """An item of a lot with its Merkle proof checked against the anchored root, or None when
    the lot is unknown or its stored manifest does not list the serial.

    An item of a sub-lot is answered only when its parent lots list it with the same metadata.
    An item split off into a sub-lot is answered as an item of the sub-lot (of the deepest,
    through further splits, at most MAX_NESTING): the sub-lot's record holds its custody and
    status now, and its root proves the item with the metadata hash the parent's did.
    """
    found = load_lot(conn, parties, gtin, lot, base_url)
    if found is None or store is None:
        return None
    item_id = SerialisedItem(gtin, serial).item_id
    stored = _prove(store, found.id, item_id)
    if stored is None or not _vouched_by_parent_lots(
        conn, store, found.id, found.parent_lot_id, item_id, stored.metadata_hash
    ):
        return None
    for _ in range(MAX_NESTING):
        moved = _split_off_to(conn, store, found.id, item_id, stored.metadata_hash)
        sub = (
            load_lot(conn, parties, gtin, moved[0].lot, base_url) if moved and moved[0].gtin == gtin else None
        )
        if moved is None or sub is None:
            break
        found, stored, lot = sub, moved[1], sub.lot
    leaf = "0x" + leaf_hash(item_id, stored.metadata_hash).hex()
    proof = ["0x" + node.hex() for node in stored.proof]
    return LotItemPublic(
        url=base_url + DigitalLink(gtin=gtin, lot=lot, serial=serial).path,
        serial=serial,
        status=found.status,
        item_id="0x" + item_id.hex(),
        metadata_hash="0x" + stored.metadata_hash.hex(),
        lot=found,
        merkle=MerkleProof(
            lot_id=found.id,
            metadata_hash="0x" + stored.metadata_hash.hex(),
            leaf=leaf,
            proof=proof,
            root=found.merkle_root,
            valid=verify_merkle_proof(leaf, proof, found.merkle_root),
        ),
    )


@lru_cache(maxsize=8)
def _lots_by_gtin(store: Path, mtime_ns: int) -> dict[str, list[tuple[str, Path]]]:
    """GTIN -> (lot number, file) of each lot file in `store`, from their headers (a new file
    changes the folder's mtime, so a new entry)."""
    found: dict[str, list[tuple[str, Path]]] = {}
    for path in sorted(store.glob(f"*{SUFFIX}")):
        header = read_header(path)
        if header is not None:
            found.setdefault(header.gtin, []).append((header.lot, path))
    return {gtin: sorted(lots) for gtin, lots in found.items()}


def find_lot_item(
    conn: Connection, parties: Parties, gtin: str, serial: str, base_url: str, store: Path | None
) -> LotItemPublic | None:
    """An item of a lot looked up by GTIN and serial alone (typed from the pack, or a code that
    leaves the lot out), as `load_lot_item` answers it under the first stored lot of `gtin` (by
    lot number) whose file lists it and that answers for it; None when none does."""
    try:
        lots = _lots_by_gtin(store, store.stat().st_mtime_ns).get(gtin, []) if store is not None else []
    except FileNotFoundError:
        return None
    item_id = SerialisedItem(gtin, serial).item_id
    for lot, path in lots:
        try:
            listed = _open_lot(path, path.stat().st_mtime_ns).find(item_id) is not None
        except (FileNotFoundError, ValueError, struct.error):  # removed since, or not a whole lot file
            continue
        found = load_lot_item(conn, parties, gtin, lot, serial, base_url, store) if listed else None
        if found is not None:
            return found
    return None


def lot_link(store: Path | None, lot_id: str) -> str | None:
    """The Digital Link path of the lot `lot_id`, read from its file in `store` (the chain keeps
    only the lot's hash), or None when the file is not there or names another lot."""
    lot_file = _stored_lot(store, lot_id) if store is not None else None
    header = _header_naming(lot_file[0], lot_id) if lot_file is not None else None
    return DigitalLink(gtin=header.gtin, lot=header.lot).path if header is not None else None


def record_paths(conn: Connection, records: Iterable[Any], store: Path | None) -> dict[str, str]:
    """Record id -> Digital Link path of those of `records` (rows with `item_id` and `kind`) whose
    key the gateway knows: resolved before, or lots whose file is in the lot `store`."""
    records = list(records)
    paths = known_paths(conn, [r.item_id for r in records])
    for record in records:
        link = (
            lot_link(store, record.item_id) if record.kind == "lot" and record.item_id not in paths else None
        )
        if link is not None:
            paths[record.item_id] = link
    return paths


def record_status(conn: Connection, status: str, parent_id: str | None) -> str:
    """The status a record shows: its own, or for a sub-lot `recalled` with a lot it was split
    from (see `lot_status`)."""
    return lot_status(status, recalled_ancestor(conn, parent_id) is not None)

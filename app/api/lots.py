"""Lots (GTIN + lot, anchored by a Merkle root) and logistic units (SSCC): the read side.

The contracts and indexer branches add these facts; this module reads them from the
tables below and returns None while a table is absent, so the routes answer 404.

Expected tables (the indexer writes them; names and columns are this module's contract):
  lots        lot_id HEX32 PK, gtin String(14), lot Text, merkle_root HEX32,
              item_count BigInteger, brand ADDRESS, custodian ADDRESS, status String(16),
              parent_lot_id HEX32 NULL, block_number BigInteger, tx_hash HEX32, log_index Integer
  lot_leaves  lot_id HEX32, serial Text, leaf HEX32, proof JSON (list of HEX32), from the
              brand's manifest; `leaf` is what the Merkle tree hashes for that item
  units       sscc String(18) PK, unit_id HEX32, custodian ADDRESS, status String(16),
              parent_sscc String(18) NULL, block_number BigInteger, tx_hash HEX32, log_index Integer
  unit_contents  sscc String(18), child Text (a canonical Digital Link path)
"""

from typing import Any

from eth_utils.crypto import keccak
from pydantic import BaseModel, Field
from sqlalchemy import Connection, column, inspect, select, table
from sqlalchemy.sql.expression import TableClause

from app.gs1.digital_link import DigitalLink


class MerkleProof(BaseModel):
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
    brand: str
    custodian: str
    status: str
    parent_lot_id: str | None
    block: int
    tx: str
    log_index: int


class LotItemPublic(BaseModel):
    url: str
    serial: str
    lot: LotPublic
    merkle: MerkleProof


class UnitPublic(BaseModel):
    id: str
    sscc: str
    url: str
    custodian: str
    status: str
    parent_sscc: str | None
    contents: list[str] = Field(description="Canonical Digital Link paths packed in this unit")
    block: int
    tx: str
    log_index: int


def _table(name: str, *names: str) -> TableClause:
    return table(name, *(column(n) for n in names))


LOTS = _table(
    "lots",
    "lot_id",
    "gtin",
    "lot",
    "merkle_root",
    "item_count",
    "brand",
    "custodian",
    "status",
    "parent_lot_id",
    "block_number",
    "tx_hash",
    "log_index",
)
LOT_LEAVES = _table("lot_leaves", "lot_id", "serial", "leaf", "proof")
UNITS = _table(
    "units", "sscc", "unit_id", "custodian", "status", "parent_sscc", "block_number", "tx_hash", "log_index"
)
UNIT_CONTENTS = _table("unit_contents", "sscc", "child")


def verify_merkle_proof(leaf: str, proof: list[str], root: str) -> bool:
    """OpenZeppelin MerkleProof.verify: hash sorted pairs with keccak256 from leaf to root."""
    node = bytes.fromhex(leaf.removeprefix("0x"))
    for sibling_hex in proof:
        sibling = bytes.fromhex(sibling_hex.removeprefix("0x"))
        node = keccak(min(node, sibling) + max(node, sibling))
    return "0x" + node.hex() == root.lower()


def _present(conn: Connection, *names: str) -> bool:
    inspector = inspect(conn)
    return all(inspector.has_table(name) for name in names)


def _lot(row: Any, base_url: str) -> LotPublic:
    return LotPublic(
        id=row.lot_id,
        gtin=row.gtin,
        lot=row.lot,
        url=base_url + DigitalLink(gtin=row.gtin, lot=row.lot).path,
        merkle_root=row.merkle_root,
        item_count=row.item_count,
        brand=row.brand,
        custodian=row.custodian,
        status=row.status,
        parent_lot_id=row.parent_lot_id,
        block=row.block_number,
        tx=row.tx_hash,
        log_index=row.log_index,
    )


def load_lot(conn: Connection, gtin: str, lot: str, base_url: str) -> LotPublic | None:
    """The lot anchored for GTIN `gtin` and lot number `lot`, if any."""
    if not _present(conn, "lots"):
        return None
    row = conn.execute(select(LOTS).where(LOTS.c.gtin == gtin, LOTS.c.lot == lot)).first()
    return _lot(row, base_url) if row else None


def load_lot_item(conn: Connection, gtin: str, lot: str, serial: str, base_url: str) -> LotItemPublic | None:
    """An item of a lot with its Merkle proof checked against the anchored root."""
    found = load_lot(conn, gtin, lot, base_url)
    if found is None or not _present(conn, "lot_leaves"):
        return None
    leaf = conn.execute(
        select(LOT_LEAVES).where(LOT_LEAVES.c.lot_id == found.id, LOT_LEAVES.c.serial == serial)
    ).first()
    if leaf is None:
        return None
    proof = [str(p) for p in leaf.proof]
    return LotItemPublic(
        url=base_url + DigitalLink(gtin=gtin, lot=lot, serial=serial).path,
        serial=serial,
        lot=found,
        merkle=MerkleProof(
            leaf=leaf.leaf,
            proof=proof,
            root=found.merkle_root,
            valid=verify_merkle_proof(leaf.leaf, proof, found.merkle_root),
        ),
    )


def load_unit(conn: Connection, sscc: str, base_url: str) -> UnitPublic | None:
    """The logistic unit with SSCC `sscc` and what is packed in it."""
    if not _present(conn, "units", "unit_contents"):
        return None
    row = conn.execute(select(UNITS).where(UNITS.c.sscc == sscc)).first()
    if row is None:
        return None
    contents = [
        r.child for r in conn.execute(select(UNIT_CONTENTS.c.child).where(UNIT_CONTENTS.c.sscc == sscc))
    ]
    return UnitPublic(
        id=row.unit_id,
        sscc=sscc,
        url=f"{base_url}/00/{sscc}",
        custodian=row.custodian,
        status=row.status,
        parent_sscc=row.parent_sscc,
        contents=contents,
        block=row.block_number,
        tx=row.tx_hash,
        log_index=row.log_index,
    )

"""One handler per registry event: each turns a decoded log into idempotent state writes.

Adding an event to the contract means adding one function here and one HANDLERS entry.
"""

from collections.abc import Callable

from eth_utils.crypto import keccak
from sqlalchemy import Connection, select, update

from app.db.schema import attestations, items, members
from app.db.writes import insert_ignore, upsert
from app.indexer.decode import DecodedLog

ROLE_NAMES = {
    "0x" + "00" * 32: "admin",
    **{
        "0x" + keccak(text=f"{r.upper()}_ROLE").hex(): r
        for r in ("brand", "certifier", "carrier", "customs", "retailer")
    },
}

Handler = Callable[[Connection, DecodedLog], None]


def _set_item(conn: Connection, log: DecodedLog, **values: object) -> None:
    conn.execute(
        update(items).where(items.c.item_id == log.item_id).values(updated_block=log.block_number, **values)
    )


def _member_roles(conn: Connection, address: str) -> tuple[str, list[str]]:
    row = conn.execute(select(members.c.name, members.c.roles).where(members.c.address == address)).first()
    return (row.name, list(row.roles)) if row else ("", [])


def on_member_admitted(conn: Connection, log: DecodedLog) -> None:
    _, roles = _member_roles(conn, log.args["account"])
    upsert(
        conn, members, {"address": log.args["account"], "name": log.args["name"], "roles": roles}, ["address"]
    )


def _on_role_change(conn: Connection, log: DecodedLog, granted: bool) -> None:
    role = ROLE_NAMES.get(log.args["role"], log.args["role"])
    name, roles = _member_roles(conn, log.args["account"])
    roles = sorted(set(roles) | {role}) if granted else [r for r in roles if r != role]
    upsert(conn, members, {"address": log.args["account"], "name": name, "roles": roles}, ["address"])


def on_role_granted(conn: Connection, log: DecodedLog) -> None:
    _on_role_change(conn, log, granted=True)


def on_role_revoked(conn: Connection, log: DecodedLog) -> None:
    _on_role_change(conn, log, granted=False)


def on_item_registered(conn: Connection, log: DecodedLog) -> None:
    row = {
        "item_id": log.item_id,
        "brand": log.args["brand"],
        "custodian": log.args["brand"],
        "status": "active",
        "metadata_hash": log.args["metadataHash"],
        "metadata_uri": log.args["metadataURI"],
        "pending_to": None,
        "offer_expires_at": None,
        "registered_block": log.block_number,
        "updated_block": log.block_number,
    }
    upsert(conn, items, row, ["item_id"])


def on_item_attested(conn: Connection, log: DecodedLog) -> None:
    kind = bytes.fromhex(log.args["kind"][2:]).rstrip(b"\0").decode("utf-8", "replace")
    row = {
        "item_id": log.item_id,
        "certifier": log.args["certifier"],
        "kind": kind,
        "data_hash": log.args["dataHash"],
        "block_number": log.block_number,
        "tx_hash": log.tx_hash,
        "log_index": log.log_index,
    }
    insert_ignore(conn, attestations, [row])


def on_custody_offered(conn: Connection, log: DecodedLog) -> None:
    _set_item(conn, log, status="offered", pending_to=log.args["to"], offer_expires_at=log.args["expiresAt"])


def on_custody_offer_cancelled(conn: Connection, log: DecodedLog) -> None:
    _set_item(conn, log, status="active", pending_to=None, offer_expires_at=None)


def on_custody_transferred(conn: Connection, log: DecodedLog) -> None:
    _set_item(conn, log, status="active", custodian=log.args["to"], pending_to=None, offer_expires_at=None)


def on_item_sold(conn: Connection, log: DecodedLog) -> None:
    _set_item(conn, log, status="sold")


HANDLERS: dict[str, Handler] = {
    "MemberAdmitted": on_member_admitted,
    "RoleGranted": on_role_granted,
    "RoleRevoked": on_role_revoked,
    "ItemRegistered": on_item_registered,
    "ItemAttested": on_item_attested,
    "CustodyOffered": on_custody_offered,
    "CustodyOfferCancelled": on_custody_offer_cancelled,
    "CustodyTransferred": on_custody_transferred,
    "ItemSold": on_item_sold,
}

"""One handler per registry event: each turns a decoded log into idempotent state changes.

Handlers change the in-memory `RangeState` of the range being indexed (rows loaded in bulk
before, written in bulk after), so a range costs a few queries, not a few per event. Each
handler only sets values carried by its event, so applying an event twice gives the same
state. Adding an event to the contract means adding one function here and one HANDLERS
entry (or a STORED_ONLY entry when the gateway needs nothing but the raw event).
"""

from collections.abc import Callable

from eth_utils.crypto import keccak

from app.indexer.decode import DecodedLog
from app.indexer.state import RangeState

ROLE_NAMES = {
    "0x" + "00" * 32: "admin",
    **{
        "0x" + keccak(text=f"{r.upper()}_ROLE").hex(): r
        for r in ("brand", "certifier", "carrier", "customs", "retailer")
    },
}

Handler = Callable[[RangeState, DecodedLog], None]


def on_member_admitted(state: RangeState, log: DecodedLog) -> None:
    state.member(log.args["account"])["name"] = log.args["name"]


def _on_role_change(state: RangeState, log: DecodedLog, granted: bool) -> None:
    role = ROLE_NAMES.get(log.args["role"], log.args["role"])
    member = state.member(log.args["account"])
    roles = set(member["roles"])
    member["roles"] = sorted(roles | {role} if granted else roles - {role})


def on_role_granted(state: RangeState, log: DecodedLog) -> None:
    _on_role_change(state, log, granted=True)


def on_role_revoked(state: RangeState, log: DecodedLog) -> None:
    _on_role_change(state, log, granted=False)


def on_item_registered(state: RangeState, log: DecodedLog) -> None:
    brand = log.args["brand"]
    state.put_item(
        {
            "item_id": log.args["itemId"],
            "brand": brand,
            "custodian": brand,
            "status": "active",
            "metadata_hash": log.args["metadataHash"],
            "metadata_uri": log.args["metadataURI"],
            "pending_to": None,
            "offer_expires_at": None,
            "registered_block": log.block_number,
            "updated_block": log.block_number,
        }
    )


def on_item_attested(state: RangeState, log: DecodedLog) -> None:
    kind = bytes.fromhex(log.args["kind"][2:]).rstrip(b"\0").decode("utf-8", "replace")
    state.attestations.append(
        {
            "item_id": log.args["itemId"],
            "certifier": log.args["certifier"],
            "kind": kind,
            "data_hash": log.args["dataHash"],
            "block_number": log.block_number,
            "tx_hash": log.tx_hash,
            "log_index": log.log_index,
        }
    )


def on_custody_offered(state: RangeState, log: DecodedLog) -> None:
    state.update_item(
        log, status="offered", pending_to=log.args["to"], offer_expires_at=log.args["expiresAt"]
    )


def on_custody_offer_cancelled(state: RangeState, log: DecodedLog) -> None:
    state.update_item(log, status="active", pending_to=None, offer_expires_at=None)


def on_custody_transferred(state: RangeState, log: DecodedLog) -> None:
    state.update_item(log, status="active", custodian=log.args["to"], pending_to=None, offer_expires_at=None)


def on_item_sold(state: RangeState, log: DecodedLog) -> None:
    state.update_item(log, status="sold")


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

STORED_ONLY: dict[str, str] = {
    "RoleAdminChanged": "roles are administered by DEFAULT_ADMIN_ROLE; the gateway shows no role admins",
}
"""Events kept in the `events` table without state of their own, each with the reason."""


def apply(state: RangeState, logs: list[DecodedLog]) -> None:
    """Run every log through its handler, in chain order."""
    for entry in logs:
        handler = HANDLERS.get(entry.name)
        if handler is not None:
            handler(state, entry)

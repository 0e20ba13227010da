"""One handler per registry event: each turns a decoded log into idempotent state changes.

Handlers change the in-memory `RangeState` of the range being indexed (rows loaded in bulk
before, written in bulk after), so a range costs a few queries, not a few per event. Each
handler only sets values carried by its event, so applying an event twice gives the same
state. Adding an event to the contract means adding one function here and one HANDLERS
entry (or a STORED_ONLY entry when the gateway needs nothing but the raw event).
"""

from collections.abc import Callable
from typing import Any

from eth_utils.crypto import keccak

from app.chain.record_types import STATUS_NAMES
from app.indexer.decode import DecodedLog, label_text
from app.indexer.state import RangeState

ROLE_NAMES = {
    "0x" + "00" * 32: "admin",
    **{
        "0x" + keccak(text=f"{r.upper()}_ROLE").hex(): r
        for r in ("brand", "certifier", "carrier", "customs", "retailer")
    },
}

Handler = Callable[[RangeState, DecodedLog], None]
ZERO32 = "0x" + "00" * 32


NEVER_EXPIRES = (1 << 63) - 1
"""The latest offer expiry `items.offer_expires_at` (a signed 64-bit column) holds. An offer's
`uint64 expiresAt` may be larger (type(uint64).max reads as "never"); such an offer is stored
as expiring at this time, some 292 billion years away, and its event keeps the exact value."""


def _as_of(member: dict[str, Any], log: DecodedLog) -> None:
    """Keep the member's name and GLN as they are after `log`, for the steps it takes from then
    on (idempotent: a replayed event replaces its own entry)."""
    position = [log.block_number, log.log_index]
    kept = [entry for entry in member["history"] if entry[:2] != position]
    member["history"] = sorted([*kept, [*position, member["name"], member["gln"]]])


def on_member_admitted(state: RangeState, log: DecodedLog) -> None:
    # A new admission starts without a GLN (a removed member's is kept for its history); an
    # admission with one emits MemberGlnSet right after.
    member = state.member(log.args["account"])
    member.update(name=log.args["name"], gln="", active=True)
    _as_of(member, log)


def on_member_removed(state: RangeState, log: DecodedLog) -> None:
    # The name and GLN stay: the history still names who did what while a member.
    state.member(log.args["account"])["active"] = False


def on_member_gln_set(state: RangeState, log: DecodedLog) -> None:
    member = state.member(log.args["account"])
    member["gln"] = log.args["gln"]
    _as_of(member, log)


def _on_role_change(state: RangeState, log: DecodedLog, granted: bool) -> None:
    role = ROLE_NAMES.get(log.args["role"], log.args["role"])
    member = state.member(log.args["account"])
    roles = set(member["roles"])
    member["roles"] = sorted(roles | {role} if granted else roles - {role})


def on_role_granted(state: RangeState, log: DecodedLog) -> None:
    _on_role_change(state, log, granted=True)


def on_role_revoked(state: RangeState, log: DecodedLog) -> None:
    _on_role_change(state, log, granted=False)


def _record(log: DecodedLog, kind: str, brand: str, custodian: str, **values: Any) -> dict[str, Any]:
    """A new record row (item, lot or unit), Active, with every column set."""
    row: dict[str, Any] = {
        "item_id": log.item_id,
        "kind": kind,
        "brand": brand,
        "custodian": custodian,
        "status": "active",
        "metadata_hash": ZERO32,
        "metadata_uri": "",
        "pending_to": None,
        "offer_expires_at": None,
        "claimable": False,
        "lot_root": None,
        "lot_count": None,
        "parent_id": None,
        "registered_block": log.block_number,
        "updated_block": log.block_number,
        "created_tx": log.tx_hash,
        "created_log_index": log.log_index,
    }
    row.update(values)
    return row


def on_item_registered(state: RangeState, log: DecodedLog) -> None:
    brand = log.args["brand"]
    state.put_item(
        _record(
            log,
            "item",
            brand,
            brand,
            metadata_hash=log.args["metadataHash"],
            metadata_uri=log.args["metadataURI"],
        )
    )


def on_items_registered(state: RangeState, log: DecodedLog) -> None:
    brand = log.args["brand"]
    batch = _record(log, "item", brand, brand, metadata_uri=log.args["metadataURI"])
    for item_id, metadata_hash in zip(log.args["itemIds"], log.args["metadataHashes"], strict=True):
        state.put_item({**batch, "item_id": item_id, "metadata_hash": metadata_hash})


def on_lot_anchored(state: RangeState, log: DecodedLog) -> None:
    custodian, parent_id = log.args["custodian"], log.args["parentLotId"]
    parent = state.items.get(parent_id) if parent_id != ZERO32 else None
    state.put_item(
        _record(
            log,
            "lot",
            parent["brand"] if parent else custodian,
            custodian,
            metadata_hash=log.args["metadataHash"],
            metadata_uri=log.args["metadataURI"],
            lot_root=log.args["root"],
            lot_count=log.args["count"],
            parent_id=parent_id if parent_id != ZERO32 else None,
        )
    )


def on_lot_split(state: RangeState, log: DecodedLog) -> None:
    state.update_item(log, lot_count=log.args["parentCount"])


def on_unit_created(state: RangeState, log: DecodedLog) -> None:
    custodian = log.args["custodian"]
    state.put_item(_record(log, "unit", custodian, custodian))


def on_unit_packed(state: RangeState, log: DecodedLog) -> None:
    state.pack(log, log.args["unitId"])
    state.packing_step(log)


def on_unit_unpacked(state: RangeState, log: DecodedLog) -> None:
    state.pack(log, None)
    state.packing_step(log)
    state.update_item(log, custodian=log.args["custodian"])


def on_attestation_recorded(state: RangeState, log: DecodedLog) -> None:
    kind = label_text(log.args["kind"])
    state.put_attestation(
        {
            "attestation_id": log.args["attestationId"],
            "item_id": log.args["subject"],
            "certifier": log.args["certifier"],
            "kind": kind,
            "data_hash": log.args["dataHash"],
            "uri": log.args["uri"],
            "revoked": False,
            "block_number": log.block_number,
            "tx_hash": log.tx_hash,
            "log_index": log.log_index,
        }
    )


def on_attestation_revoked(state: RangeState, log: DecodedLog) -> None:
    state.update_attestation(log, revoked=True)


def on_custody_offered(state: RangeState, log: DecodedLog) -> None:
    expires_at = min(log.args["expiresAt"], NEVER_EXPIRES)
    state.update_item(log, status="offered", pending_to=log.args["to"], offer_expires_at=expires_at)


def on_custody_offer_cancelled(state: RangeState, log: DecodedLog) -> None:
    state.update_item(log, status="active", pending_to=None, offer_expires_at=None)


def on_custody_transferred(state: RangeState, log: DecodedLog) -> None:
    state.update_item(log, status="active", custodian=log.args["to"], pending_to=None, offer_expires_at=None)


def on_item_sold(state: RangeState, log: DecodedLog) -> None:
    state.update_item(log, status="sold")


def on_claim_key_set(state: RangeState, log: DecodedLog) -> None:
    state.update_item(log, claimable=True)


def on_status_changed(state: RangeState, log: DecodedLog) -> None:
    """Only a Sold item is claimable, and every status change leaves Sold behind (claim, recall)."""
    status = STATUS_NAMES[log.args["status"]]
    if status == "claimed":
        state.update_item(log, status=status, custodian=log.args["by"], claimable=False)
    else:
        state.update_item(log, status=status, claimable=False)


def on_paused(state: RangeState, log: DecodedLog) -> None:
    state.registry["paused_since"] = log.timestamp


def on_unpaused(state: RangeState, log: DecodedLog) -> None:
    state.registry["paused_since"] = None


HANDLERS: dict[str, Handler] = {
    "MemberAdmitted": on_member_admitted,
    "MemberRemoved": on_member_removed,
    "MemberGlnSet": on_member_gln_set,
    "RoleGranted": on_role_granted,
    "RoleRevoked": on_role_revoked,
    "ItemRegistered": on_item_registered,
    "ItemsRegistered": on_items_registered,
    "LotAnchored": on_lot_anchored,
    "LotSplit": on_lot_split,
    "UnitCreated": on_unit_created,
    "UnitPacked": on_unit_packed,
    "UnitUnpacked": on_unit_unpacked,
    "AttestationRecorded": on_attestation_recorded,
    "AttestationRevoked": on_attestation_revoked,
    "CustodyOffered": on_custody_offered,
    "CustodyOfferCancelled": on_custody_offer_cancelled,
    "CustodyTransferred": on_custody_transferred,
    "ItemSold": on_item_sold,
    "ClaimKeySet": on_claim_key_set,
    "StatusChanged": on_status_changed,
    "Paused": on_paused,
    "Unpaused": on_unpaused,
}

MEMBER_EVENTS = ("MemberAdmitted", "MemberRemoved", "MemberGlnSet", "RoleGranted", "RoleRevoked")
"""The events whose handlers change a member (the one their `account` names)."""

PAUSE_EVENTS = ("Paused", "Unpaused")
"""The events whose handlers change the registry's own state (`RangeState.registry`)."""

_GOVERNANCE = "governance bookkeeping: the gateway shows no proposals, thresholds or admin handovers"
STORED_ONLY: dict[str, str] = {
    "RoleAdminChanged": "ABI only, never emitted: every role is administered by DEFAULT_ADMIN_ROLE",
    "EIP712DomainChanged": "ABI only, never emitted: the EIP-712 domain is fixed",
    "ItemAttested": "the AttestationRecorded that follows it creates the attestation, with id and URI",
    "HandoffSigned": "the relayer reads nonces from the chain; the CustodyTransferred after it moves custody",
    "ThresholdChanged": _GOVERNANCE,
    "ProposalCreated": _GOVERNANCE,
    "ProposalApproved": _GOVERNANCE,
    "ProposalExecuted": _GOVERNANCE + " (the executed call emits its own events)",
    "AdminHandoverStarted": _GOVERNANCE,
    "AdminHandoverCancelled": _GOVERNANCE,
    "AdminHandoverCompleted": _GOVERNANCE + " (RoleGranted/RoleRevoked carry the role change)",
}
"""Events kept in the `events` table without state of their own, each with the reason."""


def apply(state: RangeState, logs: list[DecodedLog]) -> None:
    """Run every log through its handler, in chain order."""
    for entry in logs:
        handler = HANDLERS.get(entry.name)
        if handler is not None:
            handler(state, entry)

"""Read an item's public view (state, attestations, history) from the database."""

import base64
import json
from datetime import UTC, datetime
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import Connection, select

from app.api.models import Attestation, ChainInfo, HistoryEntry, ItemPublic, Party
from app.db.schema import attestations, events, indexer_state, items, members
from app.gs1.keys import SerialisedItem
from app.indexer.status import confirmed_through

HISTORY_TYPES = {
    "ItemRegistered": ("registered", None, "brand"),
    "ItemAttested": ("attested", "certifier", None),
    "CustodyOffered": ("offered", "from", "to"),
    "CustodyOfferCancelled": ("offer_cancelled", "from", "to"),
    "CustodyTransferred": ("handed_over", "from", "to"),
    "ItemSold": ("sold", "retailer", None),
}
"""event name -> (history type, arg naming `from`, arg naming `to`)."""

_DATA_JSON = "data:application/json;base64,"


def verified_metadata(uri: str, expected_hash: str) -> dict[str, Any] | None:
    """The metadata carried by a data: URI, if its keccak256 matches the on-chain hash."""
    if not uri.startswith(_DATA_JSON):
        return None
    try:
        raw = base64.b64decode(uri[len(_DATA_JSON) :], validate=True)
    except ValueError:
        return None
    if "0x" + keccak(raw).hex() != expected_hash:
        return None
    data = json.loads(raw)
    return data if isinstance(data, dict) else None


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def load_item(
    conn: Connection, key: SerialisedItem, base_url: str, confirmations: int = 0
) -> ItemPublic | None:
    """The public view of `key`, or None when the registry has no such item."""
    item_id = "0x" + key.item_id.hex()
    item = conn.execute(select(items).where(items.c.item_id == item_id)).first()
    state = conn.execute(select(indexer_state)).first()
    if item is None or state is None:
        return None
    confirmed_to = confirmed_through(conn, confirmations)
    names = {row.address: row.name or None for row in conn.execute(select(members.c.address, members.c.name))}

    def party(address: str) -> Party:
        return Party(address=address, name=names.get(address))

    def maybe_party(address: str | None) -> Party | None:
        return party(address) if address else None

    history = []
    rows = conn.execute(
        select(events).where(events.c.item_id == item_id).order_by(events.c.block_number, events.c.log_index)
    )
    for row in rows:
        if row.name not in HISTORY_TYPES:
            continue
        kind, from_arg, to_arg = HISTORY_TYPES[row.name]
        history.append(
            HistoryEntry(
                type=kind,
                from_=party(row.args[from_arg]) if from_arg else None,
                to=party(row.args[to_arg]) if to_arg else None,
                block=row.block_number,
                tx=row.tx_hash,
                log_index=row.log_index,
                timestamp=_iso(row.timestamp),
                confirmed=row.block_number <= confirmed_to,
            )
        )
    attested = [
        Attestation(
            kind=a.kind,
            certifier=party(a.certifier),
            data_hash=a.data_hash,
            block=a.block_number,
            tx=a.tx_hash,
            confirmed=a.block_number <= confirmed_to,
        )
        for a in conn.execute(
            select(attestations)
            .where(attestations.c.item_id == item_id)
            .order_by(attestations.c.block_number)
        )
    ]
    return ItemPublic(
        id=item_id,
        gtin=key.gtin,
        serial=key.serial,
        url=base_url + key.path,
        status=item.status,
        brand=party(item.brand),
        custodian=party(item.custodian),
        pending_offer_to=maybe_party(item.pending_to),
        metadata_uri=item.metadata_uri,
        metadata_hash=item.metadata_hash,
        metadata=verified_metadata(item.metadata_uri, item.metadata_hash),
        attestations=attested,
        history=history,
        chain=ChainInfo(chain_id=state.chain_id, registry=state.registry),
    )

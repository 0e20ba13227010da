"""EPCIS 2.0 export: an item's registry events as an EPCISQueryDocument (JSON-LD), CBV 2.0.

Mapping (event -> EPCIS event type, action, bizStep, disposition):
  ItemRegistered        ObjectEvent ADD      commissioning   active
  ItemsRegistered       ObjectEvent ADD      commissioning   active   (this item of the batch)
  ItemAttested          ObjectEvent OBSERVE  inspecting      conformant  + certificationInfo
  CustodyOffered        ObjectEvent OBSERVE  shipping        in_transit
  CustodyOfferCancelled ObjectEvent OBSERVE  void_shipping   in_progress
  CustodyTransferred    ObjectEvent OBSERVE  receiving       in_progress
  ItemSold              ObjectEvent OBSERVE  retail_selling  retail_sold
  StatusChanged(4)      ObjectEvent OBSERVE  holding         recalled
  StatusChanged(5)      ObjectEvent OBSERVE  receiving       retail_sold   (consumer claim)
  StatusChanged(6)      ObjectEvent OBSERVE  other           stolen        (reported lost)
  StatusChanged(1)      ObjectEvent OBSERVE  other           in_progress   (found again)
  StatusChanged(7)      ObjectEvent DELETE   destroying      destroyed
  UnitPacked            AggregationEvent ADD    packing      in_progress
  UnitUnpacked          AggregationEvent DELETE unpacking    in_progress
Custody parties appear as possessing_party sources and destinations. The acting party's
GLN, as a GS1 Digital Link URI (https://id.gs1.org/414/{gln}), is the readPoint (where
the fact was recorded) and, when the object is there after the event, the bizLocation:
not while shipping (in transit), nor for status changes and attestations, which a party
can record away from the object. A unit is the aggregation's parentID by its Digital Link
URI (/00/{sscc}) once the gateway knows its SSCC (from a resolution: the SSCC is a hash on
chain), else as urn:origintrace:eip155:{chain}:record:{unitId}, as the unit's own document
names it. A unit's own document ends with an AggregationEvent (OBSERVE) of what it holds now:
its childEPCs by Digital Link where known (else by record URN), as of the last packing or
unpacking. A lot is a class of objects (an LGTIN), not one: it is named, by its Digital Link
/01/{gtin}/10/{lot} (known from its lot file) in quantityList (childQuantityList when packed)
instead of epcList (childEPCs), without a quantity. Every event names the transaction and log
position behind it in bizTransactionList. A batch log (ItemsRegistered) becomes one event per object, so its
eventID also hashes the object's record id.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.api.items import iso_time
from app.indexer.decode import RECORD_LIST_ARGS, DecodedLog

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
TX_TYPE = "urn:origintrace:btt:chain-log"


@dataclass(frozen=True)
class Mapping:
    event_type: str
    action: str
    biz_step: str
    disposition: str
    actor: str | None = None
    """The event argument naming the acting party, whose GLN is the readPoint."""
    holds: bool = False
    """Whether the object is at the actor after the event: its GLN is also the bizLocation."""


MAPPINGS = {
    "ItemRegistered": Mapping("ObjectEvent", "ADD", "commissioning", "active", "brand", True),
    "ItemsRegistered": Mapping("ObjectEvent", "ADD", "commissioning", "active", "brand", True),
    "LotAnchored": Mapping("ObjectEvent", "ADD", "commissioning", "active", "custodian", True),
    "UnitCreated": Mapping("ObjectEvent", "ADD", "commissioning", "active", "custodian", True),
    "ItemAttested": Mapping("ObjectEvent", "OBSERVE", "inspecting", "conformant", "certifier"),
    "CustodyOffered": Mapping("ObjectEvent", "OBSERVE", "shipping", "in_transit", "from"),
    "CustodyOfferCancelled": Mapping("ObjectEvent", "OBSERVE", "void_shipping", "in_progress", "from", True),
    "CustodyTransferred": Mapping("ObjectEvent", "OBSERVE", "receiving", "in_progress", "to", True),
    "ItemSold": Mapping("ObjectEvent", "OBSERVE", "retail_selling", "retail_sold", "retailer", True),
    "StatusChanged:4": Mapping("ObjectEvent", "OBSERVE", "holding", "recalled", "by"),
    "StatusChanged:5": Mapping("ObjectEvent", "OBSERVE", "receiving", "retail_sold", "by"),
    "StatusChanged:6": Mapping("ObjectEvent", "OBSERVE", "other", "stolen", "by"),
    "StatusChanged:1": Mapping("ObjectEvent", "OBSERVE", "other", "in_progress", "by"),
    "StatusChanged:7": Mapping("ObjectEvent", "DELETE", "destroying", "destroyed", "by"),
    "UnitPacked": Mapping("AggregationEvent", "ADD", "packing", "in_progress"),
    "UnitUnpacked": Mapping("AggregationEvent", "DELETE", "unpacking", "in_progress", "custodian", True),
}
"""Keyed by event name, or `StatusChanged:<status number>`."""


def party_uri(chain_id: int, address: str) -> str:
    """An account as a URI (CAIP-10)."""
    return f"urn:caip10:eip155:{chain_id}:{address}"


def location_uri(gln: str) -> str:
    """A GLN (AI 414) as a GS1 Digital Link URI on the canonical id.gs1.org domain."""
    return f"https://id.gs1.org/414/{gln}"


GlnOf = Callable[[str, DecodedLog], str | None]
"""The GLN the member at an address had when it recorded a log (None: none, or not a member)."""


def epcis_event(
    log: DecodedLog,
    epc: str,
    chain_id: int,
    base_url: str,
    item_id: str,
    gln_of: GlnOf | None = None,
    units: dict[str, str] | None = None,
    lot: bool = False,
) -> dict[str, Any] | None:
    """One EPCIS event for `log` about record `item_id`; None for events that are not supply-chain
    facts. `units` maps the id of a logistic unit to its Digital Link URI, where known. A `lot`
    is a class of objects, not one: its events name it in a quantity list."""
    name = f"StatusChanged:{log.args['status']}" if log.name == "StatusChanged" else log.name
    mapping = MAPPINGS.get(name)
    if mapping is None:
        return None
    name_of_log = f"eip155:{chain_id}/{log.tx_hash}/{log.log_index}"
    if log.name in RECORD_LIST_ARGS:
        name_of_log += f"/{item_id}"
    event: dict[str, Any] = {
        **_recorded_by(log, chain_id, name_of_log, mapping.event_type, mapping.action),
        "bizStep": mapping.biz_step,
        "disposition": mapping.disposition,
    }
    if mapping.event_type == "AggregationEvent":
        unit = log.args["unitId"]
        event["parentID"] = (units or {}).get(unit) or record_urn(chain_id, unit)
        event.update(objects([epc] if not lot else [], [epc] if lot else [], child=True))
    else:
        event.update(objects([epc] if not lot else [], [epc] if lot else []))
    if log.name == "ItemAttested":
        event["certificationInfo"] = f"urn:origintrace:eip155:{chain_id}:attestation:{log.args['dataHash']}"
    actor = log.args.get(mapping.actor) if mapping.actor else None
    gln = gln_of(actor, log) if gln_of is not None and isinstance(actor, str) else None
    if gln:
        event["readPoint"] = {"id": location_uri(gln)}
        if mapping.holds:
            event["bizLocation"] = {"id": location_uri(gln)}
    if "from" in log.args and "to" in log.args:
        event["sourceList"] = [{"type": "possessing_party", "source": party_uri(chain_id, log.args["from"])}]
        event["destinationList"] = [
            {"type": "possessing_party", "destination": party_uri(chain_id, log.args["to"])}
        ]
    return event


def _recorded_by(log: DecodedLog, chain_id: int, name: str, event_type: str, action: str) -> dict[str, Any]:
    """What every event says of the log behind it: its id (a UUID of the log's `name`), the log's
    block time and the log itself as its business transaction."""
    return {
        "type": event_type,
        "eventID": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "eventTime": iso_time(log.timestamp),
        "eventTimeZoneOffset": "+00:00",
        "action": action,
        "bizTransactionList": [
            {
                "type": TX_TYPE,
                "bizTransaction": f"urn:origintrace:eip155:{chain_id}:tx:{log.tx_hash}:log:{log.log_index}",
            }
        ],
    }


def objects(epcs: list[str], classes: list[str], child: bool = False) -> dict[str, Any]:
    """The objects an event is about: `epcs` (items, units) in its EPC list, `classes` (lots) in
    its quantity list, without a quantity (a lot's count changes as it is split); an
    AggregationEvent's (`child`) in its child lists."""
    found: dict[str, Any] = {}
    if epcs:
        found["childEPCs" if child else "epcList"] = epcs
    if classes:
        found["childQuantityList" if child else "quantityList"] = [{"epcClass": c} for c in classes]
    return found


def contents_event(
    unit_epc: str,
    child_epcs: list[str],
    chain_id: int,
    unit_id: str,
    as_of: DecodedLog,
    lots: Sequence[str] = (),
) -> dict[str, Any]:
    """An AggregationEvent (OBSERVE) of what the unit `unit_id` holds now, `child_epcs` and the
    `lots` (classes), as of `as_of`, the last packing or unpacking that changed it (its time and
    transaction)."""
    name = f"eip155:{chain_id}/{as_of.tx_hash}/{as_of.log_index}/contents/{unit_id}"
    return {
        **_recorded_by(as_of, chain_id, name, "AggregationEvent", "OBSERVE"),
        "parentID": unit_epc,
        **objects(child_epcs, list(lots), child=True),
    }


def record_urn(chain_id: int, record_id: str) -> str:
    """The EPC of a record whose GS1 key the gateway does not know (ids are hashes of keys):
    the same URN wherever the record appears, as an object or as a parent unit."""
    return f"urn:origintrace:eip155:{chain_id}:record:{record_id}"


def epcis_document(
    logs: list[DecodedLog],
    epc: str,
    chain_id: int,
    base_url: str,
    now: int,
    item_id: str,
    gln_of: GlnOf | None = None,
    units: dict[str, str] | None = None,
    contents: dict[str, Any] | None = None,
    lot: bool = False,
) -> dict[str, Any]:
    """An EPCISQueryDocument with the events of one object (`epc`, its Digital Link URI; record
    `item_id`); `gln_of` places the events of members that had a GLN then, and `units`
    (unit id -> Digital Link URI) names the logistic units whose SSCC the gateway knows by it, as
    their own documents name them. A unit's document ends with what it holds (`contents`, see
    `contents_event`). A `lot`'s events name it as a class (see `epcis_event`)."""
    event_list = [
        e
        for log in logs
        if (e := epcis_event(log, epc, chain_id, base_url, item_id, gln_of, units, lot)) is not None
    ]
    if contents is not None:
        event_list.append(contents)
    return {
        "@context": [CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": iso_time(now),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": event_list},
            }
        },
    }

"""EPCIS 2.0 export: validated against GS1's official JSON schema (a copy in tests/fixtures)."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from sqlalchemy import Engine
from web3 import Web3

from app.api.epcis import contents_event, epcis_document
from app.api.main import create_app
from app.chain.client import registry
from app.chain.deploy import Deployment
from app.core.config import Settings, lot_store
from app.demo.journey import DIAMOND, GIFT_SET, PALLET, SKINCARE_LOT, seed_demo, seed_mass_market
from app.indexer.decode import DecodedLog
from app.indexer.follow import Indexer

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "epcis" / "EPCIS-JSON-Schema.json").read_text())
VALIDATOR = Draft7Validator(SCHEMA)
A, B = "0x" + "a1" * 20, "0x" + "b2" * 20
BLOCK, HASH = "0x" + "33" * 32, "0x" + "22" * 32
UNIT, ITEM = "0x" + "44" * 32, "0x" + "55" * 32


def _errors(document: dict[str, object]) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]


def test_schema_copy_rejects_a_broken_document() -> None:
    document = epcis_document(
        [DecodedLog("ItemSold", {}, 1, BLOCK, "0x" + "11" * 32, 0, 0)], "urn:x:1", 1, "http://g", 0, ITEM
    )
    del document["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["action"]  # type: ignore[index]
    assert _errors(document)


def test_every_mapped_event_validates_including_packing_and_recall() -> None:
    tx = "0x" + "11" * 32
    logs = [
        DecodedLog("ItemRegistered", {"brand": A}, 1, BLOCK, tx, 0, 1_700_000_000),
        DecodedLog("ItemsRegistered", {"brand": A, "itemIds": [ITEM, UNIT]}, 1, BLOCK, tx, 11, 1_700_000_000),
        DecodedLog(
            "ItemAttested", {"certifier": B, "dataHash": "0x" + "22" * 32}, 2, BLOCK, tx, 1, 1_700_000_100
        ),
        DecodedLog("UnitPacked", {"unitId": UNIT, "id": ITEM}, 3, BLOCK, tx, 2, 1_700_000_200),
        DecodedLog("CustodyOffered", {"from": A, "to": B}, 4, BLOCK, tx, 3, 1_700_000_300),
        DecodedLog("CustodyTransferred", {"from": A, "to": B}, 5, BLOCK, tx, 4, 1_700_000_400),
        DecodedLog(
            "UnitUnpacked", {"unitId": UNIT, "id": ITEM, "custodian": B}, 6, BLOCK, tx, 5, 1_700_000_500
        ),
        DecodedLog("StatusChanged", {"id": ITEM, "status": 4, "by": A}, 7, BLOCK, tx, 6, 1_700_000_600),
        DecodedLog("ItemSold", {"retailer": B}, 8, BLOCK, tx, 7, 1_700_000_700),
        DecodedLog("MemberAdmitted", {}, 9, BLOCK, tx, 8, 1_700_000_800),
        DecodedLog("StatusChanged", {"id": ITEM, "status": 5, "by": B}, 10, BLOCK, tx, 9, 1_700_000_900),
        DecodedLog("StatusChanged", {"id": ITEM, "status": 7, "by": B}, 11, BLOCK, tx, 10, 1_700_001_000),
    ]
    glns = {A: "3760123400015", B: "5414567000017"}

    def gln_of(address: str, _log: DecodedLog) -> str | None:
        return glns.get(address)

    epc = "https://g.example/01/09506000134352/21/X"
    document = epcis_document(logs, epc, 31337, "https://g.example", 0, ITEM, gln_of)
    assert _errors(document) == []
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[index]
    assert [(e["type"], e["action"], e["bizStep"], e["disposition"]) for e in events] == [
        ("ObjectEvent", "ADD", "commissioning", "active"),
        ("ObjectEvent", "ADD", "commissioning", "active"),
        ("ObjectEvent", "OBSERVE", "inspecting", "conformant"),
        ("AggregationEvent", "ADD", "packing", "in_progress"),
        ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
        ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
        ("AggregationEvent", "DELETE", "unpacking", "in_progress"),
        ("ObjectEvent", "OBSERVE", "holding", "recalled"),
        ("ObjectEvent", "OBSERVE", "retail_selling", "retail_sold"),
        ("ObjectEvent", "OBSERVE", "receiving", "retail_sold"),
        ("ObjectEvent", "DELETE", "destroying", "destroyed"),
    ]
    at_a, at_b = ({"id": f"https://id.gs1.org/414/{glns[x]}"} for x in (A, B))
    assert [(e.get("readPoint"), e.get("bizLocation")) for e in events] == [
        (at_a, at_a),  # registered by A
        (at_a, at_a),  # registered by A in a batch
        (at_b, None),  # attested by B
        (None, None),  # packing names no party
        (at_a, None),  # shipped by A: in transit
        (at_b, at_b),  # received by B
        (at_b, at_b),  # unpacked by its custodian B
        (at_a, None),  # recalled by A, wherever the item is
        (at_b, at_b),  # sold by B
        (at_b, None),  # claimed
        (at_b, None),  # destroyed
    ]
    assert events[3]["parentID"] == f"urn:origintrace:eip155:31337:record:{UNIT}"
    assert events[2]["certificationInfo"].endswith("22" * 32)
    # The batch log is one EPCIS event per item of it: its id depends on the item, not the EPC.
    other = epcis_document(logs[1:2], "urn:x:unit", 31337, "https://g.example", 0, UNIT)
    again = epcis_document(logs[1:2], "urn:x:other-epc", 31337, "https://g.example", 0, ITEM)
    batch_ids = [
        d["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["eventID"] for d in (other, again)
    ]  # type: ignore[index]
    assert batch_ids[0] != events[1]["eventID"] == batch_ids[1]
    # A lot's and a unit's own document starts with their commissioning (it had none).
    for created in (
        DecodedLog("LotAnchored", {"custodian": A}, 1, BLOCK, tx, 12, 1_700_000_000, ITEM),
        DecodedLog("UnitCreated", {"custodian": A}, 1, BLOCK, tx, 13, 1_700_000_000, UNIT),
    ):
        record = epcis_document(
            [created], "urn:x:record", 31337, "https://g.example", 0, created.item_id, gln_of
        )
        assert _errors(record) == []
        (commissioning,) = record["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[index]
        assert (commissioning["action"], commissioning["bizStep"], commissioning["readPoint"]) == (
            "ADD",
            "commissioning",
            at_a,
        )


def test_a_units_contents_are_one_valid_aggregation_event() -> None:
    packed = DecodedLog(
        "UnitPacked", {"unitId": UNIT, "id": ITEM}, 3, BLOCK, "0x" + "11" * 32, 2, 1_700_000_200
    )
    created = DecodedLog("UnitCreated", {"custodian": A}, 1, BLOCK, "0x" + "11" * 32, 0, 1_700_000_000, UNIT)
    unit_epc = "https://g.example/00/109506000000000016"
    children = ["https://g.example/01/09506000134352/21/X", f"urn:origintrace:eip155:31337:record:{ITEM}"]
    event = contents_event(unit_epc, children, 31337, UNIT, packed)
    document = epcis_document([created], unit_epc, 31337, "https://g.example", 0, UNIT, None, None, event)
    assert _errors(document) == []
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[index]
    assert [(e["type"], e["action"]) for e in events] == [
        ("ObjectEvent", "ADD"),
        ("AggregationEvent", "OBSERVE"),
    ]
    assert (events[1]["parentID"], events[1]["childEPCs"]) == (unit_epc, children)
    assert events[1]["eventTime"] == "2023-11-14T22:16:40Z"  # as of the last packing
    assert events[1]["bizTransactionList"][0]["bizTransaction"].endswith(":log:2")
    # One id per unit and packing: stable across exports, another unit's differs.
    again = contents_event(unit_epc, children[:1], 31337, UNIT, packed)
    assert (
        again["eventID"]
        == event["eventID"]
        != contents_event(unit_epc, children, 31337, ITEM, packed)["eventID"]
    )


@pytest.mark.e2e
def test_a_pallets_document_holds_what_it_carries(
    w3: Web3, deployment: Deployment, operator, engine: Engine, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A pallet's document had its own events only: not what is on it."""
    contract = registry(w3, deployment.registry)
    seed_demo(w3, contract, operator)
    seed_mass_market(w3, contract, lot_store(settings, deployment.chain_id, deployment.registry))
    Indexer(w3, engine, deployment).backfill()
    with TestClient(create_app(settings, engine)) as client:
        for path in (PALLET.path, GIFT_SET.path):  # the gateway learns their keys by resolving them
            client.get(path, headers={"Accept": "application/json"})
        client.app.state.recorder.flush(engine)  # type: ignore[attr-defined]
        response = client.get(f"/api/v1/items/0x{PALLET.item_id.hex()}/epcis")
        gift = client.get(f"/api/v1/items/0x{GIFT_SET.item_id.hex()}/epcis").json()
        lot = client.get(f"/api/v1/items/0x{SKINCARE_LOT.item_id.hex()}/epcis").json()
    document = response.json()
    assert response.status_code == 200 and _errors(document) == []
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    (contents,) = [e for e in events if e["type"] == "AggregationEvent"]
    base = "http://127.0.0.1:8000"
    assert (contents["action"], contents["parentID"]) == ("OBSERVE", base + PALLET.path)
    assert contents["childEPCs"] == [base + GIFT_SET.path]
    # The lot is a class of objects: named (from its lot file) in the child quantity list.
    assert contents["childQuantityList"] == [{"epcClass": base + SKINCARE_LOT.path}]
    # Its own document names it the same way (it was its record URN there, in an EPC list).
    lot_events = lot["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert _errors(lot) == [] and lot_events and all("epcList" not in e for e in lot_events)
    objects = [e.get("quantityList") or e.get("childQuantityList") for e in lot_events]
    assert objects == [[{"epcClass": base + SKINCARE_LOT.path}]] * len(lot_events)
    assert any(e["type"] == "AggregationEvent" for e in lot_events)  # packed onto the pallet
    (packed,) = [
        e
        for e in gift["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        if e["type"] == "AggregationEvent"
    ]
    assert packed["parentID"] == contents["parentID"]  # the pallet is one EPC wherever it appears
    # An item holds nothing: its document has no such event.
    assert all(
        e["action"] != "OBSERVE" or e["type"] != "AggregationEvent"
        for e in gift["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    )


@pytest.mark.e2e
def test_demo_diamond_exports_a_valid_epcis_document(
    w3: Web3, deployment: Deployment, operator, engine: Engine, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    with TestClient(create_app(settings, engine)) as client:
        client.get(DIAMOND.path, headers={"Accept": "application/json"})
        client.app.state.recorder.flush(engine)  # type: ignore[attr-defined]
        response = client.get(f"/api/v1/items/0x{DIAMOND.item_id.hex()}/epcis")
    assert response.status_code == 200 and response.headers["content-type"] == "application/ld+json"
    document = response.json()
    assert _errors(document) == []
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["bizStep"] for e in events] == ["commissioning", "inspecting"] + [
        "shipping",
        "receiving",
    ] * 3 + ["retail_selling"]
    assert all(e["epcList"] == ["http://127.0.0.1:8000" + DIAMOND.path] for e in events)
    assert all(e["readPoint"]["id"].startswith("https://id.gs1.org/414/") for e in events)  # demo GLNs

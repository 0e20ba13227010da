"""Places of parties: the place directory, the GS1 prefix fallback, the page, EPCIS and the cache."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator
from sqlalchemy import Engine, insert
from web3 import Web3

from app.api.main import create_app
from app.api.parties import Parties
from app.api.places import PlaceDirectory, PlaceDirectoryError
from app.chain.client import registry, send
from app.chain.deploy import Deployment
from app.commands.verify import Report, check_parties
from app.core.config import Settings
from app.db.schema import members as members_table
from app.demo.journey import DEMO_PLACES, DIAMOND, Member, hand_over, seed_demo
from app.gs1.keys import SerialisedItem
from app.indexer.follow import Indexer
from app.indexer.rpc import RpcClient

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html"}
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "epcis" / "EPCIS-JSON-Schema.json").read_text())


def _directory(members: dict[str, Member], *roles: str) -> dict[str, dict[str, str]]:
    return {members[role].gln: DEMO_PLACES[role] for role in roles}


@pytest.fixture
def client(
    w3: Web3,
    deployment: Deployment,
    operator,  # type: ignore[no-untyped-def]
    engine: Engine,
    settings: Settings,
    members: dict[str, Member],
    tmp_path: Path,
) -> Iterator[TestClient]:
    """The demo journey, with every member but the retailer in the place directory."""
    places = tmp_path / "places.json"
    places.write_text(json.dumps(_directory(members, "brand", "certifier", "carrier", "customs")))
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    settings.places_file = places
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as test_client:
        yield test_client


def test_parties_carry_a_directory_place_or_their_gs1_prefix(
    client: TestClient, members: dict[str, Member]
) -> None:
    body = client.get(DIAMOND.path, headers=JSON).json()
    assert body["custodian"]["name"] == "TianMall Global"  # existing fields unchanged
    assert body["custodian"]["place"] == {
        "gln": members["retailer"].gln,
        "name": "GS1 China",
        "city": None,
        "country": None,
        "source": "gs1_prefix",
    }
    assert body["attestations"][0]["certifier"]["place"] == {
        "gln": members["certifier"].gln,
        "name": "AWDC Diamond Office",
        "city": "Antwerp",
        "country": "BE",
        "source": "directory",
    }
    handovers = [
        (h["from"]["place"]["city"], h["to"]["place"]["city"])
        for h in body["history"]
        if h["type"] == "handed_over"
    ]
    assert handovers == [("Paris", "Hong Kong"), ("Hong Kong", "Hangzhou"), ("Hangzhou", None)]
    history = client.get(f"/api/v1/items/0x{DIAMOND.item_id.hex()}/history").json()["history"]
    assert history[0]["to"]["place"]["city"] == "Paris"


def test_the_shopper_page_shows_each_steps_place(client: TestClient) -> None:
    page = client.get(DIAMOND.path, headers=BROWSER)
    text = page.text
    assert '<span class="place">' in text and "Antwerp, BE" in text
    assert "Hong Kong, HK</span> → <span" in text  # the carrier hands over to customs in Hangzhou
    assert "GLN issued by GS1 China" in text  # the retailer is not in the directory
    assert "<script" not in text and len(page.content) < 100_000
    zh = client.get(DIAMOND.path, headers={**BROWSER, "Accept-Language": "zh-CN"}).text
    assert "Antwerp, BE" in zh and "GLN 由 GS1 China 分配" in zh


def test_epcis_events_name_the_acting_partys_location(client: TestClient, members: dict[str, Member]) -> None:
    document = client.get(f"/api/v1/items/0x{DIAMOND.item_id.hex()}/epcis").json()
    assert list(Draft7Validator(SCHEMA).iter_errors(document)) == []
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    at = {role: {"id": f"https://id.gs1.org/414/{m.gln}"} for role, m in members.items()}
    located = [(e["bizStep"], e.get("readPoint"), e.get("bizLocation")) for e in events]
    assert located == [
        ("commissioning", at["brand"], at["brand"]),
        ("inspecting", at["certifier"], None),  # graded where the certifier is; held by the brand
        ("shipping", at["brand"], None),  # in transit: no business location
        ("receiving", at["carrier"], at["carrier"]),
        ("shipping", at["carrier"], None),
        ("receiving", at["customs"], at["customs"]),
        ("shipping", at["customs"], None),
        ("receiving", at["retailer"], at["retailer"]),  # from its GLN alone, not the directory
        ("retail_selling", at["retailer"], at["retailer"]),
    ]


def test_a_member_without_gln_has_no_place_even_after_a_cached_answer(
    client: TestClient, w3: Web3, deployment: Deployment, operator, engine: Engine, members: dict[str, Member]
) -> None:  # type: ignore[no-untyped-def]
    assert client.get(DIAMOND.path, headers=JSON).json()["custodian"]["place"]["source"] == "gs1_prefix"
    retailer = members["retailer"].account.address
    send(w3, operator, registry(w3, deployment.registry).functions.setMemberGln(retailer, ""))
    Indexer(w3, engine, deployment).backfill()
    deadline = time.monotonic() + 3  # the housekeeping thread drops the cache when the index moves
    while (body := client.get(DIAMOND.path, headers=JSON).json())["custodian"]["place"] is not None:
        assert time.monotonic() < deadline, "the cached answer outlived the indexed GLN change"
        time.sleep(0.1)
    assert body["custodian"] == {
        "address": retailer,
        "name": "TianMall Global",
        "place": None,
        "member": True,
    }
    # The sale was made where the retailer was then: the step and its EPCIS event keep that GLN.
    sold = body["history"][-1]
    assert sold["type"] == "sold" and sold["from"]["place"]["gln"] == members["retailer"].gln
    document = client.get(f"/api/v1/items/0x{DIAMOND.item_id.hex()}/epcis").json()
    last = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"][-1]
    assert last["readPoint"] == {"id": f"https://id.gs1.org/414/{members['retailer'].gln}"}


def test_a_gln_with_a_wrong_check_digit_on_chain_gives_no_place() -> None:
    # The registry checks 13 digits only; the gateway does not vouch for a broken GLN.
    assert PlaceDirectory().place("9506000000024") is None
    assert PlaceDirectory().place("") is None
    place = PlaceDirectory().place("9506000000022")
    assert place is not None and place.source == "gs1_prefix" and place.name == "GS1 Global Office"


def test_a_yaml_directory_loads_like_a_json_one(tmp_path: Path) -> None:
    path = tmp_path / "places.yaml"
    path.write_text('"5414567000017": {name: AWDC Diamond Office, city: Antwerp, country: BE}\n')
    place = PlaceDirectory.load(path).place("5414567000017")
    assert place is not None and (place.city, place.country, place.source) == ("Antwerp", "BE", "directory")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("5414567000017: {name: A, city: Antwerp, country: BE}", "put the GLN in quotes"),
        ('"5414567000018": {name: A, city: Antwerp, country: BE}', "Invalid GLN check digit"),
        ('"5414567000017": {name: A, city: Antwerp, country: Belgium}', "ISO 3166 alpha-2"),
        ('"5414567000017": {name: A, country: BE}', "city must be a non-empty text"),
        ("[1, 2]", "must map each GLN"),
        ("{a: [", "cannot read the place directory"),
    ],
)
def test_a_wrong_directory_stops_the_gateway_with_the_reason(
    tmp_path: Path, settings: Settings, engine: Engine, content: str, reason: str
) -> None:
    path = tmp_path / "places.yaml"
    path.write_text(content)
    settings.places_file = path
    with pytest.raises(PlaceDirectoryError, match=reason):
        create_app(settings, engine)


def test_a_large_consortium_changes_no_item_view(client: TestClient, engine: Engine) -> None:
    # Parties are looked up by the addresses an item names, not by reading every member.
    def parties(body: dict[str, Any]) -> list[Any]:
        named = [body["brand"], body["custodian"], *(a["certifier"] for a in body["attestations"])]
        return named + [(h["from"], h["to"]) for h in body["history"]]

    item = f"/api/v1/items/0x{DIAMOND.item_id.hex()}"
    before = client.get(item).json()
    epcis_before = client.get(f"{item}/epcis").json()["epcisBody"]["queryResults"]["resultsBody"]
    others = [
        {"address": f"0x{n:040x}", "name": f"Member {n}", "roles": ["carrier"], "gln": "9506000134352"}
        for n in range(1, 2001)
    ]
    with engine.begin() as conn:
        conn.execute(insert(members_table), others)
    after = client.get(item).json()
    assert parties(after) == parties(before)
    assert after["custodian"]["name"] == "TianMall Global"
    epcis_after = client.get(f"{item}/epcis").json()["epcisBody"]["queryResults"]["resultsBody"]
    assert epcis_after == epcis_before
    assert any("readPoint" in event for event in epcis_after["eventList"])


def test_a_removed_member_keeps_its_name_and_place_in_the_history(
    client: TestClient, w3: Web3, deployment: Deployment, operator, engine: Engine, members: dict[str, Member]
) -> None:  # type: ignore[no-untyped-def]
    carrier = members["carrier"].account.address
    send(w3, operator, registry(w3, deployment.registry).functions.removeMember(carrier))
    Indexer(w3, engine, deployment).backfill()
    deadline = time.monotonic() + 3
    while (body := client.get(DIAMOND.path, headers=JSON).json())["history"][3]["to"]["member"]:
        assert time.monotonic() < deadline, "the cached answer outlived the removal"
        time.sleep(0.1)
    handed = [entry["to"] for entry in body["history"] if entry["type"] == "handed_over"]
    assert handed[0] == {
        "address": carrier,
        "name": "SkyBridge Logistics",
        "place": {**DEMO_PLACES["carrier"], "gln": members["carrier"].gln, "source": "directory"},
        "member": False,
    }
    assert body["custodian"]["member"] and body["brand"]["member"]
    page = client.get(DIAMOND.path, headers={**BROWSER, "Accept-Language": "en"}).text
    assert "SkyBridge Logistics (former member)" in page
    zh = client.get(DIAMOND.path, headers={**BROWSER, "Accept-Language": "zh"}).text
    assert "SkyBridge Logistics（前成员）" in zh  # full-width brackets, no space before them

    # Admitted again under another name and without a GLN: the steps it took before keep the
    # name and place it had then (they showed the new name), the steps after show the new ones.
    contract = registry(w3, deployment.registry)
    admit = contract.get_function_by_signature("admitMember(address,string)")
    send(w3, operator, admit(carrier, "SkyBridge Freight"))
    later = SerialisedItem.parse(DIAMOND.gtin, "AFTER-READMISSION")
    send(w3, members["brand"].account, contract.functions.registerItem(later.item_id, b"\1" * 32, "ipfs://x"))
    hand_over(w3, contract, later.item_id, members["brand"].account, members["carrier"].account)
    Indexer(w3, engine, deployment).backfill()
    deadline = time.monotonic() + 3
    while not (body := client.get(DIAMOND.path, headers=JSON).json())["history"][3]["to"]["member"]:
        assert time.monotonic() < deadline, "the cached answer outlived the admission"
        time.sleep(0.1)
    handed = [entry["to"] for entry in body["history"] if entry["type"] == "handed_over"]
    then = {**DEMO_PLACES["carrier"], "gln": members["carrier"].gln, "source": "directory"}
    assert handed[0] == {"address": carrier, "name": "SkyBridge Logistics", "place": then, "member": True}
    now = client.get(later.path, headers=JSON).json()
    assert now["custodian"] == {
        "address": carrier,
        "name": "SkyBridge Freight",
        "place": None,
        "member": True,
    }
    assert now["history"][-1]["to"] == now["custodian"]
    page = client.get(DIAMOND.path, headers={**BROWSER, "Accept-Language": "en"}).text
    assert "SkyBridge Logistics" in page and "SkyBridge Freight" not in page
    node = RpcClient(str(w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    for shown in (body, now):  # `origintrace verify` finds the same names on chain, step by step
        report = Report()
        check_parties(report, node, contract, shown)
        assert report.verified, report.checks
    wrong_then = {**body, "history": [*body["history"][:3], {**body["history"][3], "to": now["custodian"]}]}
    report = Report()
    check_parties(report, node, contract, wrong_then)
    assert not report.verified and "SkyBridge Logistics" in report.checks[-1][1]


def test_parties_name_former_members_and_leave_others_nameless(engine: Engine) -> None:
    """As items name their parties, so do lots and units (their JSON used to name current
    members only, and as bare strings beside the address)."""
    with engine.begin() as conn:
        conn.execute(
            insert(members_table),
            [
                {"address": "0x" + "11" * 20, "name": "Current", "roles": [], "gln": "", "active": True},
                {"address": "0x" + "22" * 20, "name": "Former", "roles": [], "gln": "", "active": False},
            ],
        )
        parties = Parties(conn, PlaceDirectory.load(None))
        parties.load(["0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20])
        named = [parties.party("0x" + digits * 20) for digits in ("11", "22", "33")]
    assert [(party.name, party.member) for party in named] == [
        ("Current", True),
        ("Former", False),
        (None, False),
    ]


def test_a_party_is_named_as_it_was_at_each_step(engine: Engine) -> None:
    """Renamed, given a GLN, or not admitted yet (a consumer who claimed an item and joined
    later): each step names the party as the chain knew it then; `member` is about now."""
    address, gln = "0x" + "44" * 20, "9506000000015"
    history = [[10, 0, "Old name", ""], [12, 3, "Old name", gln], [20, 0, "New name", ""]]
    with engine.begin() as conn:
        conn.execute(
            insert(members_table),
            [
                {"address": address, "name": "New name", "roles": [], "gln": "", "active": True}
                | {"history": history}
            ],
        )
        parties = Parties(conn, PlaceDirectory.load(None))
        seen = [parties.party(address, at) for at in [(5, 0), (10, 0), (12, 2), (12, 3), (19, 9), (20, 0)]]
        now = parties.party(address)
    assert [(p.name, p.place.gln if p.place else None, p.member) for p in seen] == [
        (None, None, False),  # before its admission: not the member it became
        ("Old name", None, True),
        ("Old name", None, True),
        ("Old name", gln, True),
        ("Old name", gln, True),
        ("New name", None, True),
    ]
    assert (now.name, now.place, now.member) == ("New name", None, True)

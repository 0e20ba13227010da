"""Gateway over the mass-market demo on real anvil data: a lot, a pallet with contents, recall, claim."""

import html
import re
import shlex
import time
from collections.abc import Iterator
from io import BytesIO
from urllib.parse import urlsplit

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from web3 import Web3

from app.api.items import NO_RISK, ItemReader
from app.api.main import CHECKPOINT_POLL_S, create_app
from app.api.pages import render_key_page
from app.api.units import UnitPublic
from app.chain.client import dev_account, registry, send
from app.chain.deploy import Deployment
from app.chain.devnet import Devnet
from app.commands.verify import Report, check_carried, check_facts
from app.core.config import Settings, lot_store
from app.demo.journey import (
    CLAIMED,
    DIAMOND,
    GIFT_SET,
    GIFT_SET_METADATA,
    PALLET,
    RECALLED,
    SKINCARE_LOT,
    SKINCARE_LOT_SIZE,
    SKINCARE_METADATA,
    demo_members,
    metadata_uri,
    seed_demo,
    seed_mass_market,
    skincare_tree,
)
from app.gs1.digital_link import parse_path
from app.gs1.keys import Lot, SerialisedItem
from app.indexer.follow import Indexer
from app.indexer.rpc import RpcClient
from app.scale.anchor import prepare
from app.scale.manifest import lot_block

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html", "Accept-Language": "zh-CN"}
MEMBERS = demo_members()
CARRIER = MEMBERS["carrier"].account.address
SLASHED_LOT = Lot.parse(SKINCARE_LOT.gtin, "SL/2026")
"""A lot whose number and serials hold `/` and `&`: valid GS1 values, escaped in URLs."""
SLASHED_SERIALS = ("A/1", "B&3")
ORGANIC_REPORT = "https://certifier.example/reports/organic-2026.pdf"


def _hex(key: bytes) -> str:
    return "0x" + key.hex()


@pytest.fixture(scope="module")
def client(w3: Web3, operator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """One indexed run of both demo journeys, plus a certificate revoked, shared by the module."""
    from app.chain.deploy import deploy_registry
    from app.db.engine import make_engine

    data = tmp_path_factory.mktemp("records")
    settings = Settings(data_dir=data, deployments_dir=data)
    deployment: Deployment = deploy_registry(w3, operator)
    contract = registry(w3, deployment.registry)
    seed_demo(w3, contract, operator)
    seed_mass_market(w3, contract, lot_store(settings, deployment.chain_id, deployment.registry))
    certifier = MEMBERS["certifier"].account
    for kind, data_hash, uri in ((b"ORGANIC", b"\1", ORGANIC_REPORT), (b"VEGAN", b"\2", "ipfs://vegan")):
        send(
            w3,
            certifier,
            contract.functions.attest(GIFT_SET.item_id, kind.ljust(32, b"\0"), data_hash * 32, uri),
        )
    (vegan,) = [
        e.args.attestationId
        for e in contract.events.AttestationRecorded().get_logs(from_block=deployment.deploy_block)
        if e.args.uri == "ipfs://vegan"
    ]
    send(w3, certifier, contract.functions.revokeAttestation(vegan))
    metadata_hash, uri = metadata_uri(SKINCARE_METADATA)
    entries = ((serial, metadata_hash) for serial in SLASHED_SERIALS)
    slashed = prepare(
        lot_block(SLASHED_LOT.gtin, SLASHED_LOT.lot, entries),
        lot_store(settings, deployment.chain_id, deployment.registry),
    )
    anchor = contract.functions.anchorLot(
        SLASHED_LOT.item_id, slashed.root, slashed.count, slashed.metadata_hash, uri
    )
    send(w3, MEMBERS["brand"].account, anchor)
    engine: Engine = make_engine(settings.resolved_database_url)
    Indexer(w3, engine, deployment).backfill()
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as test_client:
        test_client.app.state.test_registry = deployment.registry  # type: ignore[attr-defined]
        yield test_client
    engine.dispose()


def test_lot_resolves_with_its_root_count_and_effective_custodian(client: TestClient) -> None:
    body = client.get(SKINCARE_LOT.path, headers=JSON).json()
    assert body["id"] == _hex(SKINCARE_LOT.item_id)
    assert (body["merkle_root"], body["item_count"]) == (_hex(skincare_tree().root), SKINCARE_LOT_SIZE)
    assert body["brand"]["address"] == MEMBERS["brand"].account.address
    assert body["brand"]["name"] == MEMBERS["brand"].name and body["brand"]["member"]
    assert body["custodian"]["address"] == CARRIER  # the pallet it is packed on moved to the carrier
    assert body["container"] == _hex(PALLET.item_id)
    missing = client.get(SKINCARE_LOT.path + "/21/SK-9999", headers=JSON)
    assert missing.status_code == 404 and "not in the stored manifest" in missing.json()["detail"]
    assert client.get(SKINCARE_LOT.path.replace("SK-2026-11", "NOPE"), headers=JSON).status_code == 404


def test_lot_and_lot_item_pages_label_the_item_count(client: TestClient) -> None:
    for path in (SKINCARE_LOT.path, f"{SKINCARE_LOT.path}/21/SK-0421"):
        page = client.get(path, headers=BROWSER)
        assert page.status_code == 200 and "<dt>批内件数</dt>" in page.text
        assert "built-in method" not in page.text
        # named by the product the brand anchored it with (it was "GTIN ... · Lot ...")
        assert f"<h1>{SKINCARE_METADATA['name_zh']}</h1>" in page.text
        linked = "/21/" in path  # an item of the lot links the lot's page
        number = f'id="lot-link">{SKINCARE_LOT.lot}</a></dd>' if linked else f"<dd>{SKINCARE_LOT.lot}</dd>"
        assert number in page.text
    assert client.get(SKINCARE_LOT.path, headers=JSON).json()["metadata"] == SKINCARE_METADATA
    # The demo's gift sets were registered with the serum's metadata, so they read as serums.
    gift = client.get(GIFT_SET.path, headers={**BROWSER, "Accept-Language": "en"}).text
    assert f"<h1>{GIFT_SET_METADATA['name']}</h1>" in gift and "Hydrating serum" not in gift


@pytest.mark.parametrize(("lang", "label"), [("en", "Items in the lot"), ("zh", "批内件数")])
def test_a_lot_items_page_links_its_lot_and_counts_its_items_with_separators(
    client: TestClient, lang: str, label: str
) -> None:
    """An item of a lot named its lot's number but did not link the lot's page, and counted
    "Items in the lot 1000" (read as a code): the count reads 1,000 in English and Chinese."""
    headers = {"Accept": "text/html", "Accept-Language": lang}
    item = client.get(f"{SKINCARE_LOT.path}/21/SK-0001", headers=headers).text
    lot_url = client.get(SKINCARE_LOT.path, headers=JSON).json()["url"]
    assert lot_url.endswith(SKINCARE_LOT.path)
    assert f'<a href="{lot_url}" id="lot-link">{SKINCARE_LOT.lot}</a>' in item
    assert SKINCARE_LOT_SIZE == 1000
    for page in (item, client.get(SKINCARE_LOT.path, headers=headers).text):
        assert f'<dt>{label}</dt><dd id="item-count">1,000</dd>' in page
    lot_page = client.get(lot_url.removeprefix("http://127.0.0.1:8000"), headers=headers)
    assert lot_page.status_code == 200 and 'id="lot-link"' not in lot_page.text  # not itself


@pytest.mark.parametrize("listing", ["contents", "packings"])
def test_asking_an_item_or_a_lot_for_a_units_contents_says_what_it_is(
    client: TestClient, listing: str
) -> None:
    """An item or lot that exists was "no logistic unit ... is indexed", as if it did not."""
    for record, what in ((GIFT_SET, "a serialised item"), (SKINCARE_LOT, "a lot")):
        reply = client.get(f"/api/v1/items/{_hex(record.item_id)}/{listing}", headers=JSON)
        assert reply.status_code == 404 and reply.json()["error"] == "not_a_unit"
        assert reply.json()["detail"].startswith(f"{_hex(record.item_id)} is {what}, not a logistic unit")
    nothing = client.get(f"/api/v1/items/0x{'ab' * 32}/{listing}", headers=JSON)
    assert nothing.status_code == 404 and nothing.json()["error"] == "not_found"
    assert "no logistic unit" in nothing.json()["detail"]
    assert client.get(f"/api/v1/items/{_hex(PALLET.item_id)}/{listing}", headers=JSON).status_code == 200
    path = f"/api/v1/items/{_hex(SKINCARE_LOT.item_id)}/{listing}"
    for language, heading in (("en", "This record is not a logistic unit"), ("zh", "此记录不是物流单元")):
        page = client.get(path, headers={"Accept": "text/html", "Accept-Language": language}).text
        assert heading in page and "No product is registered" not in page and "没有登记" not in page


@pytest.mark.parametrize(("lang", "said"), [("en", "a node you trust"), ("zh", "您信任的节点")])
def test_check_it_yourself_gives_the_whole_verify_command_for_the_page(
    client: TestClient, lang: str, said: str
) -> None:
    """The card showed a bare `origintrace verify`, which takes the item's URL and a node."""
    headers = {"Accept": "text/html", "Accept-Language": lang}
    slashed = f"{SLASHED_LOT.path}/21/{SerialisedItem.parse(SLASHED_LOT.gtin, 'B&3').path.rsplit('/', 1)[1]}"
    for path in (GIFT_SET.path, f"{SKINCARE_LOT.path}/21/SK-0001", slashed):
        page = client.get(path, headers=headers).text
        command = html.unescape(page.split('<code id="verify-command">')[1].split("</code>")[0])
        words = shlex.split(command)
        url = client.get(path, headers=JSON).json()["url"]
        assert words == ["origintrace", "verify", url, "--rpc", "$ORIGINTRACE_RPC_URL"]
        assert said in page.split('<p id="verify">')[1].split("<br>")[0]
        assert parse_path(urlsplit(url).path).serialised_item is not None  # what verify takes
    for unit_or_lot in (SKINCARE_LOT.path, PALLET.path):  # verify takes their items, not them
        page = client.get(unit_or_lot, headers=headers).text
        assert 'id="check-yourself"' in page and "origintrace verify" not in page
    client.app.state.cache.observe_checkpoint(object())  # type: ignore[attr-defined] # for the keys learned later


def test_a_lot_and_its_items_show_the_lots_custody(client: TestClient) -> None:
    """A lot's page and its items' showed who holds the lot, never how it got there."""
    lot = client.get(SKINCARE_LOT.path, headers=JSON).json()
    assert [h["type"] for h in lot["history"]] == ["registered", "packed"]
    assert lot["history"][0]["to"]["address"] == MEMBERS["brand"].account.address
    page = client.get(SKINCARE_LOT.path, headers=BROWSER).text
    packed = page.split('<li data-type="packed">')[1].split("</li>")[0]
    assert "<div></div>" not in packed  # a step naming no party left a blank line
    (carried,) = lot["carried"]  # the pallet it is packed on went to the carrier
    assert (carried["type"], carried["unit"], carried["to"]["address"]) == (
        "handed_over",
        _hex(PALLET.item_id),
        CARRIER,
    )
    item = client.get(f"{SKINCARE_LOT.path}/21/SK-0007", headers=JSON).json()
    assert item["lot"]["history"] == lot["history"] and item["lot"]["carried"] == lot["carried"]
    page = client.get(f"{SKINCARE_LOT.path}/21/SK-0007", headers=BROWSER).text
    assert '<ol class="timeline" id="timeline">' in page and "保管权已交接（随所装入的物流单元）" in page


def test_lot_item_resolves_with_a_proof_the_registry_accepts(client: TestClient, w3: Web3) -> None:
    item = SerialisedItem.parse(SKINCARE_LOT.gtin, "SK-0421")
    body = client.get(f"{SKINCARE_LOT.path}/21/{item.serial}", headers=JSON).json()
    assert body["item_id"] == _hex(item.item_id) and body["lot"]["id"] == _hex(SKINCARE_LOT.item_id)
    merkle = body["merkle"]
    assert merkle["valid"] and merkle["root"] == _hex(skincare_tree().root)
    proof = [bytes.fromhex(p[2:]) for p in merkle["proof"]]
    assert proof == skincare_tree().proof(item.item_id, bytes.fromhex(body["metadata_hash"][2:]))
    contract = registry(w3, client.app.state.test_registry)  # type: ignore[attr-defined]
    verify = contract.functions.verifyLotItem
    assert verify(SKINCARE_LOT.item_id, item.item_id, bytes.fromhex(body["metadata_hash"][2:]), proof).call()
    page = client.get(f"{SKINCARE_LOT.path}/21/{item.serial}", headers=BROWSER)
    assert page.status_code == 200 and item.serial in page.text and merkle["root"] in page.text
    name = body["lot"]["metadata"].get("name_zh") or body["lot"]["metadata"]["name"]
    assert (
        f"<title>{name} · 批号 {SKINCARE_LOT.lot} · 序列号 {item.serial} · OriginTrace</title>" in page.text
    )


def test_every_page_links_where_to_check_it_and_the_links_answer(client: TestClient) -> None:
    """Pages said "Verified on chain" with nothing to check it by; lot, lot item and pallet
    pages showed only a block and a transaction, without chain, registry or record id."""
    english = {**BROWSER, "Accept-Language": "en"}
    lot_item = f"{SKINCARE_LOT.path}/21/SK-0421"
    for key in (DIAMOND.path, SKINCARE_LOT.path, lot_item, PALLET.path):
        path = f"{key}?linkType=gs1:pip"  # a query: not cached, so other tests' answers are fresh
        body = client.get(path, headers=JSON).json()
        record = body["lot"] if "merkle" in body else body
        card = client.get(path, headers=english).text.split('<section class="card" id="chain">')[1]
        card = card.split("</section>")[0]
        assert (
            f"<code>{record['id']}</code>" in card and f"<code>{record['chain']['registry']}</code>" in card
        )
        links = re.findall(r'<a href="([^"]+)" rel="nofollow">', card)
        assert len(links) == 2, card  # the proof bundle, the EPCIS events
        for link in links:
            answer = client.get(link)
            assert answer.status_code == 200, (link, answer.text)
            assert answer.headers["content-type"].startswith("application/"), link
        if key == lot_item:
            assert client.get(links[0]).json()["merkle"]["valid"]
            assert "Merkle proof into its lot" in card


def test_lot_item_proof_bundle_carries_the_lot_facts_and_the_merkle_proof(client: TestClient) -> None:
    item = SerialisedItem.parse(SKINCARE_LOT.gtin, "SK-0007")
    url = f"/api/v1/lots/{SKINCARE_LOT.gtin}/{SKINCARE_LOT.lot}/items/{item.serial}/proof"
    bundle = client.get(url).json()
    assert (bundle["item_id"], bundle["element_string"]) == (_hex(item.item_id), item.element_string)
    assert bundle["facts"][0]["event"] == "LotAnchored"
    assert all(
        f["args"].get("lotId", f["args"].get("itemId")) in (None, _hex(SKINCARE_LOT.item_id))
        for f in bundle["facts"]
    )
    merkle = bundle["merkle"]
    assert merkle["valid"] and merkle["lot_id"] == _hex(SKINCARE_LOT.item_id)
    assert merkle["root"] == _hex(skincare_tree().root)
    missing = client.get(url.replace("SK-0007", "SK-5000"))
    assert missing.status_code == 404 and "lists serial SK-5000" in missing.json()["detail"]
    bad = client.get(url.replace(SKINCARE_LOT.gtin, SKINCARE_LOT.gtin[:-1] + "0"))
    assert bad.status_code == 400 and "check digit" in bad.json()["detail"]


def test_lot_item_scans_are_counted_and_assessed_like_any_item(client: TestClient, same_minute: None) -> None:
    item = SerialisedItem.parse(SKINCARE_LOT.gtin, "SK-0042")
    path = f"{SKINCARE_LOT.path}/21/{item.serial}?linkType=gs1:pip"  # a query: never served from cache
    first = client.get(path, headers=JSON).json()
    assert first["risk"]["level"] == "none" and first["risk"]["scans_24h"] == 1
    for n in range(35):  # 35 more shoppers within the minute (one client's rescans count once)
        TestClient(client.app, client=(f"198.51.100.{n}", 50000)).get(path, headers=JSON)
    burst = client.get(path, headers=JSON).json()["risk"]
    assert burst["level"] == "warning" and [r["code"] for r in burst["reasons"]] == ["scan_burst"]
    page = client.get(path, headers=BROWSER)  # in Chinese, the reason too
    assert (
        'id="clone-warning"' in page.text and f"一分钟内被扫描 {burst['reasons'][0]['count']} 次" in page.text
    )
    assert burst["reasons"][0]["detail"] == f"scanned {burst['reasons'][0]['count']} times within one minute"

    client.app.state.recorder.flush(client.app.state.engine)  # type: ignore[attr-defined]
    bundle = client.get(f"/api/v1/items/{_hex(item.item_id)}/proof").json()  # known since resolved
    assert bundle["merkle"]["valid"] and bundle["facts"][0]["event"] == "LotAnchored"
    linkset = client.get(f"{SKINCARE_LOT.path}/21/{item.serial}?linkType=all").json()["linkset"][0]
    (proof_link,) = linkset["https://gs1.org/voc/verificationService"]
    assert proof_link["href"].endswith(
        f"/api/v1/lots/{SKINCARE_LOT.gtin}/{SKINCARE_LOT.lot}/items/SK-0042/proof"
    )
    (events,) = linkset["https://gs1.org/voc/traceability"]  # the lot's, as the item's page links
    assert events["href"].endswith(f"/api/v1/items/{_hex(SKINCARE_LOT.item_id)}/epcis")


@pytest.mark.parametrize("path", [SKINCARE_LOT.path, f"{SKINCARE_LOT.path}/21/SK-0007", PALLET.path])
def test_a_records_linkset_offers_every_link_its_page_shows(client: TestClient, path: str) -> None:
    """A lot, a lot item and a unit page link their proof bundle and EPCIS events: their linksets
    offered only the page (and a lot item its proof), so `linkType=gs1:traceability` was a 404."""
    page = client.get(path, headers={"Accept": "text/html"}).text
    shown = {href for href in re.findall(r'href="([^"]+)"', page) if "/proof" in href or "/epcis" in href}
    assert len(shown) == 2, shown
    base = client.app.state.settings.base_url  # type: ignore[attr-defined]
    (links,) = client.get(path, params={"linkType": "all"}).json()["linkset"]
    offered = {
        link["href"].removeprefix(base) for rel, found in links.items() if rel != "anchor" for link in found
    }
    assert shown <= offered
    for link_type in ("gs1:traceability", "gs1:verificationService"):
        redirect = client.get(path, params={"linkType": link_type}, follow_redirects=False)
        target = redirect.headers["location"].removeprefix(base)
        assert redirect.status_code == 307 and target in shown
        assert client.get(target).status_code == 200


def test_an_item_of_a_lot_resolves_by_gtin_and_serial_alone(client: TestClient) -> None:
    """`/01/{gtin}/21/{serial}` of a genuine item of a lot (typed from the pack, or a code that
    leaves the lot out) was the 404 page that warns of copied labels."""
    item = SerialisedItem.parse(SKINCARE_LOT.gtin, "SK-0009")
    response = client.get(item.path, headers=JSON)
    full = f"{SKINCARE_LOT.path}/21/SK-0009"
    assert response.status_code == 200, response.text
    assert response.json()["url"].endswith(full) and f"{full}>" in response.headers["link"]
    assert response.json() == {**client.get(full, headers=JSON).json(), "risk": response.json()["risk"]}
    page = client.get(item.path, headers={"Accept": "text/html"})
    assert (
        page.status_code == 200 and f'<link rel="canonical" href="http://127.0.0.1:8000{full}">' in page.text
    )
    missing = client.get(SerialisedItem.parse(SKINCARE_LOT.gtin, "SK-9999").path, headers=JSON)
    assert missing.status_code == 404 and "nothing is registered" in missing.json()["detail"]


def test_a_damaged_lot_file_in_the_store_is_skipped_in_the_search_by_gtin(client: TestClient) -> None:
    """A lot file cut short after its header (a copy broken in transit) made every search of its
    GTIN fail with a 500; it is skipped, and the other lots of the GTIN still answer."""
    (lot_file,) = client.app.state.settings.data_dir.rglob(f"{SKINCARE_LOT.item_id.hex()}.otl")  # type: ignore[attr-defined]
    broken = lot_file.with_name("ab" * 32 + ".otl")  # names the same lot in its header
    broken.write_bytes(lot_file.read_bytes()[:128])
    try:
        client.app.state.cache.observe_checkpoint(object())  # type: ignore[attr-defined]
        missing = client.get(SerialisedItem.parse(SKINCARE_LOT.gtin, "SK-9998").path, headers=JSON)
        assert missing.status_code == 404, missing.text
        found = client.get(SerialisedItem.parse(SKINCARE_LOT.gtin, "SK-0010").path, headers=JSON)
        assert found.status_code == 200 and found.json()["url"].endswith(f"{SKINCARE_LOT.path}/21/SK-0010")
    finally:
        broken.unlink()


def test_a_lot_or_unit_by_id_answers_as_resolving_its_key(client: TestClient) -> None:
    """`/api/v1/items/{id}` of a lot answered in the item shape (`gtin` and `url` null, no lot
    number, root or count), of a unit without its SSCC, contents or packings."""
    client.get(PALLET.path, headers=JSON)  # the gateway learns the pallet's SSCC by resolving it
    client.app.state.recorder.flush(client.app.state.engine)  # type: ignore[attr-defined]
    client.app.state.cache.observe_checkpoint(object())  # type: ignore[attr-defined] # answers cached before
    for record in (SKINCARE_LOT, PALLET):  # the lot's key is known from its lot file
        by_id = client.get(f"/api/v1/items/{_hex(record.item_id)}")
        assert by_id.status_code == 200 and by_id.json() == client.get(record.path, headers=JSON).json()
    lot = client.get(f"/api/v1/items/{_hex(SKINCARE_LOT.item_id)}").json()
    assert (lot["gtin"], lot["lot"], lot["url"]) == (
        SKINCARE_LOT.gtin,
        SKINCARE_LOT.lot,
        "http://127.0.0.1:8000" + SKINCARE_LOT.path,
    )
    assert {"merkle_root", "item_count"} <= lot.keys()
    unit = client.get(f"/api/v1/items/{_hex(PALLET.item_id)}").json()
    assert unit["sscc"] == PALLET.sscc and unit["content_count"] == len(unit["contents"]) == 2
    item = client.get(f"/api/v1/items/{_hex(GIFT_SET.item_id)}").json()  # an item: as before
    assert item["serial"] == GIFT_SET.serial and "sscc" not in item and "lot" not in item


def test_unit_resolves_with_its_contents(client: TestClient) -> None:
    client.get(GIFT_SET.path, headers=JSON)  # the gateway learns the gift set's key by resolving it
    client.app.state.recorder.flush(client.app.state.engine)  # type: ignore[attr-defined]
    body = client.get(PALLET.path, headers=JSON).json()
    assert (body["sscc"], body["custodian"]["address"], body["status"]) == (PALLET.sscc, CARRIER, "active")
    assert body["chain"]["chain_id"] == 31337 and body["chain"]["paused_since"] is None
    contents = {c["id"]: c for c in body["contents"]}
    assert set(contents) == {_hex(SKINCARE_LOT.item_id), _hex(GIFT_SET.item_id)}
    assert contents[_hex(GIFT_SET.item_id)]["url"].endswith(GIFT_SET.path)
    lot = contents[_hex(SKINCARE_LOT.item_id)]
    assert lot["kind"] == "lot" and lot["url"].endswith(SKINCARE_LOT.path)  # from the lot store's file
    assert {c["status"] for c in body["contents"]} == {"active"}
    # A recalled record on the pallet is flagged in its contents (it looked like the others).
    recalled = UnitPublic.model_validate(body)
    recalled.contents[0] = recalled.contents[0].model_copy(update={"status": "recalled"})
    flagged = render_key_page(recalled, "en", 12)
    assert flagged.count('<span class="badge recalled">Recalled</span>') == 1
    # Contents are named by their keys (the link text was the whole URL).
    gift_url, lot_url = contents[_hex(GIFT_SET.item_id)]["url"], lot["url"]
    assert f'<a href="{gift_url}">Serial {GIFT_SET.serial} · GTIN {GIFT_SET.gtin}</a>' in flagged
    assert f'<a href="{lot_url}">Lot {SKINCARE_LOT.lot} · GTIN {SKINCARE_LOT.gtin}</a>' in flagged
    assert body["custodian"]["name"] == "SkyBridge Logistics"
    # How the carrier came to hold it: created by the brand, then handed over.
    history = [(h["type"], (h["to"] or {}).get("address")) for h in body["history"]]
    assert history[0] == ("unit_created", MEMBERS["brand"].account.address)
    assert history[-1] == ("handed_over", CARRIER) and body["carried"] == []
    # What went onto the pallet: one step for the transaction that packed both.
    (packing,) = body["packings"]
    assert (packing["type"], packing["record_count"]) == ("contents_packed", 2)
    assert {r["id"] for r in packing["records"]} == set(contents) and body["content_count"] == 2
    page = client.get(PALLET.path, headers=BROWSER)
    assert "物流单元由首位保管方创建" in page.text and page.text.count('<li data-type="') == len(history) + 1
    assert "装入本单元" in page.text
    assert page.status_code == 200 and f"<title>物流单元 {PALLET.sscc} · OriginTrace</title>" in page.text
    assert "<dt>装入记录数</dt>" in page.text
    assert (
        "SkyBridge Logistics" in page.text
        and f'href="{contents[_hex(GIFT_SET.item_id)]["url"]}"' in page.text
    )


def test_packing_steps_link_the_unit_once_its_sscc_is_known(client: TestClient) -> None:
    """A packing step said "Packed into a logistic unit (SSCC)" without naming the unit."""
    for _ in range(5):  # the gateway learns the pallet's SSCC by resolving it
        client.get(PALLET.path, headers={**JSON, "CF-IPCountry": "DE"})
    client.app.state.recorder.flush(client.app.state.engine)  # type: ignore[attr-defined]
    # Those resolutions count for no clone rule: the rules are about products, not pallets.
    state = client.app.state  # type: ignore[attr-defined]
    with state.engine.connect() as conn:
        unit = ItemReader(conn, state.settings, state.places).load(_hex(PALLET.item_id), None, state.recorder)
    assert unit is not None and unit.risk == NO_RISK
    assert "risk" not in client.get(f"/api/v1/items/{_hex(PALLET.item_id)}").json()  # a unit's shape
    client.app.state.cache.observe_checkpoint(object())  # type: ignore[attr-defined] # answers cached before
    pallet = client.app.state.settings.base_url + PALLET.path  # type: ignore[attr-defined]
    body = client.get(GIFT_SET.path, headers=JSON).json()
    (packed,) = [h for h in body["history"] if h["type"] == "packed"]
    assert (packed["unit"], packed["unit_url"]) == (_hex(PALLET.item_id), pallet)
    assert [c["unit_url"] for c in body["carried"]] == [pallet]
    page = client.get(GIFT_SET.path, headers={**BROWSER, "Accept-Language": "en"}).text
    assert f'Packed into a logistic unit · <a href="{pallet}">SSCC {PALLET.sscc}</a>' in page
    assert f'(with the logistic unit it is packed in) · <a href="{pallet}">SSCC {PALLET.sscc}</a>' in page


def test_packed_item_shows_the_pallet_custodian_and_packing(client: TestClient) -> None:
    body = client.get(GIFT_SET.path, headers=JSON).json()
    assert body["custodian"]["address"] == CARRIER and body["custodian"]["name"] == "SkyBridge Logistics"
    assert body["container"] == _hex(PALLET.item_id)
    # The pallet's handover to the carrier is how the gift set reached the carrier: it is in its history.
    steps = [(h["type"], h["certification"]) for h in body["history"]]
    assert steps == [
        ("registered", None),
        ("packed", None),
        ("attested", "ORGANIC"),
        ("attested", "VEGAN"),
        ("attestation_revoked", "VEGAN"),  # it was shown as a certification still in the timeline
    ]
    # Its own facts, as its proof bundle has them; the packing names the unit it was packed in.
    assert [h["unit"] for h in body["history"]] == [None, _hex(PALLET.item_id), None, None, None]
    (carried,) = body["carried"]
    assert (carried["type"], carried["unit"]) == ("handed_over", _hex(PALLET.item_id))
    assert carried["to"]["address"] == CARRIER
    page = client.get(GIFT_SET.path, headers=BROWSER).text
    # Chinese punctuation: a full-width colon, and no space before a full-width bracket
    assert "保管权已交接（随所装入的物流单元）" in page and " （" not in page
    assert "认证方已撤回认证：" in page and page.count("已认证：") == 2 and "认证: " not in page
    english = client.get(GIFT_SET.path, headers={**BROWSER, "Accept-Language": "en"}).text
    assert "Custody handed over (with the logistic unit it is packed in)" in english
    assert english.count("Certified: ") == 2
    assert [a["uri"] for a in body["attestations"]] == [ORGANIC_REPORT]  # the revoked one is gone
    # Shoppers can open the certificate the certifier named (an https one; ipfs:// is not a link)
    assert f'<a href="{ORGANIC_REPORT}" rel="noopener nofollow">查看证书</a>' in page


def test_verify_checks_the_moves_made_with_the_pallet(client: TestClient, w3: Web3, devnet: Devnet) -> None:
    """`carried` (the pallet's handover that moved the gift set and the lot) was the gateway's
    word alone: `verify` recomputes it from the node's logs, and a forged or missing move fails."""
    gift = client.get(GIFT_SET.path, headers=JSON).json()
    lot = client.get(SKINCARE_LOT.path, headers=JSON).json()
    rpc = RpcClient(devnet.rpc_url)
    for shown in (gift, lot):
        bundle = client.get(f"/api/v1/items/{shown['id']}/proof").json()
        address = Web3.to_checksum_address(bundle["registry"])
        logs = check_facts(Report(), w3, rpc, address, [shown["id"]], bundle["facts"]).logs
        honest = Report()
        check_carried(honest, rpc, address, logs, shown)
        assert honest.verified and len(shown["carried"]) == 1, honest.checks
        move = shown["carried"][0]
        for carried in (
            [],  # left out
            [{**move, "to": {"address": MEMBERS["retailer"].account.address}}],  # another receiver
            [move, {**move, "log_index": move["log_index"] - 1}],  # the offer, shown as a move
            [{**move, "unit": shown["id"]}],  # the record's own move
        ):
            lying = Report()
            check_carried(lying, rpc, address, logs, {**shown, "carried": carried})
            assert not lying.verified, carried


def test_recalled_item_json_and_page(client: TestClient) -> None:
    body = client.get(RECALLED.path, headers=JSON).json()
    assert body["status"] == "recalled" and body["history"][-1]["type"] == "recalled"
    page = client.get(RECALLED.path, headers=BROWSER).text
    assert 'class="badge recalled"' in page and "品牌方已召回" in page
    assert '<li data-type="recalled" class="bad">' in page  # its dot is red, not green as the others
    assert (
        '<section class="card alert" id="status-alert" role="alert"><p>品牌方已召回此商品：请停止使用' in page
    )
    english = client.get(RECALLED.path, headers={"Accept": "text/html"}).text
    assert "stop using this product and contact the brand or the seller" in english
    assert 'id="status-alert"' not in client.get(GIFT_SET.path, headers=BROWSER).text


def test_claimed_item_belongs_to_the_shopper(client: TestClient) -> None:
    body = client.get(CLAIMED.path, headers=JSON).json()
    assert body["status"] == "claimed"
    assert body["custodian"]["address"] == dev_account(6).address
    assert [h["type"] for h in body["history"]][-2:] == ["sold", "claimed"]
    epcis = client.get(f"/api/v1/items/{body['id']}/epcis").json()
    steps = [e["bizStep"] for e in epcis["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
    assert steps[-2:] == ["retail_selling", "receiving"]
    page = client.get(CLAIMED.path, headers={"Accept": "text/html"}).text  # not a bare wallet address
    assert f"<dd>Its owner, who claimed it <code>{dev_account(6).address[:10]}…</code></dd>" in page


def test_batch_registered_items_show_the_batch_log_in_history_epcis_and_proof(client: TestClient) -> None:
    """The three gift sets share one ItemsRegistered log; each item's views point at it."""
    registrations = []
    for position, key in enumerate((GIFT_SET, RECALLED, CLAIMED)):
        item_id = _hex(key.item_id)
        client.get(key.path, headers=JSON)  # the gateway learns the key, so the EPC is its Digital Link
        client.app.state.recorder.flush(client.app.state.engine)  # type: ignore[attr-defined]
        first = client.get(f"/api/v1/items/{item_id}/history", headers=JSON).json()["history"][0]
        assert first["type"] == "registered" and first["to"]["name"] == MEMBERS["brand"].name
        registrations.append((first["tx"], first["block"], first["log_index"]))

        proof = client.get(f"/api/v1/items/{item_id}/proof", headers=JSON).json()
        fact = proof["facts"][0]
        assert (fact["event"], fact["record_index"]) == ("ItemsRegistered", position)
        assert fact["args"]["itemIds"][position] == item_id
        assert (fact["tx"], fact["block"], fact["log_index"]) == registrations[-1]
        assert all(f["record_index"] is None for f in proof["facts"][1:])

        epcis = client.get(f"/api/v1/items/{item_id}/epcis").json()
        commissioning = epcis["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
        assert commissioning["bizStep"] == "commissioning" and commissioning["epcList"][0].endswith(key.path)
        tx, _, log_index = registrations[-1]
        assert commissioning["bizTransactionList"][0]["bizTransaction"].endswith(f":tx:{tx}:log:{log_index}")
        registrations[-1] += (commissioning["eventID"],)
    assert len({r[:3] for r in registrations}) == 1, "one log registered the whole batch"
    assert len({r[3] for r in registrations}) == 3, "each item's EPCIS event has its own id"


@pytest.mark.parametrize("serial", SLASHED_SERIALS)
def test_values_holding_a_slash_have_working_proof_and_qr_links(client: TestClient, serial: str) -> None:
    """`SL%2F2026` is one lot number: the router, matching decoded paths, split it (404, 400)."""
    item = SerialisedItem.parse(SLASHED_LOT.gtin, serial)
    path = f"{SLASHED_LOT.path}/21/{item.path.rsplit('/', 1)[1]}"
    assert "%2F" in path and client.get(path, headers=JSON).status_code == 200
    links = client.get(path, params={"linkType": "all"}, headers=JSON).json()["linkset"][0]
    (proof_link,) = links["https://gs1.org/voc/verificationService"]
    redirect = client.get(path, params={"linkType": "gs1:verificationService"}, follow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"] == proof_link["href"]
    bundle = client.get(proof_link["href"].removeprefix("http://127.0.0.1:8000"))
    assert bundle.status_code == 200, bundle.text
    # A bad escape is a 400 whether the router took the typed route (no `/` in a value) or not.
    for lot in ("SL%2F2026", "SL2026"):
        bad_escape = client.get(f"/api/v1/lots/{SLASHED_LOT.gtin}/{lot}/items/A%ZZ/proof")
        assert bad_escape.status_code == 400, bad_escape.text
        assert "'%' not followed by two hex digits" in bad_escape.json()["detail"]
    assert (bundle.json()["item_id"], bundle.json()["merkle"]["valid"]) == (_hex(item.item_id), True)
    qr = client.get(f"{path}/qr.png")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    (decoded,) = zxingcpp.read_barcodes(Image.open(BytesIO(qr.content)))
    assert decoded.text == "http://127.0.0.1:8000" + path


def test_every_key_has_a_qr_code(client: TestClient) -> None:
    """Not only serialised items: lots, their items and logistic units are printed on labels too."""
    for path in (SKINCARE_LOT.path, f"{SKINCARE_LOT.path}/21/SK-0001", PALLET.path):
        png = client.get(f"{path}/qr.png")
        (decoded,) = zxingcpp.read_barcodes(Image.open(BytesIO(png.content)))
        assert decoded.text == "http://127.0.0.1:8000" + path
        svg = client.get(f"{path}/qr.svg")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    unknown_format = client.get(f"{PALLET.path}/qr.gif", headers=JSON)
    assert unknown_format.status_code == 400


@pytest.mark.parametrize(
    ("asked", "canonical"),
    [
        (f"/01/{RECALLED.gtin}/10/FAKE/21/{RECALLED.serial}", RECALLED.path),  # a registered item
        (f"/01/{RECALLED.gtin}/22/V1/21/{RECALLED.serial}", RECALLED.path),
        (f"/01/{DIAMOND.gtin}/22/V1/21/{DIAMOND.serial}", DIAMOND.path),
        (f"{SKINCARE_LOT.path}/21/SK-0001", f"{SKINCARE_LOT.path}/21/SK-0001"),  # an item of a lot
    ],
)
def test_a_qr_code_holds_the_canonical_url_the_resolver_names(
    client: TestClient, asked: str, canonical: str
) -> None:
    """README says a QR code holds the key's canonical URL; it held the path as asked (with a
    made-up lot), cached for a year."""
    named = client.get(asked, headers=JSON).headers["link"]
    assert named == f'<http://127.0.0.1:8000{canonical}>; rel="canonical"'
    for fmt in ("png", "svg"):
        qr = client.get(f"{asked}/qr.{fmt}")
        assert qr.status_code == 200 and qr.headers["cache-control"] == "no-cache"  # may change: not a year
        image = Image.open(BytesIO(qr.content)) if fmt == "png" else None
        if image is not None:
            (decoded,) = zxingcpp.read_barcodes(image)
            assert decoded.text == "http://127.0.0.1:8000" + canonical
    if canonical != asked:  # the canonical path's own image depends on nothing registered
        assert "immutable" in client.get(f"{canonical}/qr.png").headers["cache-control"]
    # A sheet of labels prints the same URL under each code (it printed the path as asked).
    sheet = client.get("/api/v1/labels.svg", params={"path": [asked]})
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-cache"
    assert f">http://127.0.0.1:8000{canonical}</text>" in sheet.text.replace("&amp;", "&")
    client.app.state.cache.observe_checkpoint(object())  # type: ignore[attr-defined] # for the keys learned later


def test_a_status_awaiting_confirmation_says_so_by_its_badge_and_the_verified_note(
    client: TestClient,
) -> None:
    """ "Claimed by its owner" and "✓ Every fact above comes from the registry's events" read as
    final while the claim was 5 of 12 confirmations deep."""
    needed = client.app.state.settings.confirmations  # type: ignore[attr-defined]
    body = client.get(CLAIMED.path, headers=JSON).json()
    claim = body["history"][-1]
    assert (body["status"], claim["type"], claim["confirmed"], body["status_confirmed"]) == (
        "claimed",
        "claimed",
        False,
        False,
    )
    pending = sum(not step["confirmed"] for step in [*body["history"], *body["carried"]])
    english = client.get(CLAIMED.path, headers={**BROWSER, "Accept-Language": "en"}).text
    badge = english.split('id="product">')[1].split("<h1>")[0]
    assert "Claimed by its owner</span>" in badge
    caveat = f"{claim['confirmations']} of {needed} confirmations (awaiting confirmation)"
    assert f'<span class="meta" id="status-pending">{caveat}</span>' in badge
    assert f"{caveat} · tx" in english  # the timeline's words for the same step
    note = english.split('<p class="verified">')[1].split("</p>")[0]
    caveat_note = f"; {pending} of them are still awaiting confirmation"
    assert note.endswith(f'<span id="verified-pending">{caveat_note}</span>.'), note
    chinese = client.get(CLAIMED.path, headers=BROWSER).text
    assert f"{claim['confirmations']}/{needed} 次确认 (等待确认)</span>" in chinese
    assert f'<span id="verified-pending">；其中 {pending} 条仍在等待确认</span>。' in chinese
    # The page and the JSON agree on every kind of record, final or not.
    for path in (CLAIMED.path, DIAMOND.path, SKINCARE_LOT.path, PALLET.path):
        record = client.get(path, headers=JSON).json()
        page = client.get(path, headers={**BROWSER, "Accept-Language": "en"}).text
        assert ('id="status-pending"' in page) == (not record["status_confirmed"]), path
        final = [
            s for s in record["history"] if s["type"] not in ("attested", "attestation_revoked", "packed")
        ]
        assert record["status_confirmed"] == final[-1]["confirmed"], path


def test_lots_and_units_are_listed_by_kind(client: TestClient) -> None:
    """/api/v1/items listed serialised items only."""
    lots = client.get("/api/v1/items", params={"kind": "lot"}).json()["items"]
    by_id = {lot["id"]: lot for lot in lots}
    assert set(by_id) == {_hex(SKINCARE_LOT.item_id), _hex(SLASHED_LOT.item_id)}
    assert {lot["kind"] for lot in lots} == {"lot"}
    assert by_id[_hex(SKINCARE_LOT.item_id)]["url"].endswith(SKINCARE_LOT.path)  # from the lot store
    assert by_id[_hex(SKINCARE_LOT.item_id)]["custodian"] == CARRIER  # the pallet's custodian
    (unit,) = client.get("/api/v1/items", params={"kind": "unit"}).json()["items"]
    assert (unit["id"], unit["kind"], unit["status"]) == (_hex(PALLET.item_id), "unit", "active")
    items = client.get("/api/v1/items").json()["items"]  # the default: items, as before
    assert {i["kind"] for i in items} == {"item"} and _hex(DIAMOND.item_id) in {i["id"] for i in items}
    assert client.get("/api/v1/items", params={"kind": "pallet"}).status_code == 422
    described = client.get("/openapi.json").json()["paths"]["/api/v1/items"]["get"]
    (kind,) = [p for p in described["parameters"] if p["name"] == "kind"]
    assert kind["schema"]["enum"] == ["item", "lot", "unit"] and kind["schema"]["default"] == "item"
    assert "lots" in kind["description"] and "units" in described["summary"]


def test_a_unit_has_one_epc_as_parent_and_as_object(client: TestClient) -> None:
    """The pallet was `...:record:<id>` as its gift set's parent but `...:item:<id>` in its own
    document; once the gateway knows its SSCC, it is its Digital Link in both."""
    client.get(PALLET.path, headers=JSON)
    client.app.state.recorder.flush(client.app.state.engine)  # type: ignore[attr-defined]
    packed = client.get(f"/api/v1/items/{_hex(GIFT_SET.item_id)}/epcis").json()
    events = packed["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    (parent,) = {e["parentID"] for e in events if e["type"] == "AggregationEvent"}
    own = client.get(f"/api/v1/items/{_hex(PALLET.item_id)}/epcis").json()
    epcs = {
        epc
        for e in own["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        for epc in e.get("epcList", [])
    }
    assert epcs == {parent} and parent == "http://127.0.0.1:8000" + PALLET.path


def test_a_paused_registry_is_said_on_every_page_in_json_and_on_healthz(  # type: ignore[no-untyped-def]
    w3: Web3, operator, tmp_path
) -> None:
    """Shoppers learn why nothing moves (also on a label that resolves to nothing yet, which a
    brand could not register during the pause); the gateway itself stays healthy."""
    from app.chain.deploy import deploy_registry
    from app.db.engine import make_engine

    settings = Settings(data_dir=tmp_path, deployments_dir=tmp_path)
    deployment = deploy_registry(w3, operator)
    contract = registry(w3, deployment.registry)
    seed_demo(w3, contract, operator)
    seed_mass_market(w3, contract, lot_store(settings, deployment.chain_id, deployment.registry))
    engine = make_engine(settings.resolved_database_url)
    indexer = Indexer(w3, engine, deployment)
    indexer.backfill()
    english = {"Accept": "text/html", "Accept-Language": "en"}
    pages = (DIAMOND.path, SKINCARE_LOT.path, f"{SKINCARE_LOT.path}/21/SK-0007", PALLET.path)
    unknown = "/01/09506000134352/21/PRINTED-IN-PAUSE"  # a 404
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:

        def shown() -> list[str | None]:
            time.sleep(3 * CHECKPOINT_POLL_S)  # the gateway sees the checkpoint move
            found = []
            for path in (*pages, unknown):
                page = client.get(path, headers=english).text
                notice = page.split('id="paused" role="status"><p>')
                found.append(notice[1].split("</p>")[0] if len(notice) == 2 else None)
            return found

        def in_json() -> list[str | None]:
            bodies = [client.get(path, headers=JSON).json() for path in pages]
            records = [body["lot"] if "merkle" in body else body for body in bodies]  # a lot item: its lot's
            return [record["chain"]["paused_since"] for record in records]

        assert shown() == [None] * 5  # and cached: the pause must drop them
        send(w3, operator, contract.functions.pause())
        paused_at = w3.eth.get_block("latest")["timestamp"]
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(paused_at))
        indexer.backfill()
        notice = (
            f"The consortium paused this registry on {since}: until it resumes, nothing new can be recorded"
            " (no registration, handover, sale, claim, recall, loss report or certification)."
        )
        assert shown() == [notice] * 5
        malformed = client.get("/01/09506000134353/21/X", headers=english)  # a wrong check digit
        assert malformed.status_code == 400 and 'id="paused"' not in malformed.text  # not why it failed
        assert in_json() == [since.replace(" UTC", "Z").replace(" ", "T")] * 4
        assert "联盟已于" in client.get(PALLET.path, headers=BROWSER).text
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["registry_paused_since"] == paused_at

        send(w3, operator, contract.functions.unpause())
        indexer.backfill()
        assert shown() == [None] * 5
        assert in_json() == [None] * 4
        assert client.get("/healthz").json()["registry_paused_since"] is None
    engine.dispose()

"""A logistic unit holding more than a page of records: its contents capped and paged, and its
timeline naming what went into it and came out of it (on real anvil data)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from app.api.main import create_app
from app.api.units import CONTENTS_PAGE, CONTENTS_SHOWN, NAMED_PER_STEP, PACKINGS_PAGE, PACKINGS_SHOWN
from app.chain.client import registry, send
from app.chain.deploy import deploy_registry
from app.core.config import Settings
from app.db.engine import make_engine
from app.demo.journey import admit_members, demo_members, metadata_uri
from app.gs1.keys import LogisticUnit, SerialisedItem
from app.indexer.follow import Indexer

pytestmark = pytest.mark.e2e
JSON = {"Accept": "application/json"}
ENGLISH = {"Accept": "text/html", "Accept-Language": "en"}
MEMBERS = demo_members()
BRAND = MEMBERS["brand"].account
PACKED = 120
"""More than a JSON page (CONTENTS_PAGE) and a page's list (CONTENTS_SHOWN)."""
UNPACKED = 3
CRATE = LogisticUnit.parse("109506000000000993")
TRAY = LogisticUnit.parse("109506000000001006")
TRAY_STEPS = PACKINGS_PAGE + 6
"""A box packed onto the tray and taken off again, a transaction each time (as a scanner would)."""
BOXES = [SerialisedItem.parse("09506000134376", f"BOX-{n:04}") for n in range(PACKED)]


def _hex(key: bytes) -> str:
    return "0x" + key.hex()


@pytest.fixture(scope="module")
def client(w3: Web3, operator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """A crate packed with PACKED boxes in one transaction, then UNPACKED of them taken out."""
    data = tmp_path_factory.mktemp("units")
    settings = Settings(data_dir=data, deployments_dir=data)
    deployment = deploy_registry(w3, operator)
    contract = registry(w3, deployment.registry)
    admit_members(w3, contract, operator, MEMBERS)
    calls = contract.functions
    metadata_hash, uri = metadata_uri({"name": "Gift box"})
    ids = [box.item_id for box in BOXES]
    send(w3, BRAND, calls.registerItems(ids, [metadata_hash] * PACKED, uri))
    send(w3, BRAND, calls.createUnit(CRATE.sscc))
    send(w3, BRAND, calls.pack(CRATE.item_id, ids))
    send(w3, BRAND, calls.unpack(CRATE.item_id, ids[:UNPACKED]))
    send(w3, BRAND, calls.createUnit(TRAY.sscc))
    for step in range(TRAY_STEPS):
        send(w3, BRAND, (calls.unpack if step % 2 else calls.pack)(TRAY.item_id, ids[:1]))
    engine = make_engine(settings.resolved_database_url)
    Indexer(w3, engine, deployment).backfill()
    with TestClient(create_app(settings, engine)) as test_client:
        for box in (BOXES[0], BOXES[-1]):  # the gateway learns these keys by resolving them
            test_client.get(box.path, headers=JSON)
        test_client.app.state.recorder.flush(engine)  # type: ignore[attr-defined]
        yield test_client
    engine.dispose()


def test_a_full_unit_lists_a_page_of_its_contents_and_pages_through_the_rest(client: TestClient) -> None:
    """Every record of a pallet was listed (and looked up one by one) however many it held."""
    body = client.get(CRATE.path, headers=JSON).json()
    held = sorted(_hex(box.item_id) for box in BOXES[UNPACKED:])
    assert body["content_count"] == PACKED - UNPACKED
    assert [c["id"] for c in body["contents"]] == held[:CONTENTS_PAGE]
    assert body["contents_next_after"] == held[CONTENTS_PAGE - 1]
    assert {c["kind"] for c in body["contents"]} == {"item"}
    rest = client.get(
        f"/api/v1/items/{body['id']}/contents", params={"after": body["contents_next_after"]}
    ).json()
    assert [c["id"] for c in rest["contents"]] == held[CONTENTS_PAGE:] and rest["next_after"] is None
    last = client.app.state.settings.base_url + BOXES[-1].path  # type: ignore[attr-defined]
    linked = [c["url"] for c in [*body["contents"], *rest["contents"]] if c["url"]]
    assert linked == [last]  # the only one resolved and still held
    small = client.get(f"/api/v1/items/{body['id']}/contents", params={"limit": 2}).json()
    assert [c["id"] for c in small["contents"]] == held[:2] and small["next_after"] == held[1]
    assert small["content_count"] == PACKED - UNPACKED
    assert client.get(f"/api/v1/items/{_hex(BOXES[0].item_id)}/contents").status_code == 404  # no unit
    page = client.get(CRATE.path, headers=ENGLISH).text
    listed = page.split('id="contents"')[1].split("</ul>")[0]
    assert listed.count("<li>") == CONTENTS_SHOWN and "Item <code>0x" in listed
    assert f'<dd id="content-count">{PACKED - UNPACKED}</dd>' in page
    assert f"The first {CONTENTS_SHOWN} of {PACKED - UNPACKED} are listed here" in page
    assert f'href="/api/v1/items/{body["id"]}/contents"' in page
    assert len(page.encode()) < 30_000


def test_a_units_timeline_names_what_was_packed_and_unpacked(client: TestClient) -> None:
    body = client.get(CRATE.path, headers=JSON).json()
    packed, unpacked = body["packings"]
    assert (packed["type"], packed["record_count"], packed["to"]) == ("contents_packed", PACKED, None)
    assert [r["id"] for r in packed["records"]] == [_hex(box.item_id) for box in BOXES[:NAMED_PER_STEP]]
    first = client.app.state.settings.base_url + BOXES[0].path  # type: ignore[attr-defined]
    assert packed["records"][0]["url"] == first  # resolved before, though no longer in the crate
    assert (unpacked["type"], unpacked["record_count"]) == ("contents_unpacked", UNPACKED)
    assert [r["id"] for r in unpacked["records"]] == [_hex(box.item_id) for box in BOXES[:UNPACKED]]
    assert unpacked["to"]["address"] == BRAND.address  # who holds them since
    assert packed["block"] < unpacked["block"] and {"confirmations", "confirmed", "tx"} <= packed.keys()
    assert [h["type"] for h in body["history"]] == ["unit_created"]  # the unit's own facts, as before
    page = client.get(CRATE.path, headers=ENGLISH).text
    steps = page.split('id="timeline">')[1].split("</ol>")[0].split("<li ")[1:]
    assert [s.split('"')[1] for s in steps] == ["unit_created", "contents_packed", "contents_unpacked"]
    assert "Packed into this unit" in steps[1] and f"and {PACKED - NAMED_PER_STEP} more" in steps[1]
    assert f'<a href="{first}">Serial {BOXES[0].serial} · GTIN {BOXES[0].gtin}</a>' in steps[1]
    assert "Taken out of this unit" in steps[2] and "more" not in steps[2]
    assert MEMBERS["brand"].name in steps[2]
    zh = client.get(CRATE.path, headers={**ENGLISH, "Accept-Language": "zh-CN"}).text
    assert "装入本单元" in zh and f"另有 {PACKED - NAMED_PER_STEP} 件" in zh and "从本单元取出" in zh


def test_a_unit_with_more_steps_than_a_page_shows_its_latest_and_pages_back_through_the_rest(
    client: TestClient,
) -> None:
    """A tray loaded a box at a time took a transaction a step: its page and JSON stay short, and
    every step can still be read."""
    body = client.get(TRAY.path, headers=JSON).json()
    assert body["packing_count"] == TRAY_STEPS and len(body["packings"]) == PACKINGS_PAGE
    kinds = ["contents_packed", "contents_unpacked"] * (TRAY_STEPS // 2)
    assert [s["type"] for s in body["packings"]] == kinds[-PACKINGS_PAGE:]  # the latest, oldest first
    blocks = [s["block"] for s in body["packings"]]
    assert blocks == sorted(blocks) and len(set(blocks)) == PACKINGS_PAGE
    earlier = f"/api/v1/items/{body['id']}/packings"
    assert body["packings_next_before"] == f"{blocks[0]}-{body['packings'][0]['log_index']}"
    rest = client.get(earlier, params={"before": body["packings_next_before"]}).json()
    assert rest["packing_count"] == TRAY_STEPS and rest["next_before"] is None
    every = [s["block"] for s in rest["packings"] + body["packings"]]
    assert len(every) == TRAY_STEPS and every == sorted(set(every))  # each step once, in chain order
    walked, before = [], None
    while True:  # two at a time, back to the first step
        page = client.get(earlier, params={"limit": 2, **({"before": before} if before else {})}).json()
        walked = page["packings"] + walked
        before = page["next_before"]
        if before is None:
            break
    assert [(s["tx"], s["type"]) for s in walked] == [
        (s["tx"], s["type"]) for s in rest["packings"] + body["packings"]
    ]
    assert walked[0]["records"][0]["id"] == _hex(BOXES[0].item_id)
    for bad in ("12", "a-1", "-1-2", "1-2-3"):
        reply = client.get(earlier, params={"before": bad})
        assert reply.status_code == 422 and "before" in reply.text, bad
    assert client.get(f"/api/v1/items/{_hex(BOXES[0].item_id)}/packings").status_code == 404  # no unit
    html = client.get(TRAY.path, headers=ENGLISH).text
    steps = html.split('id="timeline">')[1].split("</ol>")[0].split("<li ")[1:]
    assert [s.split('"')[1] for s in steps] == ["unit_created", *kinds[-PACKINGS_SHOWN:]]
    assert f"The latest {PACKINGS_SHOWN} of its {TRAY_STEPS} packing steps are shown" in html
    assert f'href="{earlier}"' in html
    zh = client.get(TRAY.path, headers={**ENGLISH, "Accept-Language": "zh-CN"}).text
    assert f"此处显示最近 {PACKINGS_SHOWN} 次装箱或取出（共 {TRAY_STEPS} 次）" in zh
    crate = client.get(CRATE.path, headers=ENGLISH).text
    assert 'id="more-packings"' not in crate  # two steps: all shown


def test_units_are_listed_by_kind(client: TestClient) -> None:
    client.get(CRATE.path, headers=JSON)  # the gateway learns the crate's SSCC by resolving it
    client.app.state.recorder.flush(client.app.state.engine)  # type: ignore[attr-defined]
    units = client.get("/api/v1/items", params={"kind": "unit"}).json()
    listed = {u["id"]: (u["kind"], u["url"]) for u in units["items"]}
    crate = client.app.state.settings.base_url + CRATE.path  # type: ignore[attr-defined]
    assert set(listed) == {_hex(CRATE.item_id), _hex(TRAY.item_id)} and listed[_hex(CRATE.item_id)] == (
        "unit",
        crate,
    )
    assert {kind for kind, _ in listed.values()} == {"unit"}
    assert client.get("/api/v1/items", params={"kind": "lot"}).json() == {"items": [], "next_after": None}
    items = client.get("/api/v1/items", params={"limit": 500}).json()["items"]
    assert len(items) == PACKED and {i["kind"] for i in items} == {"item"}

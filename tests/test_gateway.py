"""Gateway over an indexed demo journey: JSON, shopper page, QR codes, errors."""

import base64
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from web3 import Web3

from app.api.main import CHECKPOINT_POLL_S, create_app
from app.chain.client import registry, send
from app.chain.deploy import Deployment
from app.core.config import Settings
from app.db.engine import make_engine
from app.demo.journey import DIAMOND, hand_over, seed_demo
from app.gs1.keys import SerialisedItem
from app.indexer.follow import Indexer

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def client(
    w3: Web3, deployment: Deployment, operator, engine: Engine, settings: Settings
) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as test_client:
        yield test_client


def test_item_json_shows_the_whole_journey(client: TestClient, w3: Web3, deployment: Deployment) -> None:
    response = client.get(DIAMOND.path, headers=JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "0x" + DIAMOND.item_id.hex()
    assert body["status"] == "sold"
    assert body["custodian"]["name"] == "TianMall Global"
    assert [a["certifier"]["name"] for a in body["attestations"]] == ["Antwerp World Diamond Centre (AWDC)"]
    assert body["attestations"][0]["kind"] == "GRADING_REPORT"
    handovers = [(h["from"]["name"], h["to"]["name"]) for h in body["history"] if h["type"] == "handed_over"]
    assert handovers == [
        ("Maison Lumière", "SkyBridge Logistics"),
        ("SkyBridge Logistics", "Hangzhou Customs"),
        ("Hangzhou Customs", "TianMall Global"),
    ]
    assert body["history"][0]["type"] == "registered" and body["history"][-1]["type"] == "sold"
    for entry in body["history"]:
        receipt = w3.eth.get_transaction_receipt(entry["tx"])
        assert receipt["blockNumber"] == entry["block"]
        assert receipt["to"] == deployment.registry
        assert entry["timestamp"].endswith("Z")
    assert body["metadata"]["origin"] == "Botswana"
    assert body["chain"] == {
        "chain_id": 31337,
        "registry": deployment.registry,
        "indexed_block": w3.eth.block_number,
        "paused_since": None,
    }


def test_browsers_get_the_shopper_page(client: TestClient) -> None:
    response = client.get(DIAMOND.path, headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Sold" in page and "Antwerp World Diamond Centre (AWDC)" in page and "Botswana" in page
    # Sold, the diamond is the retailer's until its buyer claims it: not "Held by" the shop.
    assert "<dt>Sold by (until its buyer claims it)</dt><dd>TianMall Global" in page and "Held by" not in page
    assert page.count('data-type="handed_over"') == 3
    assert "<script" not in page
    # the whole command to check it on one's own node, not a bare `origintrace verify`
    command = f'origintrace verify http://127.0.0.1:8000{DIAMOND.path} --rpc "$ORIGINTRACE_RPC_URL"'

    assert f'<code id="verify-command">{command}</code>' in page


@pytest.mark.parametrize(("suffix", "kind"), [("qr.png", "image/png"), ("qr.svg", "image/svg+xml")])
def test_qr_codes_carry_the_canonical_digital_link(
    client: TestClient, suffix: str, kind: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # A GTIN-13 in the request still yields the canonical 14-digit URL.
    response = client.get(f"/01/9506000134352/21/{DIAMOND.serial}/{suffix}")
    assert response.status_code == 200
    assert response.headers["content-type"] == kind
    assert "max-age" in response.headers["cache-control"]
    if suffix == "qr.png":
        image = tmp_path / "qr.png"
        image.write_bytes(response.content)
        (decoded,) = zxingcpp.read_barcodes(Image.open(image))
        assert decoded.text == "http://127.0.0.1:8000" + DIAMOND.path
        assert decoded.format == zxingcpp.BarcodeFormat.QRCode
    else:
        assert response.content.lstrip().startswith(b"<svg")


def test_unknown_item_is_a_json_404(client: TestClient) -> None:
    response = client.get("/01/09506000134352/21/NOPE-1", headers=JSON)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("gtin", "reason"),
    [
        ("0950600013435", "check digit"),
        ("095060001343", "check digit"),
        ("12345", "5 digits"),
        ("0950600013435A", "only digits"),
    ],
)
def test_malformed_gtin_is_a_400_with_the_reason(client: TestClient, gtin: str, reason: str) -> None:
    response = client.get(f"/01/{gtin}/21/DIA-0001", headers=JSON)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_key"
    assert reason in response.json()["detail"]


def test_healthz_reports_the_indexed_block(client: TestClient, w3: Web3) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["indexed_block"] == w3.eth.block_number


def test_internal_errors_never_leak_a_stack_trace(client: TestClient, engine: Engine) -> None:
    engine.dispose()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE attestations")
    response = client.get(DIAMOND.path, headers=JSON)
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "detail": "the gateway failed to answer; the error was logged",
    }
    assert "Traceback" not in response.text


ITEM_ID = "0x" + DIAMOND.item_id.hex()


def test_responses_name_the_canonical_url(client: TestClient) -> None:
    response = client.get(f"/01/9506000134352/21/{DIAMOND.serial}", headers=JSON)
    canonical = "http://127.0.0.1:8000" + DIAMOND.path
    assert response.status_code == 200
    assert response.json()["url"] == canonical
    assert response.headers["link"] == f'<{canonical}>; rel="canonical"'


def test_linktype_all_is_an_rfc9264_linkset(client: TestClient) -> None:
    response = client.get(DIAMOND.path, params={"linkType": "all"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/linkset+json"
    (context,) = response.json()["linkset"]
    assert context["anchor"] == "http://127.0.0.1:8000" + DIAMOND.path
    for rel in ("pip", "traceability", "certificationInfo"):
        assert context[f"https://gs1.org/voc/{rel}"][0]["href"].startswith("http://127.0.0.1:8000/")
    epcis = context["https://gs1.org/voc/traceability"][0]["href"]
    assert client.get(epcis.removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_linktype_redirects_with_307_to_its_target(
    w3: Web3, deployment: Deployment, operator, engine: Engine, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    settings.link_targets = {"gs1:recallStatus": "https://brand.example/recalls/{gtin}/{serial}"}
    with TestClient(create_app(settings, engine), follow_redirects=False) as test_client:
        recall = test_client.get(DIAMOND.path, params={"linkType": "gs1:recallStatus"})
        assert recall.status_code == 307
        assert recall.headers["location"] == f"https://brand.example/recalls/{DIAMOND.gtin}/{DIAMOND.serial}"
        trace = test_client.get(DIAMOND.path, params={"linkType": "gs1:traceability"})
        assert trace.status_code == 307 and trace.headers["location"].endswith(
            f"/api/v1/items/{ITEM_ID}/epcis"
        )
        missing = test_client.get(DIAMOND.path, params={"linkType": "gs1:smpc"}, headers=JSON)
        detail = missing.json()["detail"]
        assert missing.status_code == 404 and "gs1:recallStatus" in detail
        assert "gs1:verificationService" in detail and "https://" not in detail  # short names only
        default = test_client.get(DIAMOND.path, params={"linkType": "gs1:defaultLink"}, headers=JSON)
        assert default.status_code == 200 and default.json()["id"] == ITEM_ID  # the product page itself


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        (f"/01/09506000134352/21/{DIAMOND.serial}/10/LOT1", 400, "order"),
        ("/01/09506000134352/22/V1/21/" + "A" * 25, 400, "CSET 82"),
        ("/00/106141412345678909", 400, "check digit"),
        ("/00/106141412345678908", 404, "nothing is registered"),
        ("/01/09506000134352/10/LOT-1", 404, "nothing is registered"),
        ("/01/09506000134352/10/LOT-1/21/X1", 404, "nothing is registered"),
        ("/01/09506000134352/21/%ZZ", 400, "'%' not followed by two hex digits"),
        ("/01/09506000134352/10/L%2/21/X1", 400, "'%' not followed by two hex digits"),
    ],
)
def test_every_digital_link_form_is_validated(
    client: TestClient, path: str, status: int, reason: str
) -> None:
    response = client.get(path, headers=JSON)
    assert response.status_code == status
    assert reason in response.json()["detail"]


def test_cpv_and_lot_qualifiers_still_resolve_a_serialised_item(client: TestClient) -> None:
    """The id hashes GTIN and serial only, so a variant or lot in the URL is checked against
    nothing: a made-up lot became the item's canonical URL. The canonical URL leaves them out."""
    canonical = f"http://127.0.0.1:8000{DIAMOND.path}"
    for path in (
        f"/01/09506000134352/22/V1/21/{DIAMOND.serial}",
        f"/01/9506000134352/10/L%2F7/21/{DIAMOND.serial}",
    ):
        response = client.get(path, headers=JSON)
        assert response.status_code == 200 and response.json()["id"] == ITEM_ID
        assert response.json()["url"] == canonical and f"<{canonical}>" in response.headers["link"]


def test_shopper_page_speaks_chinese_and_shows_confirmations(client: TestClient, w3: Web3) -> None:
    page = client.get(DIAMOND.path, headers={**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    assert 'lang="zh-Hans"' in page.text and "已售出" in page.text and "流转记录" in page.text
    assert "圆形明亮式切工钻石" in page.text and "商品资料与链上哈希一致<span" in page.text
    assert "· 分级报告" in page.text and "grading" not in page.text.lower()
    # Times in Beijing time on a Chinese page (a shopper in Hangzhou read UTC), UTC in English.
    stamp = client.get(DIAMOND.path, headers=JSON).json()["history"][0]["timestamp"]
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    beijing = (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S 北京时间")
    assert beijing in page.text and " UTC" not in page.text
    english = client.get(DIAMOND.path, headers={**BROWSER, "Accept-Language": "en-GB"}).text
    assert "· grading report" in english
    assert moment.strftime("%Y-%m-%d %H:%M:%S UTC") in english and "北京时间" not in english
    head = w3.eth.block_number
    needed = client.app.state.settings.confirmations  # type: ignore[attr-defined]
    # "10 confirmations (awaiting confirmation)" read as a contradiction: say how many it needs
    assert f"block {head} · 1 of {needed} confirmations (awaiting confirmation)" in english
    assert f"block {head - 1} · 2 of {needed} confirmations" in english
    body = client.get(DIAMOND.path, headers=JSON).json()
    pending = sum(not step["confirmed"] for step in [*body["history"], *body["carried"]])
    # The sale behind "Sold" is 1 block deep: the badge and the "verified" note say so.
    assert not body["status_confirmed"]
    sold = f"1 of {needed} confirmations (awaiting confirmation)"
    assert f'Sold</span> <span class="meta" id="status-pending">{sold}</span>' in english
    caveat = f"; {pending} of them are still awaiting confirmation"
    assert f'matches its on-chain hash<span id="verified-pending">{caveat}</span>.</p>' in english
    timeline = english.split('<ol class="timeline" id="timeline">')[1].split("</ol>")[0]
    assert pending >= 1 and timeline.count("(awaiting confirmation)") == pending
    assert f"Steps awaiting confirmation: {pending}. A step is final once it is {needed} blocks" in english
    assert len(english.encode()) < 100_000 and "<script" not in english


def test_repeated_scans_raise_a_clone_warning(
    w3: Web3, deployment: Deployment, operator, engine: Engine, settings: Settings, same_minute: None
) -> None:  # type: ignore[no-untyped-def]
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    # Cached answers carry a risk up to cache_ttl old; this test reads every scan fresh.
    settings.clone_burst_per_minute, settings.clone_max_regions, settings.cache_ttl = 5, 1, 0
    settings.region_header = "CF-IPCountry"  # as behind a CDN that sets it
    app = create_app(settings, engine)
    with TestClient(app) as test_client:
        for n, region in enumerate(("CN", "US", "CN", "BR", "CN", "CN")):  # six shoppers
            shopper = TestClient(app, client=(f"192.0.2.{n}", 50000))
            body = shopper.get(DIAMOND.path, headers={**JSON, "CF-IPCountry": region}).json()
        codes = [reason["code"] for reason in body["risk"]["reasons"]]
        assert codes == ["too_many_regions", "scan_burst"]
        assert body["risk"]["regions_24h"] == ["BR", "CN", "US"] and body["risk"]["scans_24h"] == 6
        page = test_client.get(DIAMOND.path, headers={**BROWSER, "CF-IPCountry": "CN"}).text
        assert 'id="clone-warning"' in page and "3 countries" in page
    with engine.connect() as conn:  # flushed at shutdown; only country codes are stored
        rows = conn.exec_driver_sql("SELECT region, count FROM scans").all()
    assert sorted(region for region, _ in rows) == ["BR", "CN", "US"]
    assert sum(count for _, count in rows) == 7
    with TestClient(create_app(settings, engine)) as test_client:  # unknown serials are not counted
        assert test_client.get("/01/09506000134352/21/FAKE-1", headers=JSON).status_code == 404
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT sum(count) FROM scans").scalar() == 7


def test_one_client_cannot_put_a_clone_warning_on_a_genuine_item(
    w3: Web3, deployment: Deployment, operator, engine: Engine, settings: Settings, same_minute: None
) -> None:  # type: ignore[no-untyped-def]
    """A script reloading one code 40 times in a minute, claiming a new country each time,
    raised `scan_burst` and `too_many_regions`: it is one scan, from nowhere known."""
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    settings.cache_ttl = 0
    with TestClient(create_app(settings, engine)) as test_client:
        for n in range(40):
            country = ("CN", "US", "BR", "DE", "FR")[n % 5]
            body = test_client.get(DIAMOND.path, headers={**JSON, "CF-IPCountry": country}).json()
    assert body["risk"] == {"level": "none", "reasons": [], "scans_24h": 1, "regions_24h": []}


def test_crawlers_and_link_previews_are_not_counted_as_scans(
    w3: Web3, deployment: Deployment, operator, engine: Engine, settings: Settings, same_minute: None
) -> None:  # type: ignore[no-untyped-def]
    """robots.txt lets crawlers read product pages: each crawler counted as a shopper, so daily
    crawls of a claimed item would warn of a copy on a genuine product."""
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    settings.cache_ttl = 0
    app = create_app(settings, engine)
    crawlers = (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "facebookexternalhit/1.1",
    )
    with TestClient(app) as test_client:
        for n, agent in enumerate(crawlers):
            crawler = TestClient(app, client=(f"192.0.2.{n}", 50000))
            assert crawler.get(DIAMOND.path, headers={**JSON, "User-Agent": agent}).status_code == 200
        phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
        body = test_client.get(DIAMOND.path, headers={**JSON, "User-Agent": phone}).json()
    assert body["risk"]["scans_24h"] == 1  # the shopper's own scan only


def test_resolutions_are_rate_limited(
    w3: Web3, deployment: Deployment, operator, engine: Engine, settings: Settings, same_minute: None
) -> None:  # type: ignore[no-untyped-def]
    seed_demo(w3, registry(w3, deployment.registry), operator)
    Indexer(w3, engine, deployment).backfill()
    settings.rate_limit_per_minute = 3
    with TestClient(create_app(settings, engine)) as test_client:
        responses = [test_client.get(DIAMOND.path, headers=JSON) for _ in range(5)]
        # QR codes cost a worker 7-11 ms each: they count against the same limit.
        drawer = TestClient(test_client.app, client=("192.0.2.9", 50000))
        codes = [drawer.get(f"/01/{DIAMOND.gtin}/10/L%2F1/qr.svg").status_code for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert 1 <= int(responses[-1].headers["retry-after"]) <= 60
    assert codes == [200, 200, 200, 429]


def test_cached_answers_match_fresh_ones_and_follow_new_blocks(client: TestClient, w3: Web3) -> None:
    first = client.get(DIAMOND.path, headers=JSON)
    cached = client.get(DIAMOND.path, headers=JSON)
    assert cached.content == first.content and cached.headers["link"] == first.headers["link"]
    zh = client.get(DIAMOND.path, headers={**BROWSER, "Accept-Language": "zh"})
    assert "text/html" in zh.headers["content-type"] and "已售出" in zh.text


def test_an_answer_cached_on_the_first_request_outlives_the_first_checkpoint_poll(client: TestClient) -> None:
    """The housekeeping thread's first look at the checkpoint dropped the whole cache, although
    the checkpoint had not moved since the gateway started (a flaky test in a CI run)."""
    client.get(DIAMOND.path, headers=JSON)
    time.sleep(3 * CHECKPOINT_POLL_S)
    assert client.app.state.cache.get(DIAMOND.path, "json") is not None


def test_an_escaped_slash_is_part_of_a_value_warm_or_cold(client: TestClient) -> None:
    # /10/L%2F21%2F<serial> names lot "L/21/<serial>", never the item /10/L/21/<serial>, even
    # once that item's answer is in the cache (the cache is keyed by the path as sent).
    escaped = f"/01/{DIAMOND.gtin}/10/L%2F21%2F{DIAMOND.serial}"
    assert client.get(escaped, headers=JSON).status_code == 404
    item = client.get(f"/01/{DIAMOND.gtin}/10/L/21/{DIAMOND.serial}", headers=JSON)
    assert item.status_code == 200 and item.json()["id"] == ITEM_ID
    again = client.get(escaped, headers=JSON)
    assert again.status_code == 404 and "L%2F21%2F" in again.json()["detail"]


def test_api_lists_items_in_bounded_pages(client: TestClient) -> None:
    client.get(DIAMOND.path, headers=JSON)  # the gateway learns the key by resolving it
    client.app.state.recorder.flush(client.app.state.engine)  # as the flush thread does each second
    page = client.get("/api/v1/items", params={"limit": 1}).json()
    assert [i["id"] for i in page["items"]] == [ITEM_ID] and page["next_after"] is None
    assert page["items"][0]["url"].endswith(DIAMOND.path)
    assert client.get("/api/v1/items", params={"limit": 501}).status_code == 422
    item = client.get(f"/api/v1/items/{ITEM_ID}").json()
    assert item["status"] == "sold" and item["serial"] == DIAMOND.serial
    history = client.get(f"/api/v1/items/{ITEM_ID}/history", params={"limit": 3}).json()
    assert [h["type"] for h in history["history"]] == ["registered", "attested", "offered"]
    assert history["next_offset"] == 3
    rest = client.get(f"/api/v1/items/{ITEM_ID}/history", params={"offset": 3}).json()
    assert rest["history"][-1]["type"] == "sold" and rest["next_offset"] is None
    assert client.get("/api/v1/items/0x" + "ab" * 32).status_code == 404
    assert client.get("/api/v1/items/0xnothex").status_code == 422
    # Explorers and wallets print ids in upper or mixed case: the same item (it was a 422).
    assert client.get(f"/api/v1/items/{ITEM_ID.upper().replace('0X', '0x')}").json()["id"] == ITEM_ID
    assert client.get(f"/api/v1/items/0X{ITEM_ID[2:].upper()}/proof").json()["item_id"] == ITEM_ID
    after = client.get("/api/v1/items", params={"after": "0x" + "00" * 31 + "0A"}).json()
    assert [i["id"] for i in after["items"]] == [ITEM_ID]


def test_proof_bundle_lets_a_client_verify_against_the_chain(
    client: TestClient, w3: Web3, deployment: Deployment
) -> None:
    client.get(DIAMOND.path, headers=JSON)
    client.app.state.recorder.flush(client.app.state.engine)
    bundle = client.get(f"/api/v1/items/{ITEM_ID}/proof").json()
    assert bundle["chain_id"] == w3.eth.chain_id and bundle["registry"] == deployment.registry
    assert "0x" + Web3.keccak(text=bundle["element_string"]).hex() == ITEM_ID
    assert len(bundle["facts"]) == 10
    for fact in bundle["facts"]:
        receipt = w3.eth.get_transaction_receipt(fact["tx"])
        (log,) = [entry for entry in receipt["logs"] if entry["logIndex"] == fact["log_index"]]
        topics = ["0x" + t.hex() for t in log["topics"][1:]]
        assert log["address"] == deployment.registry and ITEM_ID in topics
        assert "0x" + log["blockHash"].hex() == fact["block_hash"] and log["blockNumber"] == fact["block"]
        depth = w3.eth.block_number - fact["block"] + 1
        needed = client.app.state.settings.confirmations  # type: ignore[attr-defined]
        assert fact["confirmations"] == depth and fact["confirmed"] is (depth >= needed)
    assert not bundle["facts"][-1]["confirmed"]


def test_label_sheet_holds_a_qr_code_per_path(client: TestClient) -> None:
    paths = [DIAMOND.path, "/01/09506000134352/21/DIA-0002"]
    response = client.get("/api/v1/labels.svg", params={"path": paths})
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    assert response.text.count('viewBox="0 0 ') == 3 and "DIA-0002" in response.text
    bad = client.get("/api/v1/labels.svg", params={"path": ["/01/123/21/X"]})
    assert bad.status_code == 400 and "3 digits" in bad.json()["detail"]


def test_cors_and_docs_exposure_follow_the_settings(engine: Engine, settings: Settings) -> None:
    settings.cors_origins, settings.docs_enabled = ["https://shop.example"], False
    with TestClient(create_app(settings, engine)) as test_client:
        assert test_client.get("/docs").status_code == 404
        assert test_client.get("/openapi.json").status_code == 404
        allowed = test_client.get("/healthz", headers={"Origin": "https://shop.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        other = test_client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    settings.cors_origins, settings.docs_enabled = [], True
    with TestClient(create_app(settings, engine)) as test_client:
        assert test_client.get("/docs").status_code == 200
        assert test_client.get("/openapi.json").json()["info"]["title"] == "OriginTrace gateway"
        plain = test_client.get("/healthz", headers={"Origin": "https://shop.example"})
        assert "access-control-allow-origin" not in plain.headers


@pytest.mark.parametrize(
    ("path", "status", "heading", "reason"),
    [
        (
            "/01/09506000134352/21/NOPE",
            404,
            "No product is registered under this code",
            "nothing is registered",
        ),
        ("/01/123/21/X", 400, "This is not a valid product code", "3 digits"),
    ],
)
def test_browsers_get_a_readable_error_page(
    client: TestClient, path: str, status: int, heading: str, reason: str
) -> None:
    for _ in range(2):  # the second 404 goes through the fast path with the item page cached
        client.get(DIAMOND.path, headers=BROWSER)
        page = client.get(path, headers=BROWSER)
        assert page.status_code == status and page.headers["content-type"].startswith("text/html")
        assert heading in page.text and reason in page.text and 'lang="en"' in page.text
        assert "<script" not in page.text and "Accept" in page.headers["vary"]
    zh = client.get(path, headers={**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.status_code == status and 'lang="zh-Hans"' in zh.text and "商品" in zh.text
    api = client.get(path, headers=JSON)
    assert api.status_code == status and reason in api.json()["detail"]


def test_the_gateways_own_addresses_are_not_unregistered_products(client: TestClient) -> None:
    """`/`, `/robots.txt` and `/favicon.ico` answered "No product is registered under this code"."""
    for language, heading in (("en", "Check where a product comes from"), ("zh", "查验商品的来源")):
        home = client.get("/", headers={**BROWSER, "Accept-Language": language})
        assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
        assert f"<h1>{heading}</h1>" in home.text and '<a href="/docs">/docs</a>' in home.text
        assert 'name="viewport"' in home.text and "<script" not in home.text
        assert "No product is registered" not in home.text and "没有登记" not in home.text
        assert "Accept-Language" in home.headers["vary"]
    assert client.head("/").status_code == 200
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and robots.headers["content-type"].startswith("text/plain")
    rules = [line for line in robots.text.splitlines() if line and not line.startswith("#")]
    assert rules == ["User-agent: *", "Allow: /", "Disallow: /api/"]
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 204 and favicon.content == b""
    assert "max-age=31536000" in favicon.headers["cache-control"]
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/robots.txt", "/favicon.ico"} & set(paths)  # not part of the API


@pytest.mark.parametrize("path", ["/api/v1/items/0x123", "/api/v1/items?limit=0"])
def test_a_browser_asking_with_bad_input_is_told_the_address_is_not_valid(
    client: TestClient, path: str
) -> None:
    """A 422 said "This page cannot be shown right now", as if trying again would help."""
    for language, heading, hint in (
        ("en", "This address is not valid", "Check that the whole address was copied"),
        ("zh", "此网址无效", "请确认网址已完整复制"),
    ):
        page = client.get(path, headers={**BROWSER, "Accept-Language": language})
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
        assert f"<h1>{heading}</h1>" in page.text and hint in page.text
        assert "right now" not in page.text and "暂时" not in page.text
    assert client.get(path, headers=JSON).json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "path",
    [
        DIAMOND.path,
        DIAMOND.path,
        f"{DIAMOND.path}/qr.png",
        "/healthz",
        "/api/v1/items",
        "/01/09506000134352/21/NOPE",
    ],
)
def test_head_answers_like_get_without_a_body(client: TestClient, path: str) -> None:
    get = client.get(path, headers=JSON)
    head = client.head(path, headers=JSON)
    assert head.status_code == get.status_code
    assert head.content == b""
    same = ("content-type", "link", "cache-control")
    if path != "/healthz":  # its body holds the lag in seconds, which may tick between the two
        same += ("content-length",)
    for name in same:
        assert head.headers.get(name) == get.headers.get(name)
    assert int(head.headers["content-length"]) > 0


def test_head_requests_are_not_counted_as_scans(client: TestClient) -> None:
    client.get(DIAMOND.path, headers=JSON)
    counted = sum(c.count for c in client.app.state.recorder.pending(ITEM_ID))  # type: ignore[attr-defined]
    for _ in range(3):  # cold (a query skips the cache) and cached
        assert client.head(DIAMOND.path + "?linkType=all").status_code == 200
        assert client.head(DIAMOND.path, headers=BROWSER).status_code == 200
    assert sum(c.count for c in client.app.state.recorder.pending(ITEM_ID)) == counted  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/json, text/html;q=0", "application/json"),
        ("application/linkset+json, text/html;q=0.1", "application/linkset+json"),
        ("text/html;q=0.5, application/json;q=0.9", "application/json"),
        ("application/json, text/html", "text/html; charset=utf-8"),
    ],
)
def test_content_negotiation_honours_q_values(client: TestClient, accept: str, media: str) -> None:
    for _ in range(2):  # fresh, then from the cache
        response = client.get(DIAMOND.path, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"] == media


def test_an_empty_link_type_is_a_400_saying_why(client: TestClient) -> None:
    response = client.get(DIAMOND.path + "?linkType=", headers=JSON)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_link_type", "detail": response.json()["detail"]}
    assert "linkType is empty" in response.json()["detail"]


def test_a_link_type_the_product_lacks_says_so_and_links_the_product_not_that_it_is_unregistered(
    client: TestClient,
) -> None:
    """The page said "No product is registered under this code" for a registered diamond."""
    api = client.get(DIAMOND.path + "?linkType=gs1:recallStatus", headers=JSON)
    assert api.status_code == 404 and api.json()["error"] == "link_type_unavailable"
    assert "available: " in api.json()["detail"] and "gs1:pip" in api.json()["detail"]
    for language, heading, link in (
        ("en", "This product has no link of the kind this address asks for", "Open the product&#39;s page"),
        ("zh", "此商品没有该地址所要求类型的链接", "打开商品页面"),
    ):
        page = client.get(DIAMOND.path + "?linkType=bogus", headers={**BROWSER, "Accept-Language": language})
        assert page.status_code == 404 and heading in page.text
        assert f'<a href="{DIAMOND.path}">{link}</a>' in page.text
        assert "No product is registered" not in page.text and "没有登记" not in page.text
    unknown = client.get("/01/09506000134352/21/NOT-THERE?linkType=bogus", headers=BROWSER)
    assert unknown.status_code == 404 and "No product is registered under this code" in unknown.text


def test_errors_echo_long_values_cut_short(client: TestClient) -> None:
    response = client.get(f"/01/{'1' * 5000}/21/X", headers=JSON)
    assert response.status_code == 400 and len(response.content) < 300
    assert "'" + "1" * 64 + "…'" in response.json()["detail"]
    labels = client.get("/api/v1/labels.svg", params={"path": ["/01/" + "2" * 5000]})
    assert labels.status_code == 400 and len(labels.content) < 400


def test_generic_errors_have_specific_codes(client: TestClient) -> None:
    missing = client.get("/no/such/page", headers=JSON)
    assert missing.status_code == 404 and missing.json()["error"] == "no_such_page"
    # In a browser: no page here, not "no product is registered under this code" (nor its label hint).
    for lang, said in (("en", "There is no page at this address"), ("zh-CN", "此网址没有页面")):
        page = client.get("/no/such/page", headers={"Accept": "text/html", "Accept-Language": lang}).text
        assert f"<h1>{said}</h1>" in page and "scan" not in page.lower() and "扫描" not in page
    wrong = client.post("/healthz", headers=JSON)
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    # HEAD is answered wherever GET is, so Allow says so; the reason names both.
    assert wrong.headers["allow"] == "GET, HEAD"
    assert wrong.json()["detail"] == "POST is not allowed here; use GET or HEAD"
    options = client.options(DIAMOND.path)
    assert options.status_code == 204 and options.headers["allow"] == "GET, HEAD, OPTIONS"
    assert client.head(DIAMOND.path).status_code == 200


BAD_METADATA = {
    "not JSON": b"not json at all",
    "nested too deep": b"[" * 100_000 + b"]" * 100_000,
    "bad UTF-8": b'{"name":"\xff\xfe"}',
    "not an object": b'["Round brilliant diamond"]',
    "names not text": json.dumps({"name": {"en": "Serum"}, "origin": 5}).encode(),
}


def test_metadata_a_brand_got_wrong_is_no_metadata_not_an_error(
    client: TestClient, w3: Web3, deployment: Deployment, engine: Engine, brand
) -> None:  # type: ignore[no-untyped-def]
    """The brand writes an item's metadata; whatever it wrote (hash matching), the item still answers."""
    contract = registry(w3, deployment.registry)
    keys = {}
    for n, (case, raw) in enumerate(BAD_METADATA.items()):
        key = keys[case] = SerialisedItem.parse(DIAMOND.gtin, f"BADMETA-{n}")
        uri = "data:application/json;base64," + base64.b64encode(raw).decode()
        send(w3, brand, contract.functions.registerItem(key.item_id, Web3.keccak(raw), uri))
    Indexer(w3, engine, deployment).backfill()
    for case, key in keys.items():
        item_id = "0x" + key.item_id.hex()
        body = client.get(key.path, headers=JSON)
        assert body.status_code == 200, (case, body.text)
        assert body.json()["metadata"] is None or case == "names not text"
        page = client.get(key.path, headers=BROWSER)
        assert page.status_code == 200, case
        assert f"<h1>{DIAMOND.gtin} / {key.serial}</h1>" in page.text, case  # named by its key
        assert 'id="origin"' not in page.text
        for tail in ("", "/epcis", "/certifications", "/proof"):
            assert client.get(f"/api/v1/items/{item_id}{tail}").status_code == 200, (case, tail)


def test_a_reorg_at_the_same_height_drops_the_cached_answers(own_chain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The cache followed only the last indexed block's number: a reorg that replaced that block
    with another of the same height left the dropped custody move served from the cache."""
    w3, contract, deployment, members = own_chain
    brand, carrier, customs = (members[k].account for k in ("brand", "carrier", "customs"))
    item = SerialisedItem.parse("09506000134352", "REORG-1")
    send(w3, brand, contract.functions.registerItem(item.item_id, b"\1" * 32, "ipfs://x"))
    settings = Settings(data_dir=tmp_path, deployments_dir=tmp_path)
    engine = make_engine(settings.resolved_database_url)
    indexer = Indexer(w3, engine, deployment, confirmations=2)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    hand_over(w3, contract, item.item_id, brand, carrier)
    indexer.backfill()
    with TestClient(create_app(settings, engine), raise_server_exceptions=False) as client:
        assert client.get(item.path, headers=JSON).json()["custodian"]["address"] == carrier.address
        height = w3.eth.block_number
        w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
        hand_over(w3, contract, item.item_id, brand, customs)
        assert w3.eth.block_number == height  # same height, other blocks
        indexer.backfill()
        time.sleep(3 * CHECKPOINT_POLL_S)
        assert client.get(item.path, headers=JSON).json()["custodian"]["address"] == customs.address
    engine.dispose()


def test_a_customs_clearance_shows_as_a_certification(
    client: TestClient, w3: Web3, deployment: Deployment, engine: Engine, members
) -> None:  # type: ignore[no-untyped-def]
    customs = members["customs"].account
    clearance = b"CUSTOMS_CLEARANCE".ljust(32, b"\0")
    attest = registry(w3, deployment.registry).functions.attest(DIAMOND.item_id, clearance, b"\3" * 32)
    send(w3, customs, attest)
    Indexer(w3, engine, deployment).backfill()
    deadline = time.monotonic() + 3  # the housekeeping thread drops the cache when the index moves
    while len((body := client.get(DIAMOND.path, headers=JSON).json())["attestations"]) < 2:
        assert time.monotonic() < deadline, "the cached answer outlived the clearance"
        time.sleep(0.1)
    (cleared,) = [a for a in body["attestations"] if a["kind"] == "CUSTOMS_CLEARANCE"]
    assert cleared["certifier"]["name"] == "Hangzhou Customs"
    page = client.get(DIAMOND.path, headers={**BROWSER, "Accept-Language": "en"}).text
    assert "Certified: customs clearance" in page and "Hangzhou Customs" in page

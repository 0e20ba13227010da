"""Gateway over an indexed demo journey: JSON, shopper page, QR codes, errors."""

from collections.abc import Iterator

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from web3 import Web3

from app.api.main import create_app
from app.chain.client import registry
from app.chain.deploy import Deployment
from app.core.config import Settings
from app.demo.journey import DIAMOND, seed_demo
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
        ("Lumière Diamonds", "SkyBridge Logistics"),
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
    assert body["chain"] == {"chain_id": 31337, "registry": deployment.registry}


def test_browsers_get_the_shopper_page(client: TestClient) -> None:
    response = client.get(DIAMOND.path, headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Sold" in page and "Antwerp World Diamond Centre (AWDC)" in page and "Botswana" in page
    assert page.count('data-type="handed_over"') == 3
    assert "<script" not in page


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

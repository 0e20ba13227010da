"""A Digital Link key with no value (/01, /01/, /00, /8004): one 400 saying what is missing and
which form the gateway takes, for browsers and API clients alike (no database reads needed)."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.core.config import Settings
from app.db.engine import make_engine

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html", "Accept-Language": "en"}
GTIN_FORM = "/01/{gtin}/21/{serial} for an item or /01/{gtin}/10/{lot} for a lot"
SSCC_FORM = "/00/{sscc} for a logistic unit"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    engine = make_engine(settings.resolved_database_url)
    with TestClient(create_app(settings, engine), follow_redirects=False) as test_client:
        yield test_client
    engine.dispose()


@pytest.mark.parametrize(
    ("path", "said", "forms"),
    [
        ("/01", "/01 (GTIN) is missing its value: write ", [GTIN_FORM]),
        ("/01/", "/01 (GTIN) is missing its value: write ", [GTIN_FORM]),
        ("/00", "/00 (SSCC) is missing its value: write ", [SSCC_FORM]),
        ("/00/", "/00 (SSCC) is missing its value: write ", [SSCC_FORM]),
        ("/8004", "/8004 (GIAI) is missing its value (/8004/{giai})", [GTIN_FORM, SSCC_FORM]),
        ("/414/", "/414 (GLN) is missing its value (/414/{gln})", [GTIN_FORM, SSCC_FORM]),
    ],
)
def test_a_key_without_its_value_is_one_400_saying_so(
    client: TestClient, path: str, said: str, forms: list[str]
) -> None:
    """/01 was redirected to /01/, which answered a 400 about pairs of AI and value; /8004 was a 404."""
    for head in (False, True):
        answer = client.head(path, headers=JSON) if head else client.get(path, headers=JSON)
        assert answer.status_code == 400 and "location" not in answer.headers
    body = client.get(path, headers=JSON).json()
    assert body["error"] == "missing_key_value"
    assert body["detail"].startswith(said) and all(form in body["detail"] for form in forms)
    page = client.get(path, headers=BROWSER)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "This code is incomplete: its number is missing" in page.text
    assert all(form in page.text for form in forms)
    zh = client.get(path, headers={**BROWSER, "Accept-Language": "zh-CN"})
    assert zh.status_code == 400 and "此码不完整：缺少编号" in zh.text


@pytest.mark.parametrize(
    ("path", "status"), [("/21", 404), ("/2026/", 404), ("/healthz", 503), ("/docs", 200)]
)
def test_other_short_paths_answer_as_before(client: TestClient, path: str, status: int) -> None:
    """Only the AIs of primary keys are taken for a key without its value."""
    assert client.get(path, headers=JSON).status_code == status

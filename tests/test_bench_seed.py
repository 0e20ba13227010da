"""The lookup benchmark's synthetic index is one the gateway serves (it writes rows directly)."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api.main import create_app
from app.core.config import Settings
from app.gs1.keys import SerialisedItem
from bench.lookup import BRAND, GTIN, index_items


def test_the_bench_index_serves_its_items_with_their_registration(settings: Settings, engine: Engine) -> None:
    index_items(settings.resolved_database_url, 3)
    with TestClient(create_app(settings, engine)) as client:
        response = client.get(SerialisedItem(GTIN, "B2").path, headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.json()
    assert body["custodian"]["address"] == BRAND
    assert [(entry["type"], entry["block"]) for entry in body["history"]] == [("registered", 3)]

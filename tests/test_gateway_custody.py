"""Custody as the gateway shows it: the outermost container's custodian, pending and expired offers."""

import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert
from web3 import Web3
from web3.contract import Contract

from app.api.items import iso_time
from app.api.lots import effective_custodian, effective_custodians
from app.api.main import create_app
from app.chain.client import chain_time, send
from app.chain.deploy import Deployment
from app.core.config import Settings
from app.db.schema import RECORD_ROWS, items, unit_contents
from app.demo.journey import admit_members
from app.gs1.keys import SerialisedItem
from app.indexer.follow import Indexer

BRAND, CARRIER, SHIP = ("0x" + c * 40 for c in "abc")


def _row(item_id: str, custodian: str, kind: str = "item") -> dict[str, object]:
    return {
        "item_id": item_id,
        "brand": BRAND,
        "custodian": custodian,
        "status": "active",
        "metadata_hash": "0x" + "00" * 32,
        "metadata_uri": "",
        "registered_block": 1,
        "updated_block": 1,
        "kind": kind,
        "created_tx": "0x" + "00" * 32,
        "created_log_index": 0,
    }


def test_nested_and_free_records_resolve_together(engine: Engine) -> None:
    container, pallet, packed, free = ("0x" + f"{n:064x}" for n in range(1, 5))
    with engine.begin() as conn:
        conn.execute(
            insert(items),
            [
                _row(container, SHIP, "unit"),
                _row(pallet, CARRIER, "unit"),
                _row(packed, BRAND),
                _row(free, BRAND),
            ],
        )
        conn.execute(
            insert(unit_contents),
            [{"item_id": pallet, "container": container}, {"item_id": packed, "container": pallet}],
        )
    with engine.connect() as conn:
        rows = conn.execute(RECORD_ROWS).all()
        found = effective_custodians(conn, rows)
        assert found == {container: SHIP, pallet: SHIP, packed: SHIP, free: BRAND}
        by_id = {row.item_id: row for row in rows}
        assert effective_custodian(conn, by_id[packed]) == SHIP
        assert effective_custodian(conn, by_id[free]) == BRAND


def test_an_expired_offer_says_so_on_the_page_and_in_json(  # type: ignore[no-untyped-def]
    w3: Web3,
    contract: Contract,
    deployment: Deployment,
    operator,
    members,
    engine: Engine,
    settings: Settings,
) -> None:
    """An offer past its expiry still read "Being handed over", with no expiry anywhere."""
    admit_members(w3, contract, operator, members)
    brand, carrier = members["brand"].account, members["carrier"].account
    item = SerialisedItem.parse("09506000134352", "OFFER-EXPIRES")
    send(w3, brand, contract.functions.registerItem(item.item_id, b"\1" * 32, "ipfs://x"))
    expires = chain_time(w3) + 2
    send(w3, brand, contract.functions.offerCustody(item.item_id, carrier.address, expires))
    Indexer(w3, engine, deployment).backfill()
    with TestClient(create_app(settings.model_copy(update={"cache_ttl": 0}), engine)) as client:
        pending = client.get(item.path, headers={"Accept": "application/json"}).json()
        assert (pending["status"], pending["offer_expired"]) == ("offered", False)
        assert pending["pending_offer_to"]["address"] == carrier.address
        assert pending["pending_offer_expires_at"] == iso_time(expires)
        assert "Being handed over" in client.get(item.path, headers={"Accept": "text/html"}).text
        time.sleep(max(0.0, expires + 1 - time.time()))
        expired = client.get(item.path, headers={"Accept": "application/json"}).json()
        assert (expired["status"], expired["offer_expired"]) == ("offered", True)  # as on chain
        page = client.get(item.path, headers={"Accept": "text/html"}).text
        assert "Handover offer expired" in page and "Being handed over" not in page
        assert "offer expired " + iso_time(expires).replace("T", " ").replace("Z", " UTC") in page

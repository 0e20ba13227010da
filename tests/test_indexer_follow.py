"""Following the head: new transactions reach the gateway; RPC faults never crash; /healthz shows lag."""

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web3 import Web3

from app.api.main import create_app
from app.chain.client import registry, send
from app.chain.deploy import Deployment
from app.chain.devnet import free_port
from app.core.config import Settings
from app.demo.journey import seed_demo
from app.demo.up import following
from app.gs1.keys import SerialisedItem
from app.indexer.follow import Indexer
from app.indexer.store import mark_head

JSON = {"Accept": "application/json"}


@pytest.fixture
def seeded(w3: Web3, deployment: Deployment, operator: LocalAccount) -> Deployment:
    seed_demo(w3, registry(w3, deployment.registry), operator)
    return deployment


def _wait_for(check: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"not true within {timeout} s")


@pytest.fixture
def following_indexer(
    w3: Web3, seeded: Deployment, index_engine: Engine, settings: Settings
) -> Iterator[Indexer]:
    fast = settings.model_copy(update={"poll_interval": 0.05})
    with following(w3, index_engine, seeded, fast) as indexer:
        yield indexer


def test_a_new_transaction_reaches_the_gateway_then_confirms(
    w3: Web3,
    seeded: Deployment,
    following_indexer: Indexer,
    index_engine: Engine,
    settings: Settings,
    brand: LocalAccount,
) -> None:
    key = SerialisedItem.parse("09506000134352", "FOLLOW-0001")
    app = create_app(settings.model_copy(update={"confirmations": 2}), index_engine)
    with TestClient(app) as client:
        assert client.get(key.path, headers=JSON).status_code == 404
        send(
            w3,
            brand,
            registry(w3, seeded.registry).functions.registerItem(key.item_id, b"\1" * 32, "ipfs://f"),
        )
        body = _wait_for(lambda: (r := client.get(key.path, headers=JSON)).status_code == 200 and r.json())
        assert body["custodian"]["address"] == brand.address
        assert body["history"][0]["confirmed"] is False  # only the head block on top of it
        w3.provider.make_request("anvil_mine", [hex(2)])  # type: ignore[arg-type]
        _wait_for(lambda: client.get(key.path, headers=JSON).json()["history"][0]["confirmed"])
        diamond_attestation = client.get("/01/09506000134352/21/DIA-0001", headers=JSON).json()[
            "attestations"
        ][0]
        assert diamond_attestation["confirmed"] is True
        assert diamond_attestation["confirmations"] >= 2  # the count too, as history entries have it


def test_rpc_down_means_retries_with_backoff_and_warnings_never_a_crash(
    seeded: Deployment, index_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    indexer = Indexer(f"http://127.0.0.1:{free_port()}", index_engine, seeded)  # nothing listens there
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop, 0.05), daemon=True)
    with caplog.at_level(logging.WARNING, logger="app.indexer.follow"):
        thread.start()
        _wait_for(lambda: len([r for r in caplog.records if "indexer error" in r.message]) >= 2, timeout=5)
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    delays = [r.retry_in_s for r in caplog.records if "indexer error" in r.message]  # type: ignore[attr-defined]
    assert delays[:2] == [0.5, 1]  # backoff grows


def test_healthz_reports_lag_and_turns_unhealthy_past_thresholds(
    w3: Web3, seeded: Deployment, index_engine: Engine, settings: Settings
) -> None:
    indexer = Indexer(w3, index_engine, seeded)
    indexer.poll()
    strict = settings.model_copy(update={"health_max_lag_blocks": 5, "health_max_lag_seconds": 3600})
    with TestClient(create_app(strict, index_engine)) as client:
        healthy = client.get("/healthz")
        assert healthy.status_code == 200
        assert healthy.json()["status"] == "ok" and healthy.json()["lag_blocks"] == 0
        head = w3.eth.block_number
        mark_head(index_engine, seeded, head + 6, synced=False)  # the indexer saw a head 6 blocks ahead
        behind = client.get("/healthz")
        assert behind.status_code == 503
        assert behind.json()["status"] == "unhealthy" and behind.json()["lag_blocks"] == 6
    stale = settings.model_copy(update={"health_max_lag_seconds": 0.2})
    mark_head(index_engine, seeded, head, synced=True)
    time.sleep(0.3)  # no indexer keeps the checkpoint fresh
    with TestClient(create_app(stale, index_engine)) as client:
        body = client.get("/healthz").json()
        assert body["status"] == "unhealthy" and body["lag_seconds"] > 0.2


def test_healthz_says_why_the_indexer_keeps_failing_until_it_recovers(
    w3: Web3, seeded: Deployment, index_engine: Engine, settings: Settings
) -> None:
    Indexer(w3, index_engine, seeded).poll()
    # Its node went away; a provider URL often carries an API key, which /healthz must not show.
    broken = Indexer(f"http://127.0.0.1:{free_port()}/v3/SECRET-API-KEY", index_engine, seeded)
    stop = threading.Event()
    thread = threading.Thread(target=broken.run, args=(stop, 0.05), daemon=True)
    with TestClient(create_app(settings, index_engine)) as client:
        assert client.get("/healthz").json()["indexer_error"] is None
        thread.start()
        try:
            body = _wait_for(lambda: (health := client.get("/healthz").json())["indexer_error"] and health)
        finally:
            stop.set()
            thread.join(timeout=5)
        assert body["indexer_error"].startswith("ConnectionError: ")
        assert "SECRET-API-KEY" not in json.dumps(body) and "127.0.0.1" not in body["indexer_error"]
        assert abs(body["indexer_error_since"] - time.time()) < 60
        Indexer(w3, index_engine, seeded).poll()  # the node is back: the next poll clears it
        assert client.get("/healthz").json()["indexer_error"] is None


def test_healthz_is_unhealthy_while_nothing_is_indexed(index_engine: Engine, settings: Settings) -> None:
    """A gateway on an empty database said ok while every product page said "not registered"."""
    with TestClient(create_app(settings, index_engine)) as client:
        empty = client.get("/healthz")
    assert empty.status_code == 503 and empty.json()["status"] == "unhealthy"
    assert "nothing is indexed yet" in empty.json()["indexer_error"]


def test_healthz_shows_an_indexer_that_never_reached_its_node(
    w3: Web3, seeded: Deployment, index_engine: Engine, settings: Settings
) -> None:
    """Before its first range the indexer had no checkpoint to record an error in: /healthz said ok."""
    broken = Indexer(f"http://127.0.0.1:{free_port()}", index_engine, seeded)
    stop = threading.Event()
    thread = threading.Thread(target=broken.run, args=(stop, 0.05), daemon=True)
    strict = settings.model_copy(update={"health_max_lag_seconds": 0.2})
    with TestClient(create_app(strict, index_engine)) as client:
        thread.start()
        try:
            _wait_for(lambda: client.get("/healthz").json()["indexer_error"])
            time.sleep(0.3)
            failing = client.get("/healthz")
        finally:
            stop.set()
            thread.join(timeout=5)
        assert failing.status_code == 503 and failing.json()["status"] == "unhealthy"
        assert failing.json()["indexed_block"] == seeded.deploy_block - 1  # nothing indexed yet
        Indexer(w3, index_engine, seeded).poll()
        recovered = client.get("/healthz").json()
        assert recovered["indexer_error"] is None and recovered["indexed_block"] == w3.eth.block_number

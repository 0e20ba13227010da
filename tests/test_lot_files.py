"""Lot files sent to a gateway on another machine (PUT /api/v1/items/{id}/lot-file, and
`origintrace lots push`): taken only when they are the tree the chain anchored (real anvil,
a real gateway server)."""

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from conftest import served
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from typer.testing import CliRunner
from web3 import Web3

from app.api.main import create_app
from app.api.routes import lot_files
from app.chain.client import registry, send
from app.chain.deploy import Deployment
from app.chain.devnet import Devnet, free_port
from app.cli import cli
from app.core.config import Settings, lot_store
from app.demo.journey import SKINCARE_LOT, admit_members, demo_members, metadata_uri, skincare_block
from app.gs1.keys import SerialisedItem
from app.indexer.follow import Indexer
from app.scale import store
from app.scale.anchor import prepare
from app.scale.native import tree_of

pytestmark = pytest.mark.e2e
JSON = {"Accept": "application/json"}
ITEM = f"{SKINCARE_LOT.path}/21/SK-0007"


@dataclass(frozen=True)
class Setup:
    url: str
    """The gateway's base URL."""
    member_data: Path
    """The brand's data folder, on "another machine": its lot store holds the lot's file."""
    lot_file: Path
    """That file."""
    rpc: str
    registry: str
    gateway_store: Path
    """The gateway's lot store."""


@pytest.fixture
def setup(
    w3: Web3,
    devnet: Devnet,
    deployment: Deployment,
    operator: LocalAccount,
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
) -> Iterator[Setup]:
    """A lot anchored by a brand whose lot store is not the gateway's (which has none of it)."""
    contract = registry(w3, deployment.registry)
    members = demo_members()
    admit_members(w3, contract, operator, members)
    member_data = tmp_path / "brand-machine"
    store = lot_store(Settings(data_dir=member_data), deployment.chain_id, deployment.registry)
    lot = prepare(skincare_block(), store)
    _, uri = metadata_uri({"name": "Serum"})
    send(
        w3,
        members["brand"].account,
        contract.functions.anchorLot(SKINCARE_LOT.item_id, lot.root, lot.count, lot.metadata_hash, uri),
    )
    Indexer(w3, engine, deployment).backfill()
    settings.port = free_port()
    with served(create_app(settings, engine), settings.port) as url:
        (lot_file,) = store.glob("*.otl")
        gateway_store = lot_store(settings, deployment.chain_id, deployment.registry)
        yield Setup(url, member_data, lot_file, devnet.rpc_url, deployment.registry, gateway_store)


def _put(setup: Setup, data: bytes, lot_id: str = "0x" + SKINCARE_LOT.item_id.hex()) -> httpx.Response:
    return httpx.put(f"{setup.url}/api/v1/items/{lot_id}/lot-file", content=data, timeout=30)


def test_a_lot_file_sent_to_the_gateway_proves_its_items(setup: Setup) -> None:
    """A gateway without the lot's file answered its items 404; no route took the file."""
    before = httpx.get(setup.url + ITEM, headers=JSON)
    assert before.status_code == 404 and "not in the stored manifest" in before.json()["detail"]
    good = setup.lot_file.read_bytes()
    tampered = bytearray(good)
    tampered[-40] ^= 0xFF  # a node of the stored tree
    refused = _put(setup, bytes(tampered))
    assert refused.status_code == 422 and refused.json()["error"] == "invalid_lot_file"
    assert refused.json()["detail"].endswith("its stored tree is not the tree of its items")
    assert httpx.get(setup.url + ITEM, headers=JSON).status_code == 404  # nothing taken
    sent = _put(setup, good)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["gtin"], body["lot"], body["items"], body["stored"]) == (
        SKINCARE_LOT.gtin,
        SKINCARE_LOT.lot,
        1000,
        True,
    )
    item = httpx.get(setup.url + ITEM, headers=JSON)
    assert item.status_code == 200 and item.json()["merkle"]["valid"]
    assert item.json()["item_id"] == "0x" + SerialisedItem.parse(SKINCARE_LOT.gtin, "SK-0007").item_id.hex()
    again = _put(setup, good)
    assert again.status_code == 200 and again.json()["stored"] is False
    assert _put(setup, bytes(tampered)).status_code == 422  # and the good file stays
    assert httpx.get(setup.url + ITEM, headers=JSON).status_code == 200
    stray = list((setup.member_data.parent).rglob("*.upload"))
    assert stray == []  # every received file is moved into place or removed


def test_an_upload_a_dead_gateway_left_is_removed_by_the_next(setup: Setup) -> None:
    """A gateway killed mid-upload left its received file in the lot store for good."""
    incoming = setup.gateway_store.parent / lot_files.INCOMING  # beside the store: its folder unchanged
    incoming.mkdir(parents=True, exist_ok=True)
    left, receiving = incoming / "ab.x1.upload", incoming / "cd.x2.upload"
    for path in (left, receiving):
        path.write_bytes(b"part of a lot file")
    hours_ago = time.time() - 2 * lot_files.STALE_UPLOAD_S
    os.utime(left, (hours_ago, hours_ago))
    assert _put(setup, setup.lot_file.read_bytes()).status_code == 201
    assert not left.exists() and receiving.exists()  # one being received is written to: young


def test_a_made_up_file_of_another_count_is_refused_before_any_hashing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file naming the lot and its root, with millions of made-up ids, was hashed whole
    (hundreds of MB and a second of CPU a request): its count must be the anchored one first."""
    good = bytearray(setup.lot_file.read_bytes())
    hashed: list[int] = []
    monkeypatch.setattr(store, "tree_of", lambda *args: hashed.append(1) or tree_of(*args))
    more = bytearray(good)
    more[8:16] = (2000).to_bytes(8, "little")  # the header's count (n), after the magic
    refused = _put(setup, bytes(more))
    assert (
        refused.status_code == 422 and "it holds 2,000 items; the lot was anchored with 1,000" in refused.text
    )
    padded = bytearray(good)
    padded[16:20] = (1001).to_bytes(4, "little")  # more metadata hashes (m) than items
    assert "header is inconsistent" in _put(setup, bytes(padded)).text
    assert hashed == []  # neither was hashed
    assert _put(setup, bytes(good)).status_code == 201 and hashed == [1]


def test_a_file_for_no_indexed_lot_or_too_large_is_refused(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = setup.lot_file.read_bytes()
    unknown = _put(setup, good, "0x" + "ab" * 32)
    assert unknown.status_code == 404 and "no lot 0x" + "ab" * 32 + " is indexed" in unknown.json()["detail"]
    monkeypatch.setattr(lot_files, "MAX_LOT_FILE_BYTES", len(good) - 1)
    too_large = _put(setup, good)
    assert too_large.status_code == 413 and too_large.json()["error"] == "body_too_large"
    chunked = httpx.put(
        f"{setup.url}/api/v1/items/0x{SKINCARE_LOT.item_id.hex()}/lot-file", content=iter([good]), timeout=30
    )  # no Content-Length: counted as it arrives
    assert chunked.status_code == 413
    assert (
        httpx.post(f"{setup.url}/api/v1/relay/handoffs", content=b"x" * 70_000).status_code == 413
    )  # others: 64 KB


def test_origintrace_lots_push_sends_this_machines_lot_files(setup: Setup, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ORIGINTRACE_DATA_DIR": str(setup.member_data), "ORIGINTRACE_RPC_URL": setup.rpc}
    args = ["lots", "push", "--gateway", setup.url, "--registry", setup.registry]
    first = runner.invoke(cli, args, env=env)
    assert first.exit_code == 0, first.output
    assert f"lot {SKINCARE_LOT.lot} of GTIN {SKINCARE_LOT.gtin} (1,000 items): sent" in first.output
    assert httpx.get(setup.url + ITEM, headers=JSON).status_code == 200
    second = runner.invoke(cli, [*args, "--lot", SKINCARE_LOT.path], env=env)
    assert second.exit_code == 0 and "held already" in second.output
    data = bytearray(setup.lot_file.read_bytes())
    data[-40] ^= 0xFF
    setup.lot_file.write_bytes(bytes(data))
    damaged = runner.invoke(cli, args, env=env)  # this machine's copy is damaged: said, and refused
    assert damaged.exit_code == 1 and "its stored tree is not the tree of its items" in damaged.output
    assert "the gateway took 0 of 1 lot file" in damaged.output
    assert httpx.get(setup.url + ITEM, headers=JSON).status_code == 200  # its good copy stays
    none_here = runner.invoke(cli, [*args, "--lot", "/01/09506000134376/10/NOT-HERE"], env=env)
    assert none_here.exit_code == 2 and "run `lots anchor` on this machine" in none_here.output
    not_a_lot = runner.invoke(cli, [*args, "--lot", "/01/09506000134376/21/X"], env=env)
    assert not_a_lot.exit_code == 2 and "--lot takes a lot path" in not_a_lot.output


def test_lots_push_to_a_redirecting_gateway_names_where_it_points(setup: Setup) -> None:
    """A file is read once: a redirect (http to https, a moved gateway) was followed with an
    empty body, and the push failed with a protocol error."""

    class Moved(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            self.send_response(307)
            self.send_header("Location", "https://gw.example/api/v1/moved")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Moved)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = {"ORIGINTRACE_DATA_DIR": str(setup.member_data), "ORIGINTRACE_RPC_URL": setup.rpc}
        pushed = CliRunner().invoke(
            cli, ["lots", "push", "--gateway", url, "--registry", setup.registry], env=env
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert (
        pushed.exit_code == 2
        and "redirects to https://gw.example/api/v1/moved: give that gateway URL" in pushed.output
    )

"""The relayer: typed data from the gateway, signatures from an independent EIP-712
implementation (Foundry's `cast wallet sign`, in Rust), checks before anything is submitted,
idempotency, status, and the `origintrace handoff` commands end to end."""

import json
import logging
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import served
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import TransactionNotFound
from web3.types import RPCEndpoint

from app.api.body_limit import MAX_BODY_BYTES
from app.api.main import create_app
from app.chain.claims import new_claim_code, sign_claim
from app.chain.client import dev_account, registry, send
from app.chain.deploy import Deployment
from app.chain.devnet import Devnet, free_port, start_devnet
from app.chain.handoffs import HandoffRequest, request_typed_data, sign_handoff
from app.cli import cli
from app.core.config import Settings
from app.db.engine import make_engine
from app.db.schema import relay_requests
from app.demo.journey import Member, admit_members, hand_over
from app.gs1.keys import SerialisedItem
from app.relayer.service import Relayer, RelayReceipt
from app.relayer.setup import RelayerSetup

ITEM = SerialisedItem.parse("09506000134352", "RELAY-1")
OTHER = SerialisedItem.parse("09506000134352", "RELAY-2")
HandoffArgs = tuple[HandoffRequest, bytes, bytes]
HOUR = 3600.0


@pytest.fixture
def parties(w3: Web3, contract: Contract, operator: LocalAccount, members: dict[str, Member]):  # type: ignore[no-untyped-def]
    admit_members(w3, contract, operator, members)
    brand, carrier = members["brand"].account, members["carrier"].account
    send(w3, brand, contract.functions.registerItem(ITEM.item_id, b"\1" * 32, "ipfs://relay"))
    return brand, carrier


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """As conftest's, but the gateway does not tend its relayer's transactions on its own: each
    test drives its relayer itself, and one checks the gateway's thread."""
    return Settings(
        data_dir=tmp_path / "data", deployments_dir=tmp_path / "deployments", relay_check_interval_s=HOUR
    )


@pytest.fixture
def relayer_account() -> LocalAccount:
    return dev_account(9)


@pytest.fixture
def client(w3: Web3, contract: Contract, engine: Engine, settings: Settings, relayer_account):  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, Relayer(w3, contract, relayer_account, engine))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def cast_sign(account: LocalAccount, typed_data: dict[str, Any], tmp_path: Path) -> str:
    """Sign with Foundry's EIP-712 implementation, independent of eth_account."""
    path = tmp_path / f"typed-{account.address}.json"
    path.write_text(json.dumps(typed_data))
    result = subprocess.run(
        [
            "cast",
            "wallet",
            "sign",
            "--private-key",
            "0x" + account.key.hex(),
            "--data",
            "--from-file",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def signed_body(
    client: TestClient,
    brand: LocalAccount,
    carrier: LocalAccount,
    tmp_path: Path,
    deadline: int = 2**40,
    item: bytes = ITEM.item_id,
) -> dict[str, Any]:
    query = {"id": "0x" + item.hex(), "from": brand.address, "to": carrier.address, "deadline": deadline}
    response = client.get("/api/v1/typed-data/handoff", params=query)
    assert response.status_code == 200, response.text
    typed = response.json()
    assert typed["domain"]["name"] == "OriginTrace" and typed["primaryType"] == "Handoff"
    return {
        "ids": ["0x" + item.hex()],
        "from": brand.address,
        "to": carrier.address,
        "deadline": deadline,
        "from_signature": cast_sign(brand, typed, tmp_path),
        "to_signature": cast_sign(carrier, typed, tmp_path),
    }


def test_relayed_handoff_moves_custody_once_and_is_idempotent(
    client: TestClient, parties, w3: Web3, contract: Contract, relayer_account: LocalAccount, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    brand, carrier = parties
    body = signed_body(client, brand, carrier, tmp_path)
    first = client.post("/api/v1/relay/handoffs", json=body)
    assert first.status_code == 202, first.text
    receipt = w3.eth.wait_for_transaction_receipt(first.json()["tx_hash"])
    assert receipt["status"] == 1 and receipt["from"] == relayer_account.address
    assert contract.functions.custodianOf(ITEM.item_id).call() == carrier.address

    sent = w3.eth.get_transaction_count(relayer_account.address)
    again = client.post("/api/v1/relay/handoffs", json=body)
    assert again.status_code == 200 and again.json()["tx_hash"] == first.json()["tx_hash"]
    assert w3.eth.get_transaction_count(relayer_account.address) == sent
    status = client.get(f"/api/v1/relay/handoffs/{first.json()['request_id']}").json()
    assert status["status"] == "mined" and status["block"] == receipt["blockNumber"]


@pytest.fixture
def claim_code(parties, w3: Web3, contract: Contract, members: dict[str, Member]) -> LocalAccount:  # type: ignore[no-untyped-def]
    """The code of ITEM, sold by the retailer with a fresh claim code."""
    retailer = members["retailer"].account
    hand_over(w3, contract, ITEM.item_id, parties[0], retailer)
    code = new_claim_code()
    send(w3, retailer, contract.functions.markSold(ITEM.item_id, code.address))
    return code


def test_a_shopper_without_gas_claims_through_the_relayer(
    client: TestClient,
    claim_code: LocalAccount,
    w3: Web3,
    contract: Contract,
    members: dict[str, Member],
    relayer_account: LocalAccount,
) -> None:
    code, retailer, shopper = claim_code, members["retailer"].account, Account.create()  # no ETH
    sent = w3.eth.get_transaction_count(relayer_account.address)
    for wrong, status, error in [
        (
            sign_claim(code, contract, ITEM.item_id, retailer.address),
            409,
            "would_revert",
        ),  # names another owner
        (
            sign_claim(Account.create(), contract, ITEM.item_id, shopper.address),
            409,
            "would_revert",
        ),  # not the code
    ]:
        body = {"id": "0x" + ITEM.item_id.hex(), "to": shopper.address, "signature": "0x" + wrong.hex()}
        refused = client.post("/api/v1/relay/claims", json=body)
        assert refused.status_code == status and refused.json()["error"] == error
        assert "RegistryInvalidClaim" in refused.json()["detail"]
    unknown = {"id": "0x" + "11" * 32, "to": shopper.address, "signature": "0x" + "00" * 65}
    assert client.post("/api/v1/relay/claims", json=unknown).status_code == 404
    assert w3.eth.get_transaction_count(relayer_account.address) == sent  # nothing refused was sent

    signature = sign_claim(code, contract, ITEM.item_id, shopper.address)
    body = {"id": "0x" + ITEM.item_id.hex(), "to": shopper.address, "signature": "0x" + signature.hex()}
    first = client.post("/api/v1/relay/claims", json=body)
    assert first.status_code == 202, first.text
    assert w3.eth.wait_for_transaction_receipt(first.json()["tx_hash"])["status"] == 1
    assert contract.functions.custodianOf(ITEM.item_id).call() == shopper.address
    again = client.post("/api/v1/relay/claims", json=body)
    assert again.status_code == 200 and again.json()["tx_hash"] == first.json()["tx_hash"]
    status = client.get(f"/api/v1/relay/claims/{first.json()['request_id']}").json()
    assert status["status"] == "mined"


def test_while_the_registry_is_paused_relays_are_refused_saying_so_and_go_through_after(
    client: TestClient,
    claim_code: LocalAccount,
    w3: Web3,
    contract: Contract,
    operator: LocalAccount,
    relayer_account: LocalAccount,
) -> None:
    shopper = Account.create()
    signature = sign_claim(claim_code, contract, ITEM.item_id, shopper.address)
    body = {"id": "0x" + ITEM.item_id.hex(), "to": shopper.address, "signature": "0x" + signature.hex()}
    send(w3, operator, contract.functions.pause())
    sent = w3.eth.get_transaction_count(relayer_account.address)
    refused = client.post("/api/v1/relay/claims", json=body)
    assert refused.status_code == 409 and refused.json()["error"] == "registry_paused", refused.text
    assert "paused the registry" in refused.json()["detail"] and "unpause" in refused.json()["detail"]
    assert w3.eth.get_transaction_count(relayer_account.address) == sent  # nothing was sent

    send(w3, operator, contract.functions.unpause())
    again = client.post("/api/v1/relay/claims", json=body)  # the same request, not remembered as refused
    assert again.status_code == 202, again.text
    assert w3.eth.wait_for_transaction_receipt(again.json()["tx_hash"])["status"] == 1
    assert contract.functions.custodianOf(ITEM.item_id).call() == shopper.address


def test_a_used_nonce_is_refused_before_submission(
    client: TestClient,
    parties,
    w3: Web3,
    contract: Contract,
    engine: Engine,
    settings: Settings,
    relayer_account: LocalAccount,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    brand, carrier = parties
    body = signed_body(client, brand, carrier, tmp_path)
    assert client.post("/api/v1/relay/handoffs", json=body).status_code == 202
    # A second gateway (its own database) sees the same signed message: the nonces are spent.
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with TestClient(create_app(settings, other, Relayer(w3, contract, relayer_account, other))) as replica:
        sent = w3.eth.get_transaction_count(relayer_account.address)
        replay = replica.post("/api/v1/relay/handoffs", json=body)
    assert replay.status_code in (400, 409), replay.text
    assert replay.json()["error"] in ("invalid_signature", "not_custodian")
    assert w3.eth.get_transaction_count(relayer_account.address) == sent


@pytest.mark.parametrize(
    ("tamper", "status", "error"),
    [
        (lambda b: {**b, "from_signature": b["to_signature"]}, 400, "invalid_signature"),
        (lambda b: {**b, "deadline": b["deadline"] + 1}, 400, "invalid_signature"),
        (lambda b: {**b, "ids": ["0x" + "ab" * 32]}, 404, "unknown_item"),
        (lambda b: {**b, "from_signature": "0x1234"}, 422, "invalid_request"),
    ],
    ids=["swapped-signature", "altered-deadline", "unknown-item", "malformed-signature"],
)
def test_bad_handoffs_get_a_reason_and_nothing_is_submitted(
    client: TestClient,
    parties,
    w3: Web3,
    relayer_account: LocalAccount,
    tmp_path: Path,
    tamper,
    status,
    error,
) -> None:  # type: ignore[no-untyped-def]
    brand, carrier = parties
    body = tamper(signed_body(client, brand, carrier, tmp_path))
    sent = w3.eth.get_transaction_count(relayer_account.address)
    response = client.post("/api/v1/relay/handoffs", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["detail"]
    assert w3.eth.get_transaction_count(relayer_account.address) == sent


def test_an_oversized_body_is_a_413_whether_announced_or_streamed(client: TestClient) -> None:
    """A 300 MB body used to be read whole (the worker grew by 600 MB) before a 422."""
    json_type = {"content-type": "application/json"}
    announced = client.post("/api/v1/relay/handoffs", content=b" " * (MAX_BODY_BYTES + 1), headers=json_type)
    assert announced.status_code == 413
    assert announced.json() == {
        "error": "body_too_large",
        "detail": f"a request body may hold at most {MAX_BODY_BYTES:,} bytes",
    }
    chunks = iter([b" " * (MAX_BODY_BYTES // 2 + 1)] * 2)  # no Content-Length: sent chunked
    assert client.post("/api/v1/relay/handoffs", content=chunks, headers=json_type).status_code == 413
    at_bound = client.post("/api/v1/relay/handoffs", content=b" " * MAX_BODY_BYTES, headers=json_type)
    assert at_bound.status_code == 422 and at_bound.json()["error"] == "invalid_request"


def test_expired_deadline_is_refused(client: TestClient, parties, w3: Web3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    brand, carrier = parties
    past = w3.eth.get_block("latest")["timestamp"] - 1
    response = client.post("/api/v1/relay/handoffs", json=signed_body(client, brand, carrier, tmp_path, past))
    assert response.status_code == 400 and response.json()["error"] == "expired"


def test_a_deadline_past_by_the_clock_is_refused_on_an_idle_chain(
    client: TestClient, parties, w3: Web3, relayer_account: LocalAccount, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Anvil's latest block is as old as its last transaction: a deadline after it but already
    past was relayed, paid for, and reverted (HandoffExpired) with the status `failed`."""
    brand, carrier = parties
    deadline = w3.eth.get_block("latest")["timestamp"] + 1
    time.sleep(max(0.0, deadline + 1.2 - time.time()))
    body = signed_body(client, brand, carrier, tmp_path, deadline)
    assert w3.eth.get_block("latest")["timestamp"] < deadline  # still ahead of the idle chain
    sent = w3.eth.get_transaction_count(relayer_account.address)
    response = client.post("/api/v1/relay/handoffs", json=body)
    assert response.status_code == 400 and response.json()["error"] == "expired"
    assert w3.eth.get_transaction_count(relayer_account.address) == sent


def test_relay_is_rate_limited(
    w3: Web3, contract: Contract, engine: Engine, tmp_path: Path, relayer_account: LocalAccount
) -> None:
    settings = Settings(data_dir=tmp_path, relay_rate_limit_per_minute=2)
    app = create_app(settings, engine, Relayer(w3, contract, relayer_account, engine))
    body = {
        "ids": ["0x" + "ab" * 32],
        "from": "0x" + "11" * 20,
        "to": "0x" + "22" * 20,
        "deadline": 2**40,
        "from_signature": "0x" + "00" * 65,
        "to_signature": "0x" + "00" * 65,
    }
    with TestClient(app) as test_client:
        responses = [test_client.post("/api/v1/relay/handoffs", json=body) for _ in range(3)]
    assert [r.status_code for r in responses] == [404, 404, 429]
    assert 1 <= int(responses[-1].headers["retry-after"]) <= 60


def proxied_app(
    node: "ProxyNode", contract: Contract, engine: Engine, relayer: LocalAccount, data_dir: Path
) -> FastAPI:
    """A gateway process whose relayer reaches the chain through `node`, built as `serve` builds it."""
    settings = Settings(data_dir=data_dir, rpc_url=node.url, relay_check_interval_s=HOUR)
    return create_app(
        settings, engine, RelayerSetup(bytes(relayer.key), contract.address).relayer(settings, engine)
    )


SLOW_SEND_S = 1.0


class ProxyNode:
    """A proxy in front of the node at `upstream`, counting JSON-RPC requests. Without an
    upstream it has lost the node: every request gets HTTP 502; with `every`, every request gets
    a JSON-RPC "error" or an "html" page (HTTP 200). `send_fault` spoils
    eth_sendRawTransaction: "lost" answers 502 without passing it on, "502" passes it on and
    answers 502, "refused" answers a JSON-RPC error without passing it on, "slow" passes it on
    after SLOW_SEND_S. A method in `answers` gets the result given there (a fee suggestion,
    say) without asking the node."""

    def __init__(self, upstream: str | None = None) -> None:
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                node.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                call = json.loads(body)
                method = call.get("method")
                fault = node.send_fault if method == "eth_sendRawTransaction" else None
                if method == "eth_sendRawTransaction":
                    node.sends += 1
                if method in node.answers:
                    result = {"jsonrpc": "2.0", "id": call["id"], "result": node.answers[method]}
                    return self._answer(200, json.dumps(result))
                if fault == "refused":
                    error = {"code": -32003, "message": "insufficient funds for gas * price + value"}
                    return self._answer(200, json.dumps({"jsonrpc": "2.0", "id": call["id"], "error": error}))
                if node.every == "error":
                    error = {"code": -32000, "message": "header not found"}
                    return self._answer(200, json.dumps({"jsonrpc": "2.0", "id": call["id"], "error": error}))
                if node.every == "html":
                    return self._answer(200, "<html><body>Service temporarily unavailable</body></html>")
                if node.upstream is None or fault == "lost":
                    return self.send_error(502, "Bad Gateway")
                if fault == "slow":
                    time.sleep(SLOW_SEND_S)
                answer = requests.post(node.upstream, data=body, headers={"Content-Type": "application/json"})
                if fault == "502":
                    return self.send_error(502, "Bad Gateway")
                self._answer(answer.status_code, answer.text)

            def _answer(self, status: int, text: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(text.encode())))
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *_: Any) -> None:
                pass

        self.upstream = upstream
        self.requests = self.sends = 0
        self.send_fault: str | None = None
        self.every: str | None = None
        self.answers: dict[str, Any] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def test_a_relaying_gateway_starts_and_answers_while_its_node_is_down(
    client: TestClient,
    parties,
    contract: Contract,
    engine: Engine,
    relayer_account: LocalAccount,
    w3: Web3,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    """A gateway process builds its relayer without calling the node (a worker used to die when
    the node was down as it started, stopping the gateway): reads still answer, and a relay
    request asks the node once, then gets 503 node_unavailable with Retry-After; nothing is sent."""
    brand, carrier = parties
    body = signed_body(client, brand, carrier, tmp_path)  # signed while the node answers
    sent = w3.eth.get_transaction_count(relayer_account.address)
    node = ProxyNode()
    try:
        app = proxied_app(node, contract, engine, relayer_account, tmp_path / "down")
        assert node.requests == 0
        with TestClient(app) as down:
            assert down.get("/healthz").status_code in (200, 503)  # answers (the index is not synced)
            assert down.get("/api/v1/items").status_code == 200
            relayed = down.post("/api/v1/relay/handoffs", json=body)
            asked = [node.requests]
            query = {"id": body["ids"][0], "from": brand.address, "to": carrier.address, "deadline": 2**40}
            typed = down.get("/api/v1/typed-data/handoff", params=query)
            asked.append(node.requests - asked[0])
    finally:
        node.close()
    for response in (relayed, typed):
        assert response.status_code == 503, response.text
        answer = response.json()
        assert answer["error"] == "node_unavailable" and "did not answer" in answer["detail"]
        assert response.headers["retry-after"] == "5"
    assert asked == [1, 1]  # web3's default tries each read five times, with backoff
    assert w3.eth.get_transaction_count(relayer_account.address) == sent
    assert contract.functions.custodianOf(ITEM.item_id).call() == brand.address


@pytest.mark.parametrize(
    ("every", "status", "error", "detail"),
    [
        (
            "error",
            502,
            "node_error",
            "the chain's node answered with an error: header not found; try again shortly",
        ),
        ("html", 503, "node_unavailable", "the chain's node did not answer; try again shortly"),
    ],
)
def test_a_node_answering_errors_or_pages_gets_a_reason(
    client: TestClient,
    parties,
    contract: Contract,
    engine: Engine,
    relayer_account: LocalAccount,
    tmp_path: Path,
    every: str,
    status: int,
    error: str,
    detail: str,
) -> None:  # type: ignore[no-untyped-def]
    """A node (or a provider in front of it) answering JSON-RPC errors or an HTML page was a
    500 internal_error."""
    body = signed_body(client, *parties, tmp_path)
    node = ProxyNode()
    node.every = every
    try:
        with TestClient(proxied_app(node, contract, engine, relayer_account, tmp_path / "erring")) as erring:
            relayed = erring.post("/api/v1/relay/handoffs", json=body)
    finally:
        node.close()
    assert relayed.status_code == status, relayed.text
    assert relayed.json() == {"error": error, "detail": detail}
    assert relayed.headers["retry-after"] == "5" and node.sends == 0


def test_a_registry_gone_from_the_chain_is_a_502_saying_so(
    client: TestClient, parties, w3: Web3, engine: Engine, relayer_account: LocalAccount, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A deployment manifest left from a devnet since restarted names an address without code:
    the registry's answers could not be decoded, a 500 internal_error."""
    body = signed_body(client, *parties, tmp_path)
    nowhere = Web3.to_checksum_address("0x" + "5e" * 20)
    stale = create_app(
        Settings(data_dir=tmp_path), engine, Relayer(w3, registry(w3, nowhere), relayer_account, engine)
    )
    with TestClient(stale) as gateway:
        relayed = gateway.post("/api/v1/relay/handoffs", json=body)
    assert relayed.status_code == 502, relayed.text
    assert relayed.json()["error"] == "no_registry" and "chain reset" in relayed.json()["detail"]


def test_a_request_recorded_before_migration_0008_is_dropped_once_the_node_lacks_it(
    client: TestClient, w3: Web3, engine: Engine, relayer_account: LocalAccount, contract: Contract
) -> None:
    """Such rows keep no transaction bytes: they used to stay `submitted` forever."""
    mined = send(w3, relayer_account, contract.functions.isMember(relayer_account.address))
    rows = {
        "0x" + "a1" * 32: "0x" + bytes(mined["transactionHash"]).hex(),
        "0x" + "a2" * 32: "0x" + "77" * 32,
    }
    with engine.begin() as conn:
        for rid, tx_hash in rows.items():
            values = {"sender": relayer_account.address, "receiver": relayer_account.address, "ids": []}
            conn.execute(
                relay_requests.insert().values(request_id=rid, tx_hash=tx_hash, created_at=1, **values)
            )
    states = [client.get(f"/api/v1/relay/handoffs/{rid}").json()["status"] for rid in rows]
    assert states == ["mined", "dropped"]


def test_a_relayer_without_a_node_url_is_refused(contract: Contract, engine: Engine, tmp_path: Path) -> None:
    """Not a web3 provider's default of localhost:8545, some other chain's node maybe."""
    setup = RelayerSetup(b"\1" * 32, contract.address)
    with pytest.raises(ConnectionError, match="ORIGINTRACE_RPC_URL"):
        setup.relayer(Settings(data_dir=tmp_path, rpc_url=None), engine)


@pytest.fixture
def proxied(
    devnet: Devnet, contract: Contract, engine: Engine, relayer_account: LocalAccount, tmp_path: Path
):  # type: ignore[no-untyped-def]
    """A gateway whose relayer reaches anvil through a ProxyNode, as a deployed one does."""
    node = ProxyNode(devnet.rpc_url)
    try:
        with TestClient(
            proxied_app(node, contract, engine, relayer_account, tmp_path / "proxied")
        ) as gateway:
            yield gateway, node
    finally:
        node.close()


def relay_with_send_fault(proxied, parties, tmp_path: Path, fault: str):  # type: ignore[no-untyped-def]
    """Relay a signed handoff of ITEM from brand to carrier with the proxy's `fault` on the send,
    then clear the fault: the gateway, the proxy, the body and the first answer."""
    gateway, node = proxied
    body = signed_body(gateway, *parties, tmp_path)
    node.send_fault = fault
    first = gateway.post("/api/v1/relay/handoffs", json=body)
    node.send_fault = None
    return gateway, node, body, first


def test_a_send_the_node_took_but_did_not_answer_is_never_sent_twice(
    proxied, parties, w3: Web3, contract: Contract, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The node mines the transaction, but the proxy answers 502. The request used to be
    forgotten: the client got a 503, and its retry was checked and refused (the signatures'
    nonce spent), so it never learnt the transaction."""
    gateway, node, body, first = relay_with_send_fault(proxied, parties, tmp_path, "502")
    assert first.status_code == 202, first.text
    tx_hash = first.json()["tx_hash"]
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    assert contract.functions.custodianOf(ITEM.item_id).call() == parties[1].address
    again = gateway.post("/api/v1/relay/handoffs", json=body)
    assert again.status_code == 200 and again.json()["tx_hash"] == tx_hash
    assert node.sends == 1
    status = gateway.get(f"/api/v1/relay/handoffs/{first.json()['request_id']}").json()
    assert status["status"] == "mined"


def test_a_send_that_never_reached_the_node_is_sent_again_as_the_same_transaction(
    proxied, parties, w3: Web3, contract: Contract, relayer_account: LocalAccount, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """As after a gateway stopped between recording a transaction and sending it."""
    brand, carrier = parties
    sent = w3.eth.get_transaction_count(relayer_account.address)
    gateway, node, body, first = relay_with_send_fault(proxied, parties, tmp_path, "lost")
    assert first.status_code == 202, first.text
    rid, tx_hash = first.json()["request_id"], first.json()["tx_hash"]
    status = gateway.get(f"/api/v1/relay/handoffs/{rid}").json()
    assert status == {"request_id": rid, "tx_hash": tx_hash, "status": "submitted", "block": None}
    assert contract.functions.custodianOf(ITEM.item_id).call() == brand.address
    again = gateway.post("/api/v1/relay/handoffs", json=body)
    assert again.status_code == 202 and again.json()["tx_hash"] == tx_hash, again.text
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    assert contract.functions.custodianOf(ITEM.item_id).call() == carrier.address
    assert node.sends == 2 and w3.eth.get_transaction_count(relayer_account.address) == sent + 1
    assert gateway.get(f"/api/v1/relay/handoffs/{rid}").json()["status"] == "mined"


def test_a_request_whose_nonce_went_to_another_transaction_is_dropped_then_submitted_anew(
    proxied, parties, w3: Web3, contract: Contract, relayer_account: LocalAccount, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    gateway, _, body, first = relay_with_send_fault(proxied, parties, tmp_path, "lost")
    rid, lost = first.json()["request_id"], first.json()["tx_hash"]
    send(w3, relayer_account, contract.functions.isMember(relayer_account.address))  # takes the nonce
    status = gateway.get(f"/api/v1/relay/handoffs/{rid}").json()
    assert status["status"] == "dropped" and status["tx_hash"] == lost
    again = gateway.post("/api/v1/relay/handoffs", json=body)
    assert again.status_code == 202 and again.json()["tx_hash"] != lost, again.text
    assert w3.eth.wait_for_transaction_receipt(again.json()["tx_hash"])["status"] == 1
    assert contract.functions.custodianOf(ITEM.item_id).call() == parties[1].address
    assert gateway.get(f"/api/v1/relay/handoffs/{rid}").json()["tx_hash"] == again.json()["tx_hash"]


def test_a_send_the_node_refuses_is_a_502_with_its_reason_and_sent_again_on_retry(
    proxied, parties, w3: Web3, relayer_account: LocalAccount, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    sent = w3.eth.get_transaction_count(relayer_account.address)
    gateway, _, body, refused = relay_with_send_fault(proxied, parties, tmp_path, "refused")
    assert refused.status_code == 502, refused.text
    assert refused.json()["error"] == "node_refused" and "insufficient funds" in refused.json()["detail"]
    retried = gateway.post("/api/v1/relay/handoffs", json=body)
    assert retried.status_code == 202, retried.text
    assert w3.eth.wait_for_transaction_receipt(retried.json()["tx_hash"])["status"] == 1
    assert w3.eth.get_transaction_count(relayer_account.address) == sent + 1


def test_a_retry_while_the_first_send_is_in_flight_sends_nothing_new(
    devnet: Devnet,
    parties,
    w3: Web3,
    contract: Contract,
    engine: Engine,
    relayer_account: LocalAccount,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    """Two workers of one gateway; the second gets the client's retry while the node has not
    yet seen the first one's transaction. Found by review: it was taken for dropped, checked
    (the handoff not yet done) and submitted with the next nonce, and reverted."""
    node = ProxyNode(devnet.rpc_url)
    sent = w3.eth.get_transaction_count(relayer_account.address)
    answers: dict[str, Any] = {}
    try:
        with (
            TestClient(proxied_app(node, contract, engine, relayer_account, tmp_path / "workers")) as one,
            TestClient(proxied_app(node, contract, engine, relayer_account, tmp_path / "workers")) as two,
        ):
            body = signed_body(one, *parties, tmp_path)
            node.send_fault = "slow"
            first = threading.Thread(
                target=lambda: answers.update(one=one.post("/api/v1/relay/handoffs", json=body))
            )
            first.start()
            for _ in range(3000):  # until the first worker, its transaction recorded, is sending it
                if node.sends:
                    break
                time.sleep(0.01)
            answers["two"] = two.post("/api/v1/relay/handoffs", json=body)
            first.join()
    finally:
        node.close()
    hashes = {answer.json()["tx_hash"] for answer in answers.values()}
    assert {answer.status_code for answer in answers.values()} <= {200, 202} and len(hashes) == 1
    assert w3.eth.wait_for_transaction_receipt(hashes.pop())["status"] == 1
    assert w3.eth.get_transaction_count(relayer_account.address) == sent + 1
    assert contract.functions.custodianOf(ITEM.item_id).call() == parties[1].address


@pytest.fixture
def manual_mining(parties, w3: Web3) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """Anvil mines only on `evm_mine`; yields the base fee, restored afterwards."""
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])
    w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
    try:
        yield base_fee
    finally:
        w3.provider.make_request(RPCEndpoint("anvil_setNextBlockBaseFeePerGas"), [hex(base_fee)])
        w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [True])


def mine(w3: Web3, base_fee: int | None = None) -> list[str]:
    """Mine one block (at `base_fee`); the hashes of its transactions."""
    if base_fee is not None:
        w3.provider.make_request(RPCEndpoint("anvil_setNextBlockBaseFeePerGas"), [hex(base_fee)])
    w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    return ["0x" + bytes(tx).hex() for tx in w3.eth.get_block("latest")["transactions"]]


def price_out(w3: Web3, tx_hash: str) -> int:
    """Mine one block at twice the max fee of `tx_hash`, which anvil then drops; that base fee."""
    base_fee = 2 * int(w3.eth.get_transaction(HexStr(tx_hash))["maxFeePerGas"])
    assert mine(w3, base_fee) == []
    return base_fee


def signed_handoff(
    contract: Contract, brand: LocalAccount, carrier: LocalAccount, item: bytes = ITEM.item_id
) -> HandoffArgs:
    """A handoff of `item` from `brand` to `carrier`, signed by both (with eth_account)."""
    request = HandoffRequest((item,), sender=brand.address, receiver=carrier.address, deadline=2**40)
    typed = request_typed_data(contract, request)
    return request, sign_handoff(brand, typed), sign_handoff(carrier, typed)


def test_a_transaction_the_node_dropped_for_its_fees_is_replaced_on_retry_and_mined_once(
    parties, manual_mining: int, w3: Web3, contract: Contract, engine: Engine, relayer_account: LocalAccount
) -> None:  # type: ignore[no-untyped-def]
    """The base fee rose above the transaction's max fee and the node dropped it. A retry sent
    the same bytes again, which the node refused (502 node_refused) for as long as fees stayed up."""
    relayer = Relayer(w3, contract, relayer_account, engine)
    handoff = signed_handoff(contract, *parties)
    first = relayer.relay(*handoff)
    sent = w3.eth.get_transaction_count(relayer_account.address)
    base_fee = price_out(w3, first.tx_hash)
    assert relayer.status(first.request_id) == first  # submitted: its nonce is not used

    again = relayer.relay(*handoff)
    assert again.status == "submitted" and again.tx_hash != first.tx_hash and not again.duplicate
    replacement = w3.eth.get_transaction(HexStr(again.tx_hash))
    assert replacement["nonce"] == sent  # the dropped one's: only one of them can be mined
    assert replacement["maxFeePerGas"] >= 2 * base_fee
    assert mine(w3) == [again.tx_hash]
    status = relayer.status(first.request_id)
    assert status is not None and (status.status, status.tx_hash) == ("mined", again.tx_hash)
    assert w3.eth.get_transaction_count(relayer_account.address) == sent + 1
    assert contract.functions.custodianOf(ITEM.item_id).call() == parties[1].address


STUCK_AFTER_S = 3.0


def relayer_through(
    node: ProxyNode, contract: Contract, engine: Engine, account: LocalAccount, stuck_after_s: float = 60.0
) -> Relayer:
    """A relayer (as tests build one, no lock file) that reaches the chain through `node`."""
    w3 = Web3(HTTPProvider(node.url))
    return Relayer(w3, registry(w3, contract.address), account, engine, stuck_after_s=stuck_after_s)


GWEI = 10**9


@pytest.fixture
def fee_proxy(
    devnet: Devnet,
    parties,
    manual_mining: int,
    contract: Contract,
    engine: Engine,
    relayer_account: LocalAccount,
) -> Iterator[tuple[Relayer, ProxyNode, RelayReceipt]]:  # type: ignore[no-untyped-def]
    """A relayer that reaches anvil through a proxy (to move the market's fees) and has relayed
    a handoff of ITEM, not mined yet: the relayer, the proxy and the first receipt."""
    node = ProxyNode(devnet.rpc_url)
    relayer = relayer_through(node, contract, engine, relayer_account, stuck_after_s=STUCK_AFTER_S)
    try:
        yield relayer, node, relayer.relay(*signed_handoff(contract, *parties))
    finally:
        node.close()


def test_a_transaction_waiting_below_the_market_is_replaced_after_the_wait(
    fee_proxy: tuple[Relayer, ProxyNode, RelayReceipt], w3: Web3
) -> None:
    relayer, node, first = fee_proxy
    tip = w3.eth.get_transaction(HexStr(first.tx_hash))["maxPriorityFeePerGas"]
    node.answers["eth_maxPriorityFeePerGas"] = hex(3 * tip)  # the market moved
    assert [kept.tx_hash for kept in relayer.tend()] == [first.tx_hash]  # not waited long enough

    time.sleep(STUCK_AFTER_S)
    (replaced,) = relayer.tend()
    assert replaced.tx_hash != first.tx_hash and replaced.status == "submitted"
    assert w3.eth.get_transaction(HexStr(replaced.tx_hash))["maxPriorityFeePerGas"] == 3 * tip
    time.sleep(STUCK_AFTER_S)
    assert [kept.tx_hash for kept in relayer.tend()] == [replaced.tx_hash]  # at the market now
    assert mine(w3) == [replaced.tx_hash]
    status = relayer.status(first.request_id)
    assert status is not None and (status.status, status.tx_hash) == ("mined", replaced.tx_hash)
    assert relayer.tend() == []


def test_the_transaction_a_replacement_did_not_reach_is_the_one_reported_mined(
    fee_proxy: tuple[Relayer, ProxyNode, RelayReceipt], w3: Web3, contract: Contract, parties
) -> None:  # type: ignore[no-untyped-def]
    """A request's transactions share their nonce: whichever is mined, it is the request's."""
    relayer, node, first = fee_proxy
    node.answers["eth_maxPriorityFeePerGas"] = hex(10 * GWEI)
    time.sleep(STUCK_AFTER_S)
    node.send_fault = "lost"
    (replaced,) = relayer.tend()
    node.send_fault = None
    assert replaced.tx_hash != first.tx_hash
    assert mine(w3) == [first.tx_hash]
    status = relayer.status(first.request_id)
    assert status is not None and (status.status, status.tx_hash) == ("mined", first.tx_hash)
    assert relayer.tend() == []
    assert contract.functions.custodianOf(ITEM.item_id).call() == parties[1].address


@pytest.fixture
def priced_out(
    parties, manual_mining: int, w3: Web3, contract: Contract, engine: Engine, relayer_account: LocalAccount
) -> tuple[Relayer, RelayReceipt]:  # type: ignore[no-untyped-def]
    """A relayer whose handoff of ITEM a fee spike left unmined, dropped by anvil; its receipt."""
    relayer = Relayer(w3, contract, relayer_account, engine)
    first = relayer.relay(*signed_handoff(contract, *parties))
    price_out(w3, first.tx_hash)
    return relayer, first


def test_the_gateway_replaces_a_dropped_transaction_unasked(
    priced_out: tuple[Relayer, RelayReceipt], w3: Web3, engine: Engine, settings: Settings
) -> None:
    relayer, first = priced_out
    tending = settings.model_copy(update={"relay_check_interval_s": 0.1})
    with TestClient(create_app(tending, engine, relayer)) as gateway:
        for _ in range(100):
            status = gateway.get(f"/api/v1/relay/handoffs/{first.request_id}").json()
            if status["tx_hash"] != first.tx_hash:
                break
            time.sleep(0.1)
        assert status["tx_hash"] != first.tx_hash and status["status"] == "submitted"
        assert mine(w3) == [status["tx_hash"]]
        mined = gateway.get(f"/api/v1/relay/handoffs/{first.request_id}").json()
    assert (mined["status"], mined["tx_hash"]) == ("mined", status["tx_hash"])


@pytest.fixture
def customs(parties, w3: Web3, contract: Contract, members: dict[str, Member]) -> LocalAccount:  # type: ignore[no-untyped-def]
    """Customs, holding OTHER (from the brand): a second holder, with its own handoff nonce."""
    brand, customs = parties[0], members["customs"].account
    send(w3, brand, contract.functions.registerItem(OTHER.item_id, b"\2" * 32, "ipfs://relay-2"))
    hand_over(w3, contract, OTHER.item_id, brand, customs)
    return customs


def test_a_new_request_does_not_take_the_nonce_of_a_transaction_the_node_dropped(
    parties,
    customs: LocalAccount,
    manual_mining: int,
    w3: Web3,
    contract: Contract,
    engine: Engine,
    relayer_account: LocalAccount,
    members: dict[str, Member],
) -> None:  # type: ignore[no-untyped-def]
    """Found by review: the node's next nonce was the dropped transaction's, so a new request took
    it; the dropped one could no longer be replaced, and turned `dropped`."""
    brand, carrier = parties
    relayer = Relayer(w3, contract, relayer_account, engine)
    first = relayer.relay(*signed_handoff(contract, brand, carrier))
    price_out(w3, first.tx_hash)
    retailer = members["retailer"].account  # each signer's handoff nonce signs one handoff at a time
    second = relayer.relay(*signed_handoff(contract, customs, retailer, OTHER.item_id))
    replaced, kept = relayer.tend()
    assert replaced.tx_hash != first.tx_hash and kept.tx_hash == second.tx_hash
    nonces = [w3.eth.get_transaction(HexStr(tx.tx_hash))["nonce"] for tx in (replaced, second)]
    assert nonces[1] == nonces[0] + 1
    assert sorted(mine(w3)) == sorted([replaced.tx_hash, second.tx_hash])
    assert contract.functions.custodianOf(ITEM.item_id).call() == carrier.address
    assert contract.functions.custodianOf(OTHER.item_id).call() == retailer.address


def test_a_request_of_a_chain_since_restarted_is_dropped_and_never_sent_again(
    w3: Web3, contract: Contract, engine: Engine, relayer_account: LocalAccount
) -> None:
    """A devnet restarted keeps its chain id, and its registry may come back at the same address:
    the old chain's transactions could have been replayed on the new one."""
    relayer = Relayer(w3, contract, relayer_account, engine)
    nonce = w3.eth.get_transaction_count(relayer_account.address)
    tx = contract.functions.isMember(relayer_account.address).build_transaction(
        {"from": relayer_account.address, "nonce": nonce}
    )
    signed = relayer_account.sign_transaction(tx)
    rid, tx_hash = "0x" + "b1" * 32, "0x" + bytes(signed.hash).hex()
    with engine.begin() as conn:
        conn.execute(
            relay_requests.insert().values(
                request_id=rid,
                tx_hash=tx_hash,
                sender=relayer_account.address,
                receiver=relayer_account.address,
                ids=[],
                created_at=1,
                nonce=nonce,
                raw_tx=bytes(signed.raw_transaction),
                genesis="0x" + "9e" * 32,  # another block 0
            )
        )
    assert relayer.tend() == []
    status = relayer.status(rid)
    assert status is not None and status.status == "dropped"
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction(HexStr(tx_hash))
    assert w3.eth.get_transaction_count(relayer_account.address) == nonce


def test_the_relayer_overview_shows_its_funds_and_what_waits(
    priced_out: tuple[Relayer, RelayReceipt],
    parties,
    w3: Web3,
    contract: Contract,
    engine: Engine,
    settings: Settings,
    relayer_account: LocalAccount,
) -> None:  # type: ignore[no-untyped-def]
    relayer, _ = priced_out
    with TestClient(create_app(settings, engine, relayer)) as gateway:
        waiting = gateway.get("/api/v1/relay").json()
        replaced = relayer.relay(*signed_handoff(contract, *parties))  # the client's retry
        assert mine(w3) == [replaced.tx_hash]
        done = gateway.get("/api/v1/relay").json()
    assert waiting["address"] == relayer_account.address and waiting["registry"] == contract.address
    assert int(waiting["balance_wei"]) > int(done["balance_wei"]) > 0  # the gas is paid
    assert waiting["unmined"] == 1 and 0 <= waiting["oldest_unmined_s"] < 60
    assert done["unmined"] == 0 and done["oldest_unmined_s"] is None
    assert int(done["balance_wei"]) == w3.eth.get_balance(relayer_account.address)
    with TestClient(create_app(settings, engine)) as without:
        assert without.get("/api/v1/relay").json()["error"] == "no_relayer"


def test_a_devnet_restarted_under_a_running_relayer_gets_none_of_the_old_chains_transactions(
    parties, devnet: Devnet, w3: Web3, contract: Contract, engine: Engine, relayer_account: LocalAccount
) -> None:  # type: ignore[no-untyped-def]
    """Found by review: the relayer read block 0 once, so after a restart behind the same URL it
    took the old chain's transactions for unmined ones of the new chain (whose nonces start
    again at 0) and sent them there, where they were mined."""
    node = ProxyNode(devnet.rpc_url)
    restarted = start_devnet()
    try:
        relayer = relayer_through(node, contract, engine, relayer_account)
        mined = relayer.relay(*signed_handoff(contract, *parties))
        assert w3.eth.wait_for_transaction_receipt(mined.tx_hash)["status"] == 1
        node.upstream = restarted.rpc_url  # same URL, same chain id, a new chain
        assert relayer.tend() == []
        status = relayer.status(mined.request_id)
        assert status is not None and status.status == "dropped"
        fresh = Web3(HTTPProvider(restarted.rpc_url))
        assert fresh.eth.get_transaction_count(relayer_account.address) == 0
    finally:
        restarted.stop()
        node.close()


def test_a_gateway_whose_node_is_down_keeps_serving_and_says_once_that_it_cannot_tend(
    contract: Contract,
    engine: Engine,
    relayer_account: LocalAccount,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    node = ProxyNode()  # has lost the node
    settings = Settings(data_dir=tmp_path, rpc_url=node.url, relay_check_interval_s=0.05)
    app = create_app(
        settings, engine, RelayerSetup(bytes(relayer_account.key), contract.address).relayer(settings, engine)
    )
    try:
        with caplog.at_level(logging.WARNING, logger="app.api.main"), TestClient(app) as gateway:
            for _ in range(100):  # until the relayer thread has tried a few times
                if node.requests >= 3:
                    break
                time.sleep(0.05)
            assert gateway.get("/api/v1/items").status_code == 200
    finally:
        node.close()
    assert node.requests >= 3
    warnings = [record.message for record in caplog.records if "unmined" in record.message]
    assert len(warnings) == 1 and "cannot check" in warnings[0]


@pytest.fixture
def live_gateway(
    w3: Web3, contract: Contract, engine: Engine, relayer_account: LocalAccount, tmp_path: Path
) -> Iterator[str]:
    port = free_port()
    settings = Settings(data_dir=tmp_path, port=port)
    with served(create_app(settings, engine, Relayer(w3, contract, relayer_account, engine)), port) as url:
        yield url


def test_handoff_commands_end_to_end(
    parties,
    live_gateway: str,
    devnet: Devnet,
    deployment: Deployment,
    contract: Contract,
    w3: Web3,
    tmp_path: Path,
) -> None:  # type: ignore[no-untyped-def]
    brand, carrier = parties
    env = {
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_PASSPHRASE": "handoff passphrase",
        "ORIGINTRACE_RPC_URL": devnet.rpc_url,
    }
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> str:
        result = runner.invoke(cli, list(args), env=env, input=input)
        assert result.exit_code == 0, result.output
        return result.output

    for name, account in (("brand", brand), ("carrier", carrier)):
        run("accounts", "import", name, input=account.key.hex() + "\n")
    handoff = tmp_path / "handoff.json"
    run(
        "handoff",
        "prepare",
        ITEM.gtin,
        ITEM.serial,
        "--to",
        carrier.address,
        "--out",
        str(handoff),
        "--registry",
        deployment.registry,
    )
    assert "waiting for" in run("handoff", "sign", str(handoff), "--account", "brand")
    assert "ready to relay" in run("handoff", "sign", str(handoff), "--account", "carrier")
    relayed = run("handoff", "relay", str(handoff), "--gateway", live_gateway)
    tx_hash = relayed.split("tx ")[1].split()[0]
    w3.eth.wait_for_transaction_receipt(tx_hash)
    request_id = relayed.split("request ")[1].split(",")[0]
    assert "mined in block" in run("handoff", "status", request_id, "--gateway", live_gateway)
    assert contract.functions.custodianOf(ITEM.item_id).call() == carrier.address
    overview = run("handoff", "relayer", "--gateway", live_gateway).splitlines()
    relayer = dev_account(9).address
    assert overview[0] == f"relayer {relayer} on chain {w3.eth.chain_id}, registry {contract.address}"
    assert f"({w3.eth.get_balance(relayer)} wei)" in overview[1]
    assert overview[2] == "no unmined transactions"


def test_items_claim_relay_end_to_end(
    claim_code: LocalAccount,
    live_gateway: str,
    devnet: Devnet,
    deployment: Deployment,
    contract: Contract,
    w3: Web3,
) -> None:
    """A shopper with no account and no ETH claims with the code alone; the relayer pays."""
    code, owner = claim_code, Account.create()
    args = ["items", "claim", ITEM.gtin, ITEM.serial, "--code", "0x" + bytes(code.key).hex()]
    args += ["--rpc", devnet.rpc_url, "--registry", deployment.registry, "--gateway", live_gateway]
    runner = CliRunner()
    no_owner = runner.invoke(cli, [*args, "--relay"])
    assert no_owner.exit_code == 2 and "--relay needs --to" in no_owner.output
    claimed = runner.invoke(cli, [*args, "--relay", "--to", owner.address])
    assert claimed.exit_code == 0, claimed.output
    # Sent, not yet mined: it said "claimed" before the relayer's transaction was in a block.
    assert f"claim of {ITEM.path} for {owner.address} sent through the relayer" in claimed.output
    assert "`origintrace handoff status " in claimed.output
    w3.eth.wait_for_transaction_receipt(claimed.output.split("tx ")[1].split()[0])
    assert contract.functions.custodianOf(ITEM.item_id).call() == owner.address
    again = runner.invoke(cli, [*args, "--relay", "--to", owner.address])
    assert again.exit_code == 0  # the same signed claim: the relayer answers with the same transaction

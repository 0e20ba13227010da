"""The CLI's one-off log reads work behind a provider's eth_getLogs caps (app/chain/logs.py)."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from typer.testing import CliRunner
from web3 import Web3
from web3.contract import Contract

from app.chain.devnet import Devnet
from app.chain.logs import LogsUnavailable, raw_logs
from app.cli import cli
from app.demo.journey import Member, admit_members
from app.indexer.rpc import RpcClient

MAX_BLOCKS, MAX_LOGS = 100, 3


class CappedNode(ThreadingHTTPServer):
    """anvil behind an HTTP proxy that refuses eth_getLogs over MAX_BLOCKS blocks or MAX_LOGS
    logs with a JSON-RPC error, as public providers do; it counts what it refused."""

    def __init__(self, upstream: str, max_blocks: int = MAX_BLOCKS, max_logs: int = MAX_LOGS) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.daemon_threads = True  # a slow answer nobody waits for is not waited for at the end
        self.upstream, self.max_blocks, self.max_logs = upstream, max_blocks, max_logs
        self.refused: list[str] = []
        self.slow_over: int | None = None  # blocks past which a query answers only after 0.5 s
        self.http_status = 200  # of eth_getLogs answers (429: rate limited)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = requests.post(self.upstream, json=request, timeout=30).json()
        if request.get("method") != "eth_getLogs":
            return reply
        query = request["params"][0]
        blocks = int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
        if self.slow_over is not None and blocks > self.slow_over:
            self.refused.append("slow")
            time.sleep(0.5)
        if blocks > self.max_blocks:
            self.refused.append("blocks")
            return _error(request, -32600, f"exceed maximum block range: {self.max_blocks}")
        if len(reply["result"]) > self.max_logs:
            self.refused.append("logs")
            return _error(request, -32005, f"query returned more than {self.max_logs} results")
        return reply


def _error(request: dict[str, Any], code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": code, "message": message}}


class _Forward(BaseHTTPRequestHandler):
    server: CappedNode

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps(self.server.answer(request)).encode()
        limited = request.get("method") == "eth_getLogs" and self.server.http_status != 200
        if limited:
            self.server.refused.append(str(self.server.http_status))
        self.send_response(self.server.http_status if limited else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def capped(devnet: Devnet) -> Iterator[CappedNode]:
    node = CappedNode(devnet.rpc_url)
    thread = threading.Thread(target=node.serve_forever, daemon=True)
    thread.start()
    try:
        yield node
    finally:
        node.shutdown()
        node.server_close()


def _spread_members(w3: Web3, contract: Contract, operator, members: dict[str, Member]) -> int:  # type: ignore[no-untyped-def]
    """Admit the members with 60 empty blocks after each; the block they start from."""
    start = w3.eth.block_number + 1
    for name, member in members.items():
        admit_members(w3, contract, operator, {name: member})
        w3.provider.make_request("anvil_mine", [hex(60)])  # type: ignore[arg-type]
    return start


def test_raw_logs_halves_ranges_past_both_caps(
    w3: Web3, contract: Contract, operator, members, capped
) -> None:  # type: ignore[no-untyped-def]
    start = _spread_members(w3, contract, operator, members)
    every = raw_logs(RpcClient(capped.upstream), contract.address, [], start)
    assert len(every) > MAX_LOGS
    behind_caps = raw_logs(RpcClient(capped.url), contract.address, [], start)
    assert behind_caps == every
    assert {"blocks", "logs"} <= set(capped.refused)
    topic = contract.events.RoleGranted.topic
    granted = raw_logs(RpcClient(capped.url), contract.address, [topic], start)
    assert len(granted) == len(members) and granted == [log for log in every if log["topics"][0] == topic]


def test_raw_logs_halves_a_range_that_timed_out(
    w3: Web3, contract: Contract, operator, members, capped
) -> None:  # type: ignore[no-untyped-def]
    start = _spread_members(w3, contract, operator, members)
    capped.max_blocks, capped.max_logs, capped.slow_over = 10**9, 10**9, 100
    assert raw_logs(RpcClient(capped.url, timeout=0.25), contract.address, [], start) == raw_logs(
        RpcClient(capped.upstream), contract.address, [], start
    )
    assert capped.refused[0] == "slow"


def test_a_rate_limit_is_not_answered_by_smaller_ranges(contract: Contract, capped: CappedNode) -> None:
    capped.http_status, capped.max_blocks = 429, 10**9
    with pytest.raises(LogsUnavailable, match="eth_getLogs failed for blocks 1-500: 429"):
        raw_logs(RpcClient(capped.url), contract.address, [], 1, 500)
    assert capped.refused == ["429"]


def test_a_node_that_refuses_even_one_block_is_a_clear_error(w3: Web3, contract: Contract, capped) -> None:  # type: ignore[no-untyped-def]
    capped.max_blocks = 0
    with pytest.raises(
        LogsUnavailable, match="eth_getLogs failed for blocks 5-5: exceed maximum block range: 0"
    ):
        raw_logs(RpcClient(capped.url), contract.address, [], 5, 9)


def test_members_list_reads_behind_a_capped_provider(
    w3: Web3, contract: Contract, operator, members: dict[str, Member], capped: CappedNode
) -> None:  # type: ignore[no-untyped-def]
    _spread_members(w3, contract, operator, members)
    result = CliRunner().invoke(cli, ["members", "list", "--rpc", capped.url, "--registry", contract.address])
    assert result.exit_code == 0, result.output
    listed = result.output.splitlines()
    assert listed[0].split() == ["address", "name", "roles", "GLN"] and len(listed) == 1 + len(members)
    for member in members.values():
        role = member.role.removesuffix("_ROLE").lower()
        assert any(member.name in line and role in line and member.gln in line for line in listed), (
            result.output
        )
    assert capped.refused  # the list did not come from one request
    capped.max_blocks = 0
    refused = CliRunner().invoke(
        cli, ["members", "list", "--rpc", capped.url, "--registry", contract.address]
    )
    assert refused.exit_code == 1 and "error: eth_getLogs failed for blocks" in refused.output

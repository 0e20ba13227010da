"""`origintrace index`: progress bar and JSON-lines logs on a backfill; clear errors for bad input."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner
from web3 import Web3

from app.chain.client import registry
from app.chain.deploy import Deployment, write_manifest
from app.chain.devnet import free_port
from app.cli import cli
from app.demo.journey import seed_demo
from app.indexer.rpc import RpcClient


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The command routes the root logger to its stderr; give the next tests theirs back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["index", *args])
    return result.exit_code, result.stderr


def test_backfill_shows_progress_and_logs_json_lines(
    w3: Web3, deployment: Deployment, operator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    seed_demo(w3, registry(w3, deployment.registry), operator)
    manifest = write_manifest(deployment, tmp_path)
    url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    code, stderr = _run(
        "--manifest", str(manifest), "--rpc", url, "--database-url", f"sqlite:///{tmp_path}/i.db"
    )
    assert code == 0, stderr
    assert "block" in stderr and "events_per_s" in stderr  # the tqdm bar: blocks, rate, ETA
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    done = next(entry for entry in logs if entry["msg"] == "backfill done")
    assert done["level"] == "info" and done["events"] > 10 and done["last_block"] >= deployment.deploy_block


def test_unreachable_node_is_a_clear_error(tmp_path: Path) -> None:
    code, stderr = _run(
        "--rpc-url", f"http://127.0.0.1:{free_port()}", "--database-url", f"sqlite:///{tmp_path}/i.db"
    )
    assert code == 2
    assert "error: no Ethereum JSON-RPC node answers at" in stderr and "Traceback" not in stderr
    assert "did not answer" in stderr and "HTTPConnectionPool" not in stderr  # one short line


def test_a_database_not_created_yet_is_one_line(w3: Web3, deployment: Deployment, tmp_path: Path) -> None:
    manifest = write_manifest(deployment, tmp_path)
    url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    missing = "postgresql+psycopg://postgres@127.0.0.1:5432/origintrace_never_created"
    code, stderr = _run("--manifest", str(manifest), "--rpc", url, "--database-url", missing)
    assert code == 2, stderr
    assert stderr.startswith("error: cannot open or write the database (--database-url): ")
    assert "Traceback" not in stderr and len(stderr.splitlines()) <= 3


def test_missing_manifest_says_how_to_fix_it(w3: Web3, tmp_path: Path) -> None:
    url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    code, stderr = _run("--manifest", str(tmp_path / "none.json"), "--rpc-url", url)
    assert code == 2
    assert "no deployment manifest at" in stderr and "deploy first" in stderr


def test_no_chain_configured_says_how_to_fix_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ORIGINTRACE_RPC_URL", raising=False)
    code, stderr = _run()
    assert code == 2 and "pass --rpc or set ORIGINTRACE_RPC_URL" in stderr


class FlakyThenCtrlC:
    """Every RpcClient's node, for one test: its first block-header read times out, and the head
    read while following (the first one is the backfill's) is the operator's Ctrl-C. Patched on
    the class: importing app.indexer.run here would bind its log stream to pytest's stderr."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.timed_out, self.head_reads = False, 0
        batch, call = RpcClient.batch, RpcClient.call

        def flaky_batch(rpc: RpcClient, calls: list[tuple[str, list[Any]]]) -> list[Any]:
            if not self.timed_out and calls and calls[0][0] == "eth_getBlockByNumber":
                self.timed_out = True
                raise requests.ReadTimeout("simulated: one slow answer")
            return batch(rpc, calls)

        def ctrl_c_when_following(rpc: RpcClient, method: str, params: list[Any]) -> Any:
            if method == "eth_blockNumber":
                self.head_reads += 1
                if self.head_reads > 1:
                    raise KeyboardInterrupt
            return call(rpc, method, params)

        monkeypatch.setattr(RpcClient, "batch", flaky_batch)
        monkeypatch.setattr(RpcClient, "call", ctrl_c_when_following)


def test_a_timeout_in_the_backfill_is_retried_and_ctrl_c_still_stops_it(
    w3: Web3,
    deployment: Deployment,
    operator,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only `Indexer.run` retried: one slow answer during the backfill ended `index --follow`."""
    seed_demo(w3, registry(w3, deployment.registry), operator)
    manifest = write_manifest(deployment, tmp_path)
    url = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    node = FlakyThenCtrlC(monkeypatch)
    # The command replaces the root logger's handlers (and its JSON stream is the stderr of
    # the first command run in this process): listen on the indexer's loggers instead.
    monkeypatch.setattr(logging.getLogger("app.indexer"), "handlers", [caplog.handler])
    code, stderr = _run(
        "--follow",
        "--manifest",
        str(manifest),
        "--rpc-url",
        url,
        "--database-url",
        f"sqlite:///{tmp_path}/i.db",
    )
    assert node.timed_out
    assert code == 0, stderr
    (retry,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "slow answer" in retry.getMessage()
    assert (retry.failures, retry.retry_in_s) == (1, 0.5)  # type: ignore[attr-defined]
    assert [r.getMessage() for r in caplog.records][-2:] == ["backfill done", "following the chain head"]
    assert stderr.rstrip().endswith("stopped")

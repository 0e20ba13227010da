"""End to end: `origintrace up` (what `make demo` runs) on a fresh anvil, queried over HTTP."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from web3 import Web3

from app.chain.client import connect, registry, send
from app.chain.devnet import free_port
from app.core.config import PROJECT_ROOT
from app.core.processes import stop_process
from app.demo.journey import DIAMOND, GIFT_SET, SKINCARE_LOT, demo_members

pytestmark = pytest.mark.e2e
ORIGINTRACE = Path(sys.executable).parent / "origintrace"


@dataclass
class Demo:
    process: subprocess.Popen[str]
    output: list[str]
    url: str
    rpc_url: str
    children: list[int]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _start_demo(tmp_path: Path, devnet: str = "anvil") -> Demo:
    env = {
        **os.environ,
        "ORIGINTRACE_PORT": str(free_port()),
        "ORIGINTRACE_DATA_DIR": str(tmp_path / "data"),
        "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
        "ORIGINTRACE_DEVNET": devnet,
    }
    env.pop("ORIGINTRACE_RPC_URL", None)
    env.pop("ORIGINTRACE_PLACES_FILE", None)
    process = subprocess.Popen(
        [str(ORIGINTRACE), "up"],
        env=env,
        cwd=PROJECT_ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output: list[str] = []
    deadline = time.monotonic() + 90
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if "Press Ctrl-C" in line:
            text = "".join(output)
            url = re.search(r"Diamond shopper page:\s+(\S+)", text)
            rpc = re.search(r"chain\s+(http://\S+)", text)
            assert url and rpc, text
            return Demo(process, output, url.group(1), rpc.group(1), _children(process.pid))
    stop_process(process, timeout=20)
    raise AssertionError("origintrace up did not come up:\n" + "".join(output))


@pytest.fixture(params=["anvil", "hardhat"])
def demo(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Demo]:
    running = _start_demo(tmp_path, request.param)
    try:
        yield running
    finally:  # a clean stop, so the demo's devnet removes its states (a kill would leave them)
        stop_process(running.process, timeout=20)


def test_demo_serves_the_sold_diamond_with_every_step(demo: Demo, tmp_path: Path) -> None:
    assert demo.url.endswith(DIAMOND.path)
    qr_line = next(line for line in demo.output if "QR code (PNG)" in line)
    assert Path(qr_line.split()[-1]).read_bytes().startswith(b"\x89PNG")
    body = httpx.get(demo.url, headers={"Accept": "application/json"}, timeout=10).json()
    assert body["status"] == "sold"
    assert [h["type"] for h in body["history"]] == (
        ["registered", "attested"] + ["offered", "handed_over"] * 3 + ["sold"]
    )
    assert all(re.fullmatch(r"0x[0-9a-f]{64}", h["tx"]) for h in body["history"])
    assert body["attestations"][0]["certifier"]["name"].startswith("Antwerp World Diamond Centre")
    assert (tmp_path / "deployments" / "31337.json").exists()
    # The demo writes its members' place directory and the gateway reads it.
    assert any(str(tmp_path / "data" / "places.json") in line for line in demo.output)
    assert body["custodian"]["place"]["city"] == "Hangzhou"
    assert {h["to"]["place"]["source"] for h in body["history"] if h["type"] == "handed_over"} == {
        "directory"
    }
    page = httpx.get(demo.url, headers={"Accept": "text/html"}, timeout=10).text
    assert "Antwerp, BE" in page and "Hangzhou, CN" in page


def test_demo_follows_new_transactions(demo: Demo) -> None:
    w3 = connect(demo.rpc_url)
    manifest = httpx.get(demo.url.split("/01/")[0] + "/healthz", timeout=5).json()
    certifier = demo_members()["certifier"].account
    contract = registry(w3, manifest["registry"])
    send(
        w3,
        certifier,
        contract.functions.attest(DIAMOND.item_id, b"RESALE_CHECK".ljust(32, b"\0"), b"\1" * 32),
    )
    deadline = time.monotonic() + 10
    kinds: list[str] = []
    while time.monotonic() < deadline:
        body = httpx.get(demo.url, headers={"Accept": "application/json"}, timeout=5).json()
        kinds = [a["kind"] for a in body["attestations"]]
        if "RESALE_CHECK" in kinds:
            break
        time.sleep(0.1)
    assert kinds == ["GRADING_REPORT", "RESALE_CHECK"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_demo_stops_every_process_on_signal(tmp_path: Path, signum: int) -> None:
    demo = _start_demo(tmp_path)
    assert demo.children, "the demo should have started anvil"
    assert Web3(Web3.HTTPProvider(demo.rpc_url)).is_connected()
    demo.process.send_signal(signum)
    assert demo.process.wait(timeout=20) == 0  # a clean stop, also on SIGTERM
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid) for pid in demo.children):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in demo.children)
    with pytest.raises(httpx.ConnectError):
        httpx.get(demo.url, timeout=2)


def _verify(demo: Demo, tmp_path: Path, url: str, registry: str | None = None):  # type: ignore[no-untyped-def]
    """`origintrace verify URL` against the demo's node, trusting `registry` (default: the demo's)."""
    from typer.testing import CliRunner

    from app.cli import cli

    if registry is None:
        (manifest,) = (tmp_path / "deployments").glob("*.json")
        registry = json.loads(manifest.read_text())["contracts"]["OriginRegistry"]["address"]
    return CliRunner().invoke(cli, ["verify", url, "--rpc", demo.rpc_url, "--registry", registry])


def test_verify_checks_the_gateway_against_the_node(demo: Demo, tmp_path: Path) -> None:
    honest = _verify(demo, tmp_path, demo.url)
    assert honest.exit_code == 0, honest.output
    assert "VERIFIED" in honest.output and "✗" not in honest.output
    assert "left out none of the 10 registry logs" in honest.output, (
        honest.output
    )  # AttestationRecorded names it second
    assert (
        "the certification GRADING_REPORT shown is recorded on chain as shown, and in force" in honest.output
    )
    assert "each of the 9 history steps the gateway shows is a checked fact" in honest.output, honest.output
    # A gift set of the demo was registered in a batch: its ItemsRegistered names it in its
    # data, not in a topic.
    gift = urlsplit(demo.url)._replace(path=GIFT_SET.path).geturl()
    batch = _verify(demo, tmp_path, gift)
    assert batch.exit_code == 0, batch.output
    assert "ItemsRegistered" in batch.output and "✗" not in batch.output
    assert "the 1 custody moves with the logistic units it was packed in are the chain's" in batch.output
    # A registered item's label may carry a lot the chain does not know: verify crashed (KeyError).
    gtin, serial = urlsplit(demo.url).path.split("/")[2::2]
    with_lot = urlsplit(demo.url)._replace(path=f"/01/{gtin}/10/LABEL-LOT/21/{serial}").geturl()
    labelled = _verify(demo, tmp_path, with_lot)
    assert labelled.exit_code == 0 and "VERIFIED" in labelled.output, labelled.output
    # Anyone can deploy a registry and write a history for this item id into it: the gateway's
    # registry must be the one the user trusts.
    elsewhere = _verify(demo, tmp_path, demo.url, "0x" + "de" * 20)
    assert elsewhere.exit_code == 1 and "NOT VERIFIED" in elsewhere.output
    assert "is not the one you trust (--registry)" in elsewhere.output

    # The gateway's database loses the sale: the chain still has it, and verify says so.
    database = sqlite3.connect(tmp_path / "data" / "origintrace.db")
    with database:
        database.execute("DELETE FROM events WHERE name = 'ItemSold'")
    database.close()
    lying = _verify(demo, tmp_path, demo.url)
    assert lying.exit_code == 1
    assert "✗ the gateway left out" in lying.output and "NOT VERIFIED" in lying.output
    # A log that names the item second (UnitPacked(unit, id)) is searched for too.
    database = sqlite3.connect(tmp_path / "data" / "origintrace.db")
    with database:
        database.execute("DELETE FROM events WHERE name = 'UnitPacked'")
    database.close()
    unpacked = _verify(demo, tmp_path, gift)
    assert unpacked.exit_code == 1 and "✗ the gateway left out" in unpacked.output, unpacked.output

    # The gateway's database gives the grading centre's address another member's name.
    assert "parties shown have the names and GLNs the chain gave them" in honest.output
    certifier = httpx.get(demo.url, headers={"Accept": "application/json"}).json()["attestations"][0][
        "certifier"
    ]
    database = sqlite3.connect(tmp_path / "data" / "origintrace.db")
    with database:
        database.execute(
            "UPDATE members SET name = 'Gem Lab of Trust' WHERE address = ?", (certifier["address"],)
        )
    database.close()
    connect(demo.rpc_url).provider.make_request("anvil_mine", ["0x1"])  # type: ignore[arg-type]
    deadline = time.monotonic() + 10  # the checkpoint moves: the gateway drops its cached answers
    while (
        httpx.get(demo.url, headers={"Accept": "application/json"}).json()["attestations"][0]["certifier"][
            "name"
        ]
        != "Gem Lab of Trust"
    ):
        assert time.monotonic() < deadline, "the gateway kept its cached answer"
        time.sleep(0.2)
    renamed = _verify(demo, tmp_path, demo.url)
    assert renamed.exit_code == 1 and "NOT VERIFIED" in renamed.output
    assert "names parties otherwise than the chain" in renamed.output
    assert "shown as 'Gem Lab of Trust'" in renamed.output and repr(certifier["name"]) in renamed.output


def test_verify_proves_a_lot_item_through_the_registry(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = next(line for line in demo.output if "One item of the lot:" in line)
    url = line.split()[-1]
    assert url.endswith(f"{SKINCARE_LOT.path}/21/SK-0001")
    honest = _verify(demo, tmp_path, url)
    assert honest.exit_code == 0, honest.output
    assert "the registry accepts the item's 10-step Merkle proof" in honest.output
    assert "LotAnchored" in honest.output and "✗" not in honest.output
    assert f"is lot {SKINCARE_LOT.lot} of the label" in honest.output

    # A gateway that names the lot's custodian in another shape (a bare address, as lot JSON
    # did before) is a failed check, not a traceback.
    from app.commands import verify

    answers = verify._get_json

    def flat_custodian(gateway_url: str) -> Any:
        answer = answers(gateway_url)
        if "lot" in answer and isinstance(answer["lot"].get("custodian"), dict):
            answer["lot"]["custodian"] = answer["lot"]["custodian"]["address"]
        return answer

    monkeypatch.setattr(verify, "_get_json", flat_custodian)
    flat = _verify(demo, tmp_path, url)
    monkeypatch.undo()
    assert flat.exit_code == 1 and "✗ current custodian" in flat.output, flat.output
    assert "(the gateway shows None)" in flat.output and "Traceback" not in flat.output

    # The gateway's lot file is damaged: its proof no longer reaches the root on chain.
    (lot_file,) = (tmp_path / "data" / "lots").glob(f"*/{SKINCARE_LOT.item_id.hex()}.otl")
    data = bytearray(lot_file.read_bytes())
    data[-40] ^= 0xFF
    lot_file.write_bytes(bytes(data))
    time.sleep(0.01)
    lying = _verify(demo, tmp_path, url)
    assert lying.exit_code == 1 and "✗ the registry accepts" in lying.output, lying.output

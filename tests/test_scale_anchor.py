"""`origintrace lots anchor` on anvil: killed and rerun, every lot is anchored exactly once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from test_scale_store import make_block
from web3 import Web3
from web3.contract import Contract

from app.chain.client import send
from app.chain.deploy import Deployment
from app.chain.devnet import Devnet
from app.core.config import Settings, lot_store
from app.demo.journey import Member, admit_members
from app.scale.manifest import LotBlock, write_otm
from app.scale.store import lot_path, read_header

CLI = Path(sys.executable).parent / "origintrace"
LOTS = 12
LOT_SIZE = 3_000


@pytest.fixture
def env(
    tmp_path: Path,
    devnet: Devnet,
    w3: Web3,
    contract: Contract,
    operator: LocalAccount,
    members: dict[str, Member],
) -> dict[str, str]:
    admit_members(w3, contract, operator, members)
    environment = {
        **os.environ,
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_PASSPHRASE": "anchor passphrase",
        "ORIGINTRACE_RPC_URL": devnet.rpc_url,
        "ORIGINTRACE_DATA_DIR": str(tmp_path / "data"),
    }
    key = members["brand"].account.key.hex()
    subprocess.run(
        [CLI, "accounts", "import", "brand"], input=key + "\n", text=True, env=environment, check=True
    )
    return environment


def blocks() -> list[LotBlock]:
    return [make_block(LOT_SIZE + lot, lot=f"RUN-{lot:02d}") for lot in range(LOTS)]


def anchor_command(manifest: Path, deployment: Deployment, *extra: str) -> list[str]:
    command = [str(CLI), "lots", "anchor", "--manifest", str(manifest), "--account", "brand"]
    return [*command, "--registry", deployment.registry, *extra]


def test_killed_mid_run_then_rerun_anchors_each_lot_once(
    tmp_path: Path, env: dict[str, str], w3: Web3, contract: Contract, deployment: Deployment
) -> None:
    lots = blocks()
    manifest = tmp_path / "lots.otm"
    write_otm(manifest, lots)
    command = anchor_command(manifest, deployment, "--lots-per-tx", "1", "--workers", "1")
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while (
            contract.functions.lotOf(lots[0].lot_id).call()[0] == b"\0" * 32 and time.monotonic() < deadline
        ):
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    anchored_before = sum(contract.functions.lotOf(b.lot_id).call()[0] != b"\0" * 32 for b in lots)
    assert 1 <= anchored_before < LOTS  # killed in the middle of the run

    rerun = subprocess.run(command, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert (
        f"{LOTS} lots" in rerun.stdout
        and f"{LOTS - anchored_before} lots now, {anchored_before} already on chain" in rerun.stdout
    )

    store = lot_store(
        Settings(data_dir=Path(env["ORIGINTRACE_DATA_DIR"])), deployment.chain_id, deployment.registry
    )
    anchored = contract.events.LotAnchored().get_logs(from_block=deployment.deploy_block)
    assert sorted(e.args.lotId for e in anchored) == sorted(b.lot_id for b in lots)  # each exactly once
    for block in lots:
        header = read_header(store / f"{block.lot_id.hex()}.otl")
        assert header is not None and header.count == block.count
        assert contract.functions.lotOf(block.lot_id).call()[:2] == [header.root, block.count]
    assert not list(store.glob("*.partial"))

    head = w3.eth.block_number
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and f"0 lots now, {LOTS} already on chain" in again.stdout
    assert w3.eth.block_number == head  # nothing sent


def test_a_lot_already_anchored_with_another_root_stops_the_run(
    tmp_path: Path,
    env: dict[str, str],
    contract: Contract,
    w3: Web3,
    deployment: Deployment,
    members: dict[str, Member],
) -> None:
    lots = blocks()[:3]
    send(
        w3,
        members["brand"].account,
        contract.functions.anchorLot(lots[1].lot_id, b"\1" * 32, 5, b"\0" * 32, ""),
    )
    manifest = tmp_path / "lots.otm"
    write_otm(manifest, lots)
    result = subprocess.run(anchor_command(manifest, deployment), env=env, capture_output=True, text=True)
    assert result.returncode == 2  # the manifest is what to fix, like a sub-lot number in use
    assert f"lot RUN-01 of {lots[1].gtin} is already anchored with root 0x{'01' * 32}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_changed_lot_leaves_the_anchored_lots_file_as_it_was(
    tmp_path: Path, env: dict[str, str], contract: Contract, deployment: Deployment
) -> None:
    """The stored tree of an anchored lot is what the gateway proves its items from: a rerun
    with that lot changed stops before replacing it."""
    first, changed = tmp_path / "first.otm", tmp_path / "changed.otm"
    write_otm(first, [make_block(40, lot="RUN-01")])
    write_otm(changed, [make_block(41, lot="RUN-01")])
    assert subprocess.run(anchor_command(first, deployment), env=env, capture_output=True).returncode == 0
    result = subprocess.run(anchor_command(changed, deployment), env=env, capture_output=True, text=True)
    assert (
        result.returncode == 2 and "lot RUN-01 of" in result.stderr and "is already anchored" in result.stderr
    )
    store = lot_store(
        Settings(data_dir=Path(env["ORIGINTRACE_DATA_DIR"])), deployment.chain_id, deployment.registry
    )
    lot_id = make_block(40, lot="RUN-01").lot_id
    stored = read_header(lot_path(store, lot_id))
    assert stored is not None and stored.count == 40
    assert stored.root == bytes(contract.functions.lotOf(lot_id).call()[0])


def test_a_bad_manifest_is_refused_before_anything_is_sent(
    tmp_path: Path, env: dict[str, str], w3: Web3, deployment: Deployment
) -> None:
    manifest = tmp_path / "lots.otm"
    write_otm(manifest, blocks()[:2])
    manifest.write_bytes(manifest.read_bytes()[:-3])
    head = w3.eth.block_number
    result = subprocess.run(anchor_command(manifest, deployment), env=env, capture_output=True, text=True)
    assert result.returncode == 2 and "block 2: the file ends inside a block" in result.stderr
    assert w3.eth.block_number == head

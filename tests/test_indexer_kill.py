"""SIGKILL the `origintrace index` process at random points of a backfill: restarts end exactly right."""

import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from test_indexer import dump

from app.chain.client import connect, dev_account
from app.chain.deploy import Deployment, deploy_registry, write_manifest
from app.chain.devnet import Devnet, running_devnet
from app.db.engine import make_engine
from app.db.schema import indexer_state
from app.indexer.follow import Indexer
from app.indexer.synthetic import generate_history

CLI = Path(sys.executable).parent / "origintrace"
KILLS = 3


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Devnet, Deployment, Path]]:
    """1,500 events (mostly 500-item packs) over some 40 blocks, and the manifest the CLI reads."""
    with running_devnet("anvil") as node:
        deployment = deploy_registry(connect(node.rpc_url), dev_account(0))
        generate_history(node.rpc_url, deployment.registry, 1_500, txs_per_block=2)
        manifest = write_manifest(deployment, tmp_path_factory.mktemp("deployments"))
        yield node, deployment, manifest


def _checkpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(indexer_state.c.last_block)).scalar() or -1)


def _start(node: Devnet, manifest: Path, db_url: str) -> subprocess.Popen[bytes]:
    command = [str(CLI), "index", "--manifest", str(manifest), "--rpc-url", node.rpc_url]
    command += ["--database-url", db_url, "--max-range", "1", "--no-progress"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_at_random_points_then_restart_equals_an_uninterrupted_run(
    history: tuple[Devnet, Deployment, Path], db_url: str, tmp_path: Path
) -> None:
    node, deployment, manifest = history
    engine = make_engine(db_url)
    head = connect(node.rpc_url).eth.block_number
    rng = random.Random()
    killed_at: list[int] = []
    try:
        for _ in range(KILLS):
            before = _checkpoint(engine)
            process = _start(node, manifest, db_url)
            try:
                deadline = time.monotonic() + 30
                while (
                    _checkpoint(engine) == before and process.poll() is None and time.monotonic() < deadline
                ):
                    time.sleep(0.01)
                time.sleep(rng.uniform(0, 0.15))  # a random moment inside the running backfill
                process.send_signal(signal.SIGKILL)
            finally:
                process.kill()
                process.wait()
            killed_at.append(_checkpoint(engine))
        finished = _start(node, manifest, db_url)
        _, stderr = finished.communicate(timeout=60)
        assert finished.returncode == 0, stderr.decode()
        assert b"backfill done" in stderr  # structured (JSON-lines) logs
    finally:
        engine.dispose()
    assert any(deployment.deploy_block <= block < head for block in killed_at), killed_at

    reference = make_engine(f"sqlite:///{tmp_path / 'uninterrupted.db'}")
    Indexer(node.rpc_url, reference, deployment).backfill(head)
    engine = make_engine(db_url)
    try:
        assert _checkpoint(engine) == head
        assert dump(engine) == dump(reference)
    finally:
        engine.dispose()

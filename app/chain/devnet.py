"""A local anvil devnet on 127.0.0.1 at a free port, stopped with its owner."""

import ctypes
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from app.core.config import PROJECT_ROOT

ANVIL = PROJECT_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's default mnemonic; its accounts are public and funded on every devnet."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: the kernel sends SIGTERM to anvil if its parent dies, even by SIGKILL.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


@dataclass
class Devnet:
    """A running anvil process."""

    process: subprocess.Popen[bytes]
    port: int
    chain_id: int

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], rpc_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"anvil exited with code {process.returncode} before answering")
        try:
            if requests.post(rpc_url, json=payload, timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"anvil did not answer on {rpc_url} within {timeout} s")


def start_anvil(chain_id: int = 31337, log_file: Path | None = None, timeout: float = 15) -> Devnet:
    """Start anvil on a free loopback port and wait until it answers JSON-RPC."""
    if not ANVIL.exists():
        raise FileNotFoundError(f"{ANVIL} is missing: run `make node_modules` (npm ci) first")
    port = free_port()
    args = [
        str(ANVIL),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
        "--mnemonic",
        DEV_MNEMONIC,
    ]
    output = log_file.open("ab") if log_file else subprocess.DEVNULL
    # Its own session: a terminal's Ctrl-C reaches only us, and we stop anvil last, in order.
    process = subprocess.Popen(
        args, stdout=output, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent, start_new_session=True
    )
    devnet = Devnet(process=process, port=port, chain_id=chain_id)
    try:
        _wait_until_ready(process, devnet.rpc_url, timeout)
    except BaseException:
        devnet.stop()
        raise
    return devnet


@contextmanager
def running_anvil(chain_id: int = 31337, log_file: Path | None = None) -> Iterator[Devnet]:
    """Context manager form of `start_anvil` that always stops anvil."""
    devnet = start_anvil(chain_id=chain_id, log_file=log_file)
    try:
        yield devnet
    finally:
        devnet.stop()

"""`origintrace serve`: worker processes that share the load, stop together, and one write per response."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from eth_utils.crypto import keccak
from web3 import Web3

from app.api.server import COALESCE_LIMIT, CoalescedWrites, PortInUse, check_port_free
from app.chain.client import dev_account, registry, send
from app.chain.deploy import Deployment, write_manifest
from app.chain.devnet import Devnet, free_port
from app.chain.handoffs import handoff_typed_data, sign_handoff
from app.chain.keystore import save_account
from app.demo.journey import Member, admit_members, hand_over

CLI = Path(sys.executable).parent / "origintrace"


@contextmanager
def serving(
    tmp_path: Path, workers: int, port: int, *args: str, **env_vars: str
) -> Iterator[subprocess.Popen[str]]:
    """`origintrace serve ARGS` over a fresh SQLite database, answering; stopped (also on failure)."""
    env = {
        **os.environ,
        "ORIGINTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "ORIGINTRACE_PORT": str(port),
        **env_vars,
    }
    process = subprocess.Popen(
        [str(CLI), "serve", "--workers", str(workers), *args],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a service manager starts it
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the gateway did not start: {process.communicate()[1]}") from None
                time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _workers(pid: int) -> list[int]:
    """The serve process's gateway workers (multiprocessing also starts a resource tracker)."""
    return [p for p in _children(pid) if "multiprocessing.spawn" in Path(f"/proc/{p}/cmdline").read_text()]


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (not gone, not a zombie awaiting its parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of the server side of established TCP connections to `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def test_two_workers_share_keep_alive_connections_and_stop_together(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, 2, port) as process:
        workers = _workers(process.pid)
        assert len(workers) == 2
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(16)]
        try:
            for client in clients:  # each keeps its connection open, as a CDN or a load generator does
                assert client.get("/healthz").status_code in (200, 503)
            established = _established_inodes(port)
            per_worker = [len(_socket_inodes(pid) & established) for pid in workers]
            # SO_REUSEPORT spreads connections by address hash: all 16 on one worker has odds of 2**-15.
            assert sum(per_worker) == 16 and min(per_worker) >= 1, per_worker
        finally:
            for client in clients:
                client.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert not [pid for pid in workers if _running(pid)]


def test_a_stop_signalled_to_every_process_at_once_is_a_clean_stop(tmp_path: Path) -> None:
    """systemd's default stop sends SIGTERM to the supervisor and its workers together: a
    worker ending first must not be taken for a crash."""
    port = free_port()
    with serving(tmp_path, 2, port) as process:
        workers = _workers(process.pid)
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "died" not in process.communicate()[1]
        assert not [pid for pid in workers if _running(pid)]


def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, 2, port) as process:
        workers = _workers(process.pid)
        process.kill()
        process.wait(timeout=10)
        deadline = time.monotonic() + 20
        while [pid for pid in workers if _running(pid)] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _running(pid)]
    # and the port is free for a restarted gateway: its own check, with SO_REUSEADDR as it binds.
    # A plain bind also fails while a closed connection on the port is in TIME_WAIT, and did in a
    # clean-clone run with every worker gone.
    check_port_free("127.0.0.1", port)


def test_a_dead_worker_stops_the_gateway_with_an_error(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, 2, port) as process:
        workers = _workers(process.pid)
        os.kill(workers[0], signal.SIGKILL)
        assert process.wait(timeout=30) == 1
        assert "a gateway worker died" in process.communicate()[1]
        assert not _running(workers[1])


def test_a_taken_port_is_an_error_saying_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "ORIGINTRACE_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}
        result = subprocess.run(
            [str(CLI), "serve", "--workers", "2", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert (
        f"127.0.0.1:{port} is already in use; choose a free port (--port or ORIGINTRACE_PORT)"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


class _RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0


def test_writes_of_one_event_loop_turn_leave_as_one() -> None:
    async def scenario() -> _RecordingTransport:
        transport = _RecordingTransport()
        coalesced = CoalescedWrites(transport, asyncio.get_running_loop())
        coalesced.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        coalesced.write(b"{}")
        assert transport.writes == []  # not before the turn ends
        await asyncio.sleep(0)
        coalesced.write(b"last")
        coalesced.close()  # a close sends what is pending first
        return transport

    transport = asyncio.run(scenario())
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}", b"last"]
    assert transport.closed


def test_large_writes_are_not_held_back() -> None:
    """A streamed body must reach the real transport, whose flow control pauses the sender."""

    async def scenario() -> _RecordingTransport:
        transport = _RecordingTransport()
        coalesced = CoalescedWrites(transport, asyncio.get_running_loop())
        coalesced.write(b"x" * COALESCE_LIMIT)  # nothing pending: straight through
        assert len(transport.writes) == 1
        for _ in range(4):
            coalesced.write(b"y" * (COALESCE_LIMIT // 4))  # the fourth fills the buffer: flushed
        assert len(transport.writes) == 2 and coalesced.get_write_buffer_size() == 0
        return transport

    transport = asyncio.run(scenario())
    assert [len(w) for w in transport.writes] == [COALESCE_LIMIT, COALESCE_LIMIT]


def test_one_worker_serves_in_process(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, 1, port) as process:
        assert _workers(process.pid) == []
        url = f"http://127.0.0.1:{port}/01/09506000134352/21/NOPE"
        response = httpx.get(url, headers={"Accept": "application/json"})
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0  # a stop, not a death by the signal uvicorn raises again


def test_one_worker_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    with serving(tmp_path, 1, free_port()) as process:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert "Traceback" not in process.communicate()[1]


def test_an_unreachable_database_is_an_error_saying_which_setting() -> None:
    env = {**os.environ, "ORIGINTRACE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/none"}
    result = subprocess.run(
        [str(CLI), "serve", "--workers", "2", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot open or write the database (ORIGINTRACE_DATABASE_URL)" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_address_not_of_this_machine_is_not_called_a_taken_port() -> None:
    port = free_port()
    with pytest.raises(PortInUse) as raised:
        check_port_free("192.0.2.1", port)  # TEST-NET-1: never an address of this machine
    assert "192.0.2.1 is not an address of this machine" in str(raised.value)
    assert "already in use" not in str(raised.value)


def test_serve_relays_from_a_keystore_account_in_every_worker(
    tmp_path: Path,
    devnet: Devnet,
    w3: Web3,
    deployment: Deployment,
    operator,
    members: dict[str, Member],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    """Two handoffs relayed at once, over two connections to a two-worker gateway: both are sent,
    each with its own nonce of the relayer (the workers take turns through a lock file)."""
    contract = registry(w3, deployment.registry)
    admit_members(w3, contract, operator, members)
    brand, carrier, customs, retailer = (
        members[r].account for r in ("brand", "carrier", "customs", "retailer")
    )
    items = [keccak(text=f"served relay {n}") for n in range(2)]
    send(w3, brand, contract.functions.registerItems(items, items, "ipfs://served"))
    hand_over(w3, contract, items[1], brand, customs)
    write_manifest(deployment, tmp_path)
    env = {
        "APE_DATA_FOLDER": str(tmp_path / "ape"),
        "ORIGINTRACE_PASSPHRASE": "relayer passphrase",
        "ORIGINTRACE_RPC_URL": devnet.rpc_url,
        "ORIGINTRACE_DEPLOYMENTS_DIR": str(tmp_path),
        "ORIGINTRACE_DATA_DIR": str(tmp_path / "data"),
    }
    relayer = dev_account(9)
    monkeypatch.setenv("APE_DATA_FOLDER", env["APE_DATA_FOLDER"])
    save_account("relayer", relayer, env["ORIGINTRACE_PASSPHRASE"])
    missing = subprocess.run(
        [str(CLI), "serve", "--relayer", "nobody", "--port", str(free_port())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "cannot relay from 'nobody': no account named" in missing.stderr
    port = free_port()
    deadline = w3.eth.get_block("latest")["timestamp"] + 3600
    bodies = []
    for item, giver, taker in ((items[0], brand, carrier), (items[1], customs, retailer)):
        typed = handoff_typed_data(contract, item, giver.address, taker.address, deadline)
        bodies.append(
            {
                "ids": ["0x" + item.hex()],
                "from": giver.address,
                "to": taker.address,
                "deadline": deadline,
                "from_signature": "0x" + sign_handoff(giver, typed).hex(),
                "to_signature": "0x" + sign_handoff(taker, typed).hex(),
            }
        )
    with serving(tmp_path, 2, port, "--relayer", "relayer", **env):

        def relay(body: dict[str, object]) -> httpx.Response:
            with httpx.Client() as client:  # a connection of its own: the kernel picks the worker
                return client.post(f"http://127.0.0.1:{port}/api/v1/relay/handoffs", json=body, timeout=30)

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(relay, bodies))
    assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
    receipts = [w3.eth.wait_for_transaction_receipt(a.json()["tx_hash"]) for a in answers]
    assert all(r["status"] == 1 and r["from"] == relayer.address for r in receipts)
    nonces = {w3.eth.get_transaction(a.json()["tx_hash"])["nonce"] for a in answers}
    assert len(nonces) == 2
    assert [contract.functions.custodianOf(i).call() for i in items] == [carrier.address, retailer.address]

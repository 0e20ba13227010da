"""Serving the gateway: uvicorn in one or more worker processes, each accepting on its own socket.

`uvicorn --workers N` shares one listening socket between its workers, and whichever worker
is awake accepts whatever connections are waiting. Clients that keep their connections open
(a CDN, a mobile carrier's proxy, a load generator) then often land on one worker while the
others idle: on two cores, 16 keep-alive connections all went to one of two workers in about
one run of three. Here each worker listens on its own socket bound to the same address with
SO_REUSEPORT, so the kernel spreads new connections over the workers by their address hash,
as nginx's `reuse_port` does.

Each worker also sends a response in one write: uvicorn writes the status line and headers,
then the body, and on loopback or a busy host each write wakes the reader separately (on the
bench machine 73 µs of every uncached lookup went to its two writes). `CoalescingHttpProtocol`
holds the writes of one event-loop turn and sends them together at the end of it.

The parent binds every socket before it starts a worker (a taken port is reported at once)
and only supervises: SIGTERM or Ctrl-C stops every worker gracefully; a worker that dies
stops the others too, and the command exits non-zero so a service manager restarts the lot.
"""

import asyncio
import contextlib
import ctypes
import errno
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.api.main import create_app
from app.api.places import PlaceDirectory
from app.core.config import Settings
from app.db.engine import make_engine
from app.relayer.setup import RelayerSetup

log = logging.getLogger(__name__)

BACKLOG = 2048
PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal a process gets when its parent dies."""
STOP_TIMEOUT_S = 10.0
"""How long stopping workers may take to finish their requests before they are killed."""
COALESCE_LIMIT = 65536
"""Bytes a connection holds back to send in one write (uvicorn's own high-water mark)."""


class PortInUse(RuntimeError):
    """The gateway cannot listen on its address: the port is taken, the host is not this
    machine's, ...; the message says which and what to set."""


def _cannot_listen(host: str, port: int, exc: OSError) -> PortInUse:
    if exc.errno == errno.EADDRINUSE:
        return PortInUse(f"{host}:{port} is already in use; choose a free port (--port or ORIGINTRACE_PORT)")
    if exc.errno == errno.EADDRNOTAVAIL:
        return PortInUse(
            f"{host} is not an address of this machine; set ORIGINTRACE_HOST (or --host) to one of its"
            " addresses, e.g. 127.0.0.1 or 0.0.0.0"
        )
    return PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_port_free(host: str, port: int) -> None:
    """Raise PortInUse, saying what to do, when `host:port` is taken (also by SO_REUSEPORT sockets)."""
    with socket.socket(_family(host)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise _cannot_listen(host, port, exc) from None


def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on `host:port`, each with SO_REUSEPORT when there are several."""
    check_port_free(host, port)
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(_family(host))
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if count > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise _cannot_listen(host, port, exc) from None
    return sockets


class CoalescedWrites(asyncio.Transport):
    """`transport`, except that what is written in one event-loop turn is sent as one write
    at the end of it (before any close), like TCP_CORK without the extra system calls.

    At most COALESCE_LIMIT bytes wait: a larger write, or one that fills the buffer, goes out
    at once, so the real transport's flow control (pause_writing) still sees a streamed body.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport, self._loop, self._pending = transport, loop, bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            if len(data) >= COALESCE_LIMIT:
                self._transport.write(data)
                return
            self._loop.call_soon(self.flush)
        self._pending += data
        if len(self._pending) >= COALESCE_LIMIT:
            self.flush()

    def flush(self) -> None:
        if self._pending and not self._transport.is_closing():
            self._transport.write(bytes(self._pending))
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return len(self._pending) + self._transport.get_write_buffer_size()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()


class CoalescingHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, sending each response's header and body in one write."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescedWrites(transport, self.loop))


def run_server(app: Any, sockets: list[socket.socket], on_started: Callable[[], None] | None = None) -> None:
    """Serve the ASGI `app` on `sockets` (uvloop when installed) until SIGINT/SIGTERM."""
    config = uvicorn.Config(
        app, http=CoalescingHttpProtocol, ws="none", log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    if on_started is not None:

        def announce() -> None:
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                on_started()

        threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=sockets)


def _app(settings: Settings, relayer: RelayerSetup | None) -> Any:
    """The gateway app of one process; with `relayer`, it relays from that account."""
    if relayer is None:
        return create_app(settings)
    engine = make_engine(settings.resolved_database_url)
    return create_app(settings, engine, relayer.relayer(settings, engine))


def _worker(settings: Settings, sock: socket.socket, parent: int, relayer: RelayerSetup | None) -> None:
    _stop_with_parent(parent)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches workers too; uvicorn re-raises it
        run_server(_app(settings, relayer), [sock])


def _stop_with_parent(parent: int) -> None:
    """Have the kernel send this worker SIGTERM when its supervisor dies (Linux), so a killed
    `serve` leaves no workers holding the port."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before that was set
        os._exit(0)


def serve(
    settings: Settings,
    workers: int,
    on_started: Callable[[], None] | None = None,
    relayer: RelayerSetup | None = None,
) -> int:
    """Serve the gateway of `settings` with `workers` processes (1: in this process) until
    SIGINT/SIGTERM; 0 when stopped that way, 1 when a worker died. With `relayer` every
    process relays from that account (a lock file in the data folder orders their nonces)."""
    sockets = bind_sockets(settings.host, settings.port, workers)
    if settings.region_header is None:
        log.info(
            "clone defence: scan regions unknown (set ORIGINTRACE_REGION_HEADER to the country "
            "header your CDN sets on every request, e.g. CF-IPCountry)"
        )
    if workers == 1:
        # uvicorn stops on SIGTERM/SIGINT, then raises the signal again with the handler it found:
        # a no-op for SIGTERM (and KeyboardInterrupt caught for SIGINT) makes that a clean exit.
        previous = signal.signal(signal.SIGTERM, lambda *_: None)
        try:
            run_server(_app(settings, relayer), sockets, on_started)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            sockets[0].close()
        return 0
    try:  # what would stop every worker is checked once, here: the place directory, the schema
        PlaceDirectory.load(settings.places_file)
        make_engine(settings.resolved_database_url).dispose()  # migrated once, not by racing workers
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    context = multiprocessing.get_context("spawn")
    processes = []
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        for sock in sockets:
            process = context.Process(
                target=_worker, args=(settings, sock, os.getpid(), relayer), name="gateway-worker"
            )
            process.start()
            processes.append(process)
            sock.close()  # the worker holds it now; a dead worker's socket then gets no connections
        if on_started is not None:
            on_started()  # connections queue in the sockets' backlogs until the workers accept
        while not stopping.is_set():
            ended = wait([p.sentinel for p in processes], timeout=0.2)
            if ended and not stopping.is_set():  # (a service manager may stop the workers too)
                dead = next(p for p in processes if p.sentinel in ended)
                dead.join(STOP_TIMEOUT_S)
                log.error("gateway worker %s exited with %s; stopping", dead.pid, dead.exitcode)
                return 1
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for sock in sockets:
            sock.close()
        _stop(processes)
        signal.signal(signal.SIGTERM, previous)


def _stop(processes: list[Any]) -> None:
    """SIGTERM every live worker (uvicorn finishes its requests), then kill what is left."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()

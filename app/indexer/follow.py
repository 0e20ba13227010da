"""Follow the registry's events from the deploy block to the chain head, through reorgs and RPC faults."""

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import requests
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from web3 import Web3

from app.chain.artifacts import artifact
from app.chain.deploy import Deployment
from app.core.config import get_settings
from app.indexer.decode import DecodedLog, LogDecoder, UndecodableLog, record_ids
from app.indexer.rpc import RpcClient, RpcError
from app.indexer.store import (
    Batch,
    CheckpointMoved,
    apply_range,
    mark_head,
    next_block,
    record_error,
    stored_block_hashes,
)

log = logging.getLogger(__name__)

MIN_RANGE = 1
RETRY_BACKOFF_S = (0.5, 1, 2, 5, 10)
PROBE_AFTER = 20
"""Successful ranges after which ranges may grow past the ceiling a failure set (a probe: the
log density, or the provider, may have changed)."""
PROBE_AFTER_MAX = 640
"""Each failed probe doubles the wait for the next, up to this: against a steady cap, about one
range in PROBE_AFTER_MAX fails, and a drop in density is still found within as many ranges."""
HEARTBEAT_S = 1.0
HEADER_BATCH = 50
"""Block headers asked for in one JSON-RPC batch: the reorg window's (65 at 12 confirmations)
are read together, and public providers cap a batch (often at 100, some lower)."""
MAX_RACES = 5
"""Reads of one range in a row that the chain changed under before `backfill` gives up on it
(a fault, retried with backoff)."""
FIRST_RANGE = 100
"""Blocks of the first range; later ranges grow (or shrink) with the log density seen."""
TARGET_CHANGES = 20_000
"""Record changes per range the sizing aims at: big enough to amortise a transaction, small
enough to stream. A batch event counts each record it names (a 500-item registration is 500),
so a run of batch blocks does not make the next range of one-change events 500 times too big."""

BULK_GC_THRESHOLD = 100_000
"""Allocations between collections of the youngest generation while ranges are read (700 by
default): a range allocates hundreds of thousands of objects, none of them in a cycle, and
each collection walks them all. About 10 % of a SQLite backfill's time (bench-index)."""

T = TypeVar("T")

ProgressCallback = Callable[[int, int, int], None]
"""Called after each stored range with (first block, last block, events stored)."""


_bulk_lock = threading.Lock()
_bulk_users = 0
_threshold_before: tuple[int, ...] = ()


@contextmanager
def _bulk_allocation() -> Iterator[None]:
    """Collect cyclic garbage less often meanwhile (see BULK_GC_THRESHOLD). The setting is
    process-wide: the last of several indexers (threads) to leave restores it."""
    global _bulk_users, _threshold_before
    with _bulk_lock:
        if _bulk_users == 0:
            _threshold_before = gc.get_threshold()
            gc.set_threshold(max(_threshold_before[0], BULK_GC_THRESHOLD), *_threshold_before[1:])
        _bulk_users += 1
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk_users -= 1
            if _bulk_users == 0:
                gc.set_threshold(*_threshold_before)


class ReorgTooDeep(RuntimeError):
    """The chain no longer contains any block whose hash the indexer kept."""


class RangeRaced(RuntimeError):
    """The chain changed while a range was read; it is read again."""


class HeadersUnavailable(RuntimeError):
    """Block headers a range needs could not be read: not a range-size problem, so it is not
    answered by shrinking the range (`retrying` tries again with backoff)."""


class TimestampsUnavailable(HeadersUnavailable):
    """The block headers giving a range's timestamps could not be read."""


class Stopped(Exception):
    """The stop event was set before the work being retried succeeded."""


def public_reason(exc: Exception) -> str:
    """What /healthz may show of an indexer failure: this module's own messages, otherwise only
    the kind of failure. HTTP and driver errors quote the URL they failed on, and a provider's
    RPC URL often carries an API key."""
    kind = type(exc).__name__
    if isinstance(exc, ReorgTooDeep | RangeRaced):
        return f"{kind}: {exc}"
    if isinstance(exc, RpcError):
        return f"{kind}: the node answered error {exc.code}"
    if isinstance(exc, requests.RequestException | orjson.JSONDecodeError | HeadersUnavailable):
        return f"{kind}: the chain's node did not answer, or not with JSON-RPC"
    if isinstance(exc, SQLAlchemyError):
        return f"{kind}: the database failed"
    return kind


@dataclass(frozen=True)
class RangeRead:
    """One block range's logs as eth_getLogs returned them, and decoded."""

    raw: list[dict[str, Any]]
    logs: list[DecodedLog]
    undecodable: list[dict[str, Any]]
    changes: int
    """Record changes in the range: one per log, a batch event one per record it names."""
    anchor: dict[str, Any] | None = None
    """Header of the range's last block, read before eth_getLogs if the range reaches into the
    reorg window: the same hash after the read means the logs are all of one chain."""


class Indexer:
    """Reads eth_getLogs in adaptive block ranges and stores each range atomically.

    Blocks within `reorg_window` of the head keep their hashes; before each range the
    previous block's hash is compared with the chain's, and a mismatch rolls the index back
    to the fork point in the same transaction that stores the new range.
    """

    def __init__(
        self,
        w3: Web3 | str,
        engine: Engine,
        deployment: Deployment,
        max_range: int = 2000,
        *,
        confirmations: int | None = None,
        rpc: RpcClient | None = None,
        on_range: ProgressCallback | None = None,
        replace: bool = False,
    ) -> None:
        url = w3 if isinstance(w3, str) else str(getattr(w3.provider, "endpoint_uri", ""))
        self.rpc = rpc or RpcClient(url)
        self.engine = engine
        self.deployment = deployment
        self.decoder = LogDecoder(artifact("OriginRegistry").abi)
        self.max_range = max_range
        self.range = min(max_range, FIRST_RANGE)
        self.ceiling = max_range
        self._successes = 0
        self._probe_after = PROBE_AFTER
        self._probing: int | None = None
        """The ceiling before it was lifted, while that probe has not yet shown whether it holds."""
        depth = get_settings().confirmations if confirmations is None else confirmations
        self.reorg_window = max(64, 4 * depth)
        self.on_range = on_range
        self.next_block = next_block(engine, deployment, replace)
        self._hashes = stored_block_hashes(engine, deployment.chain_id)
        self._resume_needed = False
        self._last_heartbeat = 0.0
        self._executor: ThreadPoolExecutor | None = None
        self._ahead: tuple[int, int, Future[RangeRead]] | None = None

    # ------------------------------------------------------------------ chain reads

    def head(self) -> int:
        return int(self.rpc.call("eth_blockNumber", []), 16)

    def _headers(self, numbers: list[int]) -> dict[int, dict[str, Any] | None]:
        """Headers of `numbers`, HEADER_BATCH to a JSON-RPC batch (providers cap batches)."""
        headers: dict[int, dict[str, Any] | None] = {}
        for at in range(0, len(numbers), HEADER_BATCH):
            part = numbers[at : at + HEADER_BATCH]
            results = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in part])
            headers.update(zip(part, results, strict=True))
        return headers

    def _get_logs(self, start: int, end: int) -> list[dict[str, Any]]:
        params = {"address": self.deployment.registry, "fromBlock": hex(start), "toBlock": hex(end)}
        logs: list[dict[str, Any]] = self.rpc.call("eth_getLogs", [params])
        return logs

    def _timestamps(self, raw_logs: list[dict[str, Any]]) -> dict[str, int]:
        stamps: dict[str, int] = {}
        missing: set[str] = set()
        for entry in raw_logs:
            block_hash = entry["blockHash"]
            if block_hash not in stamps:
                stamp = entry.get("blockTimestamp")
                if stamp:
                    stamps[block_hash] = int(stamp, 16)
                else:
                    missing.add(block_hash)
        ordered = sorted(missing - stamps.keys())
        blocks = self.rpc.batch([("eth_getBlockByHash", [h, False]) for h in ordered])
        for block_hash, block in zip(ordered, blocks, strict=True):
            if block is None:
                raise RangeRaced(f"block {block_hash} vanished while reading its logs")
            stamps[block_hash] = int(block["timestamp"], 16)
        return stamps

    # ------------------------------------------------------------------ one range

    def _decode(self, raw_logs: list[dict[str, Any]]) -> tuple[list[DecodedLog], list[dict[str, Any]]]:
        stamps = self._timestamps(raw_logs)
        decode = self.decoder.decode
        decoded: list[DecodedLog] = []
        undecodable: list[dict[str, Any]] = []
        for raw in raw_logs:
            try:
                decoded.append(decode(raw, stamps[raw["blockHash"]]))
            except UndecodableLog as exc:
                log.warning("skipping undecodable log: %s", exc, extra={"tx": raw.get("transactionHash")})
                topics = raw.get("topics") or [None]
                undecodable.append(
                    {
                        "block_number": int(raw["blockNumber"], 16),
                        "block_hash": raw["blockHash"],
                        "tx_hash": raw["transactionHash"],
                        "log_index": int(raw["logIndex"], 16),
                        "topic0": topics[0],
                        "data": raw.get("data", "0x"),
                        "reason": str(exc),
                    }
                )
        return decoded, undecodable

    def _anchor(self, end: int) -> dict[str, Any]:
        """The header of `end`, read before its range's logs (see `_check_unraced`)."""
        try:
            header = self._headers([end])[end]
        except (RpcError, requests.RequestException, orjson.JSONDecodeError) as exc:
            raise HeadersUnavailable(f"block {end}: {exc}") from exc
        if header is None:
            raise RangeRaced(f"block {end} vanished before its range was read")
        return header

    def _read(self, start: int, end: int, anchored: bool = False) -> RangeRead:
        """Read and decode start..end; `anchored` (the range reaches into the reorg window)
        reads the header of `end` first, so a reorg during the read can be told afterwards."""
        anchor = self._anchor(end) if anchored and end >= start else None
        raw = self._get_logs(start, end) if end >= start else []
        try:
            logs, undecodable = self._decode(raw)
        except (RpcError, requests.RequestException, orjson.JSONDecodeError) as exc:
            raise TimestampsUnavailable(f"blocks {start}-{end}: {exc}") from exc
        positions = [(e.block_number, e.log_index) for e in logs]
        if positions != sorted(positions):  # handlers apply logs in chain order; not every node sends them so
            logs.sort(key=lambda e: (e.block_number, e.log_index))
        changes = len(undecodable) + sum(max(1, len(record_ids(e))) for e in logs)
        return RangeRead(raw, logs, undecodable, changes, anchor)

    def _take_ahead(self, start: int, end: int) -> tuple[int, Future[RangeRead] | None]:
        """The range to index next: the one read ahead if it starts at `start` (it may end
        before `end`, at the last final block), with its pending read; else start..end, None."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == start and ahead[1] <= end:
            return ahead[1], ahead[2]
        return end, None

    def _read_ahead(self, start: int, head: int) -> None:
        """Start reading and decoding the range from `start` while the one before it is
        written, as far as its blocks are final. The database write releases the GIL, so the
        two overlap.

        Only final blocks (below the reorg window) are read ahead, so a reorg never meets
        stale data; a range reaching into the window ends early and the rest follows. If the
        write fails, the next range starts elsewhere and the read is dropped (`_take_ahead`).
        """
        end = min(head - self.reorg_window - 1, start + self.range - 1)
        if self._executor is not None and start <= end:
            self._ahead = (start, end, self._executor.submit(self._read, start, end))

    def _fork_point(self) -> int:
        """Highest kept block whose hash the chain still has."""
        numbers = sorted(self._hashes, reverse=True)
        headers = self._headers(numbers)
        for number in numbers:
            header = headers[number]
            if header is not None and header["hash"] == self._hashes[number]:
                return number
        raise ReorgTooDeep(
            f"reorg deeper than the {self.reorg_window} kept blocks (below block {min(numbers, default=0)}); "
            "re-index from scratch with a fresh database"
        )

    def _check_reorg(self) -> int | None:
        """The fork point if the last indexed block is no longer on the chain, else None."""
        previous = self.next_block - 1
        if previous not in self._hashes:
            return None
        header = self._headers([previous])[previous]
        if header is not None and header["hash"] == self._hashes[previous]:
            return None
        fork = self._fork_point()
        log.warning("reorg detected at block %d; fork point %d", previous, fork)
        return fork

    def _shrink(self, start: int, end: int, exc: Exception) -> None:
        """Halve the range after start..end failed, and make the half the ceiling: it is what
        is tried next, and growing back to near the failed size would fail again (a provider's
        cap is mostly steady). A failed probe doubles the wait before the next one."""
        size = end - start + 1
        if size <= MIN_RANGE:
            raise exc
        if self._probing is not None:
            self._probing = None
            self._probe_after = min(PROBE_AFTER_MAX, 2 * self._probe_after)
        self.range = self.ceiling = max(MIN_RANGE, size // 2)
        self._successes = 0
        log.info("eth_getLogs %d-%d failed (%s); range now %d blocks", start, end, exc, self.range)

    def _probe(self, blocks: int) -> None:
        """After a range of `blocks` blocks worked: a range larger than the ceiling it was
        lifted from means the probe succeeded (the short wait is back); after `_probe_after`
        successes under a ceiling, lift it."""
        if self._probing is not None and blocks > self._probing:
            self._probing, self._probe_after = None, PROBE_AFTER
        if self.ceiling < self.max_range and self._successes >= self._probe_after:
            self._probing, self.ceiling, self._successes = self.ceiling, self.max_range, 0

    def _grow(self, blocks: int, changes: int) -> None:
        """Size the next range after one of `blocks` blocks: double it, but aim at
        TARGET_CHANGES record changes at the density just seen, within the ceiling."""
        self._successes += 1
        self._probe(blocks)
        wanted = self.range * 2
        if changes:
            wanted = min(wanted, max(1, blocks) * TARGET_CHANGES // changes)
        self.range = max(MIN_RANGE, min(self.ceiling, self.max_range, wanted))

    def _recent_hashes(
        self, start: int, end: int, head: int, read: RangeRead
    ) -> list[tuple[int, str, str | None]]:
        """Hashes of the range's non-final blocks, every one of them, read in one batch after
        the logs and checked against them (`_check_unraced`). Every one: a fork point is the
        highest kept block the chain still has, so a block left out (one without logs, say) is
        a fork point that cannot be found, and a shallow reorg would look deeper than the window."""
        keep_from = head - self.reorg_window
        if end < keep_from:
            return []
        numbers = set(range(max(start, keep_from), end + 1))
        if start - 1 in self._hashes:
            numbers.add(start)
        headers = self._headers(sorted(numbers))
        self._check_unraced(start, end, read, headers)
        return [
            (n, h["hash"], h.get("parentHash"))
            for n, h in headers.items()
            if h is not None and n >= keep_from
        ]

    def _check_unraced(
        self, start: int, end: int, read: RangeRead, headers: dict[int, dict[str, Any] | None]
    ) -> None:
        """Raise RangeRaced unless the headers read after the logs show the chain they came
        from, on top of the indexed blocks: `end` kept the hash it had before eth_getLogs (a
        block replaced meanwhile changes it, even one without logs), each log's block kept the
        log's hash, and `start`'s parent is the kept hash of `start - 1` (a reorg since
        `_check_reorg` may have replaced it). `backfill` then reads again, and the next
        `_check_reorg` finds the fork."""
        last = headers.get(end)
        if last is None or (read.anchor is not None and last["hash"] != read.anchor["hash"]):
            raise RangeRaced(f"block {end} changed or vanished while its range was read")
        for raw in read.raw:
            header = headers.get(int(raw["blockNumber"], 16))
            if header is not None and header["hash"] != raw["blockHash"]:
                raise RangeRaced(f"block {int(raw['blockNumber'], 16)} changed while its logs were read")
        parent = self._hashes.get(start - 1)
        first = headers.get(start)
        if parent is not None and (first is None or first.get("parentHash") != parent):
            raise RangeRaced(f"block {start} no longer follows the indexed block {start - 1}")

    def _resume(self) -> None:
        """Start again from the stored checkpoint and block hashes: after a failure, what this
        indexer holds in memory may be ahead of the database (a commit lost in a database
        crash) or behind it (another indexer wrote)."""
        self.next_block = next_block(self.engine, self.deployment, clear=False)
        self._hashes = stored_block_hashes(self.engine, self.deployment.chain_id)
        self._ahead = None
        self._resume_needed = False

    def sync_once(self, head: int) -> int:
        """Index one range up to at most `head`; return the number of blocks covered."""
        if self._resume_needed:
            self._resume()
        fork = self._check_reorg()
        start = self.next_block if fork is None else fork + 1
        end = min(head, start + self.range - 1)
        if end < start and fork is None:
            return 0
        end, ahead = self._take_ahead(start, end)
        try:
            anchored = end >= head - self.reorg_window
            read = ahead.result() if ahead is not None else self._read(start, end, anchored)
        except (RpcError, requests.RequestException, orjson.JSONDecodeError) as exc:
            # Provider caps (results, block span), timeouts, cut-off or oversized answers.
            self._shrink(start, end, exc)
            return 0
        batch = Batch(
            last_block=max(end, start - 1),
            head=head,
            follows=self.next_block - 1,
            logs=read.logs,
            undecodable=read.undecodable,
            block_hashes=self._recent_hashes(start, end, head, read) if end >= start else [],
            rollback_to=fork,
            keep_from=head - self.reorg_window,
        )
        self._grow(end - start + 1, read.changes)
        self._read_ahead(batch.last_block + 1, head)
        try:
            apply_range(self.engine, self.deployment, batch)
        except CheckpointMoved as exc:
            log.warning("%s", exc)
            self._resume_needed = True
            return 0
        if fork is not None:
            self._hashes = {n: h for n, h in self._hashes.items() if n <= fork}
        self._hashes.update((n, h) for n, h, _ in batch.block_hashes)
        self._hashes = {n: h for n, h in self._hashes.items() if n >= batch.keep_from}
        self.next_block = batch.last_block + 1
        if self.on_range is not None:
            self.on_range(start, end, len(read.logs))
        return max(0, end - start + 1)

    # ------------------------------------------------------------------ loops

    def backfill(self, up_to: int | None = None) -> int:
        """Index until block `up_to` (default: the current head); return the last indexed block.

        Even with nothing new to read, the last indexed block's hash is checked, so a reorg
        to a chain of the same or smaller height is rolled back too.
        """
        target = self.head() if up_to is None else up_to
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="getlogs")
        raced = 0
        try:
            with _bulk_allocation():
                while True:
                    try:
                        self.sync_once(target)
                        raced = 0
                    except RangeRaced as exc:
                        # A reorg during the read: read again at once. A node that keeps
                        # contradicting itself (logs of one backend, headers of another) is a
                        # fault: `retrying` backs off, warns and tells /healthz.
                        raced += 1
                        if raced >= MAX_RACES:
                            raise
                        log.info("range read again: %s", exc)
                        target = min(target, self.head())  # the chain may have become shorter
                        continue
                    if self.next_block > target:
                        return self.next_block - 1
        finally:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor, self._ahead = None, None

    def poll(self) -> None:
        """Catch up with the current head, then record it (at most once per HEARTBEAT_S when idle)."""
        head = self.head()
        before = self.next_block
        self.backfill(head)
        now = time.monotonic()
        if self.next_block != before or now - self._last_heartbeat >= HEARTBEAT_S:
            mark_head(self.engine, self.deployment, head, synced=self.next_block > head)
            self._last_heartbeat = now

    def run(self, stop: threading.Event, poll_interval: float = 0.25) -> None:
        """Follow the head until `stop` is set; faults are retried with backoff (`retrying`)."""
        while not stop.is_set():
            try:
                self.retrying(self.poll, stop)
            except Stopped:
                return
            stop.wait(poll_interval)

    def retrying(self, work: Callable[[], T], stop: threading.Event) -> T:
        """`work()`, tried again with backoff until it succeeds: RPC (or database) faults are
        never fatal, in the backfill as while following. Raises Stopped once `stop` is set;
        KeyboardInterrupt (Ctrl-C) is no Exception, so it ends a wait at once."""
        failures = 0
        while not stop.is_set():
            try:
                return work()
            except Exception as exc:
                failures += 1
                self._resume_needed = True
                self._back_off(exc, failures, stop)
        raise Stopped

    def _back_off(self, exc: Exception, failures: int, stop: threading.Event) -> None:
        """Warn of failure number `failures` in a row, record it in the checkpoint row so
        /healthz can say why the index lags (the next range stored or head seen clears it),
        and wait the failure's RETRY_BACKOFF_S delay, or until `stop` is set."""
        delay = RETRY_BACKOFF_S[min(failures, len(RETRY_BACKOFF_S)) - 1]
        log.warning(
            "indexer error (retry %d in %.1f s): %s",
            failures,
            delay,
            exc,
            extra={"retry_in_s": delay, "failures": failures},
        )
        try:
            record_error(self.engine, self.deployment, public_reason(exc))
        except Exception as db_exc:  # the database may be what fails
            log.debug("could not record the indexer error: %s", db_exc)
        stop.wait(delay)

"""Follow the registry's events from the deploy block to the chain head."""

import logging
import threading
from typing import Any

from sqlalchemy import Engine
from web3 import Web3

from app.chain.artifacts import artifact
from app.chain.deploy import Deployment
from app.indexer.decode import DecodedLog, LogDecoder, UndecodableLog
from app.indexer.store import apply_range, next_block

log = logging.getLogger(__name__)

MIN_RANGE = 1
RETRY_BACKOFF_S = (0.5, 1, 2, 5, 10)


class Indexer:
    """Reads eth_getLogs in adaptive block ranges and stores each range atomically."""

    def __init__(self, w3: Web3, engine: Engine, deployment: Deployment, max_range: int = 2000) -> None:
        self.w3 = w3
        self.engine = engine
        self.deployment = deployment
        self.decoder = LogDecoder(artifact("OriginRegistry").abi)
        self.max_range = max_range
        self.range = max_range
        self.next_block = next_block(engine, deployment)

    def _rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method} failed: {response['error']}")
        return response["result"]

    def head(self) -> int:
        return int(self._rpc("eth_blockNumber", []), 16)

    def _timestamps(self, raw_logs: list[dict[str, Any]]) -> dict[str, int]:
        stamps = {
            entry["blockHash"]: int(entry["blockTimestamp"], 16)
            for entry in raw_logs
            if entry.get("blockTimestamp")
        }
        for block_hash in {entry["blockHash"] for entry in raw_logs} - stamps.keys():
            stamps[block_hash] = int(self._rpc("eth_getBlockByHash", [block_hash, False])["timestamp"], 16)
        return stamps

    def _decode(self, raw_logs: list[dict[str, Any]]) -> list[DecodedLog]:
        stamps = self._timestamps(raw_logs)
        decoded = []
        for raw in raw_logs:
            try:
                decoded.append(self.decoder.decode(raw, stamps[raw["blockHash"]]))
            except UndecodableLog as exc:
                log.warning("skipping undecodable log: %s", exc)
        return decoded

    def sync_once(self, head: int) -> int:
        """Index one range up to at most `head`; return the number of blocks covered."""
        start = self.next_block
        end = min(head, start + self.range - 1)
        if end < start:
            return 0
        params = {"address": self.deployment.registry, "fromBlock": hex(start), "toBlock": hex(end)}
        try:
            raw_logs = self._rpc("eth_getLogs", [params])
        except Exception:
            if self.range <= MIN_RANGE:
                raise
            self.range = max(MIN_RANGE, self.range // 2)
            log.info("eth_getLogs %d-%d failed; shrinking range to %d blocks", start, end, self.range)
            return 0
        apply_range(self.engine, self.deployment, self._decode(raw_logs), end)
        self.next_block = end + 1
        self.range = min(self.max_range, self.range * 2)
        return end - start + 1

    def backfill(self, up_to: int | None = None) -> int:
        """Index until block `up_to` (default: the current head); return the last indexed block."""
        target = self.head() if up_to is None else up_to
        while self.next_block <= target:
            self.sync_once(target)
        return self.next_block - 1

    def run(self, stop: threading.Event, poll_interval: float = 0.25) -> None:
        """Follow the head until `stop` is set; RPC faults are retried with backoff, never fatal."""
        failures = 0
        while not stop.is_set():
            try:
                self.backfill()
                failures = 0
                stop.wait(poll_interval)
            except Exception as exc:
                delay = RETRY_BACKOFF_S[min(failures, len(RETRY_BACKOFF_S) - 1)]
                failures += 1
                log.warning("indexer error (retry in %.1f s): %s", delay, exc)
                stop.wait(delay)

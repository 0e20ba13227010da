"""Adaptive eth_getLogs ranges against providers that cap responses (10,000 logs, 2,000 blocks)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_utils.crypto import keccak
from sqlalchemy import Engine, func, select
from test_indexer_state import DEPLOYMENT

from app.chain.client import connect, dev_account
from app.chain.deploy import Deployment, deploy_registry
from app.chain.devnet import Devnet, running_devnet
from app.db.engine import make_engine
from app.db.schema import events, items
from app.indexer import follow
from app.indexer.follow import Indexer, TimestampsUnavailable
from app.indexer.rpc import RpcClient, RpcError
from app.indexer.synthetic import HistoryPlan, generate_history


class CappedRpc(RpcClient):
    """The real anvil behind the limits of public providers, plus one timeout on a large range."""

    def __init__(self, url: str, max_logs: int = 10_000, max_blocks: int = 2_000) -> None:
        super().__init__(url)
        self.max_logs, self.max_blocks = max_logs, max_blocks
        self.refused: list[str] = []
        self.served: list[tuple[int, int, int]] = []  # (first block, last block, logs) answered
        self.timed_out = False

    def call(self, method: str, params: list[Any]) -> Any:
        if method != "eth_getLogs":
            return super().call(method, params)
        first, last = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
        blocks = last - first + 1
        if blocks > self.max_blocks:
            self.refused.append("blocks")
            raise RpcError(
                method, {"code": -32600, "message": f"exceed maximum block range: {self.max_blocks}"}
            )
        if not self.timed_out and blocks > 100:
            self.timed_out = True
            self.refused.append("timeout")
            raise requests.ReadTimeout("simulated: provider did not answer in time")
        result = super().call(method, params)
        if len(result) > self.max_logs:
            self.refused.append("logs")
            raise RpcError(
                method, {"code": -32005, "message": f"query returned more than {self.max_logs} results"}
            )
        self.served.append((first, last, len(result)))
        return result


@pytest.fixture(scope="module")
def busy_chain() -> Iterator[tuple[Devnet, Deployment, int, HistoryPlan]]:
    """12,000 events in about 60 blocks (up to 500 a block), after 2,100 empty blocks."""
    with running_devnet("anvil") as node:
        deployment = deploy_registry(connect(node.rpc_url), dev_account(0))
        rpc = RpcClient(node.rpc_url)
        rpc.call("anvil_mine", [hex(2_100)])
        plan = generate_history(node.rpc_url, deployment.registry, 12_000, txs_per_block=200)
        head = int(rpc.call("eth_blockNumber", []), 16)
        yield node, deployment, head, plan


def test_backfill_adapts_to_log_and_block_range_caps(
    busy_chain: tuple[Devnet, Deployment, int, HistoryPlan], index_engine: Engine
) -> None:
    node, deployment, head, plan = busy_chain
    capped = CappedRpc(node.rpc_url)
    indexer = Indexer(node.rpc_url, index_engine, deployment, max_range=100_000, rpc=capped)
    indexer.range = 100_000  # as after a long run of sparse blocks: the first request breaks both caps
    assert indexer.backfill(head) == head

    every = RpcClient(node.rpc_url).call(
        "eth_getLogs",
        [{"address": deployment.registry, "fromBlock": hex(deployment.deploy_block), "toBlock": hex(head)}],
    )
    with index_engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(events)).scalar_one()
        registered = conn.execute(select(func.count()).select_from(items)).scalar_one()
    assert len(every) > capped.max_logs
    assert stored == len(every)
    assert registered == plan.registered + plan.units
    assert {"blocks", "logs", "timeout"} <= set(capped.refused)
    assert max(last - first + 1 for first, last, _ in capped.served) <= 2_000
    assert max(logs for _, _, logs in capped.served) <= capped.max_logs


def _history_logs(node: Devnet, deployment: Deployment, head: int) -> list[dict[str, Any]]:
    """The registry's logs after its deployment block, as anvil serves them."""
    first = hex(deployment.deploy_block + 1)
    params = {"address": deployment.registry, "fromBlock": first, "toBlock": hex(head)}
    logs: list[dict[str, Any]] = RpcClient(node.rpc_url).call("eth_getLogs", [params])
    return logs


def test_the_history_emits_exactly_the_planned_events(
    busy_chain: tuple[Devnet, Deployment, int, HistoryPlan],
) -> None:
    node, deployment, head, plan = busy_chain
    logs = _history_logs(node, deployment, head)
    assert plan.events == 12_000
    assert len(logs) == plan.events
    packed = keccak(text="UnitPacked(bytes32,bytes32)")
    unpacked = keccak(text="UnitUnpacked(bytes32,bytes32,address)")
    topics = [bytes.fromhex(entry["topics"][0][2:]) for entry in logs]
    assert topics.count(packed) == plan.registered
    assert topics.count(unpacked) == plan.unpacked


class NoTimestampsRpc(RpcClient):
    """A provider whose logs carry no blockTimestamp and whose block reads fail for a while."""

    def __init__(self, url: str, failures: int) -> None:
        super().__init__(url)
        self.failures = failures

    def call(self, method: str, params: list[Any]) -> Any:
        result = super().call(method, params)
        if method == "eth_getLogs":
            for entry in result:
                entry.pop("blockTimestamp", None)
        return result

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if self.failures and any(method == "eth_getBlockByHash" for method, _ in calls):
            self.failures -= 1
            raise requests.ConnectionError("simulated: block reads unavailable")
        return super().batch(calls)


def test_failing_timestamp_reads_are_retried_not_answered_by_smaller_ranges(
    busy_chain: tuple[Devnet, Deployment, int, HistoryPlan], index_engine: Engine
) -> None:
    node, deployment, head, _ = busy_chain
    rpc = NoTimestampsRpc(node.rpc_url, failures=1)
    indexer = Indexer(node.rpc_url, index_engine, deployment, max_range=2_000, rpc=rpc)
    size = indexer.range
    with pytest.raises(TimestampsUnavailable, match="simulated"):
        indexer.backfill(head)
    assert indexer.range == size  # the range size was not the problem
    assert indexer.backfill(head) == head  # the next attempt (run() retries with backoff) succeeds
    with index_engine.connect() as conn:
        stamps = conn.execute(select(func.min(events.c.timestamp))).scalar_one()
    assert stamps > 0  # timestamps came from the block headers


def _history_start(node: Devnet, deployment: Deployment, head: int) -> int:
    """The first block of the generated history (after the deployment and the empty blocks)."""
    return min(int(entry["blockNumber"], 16) for entry in _history_logs(node, deployment, head))


def test_ranges_are_sized_by_record_changes_not_logs(
    busy_chain: tuple[Devnet, Deployment, int, HistoryPlan],
    index_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registration blocks carry one log of 500 records each; packing blocks 500 logs. Sized by
    logs, the ranges grew through the registrations and then took many packing blocks at once."""
    node, deployment, head, plan = busy_chain
    monkeypatch.setattr(follow, "TARGET_CHANGES", 1_000)
    recording = CappedRpc(node.rpc_url, max_logs=10**9, max_blocks=10**9)
    recording.timed_out = True  # no simulated timeout here
    indexer = Indexer(node.rpc_url, index_engine, deployment, max_range=2_000, rpc=recording)
    indexer.backfill(_history_start(node, deployment, head) - 1)
    indexer.range = 1
    before = len(recording.served)
    assert indexer.backfill(head) == head

    history = recording.served[before:]
    assert len(history) > 5 and min(logs for _, _, logs in history[:3]) > 0
    assert max(logs for _, _, logs in history) <= 2 * 1_000
    with index_engine.connect() as conn:
        registered = conn.execute(select(func.count()).select_from(items)).scalar_one()
    assert registered == plan.registered + plan.units


def test_a_range_reaching_into_the_reorg_window_is_read_ahead_up_to_the_last_final_block(
    busy_chain: tuple[Devnet, Deployment, int, HistoryPlan], index_engine: Engine
) -> None:
    node, deployment, head, _ = busy_chain
    recording = CappedRpc(node.rpc_url, max_logs=10**9, max_blocks=10**9)
    recording.timed_out = True
    indexer = Indexer(node.rpc_url, index_engine, deployment, max_range=2_000, rpc=recording)
    last_final = head - indexer.reorg_window - 1
    start = last_final - 4
    indexer.backfill(start - 1)
    indexer.range = 10  # start..start+9 reaches 5 blocks into the window
    served = len(recording.served)

    indexer._executor = ThreadPoolExecutor(max_workers=1)
    try:
        indexer._read_ahead(start, head)
        assert indexer._ahead is not None and indexer._ahead[:2] == (start, last_final)
        assert indexer.sync_once(head) == 5  # the range read ahead, not start..start+9 again
    finally:
        indexer._executor.shutdown()
        indexer._executor = None
    assert [(first, last) for first, last, _ in recording.served[served:]][:1] == [(start, last_final)]
    assert indexer.next_block == last_final + 1
    assert indexer.backfill(head) == head


def _sizing_indexer(tmp_path: Path, max_range: int) -> Indexer:
    """An indexer whose range sizing is driven by hand: no node is ever asked."""
    engine = make_engine(f"sqlite:///{tmp_path / 'sizing.db'}")
    return Indexer("http://127.0.0.1:1", engine, DEPLOYMENT, max_range=max_range)


def _drive(indexer: Indexer, ranges: int, logs_per_block: int) -> tuple[int, int]:
    """Size `ranges` ranges against a provider capping answers at 10,000 logs and 2,000 blocks,
    on a chain of `logs_per_block` one-change logs; (refused ranges, largest range served)."""
    refused, largest, start = 0, 0, 0
    for _ in range(ranges):
        size = indexer.range
        if size > 2_000 or size * logs_per_block > 10_000:
            refused += 1
            indexer._shrink(start, start + size - 1, RpcError("eth_getLogs", {"code": -32005}))
        else:
            largest = max(largest, size)
            indexer._grow(size, size * logs_per_block)
            start += size
    return refused, largest


def test_ranges_against_a_steady_cap_rarely_fail_and_grow_back_when_the_density_drops(
    tmp_path: Path,
) -> None:
    """At 100 logs a block the 10,000-log cap allows 100 blocks, and TARGET_CHANGES aims at 200.
    A refused range used to leave its size minus one as the ceiling, the next growth went back
    to it, and every 20 ranges the ceiling reset: 462 of 1,000 ranges failed. Now the halved
    size that works is the ceiling, and the probes above it wait 20, 40, 80, 160, 320 good
    ranges: the first refusal and 5 failed probes in 1,000 ranges (0.6 %); in the long run one
    range in PROBE_AFTER_MAX (0.16 %). The bound leaves room for one more failure either way."""
    indexer = _sizing_indexer(tmp_path, max_range=10_000)
    refused, largest = _drive(indexer, 1_000, logs_per_block=100)
    assert largest == 100
    assert refused <= 7, refused

    # The density drops to 1 log a block: the next probe (after at most PROBE_AFTER_MAX good
    # ranges) succeeds, so ranges grow until the 2,000-block cap refuses one, and stay below it.
    refused, largest = _drive(indexer, 1_000, logs_per_block=1)
    assert largest >= 1_000 and indexer.range >= 1_000
    assert refused <= 10, refused

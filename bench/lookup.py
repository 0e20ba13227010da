"""`make bench-lookup`: resolver throughput and latency over 1,000,000 indexed items.

The database is synthetic: 1,000,000 items (and their ItemRegistered events) are written
straight through the project's DB layer (app.db), not mined on a chain, because the
resolver path is what is measured. The gateway runs as it is deployed (`origintrace serve`:
uvicorn with uvloop and httptools, one worker process per core, each accepting on its own
SO_REUSEPORT socket) on 127.0.0.1 at a free port; autocannon (npm)
loads it with a bounded number of connections for a fixed time, after a warm-up. The same
endpoints (JSON and the shopper page) are then measured with the response cache disabled
(ORIGINTRACE_CACHE_TTL=0), in the same run.
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from app.chain.devnet import free_port
from app.core.config import PROJECT_ROOT, Settings
from app.core.processes import stop_process
from app.db.engine import make_engine
from app.db.schema import events, indexer_state, items, members
from app.gs1.keys import SerialisedItem

ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
HOT_ITEMS = 100
"""Distinct items the load cycles through (a popular subset, as in a sales event)."""
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
"""Gateway processes (`origintrace serve --workers`), one per core, as the gateway is deployed."""
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
WARM_UP_SECONDS = 3
"""Every worker up, SQLite's pages and Python's caches warm, before anything is recorded."""
GTIN = "09506000134352"
BRAND = "0x" + "11" * 20
REGISTRY = "0x" + "22" * 20
RESULTS = PROJECT_ROOT / "bench" / "results" / "lookup.json"
NODE_LOAD = PROJECT_ROOT / "bench" / "load.js"


def index_items(database_url: str, count: int) -> None:
    """Write `count` items, one ItemRegistered event each, and a checkpoint."""
    engine = make_engine(database_url)
    batch = 50_000
    with engine.begin() as conn:
        conn.execute(insert(members), [{"address": BRAND, "name": "Bench Brand", "roles": ["brand"]}])
        conn.execute(
            insert(indexer_state),
            [
                {
                    "chain_id": 31337,
                    "registry": REGISTRY,
                    "deploy_block_hash": "0x" + "00" * 32,
                    "last_block": count + 10,
                    "updated_at": int(time.time()),
                }
            ],
        )
    for start in range(0, count, batch):
        item_rows, event_rows = [], []
        for n in range(start, min(start + batch, count)):
            item_id = "0x" + SerialisedItem(GTIN, f"B{n}").item_id.hex()
            block, tx_hash = n + 1, "0x" + f"{n:064x}"
            item_rows.append(
                {
                    "item_id": item_id,
                    "brand": BRAND,
                    "custodian": BRAND,
                    "status": "active",
                    "metadata_hash": "0x" + "00" * 32,
                    "metadata_uri": "",
                    "pending_to": None,
                    "offer_expires_at": None,
                    "registered_block": block,
                    "updated_block": block,
                    "created_tx": tx_hash,
                    "created_log_index": 0,
                }
            )
            event_rows.append(
                {
                    "chain_id": 31337,
                    "block_number": block,
                    "block_hash": "0x" + f"{block:064x}",
                    "tx_hash": tx_hash,
                    "log_index": 0,
                    "timestamp": 1_780_000_000 + n,
                    "name": "ItemRegistered",
                    "item_id": item_id,
                    "args": {
                        "itemId": item_id,
                        "brand": BRAND,
                        "metadataHash": "0x" + "00" * 32,
                        "metadataURI": "",
                    },
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(items), item_rows)
            conn.execute(insert(events), event_rows)
    engine.dispose()


class Gateway:
    """The gateway in its own process, stopped on exit (also on failure)."""

    def __init__(self, database_url: str, cache_ttl: float, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            **(extra_env or {}),
            "ORIGINTRACE_DATABASE_URL": database_url,
            "ORIGINTRACE_CACHE_TTL": str(cache_ttl),
            "ORIGINTRACE_RATE_LIMIT_PER_MINUTE": "0",  # one loopback client sends all the load
            "ORIGINTRACE_PORT": str(self.port),
        }
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "origintrace"), "serve", "--workers", str(WORKERS)],
            env=env,
            cwd=PROJECT_ROOT,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Gateway":
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the gateway did not start")

    def __exit__(self, *_: object) -> None:
        stop_process(self.process, timeout=10)


def load(url: str, paths_file: Path, accept: str, seconds: int = SECONDS) -> dict[str, Any]:
    """autocannon's result for GETs of the paths with this Accept header."""
    out = subprocess.run(
        ["node", str(NODE_LOAD), url, str(paths_file), accept, str(CONNECTIONS), str(seconds)],
        check=True,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    if result["non2xx"] or result["errors"] or result["timeouts"]:
        raise RuntimeError(f"failed requests: {result['non2xx']} non-2xx, {result['errors']} errors")
    return result


def metric(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(value, 2), "unit": unit}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp:
        database_url = f"sqlite:///{tmp}/lookup.db"
        started = time.monotonic()
        index_items(database_url, ITEMS)
        print(f"indexed {ITEMS} synthetic items in {time.monotonic() - started:.0f} s", flush=True)
        rng = random.Random(7)
        paths = [SerialisedItem(GTIN, f"B{rng.randrange(ITEMS)}").path for _ in range(HOT_ITEMS)]
        paths_file = Path(tmp) / "paths.json"
        paths_file.write_text(json.dumps(paths))
        with Gateway(database_url, cache_ttl=Settings().cache_ttl) as gateway:
            load(gateway.url, paths_file, "application/json", WARM_UP_SECONDS)  # not recorded
            json_result = load(gateway.url, paths_file, "application/json")
            html_result = load(gateway.url, paths_file, "text/html")
        with Gateway(database_url, cache_ttl=0) as gateway:
            load(gateway.url, paths_file, "application/json", WARM_UP_SECONDS)
            nocache = load(gateway.url, paths_file, "application/json")
            nocache_html = load(gateway.url, paths_file, "text/html")
    report = {
        "bench": "lookup",
        "metrics": {
            "json_rps": metric(json_result["requests"]["average"], "req/s"),
            "json_p50_ms": metric(json_result["latency"]["p50"], "ms"),
            "json_p99_ms": metric(json_result["latency"]["p99"], "ms"),
            "html_rps": metric(html_result["requests"]["average"], "req/s"),
            "html_p99_ms": metric(html_result["latency"]["p99"], "ms"),
            "nocache_json_rps": metric(nocache["requests"]["average"], "req/s"),
            "nocache_json_p99_ms": metric(nocache["latency"]["p99"], "ms"),
            "nocache_html_rps": metric(nocache_html["requests"]["average"], "req/s"),
            "nocache_html_p99_ms": metric(nocache_html["latency"]["p99"], "ms"),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

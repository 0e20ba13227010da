"""`make bench-index`: backfill a generated history from anvil into SQLite, PostgreSQL and a naive baseline.

One run generates the history once on a private anvil (default 200,000 events: items
registered in 500-item batches, one ItemsRegistered event each; each batch packed into a
logistic unit, one UnitPacked event per item, a quarter of the items unpacked again, one
UnitUnpacked each; member, role, attestation, custody and sale events; see
app/indexer/synthetic.py), then indexes that same chain in child processes, so each
phase's peak memory is its own: the indexer into SQLite and into PostgreSQL (a throwaway
database), alternating, `--runs` times each (the median run is reported, with the fastest and
slowest: one backfill takes seconds, and the shared machine's speed drifts over that much),
then the naive baseline once (web3.py `contract.events.X.get_logs` plus one ORM insert per
row; it takes minutes).
Last, with the indexer following the head, it measures how long a mined transaction takes
to show in the gateway's JSON. Writes bench/results/index.json.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from app.chain.client import connect, dev_account, registry, send
from app.chain.deploy import Deployment, deploy_registry, write_manifest
from app.chain.devnet import running_devnet
from app.core.config import PROJECT_ROOT
from app.db.engine import make_engine
from app.indexer.follow import Indexer
from app.indexer.synthetic import generate_history

RESULTS = PROJECT_ROOT / "bench" / "results" / "index.json"
ANVIL_ARGS = ("--prune-history", "64")
"""anvil keeps the state of the last 64 blocks only: the bench reads logs and headers, never
old state. 200,000 events then take ~170 s to generate with anvil at ~2.3 GB, not ~220-250 s
at ~9 GB."""
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def _phase(kind: str, rpc_url: str, manifest: Path, db_url: str) -> dict[str, Any]:
    """Run one phase in a child process; its report plus its own peak RSS."""
    command = [sys.executable, "-m", "bench.index_phase", kind, rpc_url, str(manifest), db_url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=PROJECT_ROOT)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"phase {kind} failed with status {status}")
    report: dict[str, Any] = json.loads(output)
    report["peak_rss_mb"] = usage.ru_maxrss / 1024
    print(
        f"  {kind:9s} {report['events']:>8,} events in {report['seconds']:.2f} s = "
        f"{report['events'] / report['seconds']:>9,.0f} events/s, peak RSS {report['peak_rss_mb']:.0f} MB",
        flush=True,
    )
    return report


def _settle(pid: int, quiet_s: int = 3, limit_s: float = 60.0) -> float:
    """Wait until process `pid` (the node) has used almost no CPU for `quiet_s` seconds in a
    row and the page cache's dirty pages are written out; return the seconds waited.

    So nothing left running by the history's generation is counted in the first backfill
    (that one still tends to be the slowest of its database, one reason runs are repeated)."""
    started = time.perf_counter()
    os.sync()
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu_s() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    quiet, before = 0, cpu_s()
    while quiet < quiet_s and time.perf_counter() - started < limit_s:
        time.sleep(1)
        now = cpu_s()
        quiet = quiet + 1 if now - before < 0.02 else 0
        before = now
    return time.perf_counter() - started


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median duration (of an even number, the slower of the middle two)."""
    return sorted(runs, key=lambda report: float(report["seconds"]))[len(runs) // 2]


def _postgres_database() -> tuple[str, str]:
    import psycopg

    name = f"ot_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _head_latency(rpc_url: str, deployment: Deployment, db_url: str, samples: int = 20) -> list[float]:
    """Seconds from a mined registerItem to the item's JSON in the gateway, with the indexer following."""
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.core.config import Settings
    from app.gs1.keys import SerialisedItem

    settings = Settings()
    engine = make_engine(db_url)
    w3 = connect(rpc_url)
    brand = dev_account(11)  # a BRAND_ROLE member of the synthetic history
    contract = registry(w3, deployment.registry)
    indexer = Indexer(rpc_url, engine, deployment)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.run, args=(stop, settings.poll_interval), daemon=True)
    thread.start()
    latencies = []
    try:
        with TestClient(create_app(settings, engine)) as client:
            for n in range(samples):
                key = SerialisedItem.parse("09506000134352", f"LATENCY-{n:04d}")
                send(w3, brand, contract.functions.registerItem(key.item_id, b"\1" * 32, "ipfs://latency"))
                mined = time.perf_counter()
                while client.get(key.path, headers={"Accept": "application/json"}).status_code != 200:
                    if time.perf_counter() - mined > 30:
                        raise RuntimeError(f"{key.path} not visible after 30 s")
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - mined)
                time.sleep(0.1 * (n % 3))  # land at different moments of the poll cycle
    finally:
        stop.set()
        thread.join(timeout=10)
        engine.dispose()
    return sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--events", type=int, default=200_000, help="size of the generated history, in registry events"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="backfills into each database (the median is reported); the baseline runs once",
    )
    args = parser.parse_args()
    if args.runs < 1 or args.events < 1:
        parser.error("--runs and --events must be at least 1")
    work = PROJECT_ROOT / "data" / "bench-index"
    work.mkdir(parents=True, exist_ok=True)
    with running_devnet("anvil", log_file=work / "anvil.log", extra_args=ANVIL_ARGS) as node:
        deployment = deploy_registry(connect(node.rpc_url), dev_account(0))
        manifest = write_manifest(deployment, work)
        started = time.perf_counter()
        plan = generate_history(node.rpc_url, deployment.registry, args.events, txs_per_block=200)
        generated_s = time.perf_counter() - started
        print(
            f"history: {plan.events:,} events ({plan.changes:,} record changes; {plan.registered:,} items "
            f"in {plan.units:,} units, {plan.unpacked:,} unpacked, {plan.journeys:,} journeys), generated in "
            f"{generated_s:.1f} s",
            flush=True,
        )

        print(f"  node settled after {_settle(node.process.pid):.0f} s", flush=True)
        sqlite_file = work / "index.db"
        sqlite_runs, postgres_runs = [], []
        for _ in range(args.runs):  # alternating, so a slow spell of the machine hits both
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
            sqlite_runs.append(_phase("indexer", node.rpc_url, manifest, f"sqlite:///{sqlite_file}"))
            name, pg_url = _postgres_database()
            try:
                postgres_runs.append(_phase("indexer", node.rpc_url, manifest, pg_url))
            finally:
                _drop_postgres(name)
        baseline_file = work / "baseline.db"
        baseline_file.unlink(missing_ok=True)
        baseline = _phase("baseline", node.rpc_url, manifest, f"sqlite:///{baseline_file}")
        latencies = _head_latency(node.rpc_url, deployment, f"sqlite:///{sqlite_file}")
        print(f"  head following: median {statistics.median(latencies) * 1000:.0f} ms to the gateway's JSON")

    def rate(report: dict[str, Any]) -> float:
        return round(float(report["events"]) / float(report["seconds"]))

    def change_rate(report: dict[str, Any]) -> float:
        """Record changes per second: a 500-item ItemsRegistered event is 500 changes, any other event one."""
        return round(plan.changes / float(report["seconds"]))

    sqlite, postgres = _median_run(sqlite_runs), _median_run(postgres_runs)
    metrics = {
        "sqlite_events_per_s": {"value": rate(sqlite), "unit": "events/s"},
        "postgres_events_per_s": {"value": rate(postgres), "unit": "events/s"},
        "sqlite_events_per_s_min": {"value": min(map(rate, sqlite_runs)), "unit": "events/s"},
        "sqlite_events_per_s_max": {"value": max(map(rate, sqlite_runs)), "unit": "events/s"},
        "postgres_events_per_s_min": {"value": min(map(rate, postgres_runs)), "unit": "events/s"},
        "postgres_events_per_s_max": {"value": max(map(rate, postgres_runs)), "unit": "events/s"},
        "baseline_events_per_s": {"value": rate(baseline), "unit": "events/s"},
        "sqlite_changes_per_s": {"value": change_rate(sqlite), "unit": "changes/s"},
        "postgres_changes_per_s": {"value": change_rate(postgres), "unit": "changes/s"},
        "sqlite_speedup_vs_baseline": {"value": round(rate(sqlite) / rate(baseline), 1), "unit": "x"},
        "sqlite_peak_rss_mb": {"value": round(max(r["peak_rss_mb"] for r in sqlite_runs)), "unit": "MB"},
        "postgres_peak_rss_mb": {"value": round(max(r["peak_rss_mb"] for r in postgres_runs)), "unit": "MB"},
        "indexer_runs": {"value": args.runs, "unit": "runs per database"},
        "baseline_peak_rss_mb": {"value": round(baseline["peak_rss_mb"]), "unit": "MB"},
        "head_to_gateway_p50_ms": {"value": round(statistics.median(latencies) * 1000), "unit": "ms"},
        "head_to_gateway_max_ms": {"value": round(max(latencies) * 1000), "unit": "ms"},
        "history_events": {"value": sqlite["events"], "unit": "events"},
        "history_generated_events": {"value": plan.events, "unit": "events"},
        "history_record_changes": {"value": plan.changes, "unit": "changes"},
        "history_generation_s": {"value": round(generated_s, 1), "unit": "s"},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"bench": "index", "metrics": metrics}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

"""`make bench-scale N="1000000 10000000"`: Double 11 at scale, anchor -> index -> resolve.

For each N: a synthetic catalogue of N items (app/scale/catalogue.py: many brands, origins,
GTINs, lots of 5k-500k items) is written as an OTM manifest (not timed), then timed end to
end on a fresh anvil: `anchor_manifest` (native trees on all cores, lot files, anchorLots),
the indexer's backfill into SQLite, and the gateway (its own process) answering its first
lot item. Then random items, each asked once, are resolved over HTTP for the latency
percentiles, and every answer's Merkle proof must be valid against the indexed root.

Baseline in the same run: the pure-Python reference tree (app/chain/merkle.py LotTree) on a
100,000-item lot, against the native builder on the same lot.

Writes bench/results/scale-N.json per N and plots time and disk against N (every
scale-*.json present) to bench/results/scale.png.
"""

import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image, ImageDraw

from app.chain.client import connect, dev_account, registry
from app.chain.deploy import deploy_registry, write_manifest
from app.chain.devnet import running_devnet
from app.chain.merkle import LotTree
from app.core.config import PROJECT_ROOT, Settings, lot_store
from app.db.engine import make_engine
from app.demo.journey import admit_members, demo_members
from app.gs1.keys import SerialisedItem
from app.indexer.follow import Indexer
from app.scale.anchor import anchor_manifest
from app.scale.catalogue import catalogue
from app.scale.manifest import LotBlock, read_otm, write_otm
from app.scale.native import build_lot
from bench.lookup import Gateway

RESULTS = PROJECT_ROOT / "bench" / "results"
SAMPLES = 2_000
REFERENCE_LOT = 100_000


def metric(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(value, 3), "unit": unit}


def write_catalogue(path: Path, items: int) -> list[tuple[str, str, str]]:
    """The OTM manifest of `items` items at `path`, and random items of it to resolve."""
    rng = random.Random(items)
    samples: list[tuple[str, str, str]] = []
    per_lot = max(1, SAMPLES * 100_000 // items + 1)

    def remembered() -> Iterator[LotBlock]:
        for block in catalogue(items):
            for position in rng.sample(range(block.count), min(per_lot, block.count)):
                samples.append((block.gtin, block.lot, block.serial(position)))
            yield block

    write_otm(path, remembered())
    rng.shuffle(samples)
    return samples[:SAMPLES]


def reference_vs_native() -> tuple[float, float]:
    """Items/s of the pure-Python reference tree and of the native builder on one catalogue lot
    of at least REFERENCE_LOT items (they must agree on its root)."""
    block = next(b for b in catalogue(20 * REFERENCE_LOT, seed=7) if b.count >= REFERENCE_LOT)
    started = time.perf_counter()
    built = build_lot(block.gtin, block.serials, block.offsets, block.md_table, block.md_index)
    native = block.count / (time.perf_counter() - started)
    md_index = np.frombuffer(block.md_index, dtype="<u4")
    started = time.perf_counter()
    entries = [
        (SerialisedItem(block.gtin, block.serial(i)).item_id, block.md_table[32 * m : 32 * m + 32])
        for i, m in enumerate(md_index.tolist())
    ]
    reference_root = LotTree.build(entries).root
    reference = block.count / (time.perf_counter() - started)
    if reference_root != built.root:
        raise RuntimeError("the native and reference trees disagree")
    return reference, native


def _disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(items: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-scale-", dir=PROJECT_ROOT / "data") as tmp:
        work = Path(tmp)
        manifest = work / "catalogue.otm"
        started = time.perf_counter()
        samples = write_catalogue(manifest, items)
        generate_s = time.perf_counter() - started
        print(
            f"N={items:,}: catalogue written in {generate_s:.1f} s "
            f"({manifest.stat().st_size / items:.1f} bytes/item)"
        )
        with running_devnet() as devnet:
            w3 = connect(devnet.rpc_url)
            operator = dev_account(0)
            deployment = deploy_registry(w3, operator)
            write_manifest(deployment, work)
            members = demo_members()
            admit_members(w3, registry(w3, deployment.registry), operator, members)
            data_dir = work / "gateway"
            store = lot_store(Settings(data_dir=data_dir), deployment.chain_id, deployment.registry)
            database_url = f"sqlite:///{work}/scale.db"

            started = time.perf_counter()
            report = anchor_manifest(
                read_otm(manifest),
                store=store,
                w3=w3,
                registry=registry(w3, deployment.registry),
                brand=members["brand"].account,
            )
            anchor_s = time.perf_counter() - started
            engine = make_engine(database_url)
            Indexer(w3, engine, deployment).backfill()
            engine.dispose()
            index_s = time.perf_counter() - started - anchor_s
            env = {"ORIGINTRACE_DATA_DIR": str(data_dir), "ORIGINTRACE_DEPLOYMENTS_DIR": str(work)}
            with Gateway(database_url, cache_ttl=0, extra_env=env) as gateway, httpx.Client() as client:
                gtin, lot, serial = samples[0]
                first = client.get(
                    f"{gateway.url}/01/{gtin}/10/{lot}/21/{serial}", headers={"Accept": "application/json"}
                )
                end_to_end_s = time.perf_counter() - started
                first.raise_for_status()
                latencies = []
                for gtin, lot, serial in samples[1:]:
                    sent = time.perf_counter()
                    answer = client.get(
                        f"{gateway.url}/01/{gtin}/10/{lot}/21/{serial}",
                        headers={"Accept": "application/json"},
                    )
                    latencies.append((time.perf_counter() - sent) * 1000)
                    if answer.status_code != 200 or not answer.json()["merkle"]["valid"]:
                        raise RuntimeError(f"{gtin}/{lot}/{serial}: {answer.status_code} {answer.text[:200]}")
                gateway_rss = _vm_hwm_mb(gateway.process.pid)
            disk = _disk(store) + sum(
                _disk(p) if p.is_dir() else p.stat().st_size for p in work.glob("scale.db*")
            )
        pipeline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ordered = sorted(latencies)
        return {
            "bench": f"scale-{items}",
            "metrics": {
                "items": metric(items, "items"),
                "end_to_end_s": metric(end_to_end_s, "s"),
                "items_per_s": metric(items / end_to_end_s, "items/s"),
                "gas_per_item": metric(report.gas_used / items, "gas"),
                "disk_bytes_per_item": metric(disk / items, "bytes"),
                "peak_rss_mb": metric(max(pipeline_rss, gateway_rss), "MB"),
                "lookup_p50_ms": metric(statistics.median(ordered), "ms"),
                "lookup_p99_ms": metric(ordered[int(0.99 * (len(ordered) - 1))], "ms"),
                "anchor_s": metric(anchor_s, "s"),
                "index_s": metric(index_s, "s"),
                "generate_s": metric(generate_s, "s"),
                "lots": metric(report.lots, "lots"),
                "transactions": metric(len(report.transactions), "transactions"),
                "pipeline_peak_rss_mb": metric(pipeline_rss, "MB"),
                "gateway_peak_rss_mb": metric(gateway_rss, "MB"),
            },
        }


@dataclass(frozen=True)
class LogFrame:
    """A log-log panel: pixel box and the decades it spans."""

    left: int
    right: int
    top: int
    bottom: int
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    def at(self, n: float, v: float) -> tuple[float, float]:
        x = self.left + (np.log10(n) - self.x_lo) / (self.x_hi - self.x_lo) * (self.right - self.left)
        y = self.bottom - (np.log10(v) - self.y_lo) / (self.y_hi - self.y_lo) * (self.bottom - self.top)
        return float(x), float(y)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """End-to-end time and total disk against N on log-log axes (Pillow): linear growth is a
    straight line of slope 1, drawn dashed through the smallest run for comparison."""
    runs = sorted(results, key=lambda r: float(r["metrics"]["items"]["value"]))
    items = [float(r["metrics"]["items"]["value"]) for r in runs]
    panels = (
        ("end-to-end time (s)", [float(r["metrics"]["end_to_end_s"]["value"]) for r in runs]),
        (
            "disk (GB)",
            [
                float(r["metrics"]["disk_bytes_per_item"]["value"]) * n / 1e9
                for r, n in zip(runs, items, strict=True)
            ],
        ),
    )
    width, height = 1000, 440
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    x_lo, x_hi = np.log10(min(items)) - 0.3, np.log10(max(items)) + 0.3
    for p, (title, values) in enumerate(panels):
        left, right, top, bottom = 90 + p * 500, 460 + p * 500, 50, height - 70
        frame = LogFrame(
            left,
            right,
            top,
            bottom,
            x_lo,
            x_hi,
            np.floor(np.log10(min(values) / 2)),
            np.ceil(np.log10(max(values) * 2)),
        )
        at = frame.at
        y_lo, y_hi = frame.y_lo, frame.y_hi

        draw.rectangle((left, top, right, bottom), outline="black")
        draw.text((left, 20), f"{title} against items (log-log)", fill="black")
        for decade in range(int(y_lo), int(y_hi) + 1):
            y = at(items[0], 10.0**decade)[1]
            draw.line((left - 4, y, left, y), fill="black")
            draw.text((left - 60, y - 6), f"{10.0**decade:g}", fill="black")
        linear = [at(n, values[0] * n / items[0]) for n in (items[0], items[-1])]
        draw.line(linear, fill="gray", width=1)
        draw.text((linear[-1][0] - 80, linear[-1][1] - 18), "linear", fill="gray")
        points = [at(n, v) for n, v in zip(items, values, strict=True)]
        if len(points) > 1:
            draw.line(points, fill="navy", width=2)
        for (x, y), n, v in zip(points, items, values, strict=True):
            draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill="navy")
            draw.text((x + 7, y + 4), f"{v:.3g}", fill="navy")
            draw.line((x, bottom, x, bottom + 4), fill="black")
            draw.text((x - 14, bottom + 8), f"{n / 1e6:g}M", fill="black")
        draw.text((left + 120, height - 35), "items", fill="black")
    image.save(path)


def main() -> None:
    sizes = [int(arg.replace("_", "")) for arg in sys.argv[1:]] or [1_000_000, 10_000_000]
    (PROJECT_ROOT / "data").mkdir(exist_ok=True)
    reference, native = reference_vs_native()
    print(
        f"tree build: reference {reference:,.0f} items/s, "
        f"native {native:,.0f} items/s ({native / reference:.0f}x)"
    )
    for items in sizes:
        result = run(items)
        result["metrics"]["reference_tree_items_per_s"] = metric(reference, "items/s")
        result["metrics"]["native_tree_items_per_s"] = metric(native, "items/s")
        out = RESULTS / f"scale-{items}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        for name, value in result["metrics"].items():
            print(f"  {name:28} {value['value']:>16,.3f} {value['unit']}")
        print(f"wrote {out.relative_to(PROJECT_ROOT)}")
    everything = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("scale-*.json"))]
    plot(everything, RESULTS / "scale.png")
    print(f"wrote bench/results/scale.png ({len(everything)} runs)")


if __name__ == "__main__":
    main()

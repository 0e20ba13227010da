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


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Two panels, end-to-end time and disk per item against N (log x), drawn with Pillow."""
    points = sorted((r["metrics"]["items"]["value"], r) for r in results)
    width, height, margin = 900, 420, 70
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    panels = (("end-to-end time (s)", "end_to_end_s"), ("disk per item (bytes)", "disk_bytes_per_item"))
    panel_w = (width - margin) // 2
    xs = [np.log10(n) for n, _ in points]
    x_lo, x_hi = min(xs) - 0.2, max(xs) + 0.2
    for p, (title, key) in enumerate(panels):
        left, right, top, bottom = margin + p * panel_w, margin + (p + 1) * panel_w - 40, 40, height - 60
        values = [r["metrics"][key]["value"] for _, r in points]
        y_hi = max(values) * 1.15 or 1
        draw.rectangle((left, top, right, bottom), outline="black")
        draw.text((left, 12), title, fill="black")
        for frac in (0, 0.5, 1):
            y = bottom - frac * (bottom - top)
            draw.text((left - 55, y - 6), f"{frac * y_hi:,.0f}", fill="black")
        coords = []
        for x, v, (n, _) in zip(xs, values, points, strict=True):
            cx = left + (x - x_lo) / (x_hi - x_lo) * (right - left)
            cy = bottom - v / y_hi * (bottom - top)
            coords.append((cx, cy))
            draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill="navy")
            draw.text((cx - 20, bottom + 8), f"{n / 1e6:g}M", fill="black")
            draw.text((cx + 6, cy - 14), f"{v:,.1f}", fill="navy")
        if len(coords) > 1:
            draw.line(coords, fill="navy", width=2)
        draw.text((left + 4, height - 28), "items (log scale)", fill="black")
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

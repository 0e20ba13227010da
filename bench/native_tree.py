"""Items/s of the native lot builder (app/scale/native.py): one 500,000-item lot on one thread,
then two such lots on two threads at once (ctypes releases the GIL during the build).

    .venv/bin/python bench/native_tree.py [items per lot]

Serials look like real ones (up to 20 characters); every item of a lot shares one of 8
metadata hashes. Building the input buffers is not timed. Each figure is the best of 3 runs.
"""

import struct
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from eth_utils.crypto import keccak

from app.scale.native import build_lot

RUNS = 3
GTIN = "09506000134352"


def lot_buffers(n: int, seed: int) -> tuple[str, bytes, bytes, bytes, bytes]:
    serials = [f"D11-{seed:02d}-{i:012d}".encode() for i in range(n)]
    offsets = [0]
    for serial in serials:
        offsets.append(offsets[-1] + len(serial))
    metadata = b"".join(keccak(text=f"product {k}") for k in range(8))
    md_index = struct.pack(f"<{n}I", *(i % 8 for i in range(n)))
    return GTIN, b"".join(serials), struct.pack(f"<{n + 1}I", *offsets), metadata, md_index


def best_seconds(
    work: "ThreadPoolExecutor | None", lots: list[tuple[str, bytes, bytes, bytes, bytes]]
) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        if work is None:
            for lot in lots:
                build_lot(*lot)
        else:
            list(work.map(lambda lot: build_lot(*lot), lots))
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    lots = [lot_buffers(n, seed) for seed in (1, 2)]
    build_lot(*lots[0])  # builds/loads the library outside the timing
    one = best_seconds(None, lots[:1])
    print(f"1 thread,  1 lot of {n:,}: {one:.3f} s, {n / one:,.0f} items/s")
    with ThreadPoolExecutor(2) as pool:
        two = best_seconds(pool, lots)
    print(f"2 threads, 2 lots of {n:,}: {two:.3f} s, {2 * n / two:,.0f} items/s")
    print(f"150,000,000 items at the 2-thread rate: {150_000_000 / (2 * n / two) / 60:.1f} min")


if __name__ == "__main__":
    main()

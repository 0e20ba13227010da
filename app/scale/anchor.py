"""Anchoring a manifest: build every lot's tree on all cores, store it, anchor many lots per transaction.

The pipeline, with bounded memory (at most `2 x workers` lots in flight):

    manifest reader -> worker threads: native tree + lot file -> batches of lots -> anchorLots

Resuming is safe at any point. A lot file is written under a temporary name and renamed, and
it records the digest of the manifest block it came from, so a rerun reuses it instead of
rebuilding. Before anchoring, each lot is looked up on chain (`lotOf`): a lot already anchored
with the same root is skipped, one with a different root stops the run. Transactions still
pending from an interrupted run are waited for first, so nothing is ever anchored twice.
"""

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.chain.client import send
from app.gs1.keys import SerialisedItem
from app.scale.manifest import LotBlock, ManifestError
from app.scale.native import build_lot
from app.scale.store import LotReader, lot_path, read_header, remove_stale_partials, write_lot

LOTS_PER_TX = 100
"""Lots per anchorLots transaction (the registry's batch cap is higher; this keeps a
transaction near 7 M gas)."""
PENDING_WAIT_S = 120.0


class AnchorError(RuntimeError):
    """The manifest conflicts with the chain, or the chain cannot be used; the message says why."""


class AnchorConflict(AnchorError):
    """A lot of the manifest is anchored already with another root: read on chain before its
    batch is sent, so the manifest (its lot number) is what to fix."""


def _found_in(sub_lot: LotBlock, tree: LotReader) -> Iterator[tuple[str, bytes, int | None]]:
    """Each item of `sub_lot` as (serial, metadata hash, its position in `tree` or None)."""
    md_index = np.frombuffer(sub_lot.md_index, dtype="<u4")
    for position in range(sub_lot.count):
        serial = sub_lot.serial(position)
        start = 32 * int(md_index[position])
        yield (
            serial,
            sub_lot.md_table[start : start + 32],
            tree.find(SerialisedItem(sub_lot.gtin, serial).item_id),
        )


def first_unvouched(sub_lot: LotBlock, parent: LotReader) -> str | None:
    """The first serial of `sub_lot` that the parent lot's file does not list with the same
    metadata hash, or None: a split moves items as their brand anchored them, nothing else."""
    return next(
        (s for s, md, at in _found_in(sub_lot, parent) if at is None or parent.metadata_hash(at) != md), None
    )


def first_listed(sub_lot: LotBlock, other: LotReader) -> str | None:
    """The first serial of `sub_lot` that the lot file `other` lists too, or None."""
    return next((s for s, _, at in _found_in(sub_lot, other) if at is not None), None)


def lot_metadata_hash(block: LotBlock) -> bytes:
    """The lot's on-chain metadata hash: its items' metadata hash when they share one, else
    keccak256 of their distinct metadata hashes in manifest order."""
    return block.md_table if len(block.md_table) == 32 else keccak(block.md_table)


@dataclass(frozen=True)
class ReadyLot:
    """A lot whose tree is built and stored: what anchorLots needs."""

    lot_id: bytes
    gtin: str
    lot: str
    root: bytes
    count: int
    metadata_hash: bytes


@dataclass
class AnchorReport:
    lots: int = 0
    items: int = 0
    anchored_lots: int = 0
    skipped_lots: int = 0
    transactions: list[str] = field(default_factory=list)
    gas_used: int = 0
    seconds: float = 0.0


def root_conflict(gtin: str, lot: str, anchored: bytes, root: bytes) -> AnchorConflict:
    """The error for a manifest whose lot differs from the one anchored under its number."""
    return AnchorConflict(
        f"lot {lot} of {gtin} is already anchored with root 0x{anchored.hex()}, "
        f"but the manifest gives 0x{root.hex()}; anchor changed lots under a new lot number"
    )


def prepare(block: LotBlock, store: Path, anchored_root: Callable[[bytes], bytes] | None = None) -> ReadyLot:
    """Build and store the tree of `block`, or reuse its lot file when it came from the same block.

    A stored file from another block is replaced, unless `anchored_root` (the root on chain of a
    lot id, zero when not anchored) shows that lot anchored with another root than the new one:
    then the file is the anchored tree, which the gateway proves items from, and stays.
    """
    digest = block.digest()
    stored = read_header(lot_path(store, block.lot_id))
    meta = lot_metadata_hash(block)
    if stored is not None and stored.digest == digest:
        return ReadyLot(block.lot_id, block.gtin, block.lot, stored.root, stored.count, meta)
    try:
        built = build_lot(block.gtin, block.serials, block.offsets, block.md_table, block.md_index)
    except ValueError as exc:  # the manifest lists a serial twice: an input error like any other of it
        raise ManifestError(f"lot {block.lot} of {block.gtin}: {exc}") from None
    if stored is not None and anchored_root is not None:
        anchored = anchored_root(block.lot_id)
        if anchored not in (bytes(32), built.root):
            raise root_conflict(block.gtin, block.lot, anchored, built.root)
    write_lot(store, block.lot_id, block.gtin, block.lot, digest, built, block.md_table)
    return ReadyLot(block.lot_id, block.gtin, block.lot, built.root, block.count, meta)


def prepared(
    blocks: Iterable[LotBlock],
    store: Path,
    workers: int,
    anchored_root: Callable[[bytes], bytes] | None = None,
) -> Iterator[ReadyLot]:
    """`prepare` over `blocks` on `workers` threads, in manifest order, at most 2 x workers in flight."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lot-tree") as pool:
        in_flight: deque[Future[ReadyLot]] = deque()
        try:
            for block in blocks:
                in_flight.append(pool.submit(prepare, block, store, anchored_root))
                if len(in_flight) >= 2 * workers:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        finally:
            for future in in_flight:
                future.cancel()


def wait_for_pending(w3: Web3, account: ChecksumAddress, timeout: float = PENDING_WAIT_S) -> None:
    """Wait until `account` has no transaction pending (an interrupted run may have left some)."""
    deadline = time.monotonic() + timeout
    while w3.eth.get_transaction_count(account, "pending") > w3.eth.get_transaction_count(account, "latest"):
        if time.monotonic() > deadline:
            raise AnchorError(
                f"transactions of {account} are still pending after {timeout:.0f} s; rerun later"
            )
        time.sleep(0.5)


def _not_yet_anchored(registry: Contract, lots: list[ReadyLot], brand: str) -> list[ReadyLot]:
    """The lots of `lots` to anchor: not on chain yet. One anchored with the same root by
    `brand` is skipped (a rerun resumes); by another account, or with another root, stops the run."""
    todo = []
    for lot in lots:
        root, _, _ = registry.functions.lotOf(lot.lot_id).call()
        if root == b"\0" * 32:
            todo.append(lot)
        elif bytes(root) != lot.root:
            raise root_conflict(lot.gtin, lot.lot, bytes(root), lot.root)
        elif (anchored_by := registry.functions.brandOf(lot.lot_id).call()) != brand:
            raise AnchorError(
                f"lot {lot.lot} of {lot.gtin} was anchored by {anchored_by}, not by {brand}: only its"
                " brand resumes its anchoring (check --account)"
            )
    return todo


def anchor_manifest(
    blocks: Iterable[LotBlock],
    *,
    store: Path,
    w3: Web3,
    registry: Contract,
    brand: LocalAccount,
    uri: str = "",
    lots_per_tx: int = LOTS_PER_TX,
    workers: int | None = None,
    on_items: Callable[[int], None] = lambda _: None,
) -> AnchorReport:
    """Anchor every lot of `blocks` once; `on_items` hears of each lot's items once its tree is stored."""
    started = time.monotonic()
    report = AnchorReport()
    wait_for_pending(w3, brand.address)
    if store.is_dir():
        remove_stale_partials(store)
    batch: list[ReadyLot] = []

    def flush() -> None:
        todo = _not_yet_anchored(registry, batch, brand.address)
        report.skipped_lots += len(batch) - len(todo)
        if todo:
            call = registry.functions.anchorLots(
                [lot.lot_id for lot in todo],
                [lot.root for lot in todo],
                [lot.count for lot in todo],
                [lot.metadata_hash for lot in todo],
                uri,
            )
            receipt = send(w3, brand, call)
            report.transactions.append("0x" + bytes(receipt["transactionHash"]).hex())
            report.gas_used += int(receipt["gasUsed"])
            report.anchored_lots += len(todo)
        batch.clear()

    def anchored_root(lot_id: bytes) -> bytes:
        return bytes(registry.functions.lotOf(lot_id).call()[0])

    for lot in prepared(blocks, store, workers or os.cpu_count() or 1, anchored_root):
        report.lots += 1
        report.items += lot.count
        on_items(lot.count)
        batch.append(lot)
        if len(batch) >= lots_per_tx:
            flush()
    if batch:
        flush()
    report.seconds = time.monotonic() - started
    return report

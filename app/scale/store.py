"""The compact lot store: one file per anchored lot, from which the gateway proves any item.

`<store>/<lot id hex>.otl`, written once by `origintrace lots anchor` (to a temporary name,
then renamed, so a file that exists is whole), read by the gateway through mmap:

    header (128 bytes)   magic OTLOTST1, n, m, stored levels, root, manifest digest,
                         GTIN-14, lot
    level sizes          u64 per stored tree level
    item ids             n x 32 bytes, ascending (the tree's leaf order)
    metadata index       n x u32, the metadata hash of each item (into the table below)
    metadata hashes      m x 32 bytes
    upper tree levels    the nodes of levels CHUNK_LEVELS..top (app/scale/native.py)

An item costs 36 bytes plus about 4 for the upper levels. Its position is found by binary
search on the ids; the bottom CHUNK_LEVELS levels of its proof are recomputed from its 16-leaf
chunk (ids + metadata hashes), the rest read from the upper levels. The gateway checks the
proof against the root the chain holds (indexed from LotAnchored), never against this file's.
"""

import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from app.gs1.keys import Lot
from app.scale.native import BuiltLot, tree_of
from app.scale.proofs import proof_from_chunk
from app.scale.shape import CHUNK, stored_level_sizes

MAGIC: Final = b"OTLOTST1"
MAX_LOT_FILE_BYTES: Final = 256 * 1024 * 1024
"""Largest lot file a gateway takes, and `verify` reads from one: a lot of about 6.5 million
items (about 40 bytes an item)."""
_HEADER: Final = struct.Struct("<8sQII32s16s14sB20s")
HEADER_SIZE: Final = 128
SUFFIX: Final = ".otl"


def lot_path(store: Path, lot_id: bytes) -> Path:
    return store / f"{lot_id.hex()}{SUFFIX}"


@dataclass(frozen=True)
class StoredLot:
    """What a lot file's header says, without reading the rest."""

    lot_id: bytes
    gtin: str
    lot: str
    count: int
    root: bytes
    digest: bytes


def write_lot(
    store: Path, lot_id: bytes, gtin: str, lot: str, digest: bytes, built: BuiltLot, md_table: bytes
) -> Path:
    """Write the file of one built lot atomically; its path."""
    store.mkdir(parents=True, exist_ok=True)
    path = lot_path(store, lot_id)
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    lot_raw = lot.encode()
    header = _HEADER.pack(
        MAGIC,
        len(built.ids) // 32,
        len(md_table) // 32,
        len(built.level_sizes),
        built.root,
        digest,
        gtin.encode(),
        len(lot_raw),
        lot_raw,
    ).ljust(HEADER_SIZE, b"\0")
    with partial.open("wb") as out:
        out.write(header)
        out.write(struct.pack(f"<{len(built.level_sizes)}Q", *built.level_sizes))
        for part in (built.ids, built.md_index, md_table, built.upper):
            out.write(part)
    partial.replace(path)
    return path


def remove_stale_partials(store: Path) -> int:
    """Delete half-written lot files left by writers that died (their pid is gone); how many."""
    removed = 0
    for partial in store.glob(f"*{SUFFIX}.*.partial"):
        pid = int(partial.name.split(".")[-2])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            partial.unlink(missing_ok=True)
            removed += 1
        except PermissionError:
            pass  # alive, another user's
    return removed


def read_header(path: Path) -> StoredLot | None:
    """The header of a lot file, or None when it is absent or not a lot file."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(_HEADER.size)
    except FileNotFoundError:
        return None
    if len(raw) != _HEADER.size or not raw.startswith(MAGIC):
        return None
    _, n, _, _, root, digest, gtin, lot_len, lot = _HEADER.unpack(raw)
    try:
        lot_id = bytes.fromhex(path.name.removesuffix(SUFFIX))
        return StoredLot(lot_id, gtin.decode(), lot[:lot_len].decode(), n, root, digest)
    except ValueError:  # a name or text that no lot file of this store has (UnicodeDecodeError too)
        return None


class LotFileError(ValueError):
    """A file that is not the whole, well-formed tree of the lot it is offered for."""


def check_lot_file(path: Path, lot_id: bytes, root: bytes, count: int | None = None) -> StoredLot:
    """The header of the lot file at `path` after checking that it is the tree of the lot
    `lot_id` anchored with `root` (and `count` items, when given) on chain: its GTIN and lot
    number hash to `lot_id`, its header names that root and count, its sizes add up (no more
    metadata hashes than items), and its items and metadata, hashed again, give exactly its
    stored levels and that root (natively: a million items in about 0.25 s). The cheap checks
    come first, so a made-up file costs no hashing. Raises LotFileError saying what is wrong."""
    if path.stat().st_size < HEADER_SIZE:
        raise LotFileError(f"not a lot file: {path.stat().st_size} bytes, shorter than a lot file's header")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[: len(MAGIC)] != MAGIC:
            raise LotFileError("not a lot file (its first bytes are not OTLOTST1)")
        _, n, m, levels, stored_root, digest, gtin, lot_len, lot = _HEADER.unpack_from(data)
        try:
            header = StoredLot(lot_id, gtin.decode(), lot[:lot_len].decode(), n, stored_root, digest)
            named = Lot(header.gtin, header.lot).item_id
        except ValueError as exc:
            raise LotFileError(f"its header names no valid lot: {exc}") from None
        if named != lot_id:
            raise LotFileError(
                f"it is the file of lot {header.lot} of GTIN {header.gtin}, not of lot 0x{lot_id.hex()}"
            )
        if stored_root != root:
            raise LotFileError(
                f"its root 0x{stored_root.hex()} is not the root anchored on chain, 0x{root.hex()}"
            )
        if count is not None and n != count:
            raise LotFileError(f"it holds {n:,} items; the lot was anchored with {count:,}")
        sizes = stored_level_sizes(n) if n > 0 else ()
        if n < 1 or not 1 <= m <= n or levels != len(sizes):
            raise LotFileError(
                f"its header is inconsistent ({n} items, {m} metadata hashes, {levels} levels)"
            )
        ids = HEADER_SIZE + 8 * levels
        expected = ids + 36 * n + 32 * m + 32 * sum(sizes)
        if len(data) != expected or struct.unpack_from(f"<{levels}Q", data, HEADER_SIZE) != sizes:
            raise LotFileError(
                f"it holds {len(data):,} bytes; {n:,} items and {m:,} metadata hashes take {expected:,}"
            )
        md_index, md_table, upper = ids + 32 * n, ids + 36 * n, ids + 36 * n + 32 * m
        try:  # slices of the map are copies: ctypes takes no read-only buffer without one
            built, built_root = tree_of(data[ids:md_index], data[md_table:upper], data[md_index:md_table])
        except ValueError as exc:
            raise LotFileError(str(exc)) from None
        if built != data[upper:] or built_root != stored_root:
            raise LotFileError("its stored tree is not the tree of its items")
    return header


@dataclass(frozen=True)
class ItemProof:
    """An item of a stored lot: its metadata hash and Merkle proof (leaf to root)."""

    metadata_hash: bytes
    proof: list[bytes]


class LotReader:
    """An open lot file: finds items and builds their proofs, reading only what it needs."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        _, self.count, self._m, levels, self.root, _, _, _, _ = _HEADER.unpack_from(self._map)
        self.level_sizes = struct.unpack_from(f"<{levels}Q", self._map, HEADER_SIZE)
        self._ids = HEADER_SIZE + 8 * levels
        self._md_index = self._ids + 32 * self.count
        self._md_table = self._md_index + 4 * self.count
        self._upper = self._md_table + 32 * self._m

    def close(self) -> None:
        self._map.close()

    def __enter__(self) -> "LotReader":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def item_id(self, position: int) -> bytes:
        start = self._ids + 32 * position
        return self._map[start : start + 32]

    def metadata_hash(self, position: int) -> bytes:
        (index,) = struct.unpack_from("<I", self._map, self._md_index + 4 * position)
        start = self._md_table + 32 * index
        return self._map[start : start + 32]

    def find(self, item_id: bytes) -> int | None:
        """The position of `item_id` in the lot, by binary search over the sorted ids."""
        low, high = 0, self.count
        while low < high:
            middle = (low + high) // 2
            if self.item_id(middle) < item_id:
                low = middle + 1
            else:
                high = middle
        return low if low < self.count and self.item_id(low) == item_id else None

    def prove(self, item_id: bytes) -> ItemProof | None:
        """The item's metadata hash and proof, or None when the lot does not list it."""
        position = self.find(item_id)
        if position is None:
            return None
        first = position - position % CHUNK
        last = min(first + CHUNK, self.count)
        ids = self._map[self._ids + 32 * first : self._ids + 32 * last]
        metadata = b"".join(self.metadata_hash(p) for p in range(first, last))
        upper = memoryview(self._map)[self._upper : self._upper + 32 * sum(self.level_sizes)]
        try:
            proof = proof_from_chunk(position, self.count, ids, metadata, upper)
        except ValueError:
            proof = []  # a damaged file proves nothing; the caller's check against the root fails
        finally:
            upper.release()
        return ItemProof(self.metadata_hash(position), proof)

"""Item manifests: what a brand anchors, streamed one lot at a time with bounded memory.

A manifest lists items as (GTIN, lot, serial, metadata hash); the rows of one lot must be
contiguous (a lot that appears again later is an error), so only one lot is ever in memory.

Two forms, same content:

* CSV with a header `gtin,lot,serial,metadata_hash` (the hash as 0x + 64 hex digits).
  Readable and easy to produce; parsed row by row (~0.3 M rows/s).
* OTM, the compact binary form (`.otm`), for millions of items: after the 8-byte magic
  `OTMANIF1`, one block per lot, all integers little-endian:

      u32 n (items)  u32 m (distinct metadata hashes)  14 bytes GTIN-14 (ASCII)
      u8 lot length  lot (ASCII)
      m x 32 bytes   metadata hashes
      n x u32        metadata index of each item (into the m hashes)
      (n+1) x u32    offsets of each serial in the serial bytes (first 0, last = their length)
      serial bytes   the n serials (GS1 CSET 82, 1-20 characters each), concatenated

  Items of a lot usually share their product metadata, so m is small and an item costs
  about its serial plus 8 bytes. The buffers go to the native tree builder as they are.

Both readers validate everything (GTIN check digit, CSET 82, lengths, indexes) and name the
line or block of the first fault.
"""

import csv
import hashlib
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np

from app.gs1.keys import CSET82, MAX_SERIAL_LEN, InvalidKey, Lot, check_lot, check_serial, normalise_gtin

MAGIC: Final = b"OTMANIF1"
_BLOCK: Final = struct.Struct("<II14sB")
CSV_FIELDS: Final = ("gtin", "lot", "serial", "metadata_hash")
MAX_LOT_ITEMS: Final = 50_000_000
"""A lot larger than this is refused: split it (it bounds the memory one lot needs)."""


class ManifestError(ValueError):
    """A manifest that cannot be anchored; the message names where and why."""


@dataclass(frozen=True)
class LotBlock:
    """One lot of a manifest, in the buffers the native tree builder takes."""

    gtin: str
    lot: str
    serials: bytes
    offsets: bytes
    """n+1 little-endian uint32 offsets into `serials`."""
    md_table: bytes
    """m distinct 32-byte metadata hashes."""
    md_index: bytes
    """n little-endian uint32 indexes into `md_table`."""
    lot_id: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lot_id", Lot(self.gtin, self.lot).item_id)

    @property
    def count(self) -> int:
        return len(self.md_index) // 4

    def digest(self) -> bytes:
        """BLAKE2b of the whole block: what a lot store file was built from (to resume safely)."""
        h = hashlib.blake2b(digest_size=16)
        for part in (
            self.gtin.encode(),
            self.lot.encode(),
            self.offsets,
            self.serials,
            self.md_table,
            self.md_index,
        ):
            h.update(len(part).to_bytes(8, "little"))
            h.update(part)
        return h.digest()

    def serial(self, position: int) -> str:
        """The serial of the item at `position` in manifest order."""
        offsets = np.frombuffer(self.offsets, dtype="<u4")
        return self.serials[int(offsets[position]) : int(offsets[position + 1])].decode()

    def validate(self, where: str) -> "LotBlock":
        """This block, after checking what the fast path would otherwise trust."""
        n, m = self.count, len(self.md_table) // 32
        if not 1 <= n <= MAX_LOT_ITEMS:
            raise ManifestError(f"{where}: a lot needs 1 to {MAX_LOT_ITEMS:,} items, got {n:,}")
        if m < 1 or len(self.md_table) % 32:
            raise ManifestError(f"{where}: the lot has no metadata hash")
        offsets = np.frombuffer(self.offsets, dtype="<u4")
        lengths = np.diff(offsets.astype(np.int64))
        if len(offsets) != n + 1 or offsets[0] != 0 or int(offsets[-1]) != len(self.serials):
            raise ManifestError(
                f"{where}: serial offsets do not match the {len(self.serials):,} serial bytes"
            )
        bad = np.flatnonzero((lengths < 1) | (lengths > MAX_SERIAL_LEN))
        if bad.size:
            raise ManifestError(
                f"{where}: serial of item {int(bad[0]) + 1} must be 1-{MAX_SERIAL_LEN} characters"
            )
        if self.serials.translate(None, CSET82):
            stray = self.serials.translate(None, CSET82)[:1].decode(errors="replace")
            raise ManifestError(f"{where}: serials may use only GS1 CSET 82 characters, found {stray!r}")
        if int(np.frombuffer(self.md_index, dtype="<u4").max()) >= m:
            raise ManifestError(f"{where}: a metadata index points past the lot's {m} metadata hashes")
        return self


def _block_key(gtin: str, lot: str, where: str) -> tuple[str, str]:
    try:
        return normalise_gtin(gtin), check_lot(lot)
    except InvalidKey as exc:
        raise ManifestError(f"{where}: {exc}") from exc


class _LotBuilder:
    """Collects one lot's rows into block buffers."""

    def __init__(self, gtin: str, lot: str) -> None:
        self.gtin, self.lot = gtin, lot
        self.serials = bytearray()
        self.offsets = [0]
        self.md_index: list[int] = []
        self.md_seen: dict[bytes, int] = {}

    def add(self, serial: str, metadata_hash: bytes) -> None:
        self.serials += serial.encode()
        self.offsets.append(len(self.serials))
        self.md_index.append(self.md_seen.setdefault(metadata_hash, len(self.md_seen)))

    def block(self) -> LotBlock:
        return LotBlock(
            self.gtin,
            self.lot,
            bytes(self.serials),
            np.asarray(self.offsets, dtype="<u4").tobytes(),
            b"".join(self.md_seen),
            np.asarray(self.md_index, dtype="<u4").tobytes(),
        )


def lot_block(gtin: str, lot: str, items: Iterable[tuple[str, bytes]]) -> LotBlock:
    """The block of lot `lot` of GTIN-14 `gtin` listing (serial, metadata hash) `items`."""
    builder = _LotBuilder(gtin, lot)
    for serial, metadata_hash in items:
        builder.add(serial, metadata_hash)
    return builder.block()


def _metadata_hash(value: str, where: str) -> bytes:
    text = value.removeprefix("0x")
    if len(text) != 64:
        raise ManifestError(f"{where}: metadata_hash must be 0x + 64 hex digits")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ManifestError(f"{where}: metadata_hash must be 0x + 64 hex digits") from None


def read_csv(path: Path) -> Iterator[LotBlock]:
    """The lots of a CSV manifest, one block at a time."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != list(CSV_FIELDS):
            raise ManifestError(f"{path}:1: the header must be {','.join(CSV_FIELDS)}")
        current: _LotBuilder | None = None
        raw_key: tuple[str, str] | None = None
        done: set[tuple[str, str]] = set()
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            if len(row) != len(CSV_FIELDS):
                raise ManifestError(f"{where}: expected {len(CSV_FIELDS)} fields, got {len(row)}")
            gtin, lot, serial, metadata = row
            if (gtin, lot) != raw_key:
                key = _block_key(gtin, lot, where)
                if current is None or key != (current.gtin, current.lot):
                    if current is not None:
                        done.add((current.gtin, current.lot))
                        yield current.block().validate(where)
                    if key in done:
                        raise ManifestError(
                            f"{where}: lot {key[1]} of {key[0]} appeared earlier; list a lot's rows together"
                        )
                    current = _LotBuilder(*key)
                raw_key = (gtin, lot)
            assert current is not None
            try:
                check_serial(serial)
            except InvalidKey as exc:
                raise ManifestError(f"{where}: {exc}") from exc
            current.add(serial, _metadata_hash(metadata, where))
        if current is None:
            raise ManifestError(f"{path} lists no items")
        yield current.block().validate(str(path))


def _read_exact(handle: BinaryIO, size: int, where: str) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise ManifestError(f"{where}: the file ends inside a block (truncated?)")
    return data


def read_otm(path: Path) -> Iterator[LotBlock]:
    """The lots of a binary (OTM) manifest, one block at a time."""
    with path.open("rb") as handle:
        if handle.read(len(MAGIC)) != MAGIC:
            raise ManifestError(f"{path}: not an OTM manifest (it must start with {MAGIC.decode()})")
        seen: set[bytes] = set()
        number = 0
        while head := handle.read(_BLOCK.size):
            number += 1
            where = f"{path}: block {number}"
            if len(head) != _BLOCK.size:
                raise ManifestError(f"{where}: the file ends inside a block header (truncated?)")
            n, m, gtin_raw, lot_len = _BLOCK.unpack(head)
            if not 1 <= n <= MAX_LOT_ITEMS:
                raise ManifestError(f"{where}: a lot needs 1 to {MAX_LOT_ITEMS:,} items, got {n:,}")
            lot_raw = _read_exact(handle, lot_len, where)
            gtin, lot = _block_key(
                gtin_raw.decode("ascii", "replace"), lot_raw.decode("ascii", "replace"), where
            )
            md_table = _read_exact(handle, 32 * m, where)
            md_index = _read_exact(handle, 4 * n, where)
            offsets = _read_exact(handle, 4 * (n + 1), where)
            serials = _read_exact(handle, int.from_bytes(offsets[-4:], "little"), where)
            block = LotBlock(gtin, lot, serials, offsets, md_table, md_index).validate(where)
            if block.lot_id in seen:
                raise ManifestError(f"{where}: lot {lot} of {gtin} appeared earlier; list each lot once")
            seen.add(block.lot_id)
            yield block
        if not number:
            raise ManifestError(f"{path} lists no items")


def write_otm(path: Path, blocks: Iterable[LotBlock]) -> int:
    """Write `blocks` as an OTM manifest (atomically); the number of items written."""
    items = 0
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as out:
        out.write(MAGIC)
        for block in blocks:
            lot = block.lot.encode()
            out.write(_BLOCK.pack(block.count, len(block.md_table) // 32, block.gtin.encode(), len(lot)))
            for part in (lot, block.md_table, block.md_index, block.offsets, block.serials):
                out.write(part)
            items += block.count
    partial.replace(path)
    return items


def count_items(path: Path) -> int:
    """The number of items in a manifest, read quickly (block headers or lines), so progress
    can show an ETA; a truncated OTM manifest is refused here, before anything is anchored."""
    with path.open("rb") as handle:
        if handle.read(len(MAGIC)) != MAGIC:
            handle.seek(0)
            return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1)
        size = os.fstat(handle.fileno()).st_size
        items, number = 0, 0
        while head := handle.read(_BLOCK.size):
            number += 1
            end = handle.tell() + 4 * _BLOCK.unpack(head)[0] if len(head) == _BLOCK.size else size + 1
            if end <= size:
                n, m, _, lot_len = _BLOCK.unpack(head)
                handle.seek(lot_len + 32 * m + 8 * n, os.SEEK_CUR)
                end = handle.tell() + 4 + int.from_bytes(handle.read(4), "little")
                handle.seek(end)
                items += n
            if end > size:
                raise ManifestError(f"{path}: block {number}: the file ends inside a block (truncated?)")
        return items


def read_manifest(path: Path) -> Iterator[LotBlock]:
    """The lots of `path`: OTM when it starts with the OTM magic, else CSV."""
    with path.open("rb") as handle:
        binary = handle.read(len(MAGIC)) == MAGIC
    return read_otm(path) if binary else read_csv(path)

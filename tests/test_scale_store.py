"""The lot store: a lot file proves every item of its lot and nothing else, in a few dozen bytes an item."""

from pathlib import Path

import numpy as np
import pytest
from eth_utils.crypto import keccak

from app.chain.merkle import LotTree, leaf_hash, verify
from app.gs1.keys import SerialisedItem
from app.scale.manifest import LotBlock
from app.scale.native import build_lot
from app.scale.store import (
    HEADER_SIZE,
    LotFileError,
    LotReader,
    check_lot_file,
    lot_path,
    read_header,
    write_lot,
)

GTIN = "09506000134376"


def make_block(count: int, variants: int = 2, lot: str = "L1") -> LotBlock:
    serials = [f"X{i * 7919 % 100_003:06d}".encode() for i in range(count)]
    offsets = np.cumsum([0] + [len(s) for s in serials], dtype="<u4")
    return LotBlock(
        gtin=GTIN,
        lot=lot,
        serials=b"".join(serials),
        offsets=offsets.tobytes(),
        md_table=b"".join(keccak(text=f"variant {v}") for v in range(variants)),
        md_index=(np.arange(count, dtype="<u4") % variants).tobytes(),
    )


@pytest.mark.parametrize("count", [1, 2, 3, 15, 16, 17, 33, 1000])
def test_every_item_is_proven_against_the_root(tmp_path: Path, count: int) -> None:
    block = make_block(count)
    built = build_lot(block.gtin, block.serials, block.offsets, block.md_table, block.md_index)
    path = write_lot(tmp_path, block.lot_id, block.gtin, block.lot, block.digest(), built, block.md_table)
    assert path == lot_path(tmp_path, block.lot_id) and not list(tmp_path.glob("*.partial"))
    entries = []
    reader = LotReader(path)
    for i in range(count):
        item = SerialisedItem(GTIN, block.serial(i)).item_id
        metadata = keccak(text=f"variant {i % 2}")
        entries.append((item, metadata))
        found = reader.prove(item)
        assert found is not None and found.metadata_hash == metadata
        assert verify(found.proof, built.root, leaf_hash(item, metadata))
    assert built.root == LotTree.build(entries).root  # the store's tree is the reference tree
    assert reader.prove(SerialisedItem(GTIN, "NOT-IN-LOT").item_id) is None
    reader.close()


def test_the_header_says_what_the_file_was_built_from(tmp_path: Path) -> None:
    block = make_block(40, lot="L9")
    built = build_lot(block.gtin, block.serials, block.offsets, block.md_table, block.md_index)
    path = write_lot(tmp_path, block.lot_id, block.gtin, block.lot, block.digest(), built, block.md_table)
    header = read_header(path)
    assert header is not None
    assert (header.lot_id, header.gtin, header.lot, header.count) == (block.lot_id, GTIN, "L9", 40)
    assert (header.root, header.digest) == (built.root, block.digest())
    assert read_header(tmp_path / "absent.otl") is None
    (tmp_path / "junk.otl").write_bytes(b"not a lot file")
    assert read_header(tmp_path / "junk.otl") is None


def test_an_item_costs_about_forty_bytes(tmp_path: Path) -> None:
    block = make_block(100_000, variants=3)
    built = build_lot(block.gtin, block.serials, block.offsets, block.md_table, block.md_index)
    path = write_lot(tmp_path, block.lot_id, block.gtin, block.lot, block.digest(), built, block.md_table)
    assert path.stat().st_size / 100_000 < 41


def test_a_damaged_file_proves_nothing(tmp_path: Path) -> None:
    block = make_block(100)
    built = build_lot(block.gtin, block.serials, block.offsets, block.md_table, block.md_index)
    path = write_lot(tmp_path, block.lot_id, block.gtin, block.lot, block.digest(), built, block.md_table)
    item = SerialisedItem(GTIN, block.serial(0)).item_id
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF  # a node of the stored upper levels
    path.write_bytes(bytes(data))
    found = LotReader(path).prove(item)
    assert found is not None
    assert not verify(found.proof, built.root, leaf_hash(item, found.metadata_hash))


def test_a_lot_file_is_checked_whole_against_the_root_on_chain(tmp_path: Path) -> None:
    """What the gateway checks before it takes a lot file (PUT /api/v1/items/{id}/lot-file): a
    file that would prove nothing, or prove another lot, is refused saying why."""
    block = make_block(1000, variants=3)
    built = build_lot(block.gtin, block.serials, block.offsets, block.md_table, block.md_index)
    path = write_lot(tmp_path, block.lot_id, block.gtin, block.lot, block.digest(), built, block.md_table)
    header = check_lot_file(path, block.lot_id, built.root)
    assert (header.gtin, header.lot, header.count, header.root) == (GTIN, "L1", 1000, built.root)
    good = path.read_bytes()
    ids = HEADER_SIZE + 8 * len(built.level_sizes)

    def refused(
        data: bytes, lot_id: bytes = block.lot_id, root: bytes = built.root, count: int = 1000
    ) -> str:
        path.write_bytes(data)
        with pytest.raises(LotFileError) as error:
            check_lot_file(path, lot_id, root, count)
        return str(error.value)

    other = make_block(10, lot="L2")
    assert (
        refused(good, lot_id=other.lot_id)
        == f"it is the file of lot L1 of GTIN {GTIN}, not of lot 0x{other.lot_id.hex()}"
    )
    assert refused(good, root=b"\1" * 32).startswith(
        f"its root 0x{built.root.hex()} is not the root anchored"
    )
    assert refused(good, count=999) == "it holds 1,000 items; the lot was anchored with 999"
    assert "take" in refused(good[:-1]) and "take" in refused(good + b"\0")
    assert refused(b"not a lot file at all" * 10) == "not a lot file (its first bytes are not OTLOTST1)"
    assert refused(b"short").startswith("not a lot file: 5 bytes")
    swapped = good[:ids] + good[ids + 32 : ids + 64] + good[ids : ids + 32] + good[ids + 64 :]
    assert refused(swapped) == "item ids 0 and 1 are not in ascending order"
    changed_metadata = bytearray(good)
    changed_metadata[ids + 32 * 1000] ^= 1  # the first item's metadata index: 0 <-> 1
    assert refused(bytes(changed_metadata)) == "its stored tree is not the tree of its items"
    changed_node = bytearray(good)
    changed_node[-40] ^= 0xFF  # a node of the stored levels, as in a damaged copy
    assert refused(bytes(changed_node)) == "its stored tree is not the tree of its items"

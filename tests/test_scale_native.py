"""The native lot builder (app/scale/native.py) agrees with the Python reference tree."""

import os
import random
import shutil
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from app.chain.merkle import LotTree, leaf_hash, verify
from app.gs1.keys import SerialisedItem
from app.scale.native import (
    SOURCE,
    BuiltLot,
    NativeBuildError,
    build_library,
    build_lot,
    keccak256,
    tree_of,
)
from app.scale.proofs import proof_from_chunk
from app.scale.shape import CHUNK, stored_level_sizes

GTIN = "09506000134352"


def _lot(
    serials: list[str], metadata: list[bytes], md_of: list[int]
) -> tuple[str, bytes, bytes, bytes, bytes]:
    encoded = [s.encode() for s in serials]
    offsets = [0]
    for s in encoded:
        offsets.append(offsets[-1] + len(s))
    return (
        GTIN,
        b"".join(encoded),
        struct.pack(f"<{len(offsets)}I", *offsets),
        b"".join(metadata),
        struct.pack(f"<{len(md_of)}I", *md_of),
    )


def _random_lot(n: int, m: int, seed: int) -> tuple[list[str], list[bytes], list[int]]:
    rng = random.Random(seed)
    serials = [f"S{seed}-{i}-{rng.randrange(10**6)}" for i in range(n)]
    metadata = [keccak(text=f"metadata {seed} {k}") for k in range(m)]
    return serials, metadata, [rng.randrange(m) for _ in range(n)]


def _reference(
    serials: list[str], metadata: list[bytes], md_of: list[int]
) -> tuple[list[tuple[bytes, bytes]], LotTree]:
    entries = [
        (SerialisedItem.parse(GTIN, s).item_id, metadata[k]) for s, k in zip(serials, md_of, strict=True)
    ]
    return entries, LotTree.build(entries)


def _words(buffer: bytes, size: int) -> list[bytes]:
    return [buffer[k : k + size] for k in range(0, len(buffer), size)]


@pytest.mark.parametrize(
    "length", [0, 1, 31, 32, 33, 63, 64, 65, 135, 136, 137, 200, 271, 272, 273, 1000, 4096]
)
def test_keccak256_matches_eth_utils(length: int) -> None:
    data = random.Random(length).randbytes(length)
    assert keccak256(data) == keccak(data)
    assert keccak256(bytearray(data)) == keccak(data)


def test_keccak256_known_answers() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"


@pytest.mark.parametrize(
    ("n", "m"),
    [(1, 1), (2, 1), (3, 2), (5, 5), (15, 1), (16, 3), (17, 17), (31, 2), (33, 1), (1000, 7), (4097, 3)],
)
def test_build_lot_matches_the_python_tree(n: int, m: int) -> None:
    serials, metadata, md_of = _random_lot(n, m, seed=n * 31 + m)
    entries, tree = _reference(serials, metadata, md_of)
    built = build_lot(*_lot(serials, metadata, md_of))

    assert built.root == tree.root
    assert _words(built.ids, 32) == sorted(item_id for item_id, _ in entries)
    by_id = dict(entries)
    sorted_md = [metadata[k] for k in struct.unpack(f"<{n}I", built.md_index)]
    assert sorted_md == [by_id[item_id] for item_id in _words(built.ids, 32)]
    assert built.level_sizes == stored_level_sizes(n)
    assert len(built.upper) == 32 * sum(built.level_sizes)
    assert built.upper[-32:] == built.root
    levels = tree.levels[built.first_level :]
    assert built.upper == b"".join(b"".join(level) for level in levels)


@pytest.mark.parametrize("n", [1, 2, 3, 16, 17, 1000])
def test_tree_of_a_stored_lot_is_the_tree_its_builder_stored(n: int) -> None:
    """What checks an uploaded lot file: the tree over its sorted ids and metadata alone."""
    serials, metadata, md_of = _random_lot(n, 3, seed=n)
    _, *buffers = _lot(serials, metadata, md_of)
    built = build_lot(GTIN, *buffers)
    assert tree_of(built.ids, buffers[2], built.md_index) == (built.upper, built.root)
    if n > 1:
        swapped = built.ids[32:64] + built.ids[:32] + built.ids[64:]
        with pytest.raises(ValueError, match="item ids 0 and 1 are not in ascending order"):
            tree_of(swapped, buffers[2], built.md_index)
    past = built.md_index[:-4] + struct.pack("<I", 3)
    with pytest.raises(ValueError, match=f"metadata index {n - 1} is past the 3 metadata hashes"):
        tree_of(built.ids, buffers[2], past)
    with pytest.raises(ValueError, match="n >= 1 ids"):
        tree_of(built.ids[:-1], buffers[2], built.md_index)


def test_shared_and_unique_metadata_give_different_roots() -> None:
    serials, metadata, _ = _random_lot(100, 100, seed=7)
    shared = build_lot(*_lot(serials, metadata[:1], [0] * 100))
    unique = build_lot(*_lot(serials, metadata, list(range(100))))
    assert shared.ids == unique.ids and shared.root != unique.root
    assert shared.root == _reference(serials, metadata[:1], [0] * 100)[1].root
    assert unique.root == _reference(serials, metadata, list(range(100)))[1].root


def test_build_lot_accepts_writable_buffers_without_copying() -> None:
    serials, metadata, md_of = _random_lot(50, 2, seed=3)
    gtin, *buffers = _lot(serials, metadata, md_of)
    as_bytes = build_lot(gtin, *buffers)
    assert build_lot(gtin, *(bytearray(b) for b in buffers)) == as_bytes
    assert build_lot(gtin, *(memoryview(bytearray(b)) for b in buffers)) == as_bytes


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9, 15, 16, 17, 31, 33, 1000, 4097])
def test_proof_from_chunk_equals_the_tree_proof(n: int) -> None:
    serials, metadata, md_of = _random_lot(n, 3, seed=n)
    _, tree = _reference(serials, metadata, md_of)
    built = build_lot(*_lot(serials, metadata, md_of))
    ids = _words(built.ids, 32)
    md = [metadata[k] for k in struct.unpack(f"<{n}I", built.md_index)]
    edges = [*range(3 * CHUNK), *range(n - 3 * CHUNK, n)]
    positions = range(n) if n <= 1000 else sorted({*edges, *random.Random(n).sample(range(n), 300)})
    for i in positions:
        start = i - i % CHUNK
        chunk = slice(start, start + CHUNK)
        proof = proof_from_chunk(i, n, b"".join(ids[chunk]), b"".join(md[chunk]), built.upper)
        assert proof == tree.proof(ids[i], md[i])
        assert verify(proof, built.root, leaf_hash(ids[i], md[i]))


def test_proof_from_chunk_rejects_a_chunk_that_is_not_in_the_tree() -> None:
    serials, metadata, md_of = _random_lot(40, 1, seed=1)
    built = build_lot(*_lot(serials, metadata, md_of))
    ids = built.ids[: 32 * CHUNK]
    with pytest.raises(ValueError, match="does not match the stored tree"):
        proof_from_chunk(3, 40, ids, keccak(text="forged") * CHUNK, built.upper)
    with pytest.raises(ValueError, match="holds 16 items"):
        proof_from_chunk(3, 40, ids[:32], metadata[0], built.upper)
    with pytest.raises(IndexError):
        proof_from_chunk(40, 40, ids, metadata[0] * CHUNK, built.upper)


def test_duplicate_serial_is_named() -> None:
    serials, metadata, md_of = _random_lot(300, 2, seed=5)
    serials[250] = serials[17]
    with pytest.raises(ValueError, match=f"serial '{serials[17]}' is listed twice"):
        build_lot(*_lot(serials, metadata, md_of))


def test_bad_buffers_get_clear_errors() -> None:
    gtin, serials, offsets, md_table, md_index = _lot(["A", "B"], [keccak(text="m")], [0, 0])
    with pytest.raises(ValueError, match="14-digit"):
        build_lot("9506000134352", serials, offsets, md_table, md_index)
    with pytest.raises(ValueError, match="md_index holds"):
        build_lot(gtin, serials, offsets, md_table, md_index[:4])
    with pytest.raises(ValueError, match=r"md_index\[1\] is past"):
        build_lot(gtin, serials, offsets, md_table, struct.pack("<2I", 0, 1))
    with pytest.raises(ValueError, match=r"offsets\[1:3\]"):
        build_lot(gtin, serials, struct.pack("<3I", 0, 1, 5), md_table, md_index)
    with pytest.raises(ValueError, match="32-byte"):
        build_lot(gtin, serials, offsets, md_table[:31], md_index)
    with pytest.raises(ValueError, match="n \\+ 1"):
        build_lot(gtin, b"", struct.pack("<I", 0), md_table, b"")


def test_two_threads_build_at_once_with_the_same_results() -> None:
    lots = [_lot(*_random_lot(20_000, 4, seed=s)) for s in (11, 12)]
    alone = [build_lot(*lot) for lot in lots]
    with ThreadPoolExecutor(2) as pool:
        for _ in range(3):
            together: list[BuiltLot] = list(pool.map(lambda lot: build_lot(*lot), lots * 2))
            assert together == alone * 2


def test_library_is_rebuilt_when_older_than_its_source(tmp_path: Path) -> None:
    source, library = tmp_path / "lotmerkle.c", tmp_path / "out" / "liblotmerkle.so"
    shutil.copy(SOURCE, source)
    assert build_library(source, library) == library
    built_at = library.stat().st_mtime_ns
    assert build_library(source, library) == library
    assert library.stat().st_mtime_ns == built_at  # up to date: not rebuilt
    os.utime(source, ns=(built_at + 10**9, built_at + 10**9))
    build_library(source, library)
    assert library.stat().st_mtime_ns > built_at
    assert [p.name for p in library.parent.iterdir() if p.suffix == ".tmp"] == []


def test_missing_compiler_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "lotmerkle.c"
    shutil.copy(SOURCE, source)
    monkeypatch.setenv("CC", "no-such-cc")
    with pytest.raises(NativeBuildError, match="`no-such-cc` is not on PATH"):
        build_library(source, tmp_path / "liblotmerkle.so")


def test_serials_longer_than_one_keccak_block_get_the_same_ids() -> None:
    serials = ["x" * length for length in (1, 116, 117, 118, 150, 300)]
    _, *buffers = _lot(serials, [keccak(text="m")], [0] * len(serials))
    built = build_lot(GTIN, *buffers)
    expected = sorted(keccak(text=f"01{GTIN}21{s}") for s in serials)
    assert _words(built.ids, 32) == expected

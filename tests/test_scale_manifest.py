"""Manifests: CSV and OTM carry the same lots, stream one lot at a time, and name every fault."""

from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from app.gs1.keys import normalise_gtin
from app.scale.catalogue import catalogue, gtin13
from app.scale.manifest import (
    MAGIC,
    LotBlock,
    ManifestError,
    count_items,
    read_csv,
    read_manifest,
    read_otm,
    write_otm,
)

GTIN = "09506000134352"
HEADER = "gtin,lot,serial,metadata_hash\n"


def _hash(text: str) -> str:
    return "0x" + keccak(text=text).hex()


def _rows(lot: str, serials: range, meta: str = "m") -> str:
    return "".join(f"{GTIN},{lot},S{i},{_hash(meta)}\n" for i in serials)


def _fields(block: LotBlock) -> tuple[object, ...]:
    return (block.gtin, block.lot, block.serials, block.offsets, block.md_table, block.md_index)


def test_csv_and_otm_give_the_same_blocks(tmp_path: Path) -> None:
    csv_file = tmp_path / "items.csv"
    csv_file.write_text(
        HEADER + _rows("A", range(5)) + _rows("B", range(3), "n") + _rows("B", range(3, 4), "o")
    )
    blocks = list(read_csv(csv_file))
    assert [(b.lot, b.count) for b in blocks] == [("A", 5), ("B", 4)]
    assert blocks[1].md_table == keccak(text="n") + keccak(text="o")  # distinct hashes, first-seen order
    assert [blocks[1].serial(i) for i in range(4)] == ["S0", "S1", "S2", "S3"]
    otm = tmp_path / "items.otm"
    assert write_otm(otm, blocks) == 9
    assert [_fields(b) for b in read_otm(otm)] == [_fields(b) for b in blocks]
    assert [_fields(b) for b in read_manifest(otm)] == [_fields(b) for b in read_manifest(csv_file)]
    assert count_items(otm) == count_items(csv_file) == 9
    assert blocks[0].digest() != blocks[1].digest() and blocks[0].digest() == next(read_otm(otm)).digest()


def test_gtin_8_12_13_are_normalised_to_14_digits(tmp_path: Path) -> None:
    csv_file = tmp_path / "items.csv"
    csv_file.write_text(HEADER + f"9506000134352,L,S1,{_hash('m')}\n{GTIN},L,S2,{_hash('m')}\n")
    (block,) = read_csv(csv_file)  # the same lot, whichever GTIN form a row uses
    assert (block.gtin, block.count) == (GTIN, 2)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("gtin,lot,serial\n", "items.csv:1: the header must be gtin,lot,serial,metadata_hash"),
        (HEADER, "lists no items"),
        (HEADER + f"{GTIN[:-1]}3,L,S,{_hash('m')}\n", "items.csv:2: Invalid GTIN check digit"),
        (HEADER + f"{GTIN},L,S,0x12\n", "items.csv:2: metadata_hash must be 0x + 64 hex digits"),
        (HEADER + f"{GTIN},L,S S,{_hash('m')}\n", "items.csv:2: serial 'S S' must be 1-20 characters"),
        (HEADER + f"{GTIN},L,{'9' * 21},{_hash('m')}\n", "items.csv:2: serial"),
        (HEADER + f"{GTIN},L,S,{_hash('m')},extra\n", "items.csv:2: expected 4 fields, got 5"),
        (
            HEADER + _rows("A", range(2)) + _rows("B", range(1)) + _rows("A", range(2, 3)),
            "items.csv:5: lot A",
        ),
    ],
)
def test_a_bad_csv_names_its_line(tmp_path: Path, body: str, message: str) -> None:
    csv_file = tmp_path / "items.csv"
    csv_file.write_text(body)
    with pytest.raises(ManifestError) as raised:
        list(read_csv(csv_file))
    assert message in str(raised.value)


def _block(**changes: object) -> LotBlock:
    fields: dict[str, object] = {
        "gtin": GTIN,
        "lot": "L",
        "serials": b"AB",
        "offsets": (0).to_bytes(4, "little") + (1).to_bytes(4, "little") + (2).to_bytes(4, "little"),
        "md_table": keccak(text="m"),
        "md_index": bytes(8),
    }
    return LotBlock(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"serials": b"A~"}, "only GS1 CSET 82 characters, found '~'"),
        ({"offsets": bytes(4) + bytes(4) + (2).to_bytes(4, "little")}, "serial of item 1 must be 1-20"),
        ({"md_index": bytes(4) + (1).to_bytes(4, "little")}, "past the lot's 1 metadata hashes"),
        ({"md_table": b""}, "no metadata hash"),
    ],
)
def test_a_bad_otm_block_is_refused(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    otm = tmp_path / "bad.otm"
    write_otm(otm, [_block(**changes)])
    with pytest.raises(ManifestError) as raised:
        list(read_otm(otm))
    assert "block 1" in str(raised.value) and message in str(raised.value)


def test_offsets_must_match_the_serial_bytes() -> None:
    with pytest.raises(ManifestError, match="where: serial offsets do not match the 3 serial bytes"):
        _block(serials=b"ABC").validate("where")


def test_a_truncated_or_foreign_otm_is_refused(tmp_path: Path) -> None:
    otm = tmp_path / "items.otm"
    write_otm(otm, [_block(), _block(lot="M")])
    otm.write_bytes(otm.read_bytes()[:-1])
    with pytest.raises(ManifestError, match="block 2: the file ends inside a block"):
        list(read_otm(otm))
    with pytest.raises(ManifestError, match="block 2: the file ends inside a block"):
        count_items(otm)  # what the anchor command checks before it sends anything
    write_otm(otm, [_block(), _block()])
    with pytest.raises(ManifestError, match=r"block 2: lot L of \d+ appeared earlier"):
        list(read_otm(otm))
    otm.write_bytes(b"gtin,lot\n")
    with pytest.raises(ManifestError, match=f"must start with {MAGIC.decode()}"):
        list(read_otm(otm))


def test_the_catalogue_is_valid_exact_and_unique() -> None:
    blocks = list(catalogue(1_200_000, seed=3))
    assert sum(b.count for b in blocks) == 1_200_000
    assert len({b.lot_id for b in blocks}) == len(blocks) > 2
    for block in blocks:
        block.validate(block.lot)
    serials_by_gtin: dict[str, set[bytes]] = {}
    for block in blocks:
        seen = serials_by_gtin.setdefault(block.gtin, set())
        mine = {block.serials[i : i + 10] for i in range(0, len(block.serials), 10)}
        assert not seen & mine  # a GTIN's serials never repeat across its lots
        seen |= mine
    for prefix, product in ((4_000_000, 1), (4_018_463, 99_999), (4_000_037, 7)):
        assert normalise_gtin(gtin13(prefix, product)[1:]) == gtin13(prefix, product)  # biip checks the digit

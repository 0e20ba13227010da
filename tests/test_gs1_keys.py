"""GS1 key validation and the item id rule (shared vectors with the Solidity side)."""

import json

import pytest

from app.core.config import PROJECT_ROOT
from app.demo.journey import demo_members
from app.gs1.digital_link import DigitalLink, parse_path
from app.gs1.keys import InvalidKey, LogisticUnit, Lot, SerialisedItem, normalise_gln, normalise_gtin

VECTORS = json.loads((PROJECT_ROOT / "tests" / "vectors" / "item_ids.json").read_text())


@pytest.mark.parametrize(
    ("raw", "gtin14"),
    [
        ("09506000134352", "09506000134352"),
        ("9506000134352", "09506000134352"),
        ("12345670", "00000012345670"),
        ("614141000036", "00614141000036"),
    ],
)
def test_normalise_gtin_pads_to_14_digits(raw: str, gtin14: str) -> None:
    assert normalise_gtin(raw) == gtin14


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("09506000134", "11 digits"),
        ("123", "3 digits"),
        ("0950600013435X", "only digits"),
        ("09506000134353", "check digit"),
        ("٠٩٥٠٦٠٠٠١٣٤٣٥٢", "only digits"),
    ],
)
def test_normalise_gtin_rejects_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidKey, match=reason):
        normalise_gtin(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9506000000024", "check digit"),
        ("950600000002", "exactly 13 digits"),
        (" 9506000000022", "exactly 13 digits"),  # biip would strip it; the chain would not
        ("٩٥٠٦٠٠٠٠٠٠٠٢٢", "exactly 13 digits"),
    ],
)
def test_normalise_gln_rejects_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidKey, match=reason):
        normalise_gln(raw)


def test_the_demo_members_glns_are_valid() -> None:
    assert all(normalise_gln(m.gln) == m.gln for m in demo_members().values())


@pytest.mark.parametrize("serial", ["", "x" * 21, "DIA 0001", "钻石"])
def test_serial_outside_cset82_is_rejected(serial: str) -> None:
    with pytest.raises(InvalidKey, match="CSET 82"):
        SerialisedItem.parse("09506000134352", serial)


@pytest.mark.parametrize("vector", VECTORS["serialised"], ids=lambda v: v["elementString"])
def test_item_id_matches_shared_vectors(vector: dict[str, str]) -> None:
    key = SerialisedItem.parse(vector["gtin"], vector["serial"])
    assert key.gtin == vector["gtin14"]
    assert key.element_string == vector["elementString"]
    assert "0x" + key.item_id.hex() == vector["itemId"]


def test_item_id_matches_the_contract(contract) -> None:  # type: ignore[no-untyped-def]
    for vector in VECTORS["serialised"]:
        on_chain = contract.functions.itemId(vector["gtin14"], vector["serial"]).call()
        assert "0x" + on_chain.hex() == vector["itemId"]


@pytest.mark.parametrize("vector", VECTORS["lots"], ids=lambda v: v["elementString"])
def test_lot_id_matches_shared_vectors(vector: dict[str, str]) -> None:
    key = Lot.parse(vector["gtin"], vector["lot"])
    assert key.gtin == vector["gtin14"] and key.element_string == vector["elementString"]
    assert "0x" + key.item_id.hex() == vector["lotId"]
    assert parse_path(key.path) == DigitalLink(gtin=vector["gtin14"], lot=vector["lot"])


@pytest.mark.parametrize("vector", VECTORS["logisticUnits"], ids=lambda v: v["elementString"])
def test_logistic_unit_id_matches_shared_vectors(vector: dict[str, str]) -> None:
    key = LogisticUnit.parse(vector["sscc"])
    assert key.element_string == vector["elementString"]
    assert "0x" + key.item_id.hex() == vector["unitId"]


@pytest.mark.parametrize(
    ("lot", "reason"), [("", "1-20 characters"), ("L 1", "CSET 82"), ("x" * 21, "CSET 82")]
)
def test_bad_lot_is_rejected_with_reason(lot: str, reason: str) -> None:
    with pytest.raises(InvalidKey, match=reason):
        Lot.parse("09506000134352", lot)


@pytest.mark.parametrize(
    ("sscc", "reason"),
    [
        ("10614141234567890", "exactly 18 digits"),
        ("106141412345678909", "check digit"),
        ("10614141234567890X", "exactly 18 digits"),
    ],
)
def test_bad_sscc_is_rejected_with_reason(sscc: str, reason: str) -> None:
    with pytest.raises(InvalidKey, match=reason):
        LogisticUnit.parse(sscc)


@pytest.mark.parametrize(
    ("key", "path"),
    [
        (SerialisedItem.parse("09506000134352", "Q?x=1&y"), "/01/09506000134352/21/Q%3Fx%3D1%26y"),
        (SerialisedItem.parse("09506000134352", "A/B"), "/01/09506000134352/21/A%2FB"),
        (Lot.parse("09506000134352", "L%/2"), "/01/09506000134352/10/L%25%2F2"),
    ],
)
def test_a_keys_path_percent_encodes_its_values_as_the_gateway_does(
    key: SerialisedItem | Lot, path: str
) -> None:
    assert key.path == path
    assert parse_path(key.path).record_key == key

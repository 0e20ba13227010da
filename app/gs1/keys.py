"""GS1 keys: validation of GTINs, lots, SSCCs and GLNs and the rule that maps a key to its on-chain id.

The id rule (also in contracts/libraries/ItemIds.sol, with shared test vectors in
tests/vectors/item_ids.json): keccak256 of the element string without parentheses:
keccak256("01" + gtin14 + "21" + serial) for a serialised item, keccak256("01" + gtin14 +
"10" + lot) for a lot, keccak256("00" + sscc18) for a logistic unit.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import quote

from biip import ParseError
from biip.gln import Gln
from biip.gtin import Gtin
from biip.sscc import Sscc
from eth_utils.crypto import keccak

# GS1 General Specifications, figure 7.11-1: AI 10 and AI 21 are up to 20 characters of CSET 82.
CSET82: Final = b"!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
MAX_SERIAL_LEN: Final = 20
_CSET82: Final = re.compile(f"^[{re.escape(CSET82.decode())}]{{1,{MAX_SERIAL_LEN}}}$")


def digital_link_path(pairs: Iterable[tuple[str, str]]) -> str:
    """The Digital Link path of (AI, value) pairs, each value percent-encoded (`/` and `?` too),
    e.g. [("01", gtin), ("21", "A/B")] -> /01/<gtin>/21/A%2FB."""
    return "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in pairs)


class InvalidKey(ValueError):
    """A GS1 key or qualifier that cannot identify anything; the message says why."""


def check_gtin_length(value: str) -> str:
    """`value` unchanged, after checking it is 8, 12, 13 or 14 digits (not the check digit)."""
    if not value.isascii() or not value.isdigit():
        raise InvalidKey(f"GTIN {value!r} must contain only digits")
    if len(value) not in (8, 12, 13, 14):
        raise InvalidKey(f"GTIN {value!r} has {len(value)} digits; expected 8, 12, 13 or 14")
    return value


@lru_cache(maxsize=4096)
def normalise_gtin(value: str) -> str:
    """The 14-digit form of a GTIN-8/12/13/14 after checking length, digits and check digit.

    Remembered for the last 4,096 GTINs: a catalogue has few products and many serials, and
    `biip` takes about 12 µs a GTIN, a sixth of an uncached lookup's Python.
    """
    check_gtin_length(value)
    try:
        return Gtin.parse(value).as_gtin_14()
    except ParseError as exc:
        raise InvalidKey(str(exc)) from exc


def _check_cset82(name: str, value: str) -> str:
    if not _CSET82.match(value):
        raise InvalidKey(f"{name} {value!r} must be 1-20 characters of GS1 CSET 82")
    return value


def check_serial(serial: str) -> str:
    """The serial (AI 21) unchanged, after checking it is 1-20 characters of GS1 CSET 82."""
    return _check_cset82("serial", serial)


def check_cpv(cpv: str) -> str:
    """The consumer product variant (AI 22) unchanged, after checking it is 1-20 characters of GS1 CSET 82."""
    return _check_cset82("CPV", cpv)


def check_lot(lot: str) -> str:
    """The lot/batch number (AI 10) unchanged, after checking it is 1-20 characters of GS1 CSET 82."""
    return _check_cset82("lot", lot)


def _fixed_length_key(name: str, value: str, digits: int, parse: Callable[[str], str]) -> str:
    # biip strips whitespace; a key stored on chain must be exactly the digits, so check first.
    if not value.isascii() or not value.isdigit() or len(value) != digits:
        raise InvalidKey(f"{name} {value!r} must be exactly {digits} digits")
    try:
        return parse(value)
    except ParseError as exc:
        raise InvalidKey(str(exc)) from exc


def normalise_sscc(value: str) -> str:
    """The SSCC (AI 00) after checking it is 18 digits with a valid check digit."""
    return _fixed_length_key("SSCC", value, 18, lambda v: Sscc.parse(v).value)


def normalise_gln(value: str) -> str:
    """The GLN (AI 414, a party or location) after checking it is 13 digits with a valid check digit."""
    return _fixed_length_key("GLN", value, 13, lambda v: Gln.parse(v).value)


class _Key:
    """A GS1 key whose on-chain id is keccak256 of its element string."""

    @property
    def element_string(self) -> str:
        raise NotImplementedError

    @property
    def item_id(self) -> bytes:
        """The 32-byte on-chain record id."""
        return keccak(text=self.element_string)


@dataclass(frozen=True)
class SerialisedItem(_Key):
    """A serialised trade item: GTIN (AI 01) + serial (AI 21)."""

    gtin: str
    serial: str

    @classmethod
    def parse(cls, gtin: str, serial: str) -> "SerialisedItem":
        return cls(normalise_gtin(gtin), check_serial(serial))

    @property
    def element_string(self) -> str:
        return f"01{self.gtin}21{self.serial}"

    @property
    def path(self) -> str:
        """Canonical GS1 Digital Link path, e.g. /01/09506000134352/21/DIA-0001."""
        return digital_link_path((("01", self.gtin), ("21", self.serial)))


@dataclass(frozen=True)
class Lot(_Key):
    """A lot (batch) of a trade item: GTIN (AI 01) + lot (AI 10), anchored by a Merkle root."""

    gtin: str
    lot: str

    @classmethod
    def parse(cls, gtin: str, lot: str) -> "Lot":
        return cls(normalise_gtin(gtin), check_lot(lot))

    @property
    def element_string(self) -> str:
        return f"01{self.gtin}10{self.lot}"

    @property
    def path(self) -> str:
        return digital_link_path((("01", self.gtin), ("10", self.lot)))


@dataclass(frozen=True)
class LogisticUnit(_Key):
    """A logistic unit (pallet, container): SSCC (AI 00)."""

    sscc: str

    @classmethod
    def parse(cls, sscc: str) -> "LogisticUnit":
        return cls(normalise_sscc(sscc))

    @property
    def element_string(self) -> str:
        return f"00{self.sscc}"

    @property
    def path(self) -> str:
        return f"/00/{self.sscc}"

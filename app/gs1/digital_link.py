"""GS1 Digital Link paths: parsing, validation and the canonical form.

Structure, qualifier order (22 -> 10 -> 21 after AI 01; none after AI 00) and the
character set and length of every value come from `biip`; GTIN length and check digit
from `app.gs1.keys`. Every failure raises `InvalidKey` with the reason.
"""

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from urllib.parse import quote

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI

from app.gs1.keys import InvalidKey, LogisticUnit, Lot, SerialisedItem, check_gtin_length

_BASE = "https://id.invalid"
"""A placeholder origin: biip parses whole URIs, the gateway has only the path."""


class KeyKind(StrEnum):
    """What a Digital Link path identifies."""

    ITEM = "item"
    """GTIN + serial (optionally with CPV and lot): one serialised item."""
    LOT = "lot"
    """GTIN + lot (optionally with CPV): a batch anchored by a Merkle root."""
    PRODUCT = "product"
    """GTIN alone (optionally with CPV): the trade item class, not a traceable object."""
    UNIT = "unit"
    """SSCC: a logistic unit (pallet, container)."""


@dataclass(frozen=True)
class DigitalLink:
    """A validated GS1 Digital Link key with its qualifiers, in canonical form."""

    gtin: str | None = None
    cpv: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None

    @property
    def kind(self) -> KeyKind:
        if self.sscc is not None:
            return KeyKind.UNIT
        if self.serial is not None:
            return KeyKind.ITEM
        return KeyKind.LOT if self.lot is not None else KeyKind.PRODUCT

    def pairs(self) -> list[tuple[str, str]]:
        """(AI, value) pairs in the standard order."""
        named = (
            ("00", self.sscc),
            ("01", self.gtin),
            ("22", self.cpv),
            ("10", self.lot),
            ("21", self.serial),
        )
        return [(ai, value) for ai, value in named if value is not None]

    @cached_property
    def path(self) -> str:
        """Canonical path: 14-digit GTIN, standard qualifier order, values percent-encoded."""
        return "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in self.pairs())

    @property
    def record_key(self) -> SerialisedItem | Lot | LogisticUnit | None:
        """The key whose element-string hash is the on-chain record id (None for a bare product)."""
        if self.sscc is not None:
            return LogisticUnit(self.sscc)
        if self.gtin is not None and self.serial is not None:
            return SerialisedItem(self.gtin, self.serial)
        if self.gtin is not None and self.lot is not None:
            return Lot(self.gtin, self.lot)
        return None

    @property
    def serialised_item(self) -> SerialisedItem | None:
        """The GTIN + serial key whose hash is the item's on-chain id, for items."""
        if self.gtin is None or self.serial is None:
            return None
        return SerialisedItem(self.gtin, self.serial)


def parse_pairs(pairs: list[tuple[str, str]]) -> DigitalLink:
    """Validate (AI, value) pairs taken from a Digital Link path, e.g. [("01", gtin), ("21", s)]."""
    path = "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in pairs)
    return parse_path(path)


def parse_path(path: str) -> DigitalLink:
    """Validate a percent-encoded Digital Link path such as /01/09506000134352/21/DIA-0001."""
    segments = path.strip("/").split("/")
    if len(segments) % 2:
        raise InvalidKey(f"path {path!r} must be pairs of /AI/value (a value is missing)")
    if segments[0] == "01":
        # biip pads short GTINs silently; the length rule belongs to the key, so check it first
        # (biip checks the check digit).
        check_gtin_length(segments[1])
    try:
        uri = GS1DigitalLinkURI.parse(_BASE + "/" + "/".join(segments))
    except ParseError as exc:
        raise InvalidKey(_reason(str(exc))) from None
    values: dict[str, str] = {}
    for element in uri.element_strings:
        error = element.gtin_error or element.sscc_error
        if error:
            raise InvalidKey(error)
        values[element.ai.ai] = element.value
    if "00" not in values and "01" not in values:
        raise InvalidKey("a Digital Link path starts with /01/{gtin} or /00/{sscc}")
    return DigitalLink(
        gtin=values.get("01"),
        cpv=values.get("22"),
        lot=values.get("10"),
        serial=values.get("21"),
        sscc=values.get("00"),
    )


def _reason(message: str) -> str:
    """biip's message, with its AI-table jargon turned into what to fix."""
    if "as qualifier" in message:
        return f"qualifiers after /01/ come in the order /22/ (CPV), /10/ (lot), /21/ (serial): {message}"
    if "Failed to match" in message:
        return (
            f"a value is not 1-20 characters of GS1 CSET 82 (or a GTIN/SSCC of the right length): {message}"
        )
    return message

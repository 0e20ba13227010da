"""GS1 Digital Link paths: parsing, validation and the canonical form.

A path is a primary key, GTIN (AI 01) or SSCC (AI 00), and, after a GTIN, the qualifiers
CPV (22), lot (10) and serial (21), each at most once and in that order (GS1 Digital Link
URI syntax 1.4); values are percent-decoded. Keys and values are checked by `app.gs1.keys`
(length, GS1 CSET 82, and check digits by `biip`). Every failure raises `InvalidKey` with
the reason.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Final
from urllib.parse import unquote, urlsplit

from app.gs1.keys import (
    InvalidKey,
    LogisticUnit,
    Lot,
    SerialisedItem,
    check_cpv,
    check_lot,
    check_serial,
    digital_link_path,
    normalise_gtin,
    normalise_sscc,
)

QUALIFIERS: Final[dict[str, tuple[str, ...]]] = {"01": ("22", "10", "21"), "00": ()}
"""Primary key AI -> the qualifier AIs that may follow it, in their standard order."""
_QUALIFIER_CHECKS: Final = {"22": check_cpv, "10": check_lot, "21": check_serial}
PRIMARY_KEYS: Final = {
    "00": "SSCC",
    "01": "GTIN",
    "253": "GDTI",
    "255": "GCN",
    "401": "GINC",
    "402": "GSIN",
    "414": "GLN",
    "417": "PGLN",
    "8003": "GRAI",
    "8004": "GIAI",
    "8006": "ITIP",
    "8010": "CPID",
    "8013": "GMN",
    "8017": "GSRN-P",
    "8018": "GSRN",
}
"""The primary keys of GS1 Digital Link URI syntax 1.4, AI -> name; the gateway resolves the two
QUALIFIERS names."""
FORMS: Final = {
    "01": "/01/{gtin}/21/{serial} for an item or /01/{gtin}/10/{lot} for a lot (a GTIN of 8, 12, 13 "
    "or 14 digits), e.g. /01/09506000134352/21/DIA-0001",
    "00": "/00/{sscc} for a logistic unit (an SSCC of 18 digits), e.g. /00/106141412345678908",
}
"""The paths the gateway resolves, by primary key, as error messages give them."""


class MissingKeyValue(InvalidKey):
    """A path that is a primary key's AI alone (/01, /00/, /8004): the value was left off."""


def missing_value(ai: str) -> MissingKeyValue:
    """Why the path /{ai} (a primary key of PRIMARY_KEYS, with no value) resolves nothing."""
    name = PRIMARY_KEYS[ai]
    if ai in FORMS:
        return MissingKeyValue(f"/{ai} ({name}) is missing its value: write {FORMS[ai]}")
    return MissingKeyValue(
        f"/{ai} ({name}) is missing its value (/{ai}/{{{name.lower()}}}), and this gateway resolves "
        f"GTINs and SSCCs only: {FORMS['01']}; or {FORMS['00']}"
    )


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

    @property
    def noun(self) -> str:
        """What a member calls it: item, lot, product class, logistic unit."""
        return {"product": "product class", "unit": "logistic unit"}.get(self.value, self.value)


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
        return digital_link_path(self.pairs())

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


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def parse_link(value: str) -> DigitalLink:
    """A Digital Link given as its path or as a whole URL (http or https, any host), as a QR
    code holds it: what a member pastes into a command."""
    if value.startswith(("http://", "https://")):
        return parse_path(urlsplit(value).path)
    return parse_path(value)


def parse_path(path: str) -> DigitalLink:
    """Validate a percent-encoded Digital Link path such as /01/09506000134352/21/DIA-0001."""
    segments = path.strip("/").split("/")
    if len(segments) == 1 and segments[0] in PRIMARY_KEYS:
        raise missing_value(segments[0])
    if len(segments) % 2:
        raise InvalidKey(f"path {path!r} must be pairs of /AI/value (a value is missing)")
    if _BAD_ESCAPE.search(path):
        raise InvalidKey(f"path {path!r} has a '%' not followed by two hex digits (write '%' as %25)")
    ais, values = segments[0::2], [unquote(value) for value in segments[1::2]]
    allowed = QUALIFIERS.get(ais[0])
    if allowed is None:
        raise InvalidKey("a Digital Link path starts with /01/{gtin} or /00/{sscc}")
    qualifiers: dict[str, str] = {}
    for ai, value in zip(ais[1:], values[1:], strict=True):
        if ai not in allowed:
            raise InvalidKey(_misplaced(ais[0], ai, qualifiers))
        allowed = allowed[allowed.index(ai) + 1 :]
        qualifiers[ai] = _QUALIFIER_CHECKS[ai](value)
    if ais[0] == "00":
        return DigitalLink(sscc=normalise_sscc(values[0]))
    return DigitalLink(
        gtin=normalise_gtin(values[0]),
        cpv=qualifiers.get("22"),
        lot=qualifiers.get("10"),
        serial=qualifiers.get("21"),
    )


def _misplaced(primary: str, ai: str, earlier: dict[str, str]) -> str:
    """Why qualifier `ai` cannot come where it does, after `primary` and the `earlier` qualifiers."""
    if not QUALIFIERS[primary]:
        return f"an SSCC (/00/) takes no qualifiers; got /{ai}/"
    order = "qualifiers after /01/ come in the order /22/ (CPV), /10/ (lot), /21/ (serial)"
    if ai not in QUALIFIERS[primary]:
        return f"{order}; /{ai}/ is not one of them"
    before = "".join(f"/{a}/" for a in earlier)
    return f"{order}, each at most once: /{ai}/ cannot follow {before}"

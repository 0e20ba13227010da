"""Places of parties: a member's GLN resolved through the place directory, else its GS1 prefix.

The real source is the GS1 GLN registry, which an offline gateway cannot ask; the directory
(ORIGINTRACE_PLACES_FILE) is its local copy. Without an entry, the GLN still says which GS1
Member Organisation issued its prefix. The directory is read once, when the gateway starts,
so cached answers never mix two versions of it.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from biip.gs1_prefixes import GS1Prefix

from app.api.models import Place
from app.gs1.keys import InvalidKey, normalise_gln

_COUNTRY = re.compile(r"^[A-Z]{2}$")


class PlaceDirectoryError(ValueError):
    """The place directory cannot be read or is wrong; the message says where."""


@dataclass(frozen=True)
class PlaceDirectory:
    """GLN -> place, from the directory file; empty when none is configured."""

    entries: dict[str, Place] = field(default_factory=dict)

    def place(self, gln: str) -> Place | None:
        """The place of `gln`: its directory entry, else its prefix's GS1 Member Organisation.

        None for no GLN, or one the chain accepted (13 digits) whose check digit is wrong.
        """
        if not gln:
            return None
        if gln in self.entries:
            return self.entries[gln]
        try:
            normalise_gln(gln)
        except InvalidKey:
            return None
        prefix = GS1Prefix.extract(gln)
        return Place(
            gln=gln, name=prefix.usage if prefix else None, city=None, country=None, source="gs1_prefix"
        )

    @classmethod
    def load(cls, path: Path | None) -> "PlaceDirectory":
        """The directory in `path` (JSON, or YAML for any other suffix); empty for None."""
        if path is None:
            return cls()
        try:
            text = path.read_text()
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise PlaceDirectoryError(f"cannot read the place directory {path}: {exc}") from None
        if not isinstance(data, dict):
            raise PlaceDirectoryError(f"{path} must map each GLN to its name, city and country")
        return cls({gln: place for gln, place in (_entry(path, key, value) for key, value in data.items())})


def _entry(path: Path, key: Any, value: Any) -> tuple[str, Place]:
    where = f"{path}: {key!r}"
    if not isinstance(key, str):
        raise PlaceDirectoryError(f"{where}: put the GLN in quotes (YAML reads unquoted digits as a number)")
    try:
        gln = normalise_gln(key)
    except InvalidKey as exc:
        raise PlaceDirectoryError(f"{where}: {exc}") from None
    if not isinstance(value, dict):
        raise PlaceDirectoryError(f"{where} must map to name, city and country")
    for name in ("name", "city", "country"):
        if not isinstance(value.get(name), str) or not value[name].strip():
            raise PlaceDirectoryError(f"{where}.{name} must be a non-empty text")
    if not _COUNTRY.match(value["country"]):
        raise PlaceDirectoryError(
            f"{where}.country must be an ISO 3166 alpha-2 code such as BE, got {value['country']!r}"
        )
    place = Place(
        gln=gln,
        name=value["name"].strip(),
        city=value["city"].strip(),
        country=value["country"],
        source="directory",
    )
    return gln, place

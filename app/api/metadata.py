"""An item's or lot's product metadata: the JSON its brand put on chain as a data: URI."""

import base64
from typing import Any

import orjson
from eth_utils.crypto import keccak

_DATA_JSON = "data:application/json;base64,"


def verified_metadata(uri: str, expected_hash: str) -> dict[str, Any] | None:
    """The metadata carried by a data: URI, if its keccak256 matches the on-chain hash and it is
    a JSON object. A brand writes it; one that is not JSON (bad UTF-8, nested too deep) is no
    metadata, never an error of the item's page."""
    if not uri.startswith(_DATA_JSON):
        return None
    try:
        raw = base64.b64decode(uri[len(_DATA_JSON) :], validate=True)
    except ValueError:
        return None
    if "0x" + keccak(raw).hex() != expected_hash:
        return None
    try:
        data = orjson.loads(raw)  # bounded nesting (1,024), unlike json's, which follows the recursion limit
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def metadata_text(metadata: dict[str, Any] | None, key: str) -> str | None:
    """The text under `key` of an item's metadata; None when absent, empty or not text."""
    value = (metadata or {}).get(key)
    return value.strip() or None if isinstance(value, str) else None


def product_name(metadata: dict[str, Any] | None, lang: str) -> str | None:
    """The product's name in `lang` (`name_zh` for Chinese), else its `name`, if the brand gave one."""
    return (metadata_text(metadata, "name_zh") if lang == "zh" else None) or metadata_text(metadata, "name")

"""Decode raw eth_getLogs entries by topic0, slicing hex words instead of building web3 objects.

Static ABI types (bytes32, address, uintN/intN, bool) are read straight from their 32-byte
word; `string`, `bytes` and arrays of static types (`bytes32[]`, ...) follow their offset;
any other layout falls back to eth_abi for that event only. Each event gets a generated
decoding function, so per-log cost is a dict lookup plus a few string slices.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from eth_abi.codec import ABICodec
from eth_abi.decoding import StringDecoder
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_abi.registry import BaseEquals
from eth_abi.registry import registry as default_registry
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic
from eth_utils.address import to_checksum_address


@dataclass(frozen=True, slots=True)
class DecodedLog:
    """One registry event with its position on chain; args are JSON-ready (0x-hex, ints, str)."""

    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int
    item_id: str | None = None
    """The id of the record (item, lot or unit) the event changes, when it changes one."""

    @classmethod
    def from_row(cls, row: Any) -> "DecodedLog":
        """The log as stored in the `events` table."""
        return cls(
            row.name,
            row.args,
            row.block_number,
            row.block_hash,
            row.tx_hash,
            row.log_index,
            row.timestamp,
            row.item_id,
        )


RECORD_LIST_ARGS = {"ItemsRegistered": "itemIds"}
"""Events that change many records, by the argument listing them; their `item_id` is None."""

RECORD_ARGS = {
    "StatusChanged": "id",
    "LotAnchored": "lotId",
    "LotSplit": "parentLotId",
    "UnitCreated": "unitId",
    "UnitPacked": "id",
    "UnitUnpacked": "id",
    "AttestationRecorded": "subject",
    "AttestationRevoked": "subject",
}
"""The argument naming the record an event changes, where it is not `itemId`."""


def record_arg(event: str) -> str:
    """The argument naming the record `event` changes."""
    return RECORD_ARGS.get(event, "itemId")


def record_ids(log: DecodedLog) -> list[str]:
    """Ids of every record `log` changes: its `item_id`, or the list a batch event carries."""
    if log.item_id is not None:
        return [log.item_id]
    arg = RECORD_LIST_ARGS.get(log.name)
    return list(log.args[arg]) if arg else []


class UndecodableLog(ValueError):
    """A log whose topic or data does not match any event of the ABI."""


@lru_cache(maxsize=65536)
def _address(hex40: str) -> str:
    """Checksummed address from its 40 hex digits (cached: a chain has few distinct actors)."""
    return to_checksum_address("0x" + hex40)


def _signed(value: int, bits: int) -> int:
    value &= (1 << 256) - 1
    return value - (1 << 256) if value >= 1 << 255 else value


JSON_INT_RANGE = range(-(1 << 63), 1 << 64)
"""Integers a JSON column takes as numbers (orjson's range); wider values of uint256/int256
arguments are kept as decimal strings, so no value, however large, stops the index."""


def _json_int(value: int) -> int | str:
    return value if value in JSON_INT_RANGE else str(value)


def chain_text(raw: bytes) -> str:
    """Bytes a contract stored as a string, as text any database column takes.

    The contracts accept any bytes as a string. Invalid UTF-8 (which would make the whole
    event undecodable, losing e.g. an item's registration) and NUL (which PostgreSQL text
    refuses, stopping the index at that range) become U+FFFD.
    """
    return raw.decode("utf-8", "replace").replace("\x00", "\ufffd")


def label_text(word: str) -> str:
    """A bytes32 label (0x-hex, NUL-padded, e.g. an attestation kind) as text."""
    return chain_text(bytes.fromhex(word.removeprefix("0x")).rstrip(b"\0"))


def _dynamic(body: str, at: int, text: bool) -> Any:
    """The `string` (text) or `bytes` value whose offset word is at hex position `at` of `body`."""
    start = 2 * int(body[at : at + 64], 16)
    length = 2 * int(body[start : start + 64], 16)
    raw = bytes.fromhex(body[start + 64 : start + 64 + length])
    if len(raw) * 2 != length:
        raise ValueError("dynamic value runs past the end of the data")
    return chain_text(raw) if text else "0x" + raw.hex()


def _words(body: str, at: int) -> list[str]:
    """The 64-hex-digit elements of the static-type array whose offset word is at hex position `at`."""
    start = 2 * int(body[at : at + 64], 16)
    count = int(body[start : start + 64], 16)
    first = start + 64
    if len(body) < first + 64 * count:
        raise ValueError("array runs past the end of the data")
    return [body[i : i + 64] for i in range(first, first + 64 * count, 64)]


def _word_expression(abi_type: str, word: str) -> str | None:
    """Python source decoding the 64-hex-digit `word` (an expression) as `abi_type`; None if not static."""
    if abi_type.endswith("]"):
        return None
    if abi_type == "address":
        return f"_address({word}[24:64])"
    if abi_type == "bool":
        return f"int({word}, 16) != 0"
    if abi_type.startswith("uint"):
        wide = int(abi_type[4:] or 256) > 64
        return f"_json_int(int({word}, 16))" if wide else f"int({word}, 16)"
    if abi_type.startswith("int"):
        return f"_json_int(_signed(int({word}, 16), {int(abi_type[3:] or 256)}))"
    if abi_type.startswith("bytes") and abi_type != "bytes":
        return f"'0x' + {word}[:{2 * int(abi_type[5:])}]"
    return None


class _ChainTextDecoder(StringDecoder):
    """eth_abi's `string` decoder with invalid UTF-8 as U+FFFD (`_json_ready` then replaces NUL),
    as `chain_text` reads text: no string, however malformed, makes an event undecodable."""

    def __init__(self) -> None:
        super().__init__(handle_string_errors="replace")  # type: ignore[no-untyped-call]


def _lenient_codec() -> ABICodec:
    """eth_abi's codec with `_ChainTextDecoder` for strings (eth_abi's own registry untouched)."""
    lenient = default_registry.copy()  # type: ignore[no-untyped-call]
    lenient.unregister_decoder("string")
    lenient.register_decoder(BaseEquals("string"), _ChainTextDecoder, label="string")  # type: ignore[no-untyped-call]
    return ABICodec(lenient)


_CODEC: Final = _lenient_codec()


def _json_ready(abi_type: ABIType, value: Any) -> Any:
    """An eth_abi value as the fast path gives it: arrays and tuples as lists, element by
    element; addresses checksummed; bytes 0x-hex; ints outside JSON's range as strings."""
    if abi_type.is_array:
        return [_json_ready(abi_type.item_type, v) for v in value]
    if isinstance(abi_type, TupleType):
        return [_json_ready(c, v) for c, v in zip(abi_type.components, value, strict=True)]
    if isinstance(abi_type, BasicType) and abi_type.base == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return _json_int(value)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    return value


def _compile_args(entry: dict[str, Any]) -> Callable[[list[str], str], dict[str, Any]]:
    """A function (topics, data) -> args, generated for this event so a log costs one call.

    Static words are sliced from the hex string; `string`/`bytes` and arrays of static types
    follow their offset; other layouts (fixed-size arrays, tuples, nested arrays) fall back to
    eth_abi for the data part.
    """
    inputs = entry["inputs"]
    fields: list[str] = []
    for position, item in enumerate((i for i in inputs if i["indexed"]), start=1):
        topic = f"topics[{position}]"
        # An indexed bytes32 is the topic itself; indexed dynamic values are only their hash.
        expression = _word_expression(item["type"], f"{topic}[2:]") if item["type"] != "bytes32" else None
        fields.append(f"{item['name']!r}: {expression or topic}")
    data = [i for i in inputs if not i["indexed"]]
    expressions = []
    for slot, item in enumerate(data):
        at = 64 * slot
        word = _word_expression(item["type"], f"body[{at}:{at + 64}]")
        if word is None and item["type"] in ("string", "bytes"):
            word = f"_dynamic(body, {at}, {item['type'] == 'string'})"
        elif word is None and item["type"].endswith("[]"):
            element = _word_expression(item["type"][:-2], "w")
            word = element and f"[{element} for w in _words(body, {at})]"
        expressions.append(word)
    size = 64 * len(data)
    types = [collapse_if_tuple(i) for i in data]  # a struct's "tuple" as "(string,address)"
    if all(expressions):
        fields += [f"{item['name']!r}: {e}" for item, e in zip(data, expressions, strict=True)]
        source = (
            "def args(topics, data):\n"
            "    body = data[2:]\n"
            f"    if len(body) < {size}:\n"
            f"        raise ValueError(f'data has {{len(body) // 2}} bytes, needs at least {size // 2}')\n"
            f"    return {{{', '.join(fields)}}}\n"
        )
    else:
        source = (
            "def args(topics, data):\n"
            f"    result = {{{', '.join(fields)}}}\n"
            "    values = _CODEC.decode(_types, bytes.fromhex(data[2:]))\n"
            "    result.update((n, _json_ready(t, v)) for (n, t), v in zip(_named, values, strict=True))\n"
            "    return result\n"
        )
    namespace: dict[str, Any] = {
        "_address": _address,
        "_signed": _signed,
        "_json_int": _json_int,
        "_dynamic": _dynamic,
        "_words": _words,
        "_CODEC": _CODEC,
        "_json_ready": _json_ready,
        "_types": types,
        "_named": [(i["name"], parse(t)) for i, t in zip(data, types, strict=True)],
    }
    exec(compile(source, f"<decoder {entry['name']}>", "exec"), namespace)
    function: Callable[[list[str], str], dict[str, Any]] = namespace["args"]
    return function


class _EventSpec:
    """How to decode one event: its name, topic count and generated argument decoder."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.name: str = entry["name"]
        self.topics = 1 + sum(1 for i in entry["inputs"] if i["indexed"])
        self.args = _compile_args(entry)
        self.record_arg = record_arg(self.name)
        indexed = [i["name"] for i in entry["inputs"] if i["indexed"]]
        self.record_topic = indexed.index(self.record_arg) + 1 if self.record_arg in indexed else None
        """The topic (1-3) that names the record, None when it is in the data or absent."""


class LogDecoder:
    """Decodes the logs of one contract ABI, keyed by topic0."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._specs: dict[str, _EventSpec] = {}
        for entry in abi:
            if entry["type"] != "event" or entry.get("anonymous"):
                continue
            topic = "0x" + event_abi_to_log_topic(entry).hex()  # type: ignore[arg-type]
            self._specs[topic] = _EventSpec(entry)

    @property
    def event_names(self) -> set[str]:
        return {spec.name for spec in self._specs.values()}

    def record_topics(self) -> dict[int, list[str]]:
        """Topic position (1-3) -> topic0 of the events that name their record there."""
        positions: dict[int, list[str]] = {}
        for topic0, spec in self._specs.items():
            if spec.record_topic is not None:
                positions.setdefault(spec.record_topic, []).append(topic0)
        return positions

    def decode(self, log: dict[str, Any], timestamp: int) -> DecodedLog:
        """Decode one raw JSON-RPC log (hex strings, as eth_getLogs returns them)."""
        topics: list[str] = log["topics"]
        spec = self._specs.get(topics[0].lower()) if topics else None
        if spec is None or len(topics) != spec.topics:
            raise UndecodableLog(
                f"unknown event topic in log {log.get('transactionHash')}:{log.get('logIndex')}"
            )
        try:
            args = spec.args(topics, log["data"])
        except Exception as exc:  # malformed hex, short data, bad UTF-8, eth_abi errors
            raise UndecodableLog(f"cannot decode {spec.name}: {exc}") from exc
        return DecodedLog(
            spec.name,
            args,
            int(log["blockNumber"], 16),
            log["blockHash"],
            log["transactionHash"],
            int(log["logIndex"], 16),
            timestamp,
            args.get(spec.record_arg),
        )

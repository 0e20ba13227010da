"""Decode raw eth_getLogs entries by topic0, slicing hex words instead of building web3 objects.

Static ABI types (bytes32, address, uintN/intN, bool) are read straight from their 32-byte
word; `string` and `bytes` follow their offset; any other layout falls back to eth_abi for
that event only. Per-log cost is a dict lookup plus a few string slices.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import event_abi_to_log_topic
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

    @property
    def item_id(self) -> str | None:
        value = self.args.get("itemId")
        return value if isinstance(value, str) else None


class UndecodableLog(ValueError):
    """A log whose topic or data does not match any event of the ABI."""


@lru_cache(maxsize=65536)
def _address(word: str) -> str:
    """Checksummed address from a 64-hex-digit word (cached: a chain has few distinct actors)."""
    return to_checksum_address("0x" + word[-40:])


def _word_reader(abi_type: str) -> Callable[[str], Any] | None:
    """A function decoding one 64-hex-digit word of `abi_type`, or None if not a static word."""
    if abi_type == "address":
        return _address
    if abi_type == "bool":
        return lambda word: int(word, 16) != 0
    if abi_type.startswith("uint"):
        return lambda word: int(word, 16)
    if abi_type.startswith("int"):
        bits = int(abi_type[3:] or 256)
        return lambda word: _signed(int(word, 16), bits)
    if abi_type.startswith("bytes") and abi_type != "bytes":
        size = int(abi_type[5:])
        return lambda word: "0x" + word[: 2 * size]
    return None


def _signed(value: int, bits: int) -> int:
    value &= (1 << 256) - 1
    return value - (1 << 256) if value >= 1 << 255 else value


def _dynamic_reader(abi_type: str) -> Callable[[str, int], Any] | None:
    """A function reading a `string`/`bytes` value whose offset word is at hex position `at`."""
    if abi_type not in ("string", "bytes"):
        return None

    def read(data: str, at: int) -> Any:
        start = 2 * int(data[at : at + 64], 16)
        length = 2 * int(data[start : start + 64], 16)
        raw = bytes.fromhex(data[start + 64 : start + 64 + length])
        if len(raw) * 2 != length:
            raise ValueError("dynamic value runs past the end of the data")
        return raw.decode("utf-8") if abi_type == "string" else "0x" + raw.hex()

    return read


def _json_ready(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


class _EventSpec:
    """How to decode one event: readers for its topics and its data words."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.name: str = entry["name"]
        inputs = entry["inputs"]
        self.indexed = [(i["name"], _word_reader(i["type"]) or _hex_topic) for i in inputs if i["indexed"]]
        self.data_types = [(i["name"], i["type"]) for i in inputs if not i["indexed"]]
        self.data_size = 64 * len(self.data_types)
        word_readers = [_word_reader(t) for _, t in self.data_types]
        dynamic_readers = [_dynamic_reader(t) for _, t in self.data_types]
        self.fast = all(w or d for w, d in zip(word_readers, dynamic_readers, strict=True))
        self.words = [
            (n, w, 64 * i)
            for i, ((n, _), w) in enumerate(zip(self.data_types, word_readers, strict=True))
            if w
        ]
        self.dynamic = [
            (n, d, 64 * i)
            for i, ((n, _), d) in enumerate(zip(self.data_types, dynamic_readers, strict=True))
            if d
        ]

    def args(self, topics: list[str], data: str) -> dict[str, Any]:
        args = {name: read(topic[2:]) for (name, read), topic in zip(self.indexed, topics[1:], strict=True)}
        body = data[2:]
        if self.fast:
            if len(body) < self.data_size:
                raise ValueError(f"data has {len(body) // 2} bytes, needs at least {self.data_size // 2}")
            for name, read_word, at in self.words:
                args[name] = read_word(body[at : at + 64])
            for name, read_dynamic, at in self.dynamic:
                args[name] = read_dynamic(body, at)
        else:
            values = abi_decode([t for _, t in self.data_types], bytes.fromhex(body))
            for (name, abi_type), value in zip(self.data_types, values, strict=True):
                args[name] = _json_ready(abi_type, value)
        return args


def _hex_topic(word: str) -> str:
    """An indexed dynamic value (string, bytes, array) is only its keccak hash in the topic."""
    return "0x" + word


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

    def decode(self, log: dict[str, Any], timestamp: int) -> DecodedLog:
        """Decode one raw JSON-RPC log (hex strings, as eth_getLogs returns them)."""
        topics: list[str] = log["topics"]
        spec = self._specs.get(topics[0].lower()) if topics else None
        if spec is None or len(topics) != len(spec.indexed) + 1:
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
        )

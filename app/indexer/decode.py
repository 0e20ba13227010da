"""Decode raw eth_getLogs entries by topic, without per-log web3 contract objects."""

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address


@dataclass(frozen=True)
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


def _json_ready(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


@dataclass(frozen=True)
class _EventSpec:
    name: str
    indexed: list[tuple[str, str]]
    data: list[tuple[str, str]]


class LogDecoder:
    """Decodes the logs of one contract ABI, keyed by topic0."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._specs: dict[str, _EventSpec] = {}
        for entry in abi:
            if entry["type"] != "event" or entry.get("anonymous"):
                continue
            topic = "0x" + event_abi_to_log_topic(entry).hex()  # type: ignore[arg-type]
            self._specs[topic] = _EventSpec(
                name=entry["name"],
                indexed=[(i["name"], i["type"]) for i in entry["inputs"] if i["indexed"]],
                data=[(i["name"], i["type"]) for i in entry["inputs"] if not i["indexed"]],
            )

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
            args: dict[str, Any] = {}
            for (name, abi_type), topic in zip(spec.indexed, topics[1:], strict=True):
                (value,) = abi_decode([abi_type], bytes.fromhex(topic[2:]))
                args[name] = _json_ready(abi_type, value)
            values = abi_decode([t for _, t in spec.data], bytes.fromhex(log["data"][2:]))
            for (name, abi_type), value in zip(spec.data, values, strict=True):
                args[name] = _json_ready(abi_type, value)
        except Exception as exc:  # eth_abi raises several types for malformed data
            raise UndecodableLog(f"cannot decode {spec.name}: {exc}") from exc
        return DecodedLog(
            name=spec.name,
            args=args,
            block_number=int(log["blockNumber"], 16),
            block_hash=log["blockHash"],
            tx_hash=log["transactionHash"],
            log_index=int(log["logIndex"], 16),
            timestamp=timestamp,
        )

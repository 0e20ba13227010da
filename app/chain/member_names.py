"""Members' names and GLNs over time, as the registry's own logs on a node state them.

A member is named by the `MemberAdmitted` that admitted it (a new admission starts without a
GLN) and placed by its `MemberGlnSet` events; a removal changes neither. The gateway keeps the
same account of each member (app/indexer/handlers.py), so `origintrace verify` can check every
name and GLN a gateway shows against the chain, not only addresses.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from eth_typing import ChecksumAddress

from app.chain.logs import raw_logs
from app.indexer.decode import LogDecoder
from app.indexer.rpc import RpcClient

Position = tuple[int, int]
"""(block, log index) of a log on chain."""


@dataclass(frozen=True)
class MemberNames:
    """(position, name, GLN) after each admission and GLN change, by lowercase address."""

    changes: dict[str, list[tuple[Position, str, str]]] = field(default_factory=dict)

    def as_of(self, address: str, at: Position | None = None) -> tuple[str, str]:
        """(name, GLN) of `address` just after position `at` (now, when None): ("", "") before
        its first admission, and for an address never admitted."""
        then = [
            (name, gln)
            for position, name, gln in self.changes.get(address.lower(), ())
            if at is None or position <= at
        ]
        return then[-1] if then else ("", "")


def _address_topic(address: str) -> str:
    return "0x" + address.lower()[2:].rjust(64, "0")


def member_names(rpc: RpcClient, contract: Any, decoder: LogDecoder, addresses: Iterable[str]) -> MemberNames:
    """The names and GLNs `addresses` had over time on the node of `rpc` (one eth_getLogs for all)."""
    registry: ChecksumAddress = contract.address
    wanted = sorted({a.lower() for a in addresses})
    changes: dict[str, list[tuple[Position, str, str]]] = {address: [] for address in wanted}
    if not wanted:
        return MemberNames(changes)
    events = [contract.events.MemberAdmitted.topic, contract.events.MemberGlnSet.topic]
    logs = raw_logs(rpc, registry, [events, [_address_topic(a) for a in wanted]], 0)
    now: dict[str, tuple[str, str]] = {}
    for log in sorted(logs, key=lambda raw: (int(raw["blockNumber"], 16), int(raw["logIndex"], 16))):
        decoded = decoder.decode(log, 0)
        address = str(decoded.args["account"]).lower()
        name, gln = now.get(address, ("", ""))
        if decoded.name == "MemberAdmitted":
            name, gln = str(decoded.args["name"]), ""
        else:
            gln = str(decoded.args["gln"])
        now[address] = (name, gln)
        changes[address].append(((decoded.block_number, decoded.log_index), name, gln))
    return MemberNames(changes)

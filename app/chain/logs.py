"""eth_getLogs over any span of blocks, in ranges the node accepts.

Public providers cap one request (10,000 logs at Infura and Alchemy, 1,000 to 10,000 blocks at
many others) and answer a JSON-RPC error past the cap. The CLI's one-off reads (the member list,
a lot's earlier splits, `verify`'s check that no log was left out) ask for the whole span first
and halve the range on each refusal, growing it again after a success. The indexer keeps its
own adaptive ranges (app/indexer/follow.py).
"""

from collections.abc import Sequence
from typing import Any

import requests
from eth_typing import ChecksumAddress

from app.indexer.rpc import RpcClient, RpcError

Topics = Sequence[str | Sequence[str] | None]
"""eth_getLogs topic filter: per position a topic, a list of alternatives, or None for any."""


class LogsUnavailable(RuntimeError):
    """eth_getLogs failed even for a single block, or for a reason a smaller range cannot help."""


NOT_ABOUT_SIZE = {401, 403, 404, 429}
"""HTTP statuses that a smaller range does not change: credentials, a wrong URL, a rate limit."""


def _not_about_size(exc: Exception) -> bool:
    response = exc.response if isinstance(exc, requests.HTTPError) else None
    return response is not None and response.status_code in NOT_ABOUT_SIZE


def raw_logs(
    rpc: RpcClient, address: ChecksumAddress, topics: Topics, start: int, end: int | None = None
) -> list[dict[str, Any]]:
    """The raw logs (hex strings, as eth_getLogs gives them) of `address` matching `topics`
    from block `start` to `end` (the head when None), in block order. A JSON-RPC error, a
    timeout, a dropped connection or an HTTP error other than NOT_ABOUT_SIZE is answered at once
    by a smaller range (web3's provider would retry a timed-out request five times first)."""
    end = int(rpc.call("eth_blockNumber", []), 16) if end is None else end
    found: list[dict[str, Any]] = []
    size = max(1, end - start + 1)
    while start <= end:
        last = min(end, start + size - 1)
        query = {"address": address, "fromBlock": hex(start), "toBlock": hex(last), "topics": list(topics)}
        try:
            found.extend(rpc.call("eth_getLogs", [query]))
        except (RpcError, requests.RequestException) as exc:
            reason = exc.message if isinstance(exc, RpcError) else str(exc)
            if last == start or _not_about_size(exc):
                raise LogsUnavailable(f"eth_getLogs failed for blocks {start}-{last}: {reason}") from None
            size = (last - start + 1) // 2
            continue
        start, size = last + 1, size * 2
    return found

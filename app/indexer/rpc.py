"""A lean JSON-RPC client for the indexer's hot path: raw JSON in, raw JSON out, no web3 objects."""

import itertools
from typing import Any

import orjson
import requests


class RpcError(RuntimeError):
    """The node answered a JSON-RPC error (e.g. a provider's cap on eth_getLogs)."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.code = error.get("code")
        self.message = str(error.get("message", error))
        super().__init__(f"{method} failed: {self.message} (code {self.code})")


class RpcClient:
    """Sends single or batched JSON-RPC calls over one keep-alive HTTP session."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        self.url = url
        self.timeout = timeout
        self._session = requests.Session()
        self._ids = itertools.count(1)

    def _post(self, payload: Any) -> Any:
        response = self._session.post(
            self.url,
            data=orjson.dumps(payload),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return orjson.loads(response.content)

    def call(self, method: str, params: list[Any]) -> Any:
        """The result of `method`; a JSON-RPC error raises RpcError."""
        answer = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        if "error" in answer:
            raise RpcError(method, answer["error"])
        return answer["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Results of several calls sent in one HTTP request, in order."""
        if not calls:
            return []
        first = next(self._ids)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        for _ in calls[1:]:
            next(self._ids)
        answers = {a["id"]: a for a in self._post(payload)}
        results = []
        for i, (method, _) in enumerate(calls):
            answer = answers[first + i]
            if "error" in answer:
                raise RpcError(method, answer["error"])
            results.append(answer["result"])
        return results

"""Per-client request limits, in memory only (the client address is never stored)."""

import threading
import time

from app.api.errors import ApiError


class RateLimiter:
    """A fixed one-minute window per client; `limit` 0 disables it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._window = 0
        self._counts: dict[str, int] = {}

    def allow(self, client: str, now: float | None = None) -> bool:
        if self.limit <= 0:
            return True
        window = int((now if now is not None else time.time()) // 60)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts.get(client, 0) + 1
            self._counts[client] = count
        return count <= self.limit

    def retry_after(self, now: float | None = None) -> int:
        """Seconds until the current window ends."""
        return 60 - int(now if now is not None else time.time()) % 60

    def enforce(self, client: str, detail: str) -> None:
        """Count a request of `client`; over the limit, raise a 429 saying when to retry."""
        if not self.allow(client):
            raise ApiError(429, "rate_limited", detail, {"Retry-After": str(self.retry_after())})

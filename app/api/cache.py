"""Pre-serialised resolver responses, served by the ASGI fast path (app/api/fastpath.py).

The whole cache is dropped when the gateway's housekeeping thread sees the indexer's
checkpoint move (it polls every 0.25 s), and an answer read before that is not stored after
it, so chain facts are never served stale. What comes from scans can lag (the `risk`
counts, and keys learned by resolving: a unit's `unit_url`): an entry is fresh for
`cache_ttl` seconds, then served stale for at most as long again while one request
rebuilds it. The fast path
never touches the database; cache hits still pass the rate limit and count as scans.
"""

import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from app.api.i18n import pick_language


def request_path(scope: Any) -> str:
    """The path as the client sent it, percent-escapes kept (`%2F` is part of a value, not a
    separator): what Digital Link parsing and the cache key both read."""
    raw: bytes | None = scope.get("raw_path")
    return raw.decode("latin-1") if raw else str(scope["path"])


MEDIA_RANGES: Final = (
    ("html", ("text/html", "text/*")),
    ("linkset", ("application/linkset+json",)),
    ("json", ("application/json", "application/*", "*/*")),
)
"""Each representation in order of preference (first wins a tie), with the media ranges that
select it, most specific first. Only JSON answers a wildcard: curl's `*/*` gets JSON."""


def _q(value: str) -> float:
    """A q-value; a malformed one counts as 0 (not acceptable)."""
    try:
        return float(value)
    except ValueError:
        return 0.0


def _accepted(accept: str) -> dict[str, float]:
    """Media range -> q of an Accept header (RFC 9110 section 12.5.1), names lower-cased."""
    ranges = {}
    for part in accept.lower().split(","):
        media, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip() == "q":
                q = _q(value.strip())
        ranges[media.strip()] = q
    return ranges


@lru_cache(maxsize=1024)
def variant(accept: str, accept_language: str | None) -> str:
    """The representation a request negotiates: html-en, html-zh, linkset or json.

    The highest q wins and q=0 rules one out; JSON when nothing else is acceptable. Cached:
    clients send few distinct headers, and this runs on every resolution and cache hit.
    """
    ranges = _accepted(accept)
    best, best_q = "json", 0.0
    for kind, media in MEDIA_RANGES:
        q = next((ranges[m] for m in media if m in ranges), 0.0)
        if q > best_q:  # strict: earlier representations win ties
            best, best_q = kind, q
    return "html-" + pick_language(accept_language) if best == "html" else best


def page_language(kind: str) -> str | None:
    """The language of an html-* variant; None for JSON and linkset."""
    return kind.removeprefix("html-") if kind.startswith("html-") else None


@dataclass
class Cached:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    item_id: str | None
    """Item to count a scan for on each hit."""
    path: str
    expires: float = 0.0
    refreshing: bool = False
    """An expired entry goes on being served while one request rebuilds it."""


@dataclass
class ResponseCache:
    ttl: float
    generation: int = 0
    """How many times the entries were dropped: read before an answer's database reads, and
    given to `put`, it keeps an answer read before a drop from being stored after it."""
    _entries: dict[tuple[str, str], Cached] = field(default_factory=dict)
    _checkpoint: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def observe_checkpoint(self, checkpoint: Any) -> None:
        """Drop every entry when the indexer's checkpoint differs from the last one seen."""
        if checkpoint != self._checkpoint:
            with self._lock:
                self._checkpoint, self._entries = checkpoint, {}
                self.generation += 1

    def get(self, path: str, kind: str) -> Cached | None:
        """A fresh entry; or, once expired, the stale one to all but the one request that
        rebuilds it (single flight: a popular page never stampedes the database)."""
        entry = self._entries.get((path, kind))
        if entry is None:
            return None
        if entry.expires > time.monotonic():
            return entry
        if entry.refreshing and entry.expires + self.ttl > time.monotonic():
            return entry
        entry.refreshing = True
        return None

    def put(self, path: str, kind: str, entry: Cached, generation: int) -> None:
        """Store `entry`, read when the cache was at `generation`, unless it was dropped since."""
        if self.enabled:
            entry.expires = time.monotonic() + self.ttl
            with self._lock:
                if generation == self.generation:
                    self._entries[(path, kind)] = entry

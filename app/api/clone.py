"""Clone defence: count every resolution by item, minute and coarse region; flag copies.

Counts are buffered in memory and added to the `scans` table every
`scan_flush_interval` seconds (and at shutdown), so a flood of scans costs one upsert per
item, region and minute instead of one row per request. A client counts once per item and
UTC day however often it asks: one phone reloading a page, one script, or an owner checking
their claimed item now and then must not put a copy warning on a genuine product.
"""

import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, bindparam, select

from app.api.i18n import risk_detail
from app.api.models import Risk, RiskReason
from app.core.config import Settings
from app.db.reads import PreparedRead, chunks
from app.db.schema import scans
from app.db.writes import upsert_add

UNKNOWN_REGION = "ZZ"
_REGION = re.compile(r"^[A-Z]{2}$")
DAY_MINUTES = 24 * 60
SEEN_LIMIT = 500_000
"""(client, item) pairs a gateway process remembers per day (~30 MB); past it, further
clients count at every scan until the day ends: a flood that big is worth warning about."""


_CRAWLER = re.compile(r"bot[/;\-]|\bbot\b|crawl|spider|slurp|preview|facebookexternalhit", re.IGNORECASE)
"""User agents of crawlers and link previews (Googlebot, bingbot, Slackbot, ...): robots.txt
lets them read product pages, and a crawl of a claimed item every day would count as a scan a
day, past the "scanned after its claim" rule, on a genuine product. "bot" only as crawlers name
themselves (Googlebot/2.1, Slackbot-LinkExpanding, "bot;"), not in a phone's name (CUBOT)."""


def is_crawler(user_agent: str | None) -> bool:
    """Whether a request comes from a crawler or a link preview, which is never counted as a scan."""
    return bool(user_agent and _CRAWLER.search(user_agent))


def coarse_region(header_value: str | None) -> str:
    """An ISO 3166 alpha-2 code from the configured CDN header, or ZZ; nothing finer is kept."""
    value = (header_value or "").strip().upper()
    return value if _REGION.match(value) and value != "XX" else UNKNOWN_REGION


@dataclass(frozen=True)
class Scan:
    """Who resolved a key: the coarse region (see `coarse_region`) and the client's address,
    which only tells one client's repeated scans apart and is never stored."""

    region: str
    client: str


@dataclass(frozen=True)
class ScanCount:
    minute: int
    region: str
    count: int


class ScanRecorder:
    """Buffers resolutions by item, minute and region, and writes them as additive upserts.

    An item resolved by two paths in one minute (an item of a lot answers to its serial
    path and its lot path) is one row: its `path` is the last one it was resolved by.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, dict[tuple[int, str], _Tally]] = {}
        self._day = 0
        self._seen: set[int] = set()
        """Hashes of the (client, item) pairs counted in `_day` (salted per process, as Python
        hashes strings); in memory only, forgotten as the day ends."""

    def record(
        self, item_id: str, path: str, region: str, client: str | None = None, now: float | None = None
    ) -> None:
        """Count a resolution of `item_id` by `path` from `region`; one from a `client` that
        already resolved the item this UTC day is not counted again."""
        minute = int((now if now is not None else time.time()) // 60)
        with self._lock:
            if client is not None:
                day, seen = minute // DAY_MINUTES, hash((client, item_id))
                if day != self._day:
                    self._day, self._seen = day, set()
                if seen in self._seen:
                    return
                if len(self._seen) < SEEN_LIMIT:
                    self._seen.add(seen)
            tallies = self._pending.setdefault(item_id, {})
            tally = tallies.get((minute, region))
            if tally is None:
                tallies[(minute, region)] = _Tally(1, path)
            else:
                tally.count, tally.path = tally.count + 1, path

    def pending(self, item_id: str) -> list[ScanCount]:
        with self._lock:
            tallies = self._pending.get(item_id, {})
            return [ScanCount(minute, region, t.count) for (minute, region), t in tallies.items()]

    def flush(self, engine: Engine) -> int:
        """Write the buffered counts; on failure they stay buffered for the next flush."""
        with self._lock:
            batch, self._pending = self._pending, {}
        rows = [
            {"item_id": item_id, "minute": minute, "region": region, "path": t.path, "count": t.count}
            for item_id, tallies in batch.items()
            for (minute, region), t in tallies.items()
        ]
        if not rows:
            return 0
        try:
            with engine.begin() as conn:
                upsert_add(conn, scans, rows, ["item_id", "minute", "region"], "count", latest=["path"])
        except Exception:
            with self._lock:
                self._merge_back(batch)
            raise
        return len(rows)

    def _merge_back(self, batch: dict[str, dict[tuple[int, str], "_Tally"]]) -> None:
        """Return an unwritten batch to the buffer, under scans recorded since (lock held)."""
        for item_id, tallies in batch.items():
            current = self._pending.setdefault(item_id, {})
            for slot, tally in tallies.items():
                newer = current.get(slot)
                current[slot] = tally if newer is None else _Tally(tally.count + newer.count, newer.path)


@dataclass
class _Tally:
    count: int
    path: str


STORED_COUNTS = PreparedRead(
    select(scans.c.minute, scans.c.region, scans.c.count.label("n")).where(
        scans.c.item_id == bindparam("item_id"), scans.c.minute >= bindparam("since")
    )
)


def stored_counts(conn: Connection, item_id: str, since_minute: int) -> list[ScanCount]:
    rows = STORED_COUNTS.rows(conn, item_id=item_id, since=since_minute)
    return [ScanCount(r.minute, r.region, r.n) for r in rows]


_LATEST = scans.alias("latest")
_LAST_MINUTE = (
    # ORDER BY ... LIMIT 1 walks the (item_id, minute) key backwards; max() scanned them all.
    select(_LATEST.c.minute)
    .where(_LATEST.c.item_id == scans.c.item_id)
    .order_by(_LATEST.c.minute.desc())
    .limit(1)
    .scalar_subquery()
)


def known_paths(conn: Connection, item_ids: Iterable[str]) -> dict[str, str]:
    """The canonical Digital Link path each of `item_ids` was last resolved by, where known
    (ids are hashes of the key, so the gateway learns keys from scans): one query per 500."""
    found: dict[str, str] = {}
    for chunk in chunks(sorted(set(item_ids))):
        query = select(scans.c.item_id, scans.c.path).where(
            scans.c.item_id.in_(chunk), scans.c.minute == _LAST_MINUTE
        )
        found.update((row.item_id, str(row.path)) for row in conn.execute(query))
    return found


def known_path(conn: Connection, item_id: str) -> str | None:
    """The canonical Digital Link path `item_id` was last resolved by, if it ever was."""
    return known_paths(conn, [item_id]).get(item_id)


def scan_risk(
    conn: Connection, recorder: ScanRecorder, item_id: str, claimed_at: int | None, settings: Settings
) -> Risk:
    """The risk of `item_id` from its stored and still-buffered scans of the last 24 hours."""
    now = time.time()
    counts = stored_counts(conn, item_id, int(now // 60) - DAY_MINUTES) + recorder.pending(item_id)
    return assess(counts, claimed_at, now, settings)


def assess(counts: Iterable[ScanCount], claimed_at: int | None, now: float, settings: Settings) -> Risk:
    """The clone-defence rules over an item's scan counts of the last 24 hours."""
    this_minute = int(now // 60)
    recent = [c for c in counts if c.minute > this_minute - DAY_MINUTES]
    regions = sorted({c.region for c in recent if c.region != UNKNOWN_REGION})
    fired: list[tuple[str, int]] = []  # (rule, what it counted)
    if claimed_at is not None:
        after = sum(c.count for c in recent if c.minute > claimed_at // 60)
        if after > settings.clone_scans_after_claim:
            fired.append(("scanned_after_claim", after))
    if len(regions) > settings.clone_max_regions:
        fired.append(("too_many_regions", len(regions)))
    per_minute: Counter[int] = Counter()
    for c in recent:
        per_minute[c.minute] += c.count
    peak = max(per_minute.values(), default=0)
    if peak > settings.clone_burst_per_minute:
        fired.append(("scan_burst", peak))
    reasons = [
        RiskReason(code=code, detail=risk_detail(code, count, regions, "en"), count=count)
        for code, count in fired
    ]
    return Risk(
        level="warning" if reasons else "none",
        reasons=reasons,
        scans_24h=sum(c.count for c in recent),
        regions_24h=regions,
    )

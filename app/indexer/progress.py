"""What a backfill shows a person: a progress bar (blocks, events/s, ETA) and JSON-lines logs."""

import json
import logging
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def use_json_logs(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every log record to `stream` (the current sys.stderr by default) as JSON lines."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class BackfillProgress:
    """A tqdm bar over blocks, with events/s; usable as the indexer's `on_range` callback."""

    def __init__(self, first_block: int, last_block: int, enabled: bool = True) -> None:
        self.bar = tqdm(
            total=max(0, last_block - first_block + 1),
            unit="block",
            disable=not enabled,
            dynamic_ncols=True,
            file=sys.stderr,
        )
        self.events = 0
        self.started = time.monotonic()

    def __call__(self, first: int, last: int, events: int) -> None:
        self.events += events
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.bar.set_postfix(events=self.events, events_per_s=f"{self.events / elapsed:,.0f}", refresh=False)
        self.bar.update(max(0, last - first + 1))

    def close(self) -> None:
        self.bar.close()

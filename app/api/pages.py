"""Server-rendered shopper pages (Jinja2, no JavaScript), in the shopper's language."""

import shlex
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from app.api.i18n import EVENTS, KINDS, STATUS, TEXT, certification_label, count_text, risk_detail
from app.api.items import iso_time, status_step
from app.api.lots import LotItemPublic, LotPublic
from app.api.metadata import metadata_text, product_name
from app.api.models import ChainInfo, HistoryEntry, ItemPublic
from app.api.units import CONTENTS_SHOWN, PACKINGS_SHOWN, UnitPublic
from app.gs1.digital_link import parse_path
from app.gs1.keys import InvalidKey

_env = Environment(
    loader=PackageLoader("app.api", "templates"),
    autoescape=select_autoescape(["html"]),
    # Templates ship with the code: reloading them when their files change made a gateway
    # running through an upgrade render new templates with old code (a 500 on unit pages).
    # Loaded once, they also cost no stat per render.
    auto_reload=False,
)


BEIJING = timezone(timedelta(hours=8), "北京时间")
"""The time Chinese pages show (China Standard Time, UTC+8, as China, Singapore and Taiwan keep)."""


@pass_context
def _shown_time(context: Context, iso: str) -> str:
    """An ISO 8601 UTC time as the page's language shows it: `2026-12-07 16:05:28 UTC`, or on a
    Chinese page Beijing time, `2026-12-08 00:05:28 北京时间` (a shopper in Hangzhou read UTC)."""
    if context.get("lang") != "zh":
        return iso.replace("T", " ").replace("Z", " UTC")
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(BEIJING)
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + str(BEIJING.tzname(None))


_env.filters["utc"] = _shown_time


@pass_context
def _count(context: Context, count: int) -> str:
    """A count as the page's language writes it (`count_text`): `1,000` items, not `1000`."""
    return count_text(count, context.get("lang") or "en")


_env.filters["count"] = _count
_env.filters["shell"] = shlex.quote  # a URL in a command to copy: `&` in a serial stays in it


@pass_context
def _content_label(context: Context, url: str) -> str:
    """What a logistic unit's page calls a record it holds, from its Digital Link: `Serial
    GIFT-0001 · GTIN 09506000134376`, `Lot SK-2026-11 · GTIN ...`, `SSCC ...` (the link was
    the whole URL)."""
    text = context["t"]
    try:
        key = parse_path(urlsplit(url).path)
    except InvalidKey:
        return url
    if key.sscc is not None:
        return f"SSCC {key.sscc}"
    named = f"{text['serial']} {key.serial}" if key.serial is not None else f"{text['lot']} {key.lot}"
    return f"{named} · {text['gtin']} {key.gtin}"


_env.globals["content_label"] = _content_label


def _status_key(status: str) -> str:
    return status.lower().replace("-", "_")


STATUS_ALERTS = {
    "recalled": "alert_recalled",
    "stolen": "alert_lost",
    "lost_stolen": "alert_lost",
    "lost": "alert_lost",
    "destroyed": "alert_destroyed",
}
"""Statuses a shopper must be told about plainly (what it means, what to do), by TEXT key."""

STEP_TONES = {"recalled": "bad", "destroyed": "bad", "reported_lost": "warn"}
"""Timeline steps that are bad news, by type (the steps of the statuses of STATUS_ALERTS): their
dot is red for a recall or destruction, amber for a loss report (a `found` step can follow), where
every dot was green, a recall's too."""


def _render(template: str, lang: str, status: str, **context: Any) -> str:
    key = _status_key(status)
    alert = STATUS_ALERTS.get(key)
    return _env.get_template(template).render(
        lang=lang,
        t=TEXT[lang],
        labels=EVENTS[lang],
        status_key=key,
        status_label=STATUS[lang].get(key, status),
        status_alert=TEXT[lang][alert] if alert else None,
        statuses=STATUS[lang],
        step_tones=STEP_TONES,
        kinds=KINDS[lang],
        certification=lambda kind: certification_label(kind, lang),
        risk_text=lambda reason, regions: risk_detail(reason.code, reason.count, regions, lang),
        **context,
    )


def _timeline(*lists: Sequence[HistoryEntry]) -> list[HistoryEntry]:
    """A record's own facts, its units' custody moves and (a unit's) what was packed into it and
    taken out, in chain order."""
    return sorted((step for steps in lists for step in steps), key=lambda e: (e.block, e.log_index))


def _chain_context(
    chain: ChainInfo | None, history: list[HistoryEntry], timeline: list[HistoryEntry], needed: int
) -> dict[str, Any]:
    """What every page says about the chain: since when the registry is paused (None while it
    runs), how many steps of the timeline (each certification is one) are not final yet, out of
    the blocks `needed`, and the step of `history` behind the status shown (see `status_step`:
    the badge says when it awaits confirmation, as the JSON's `status_confirmed`)."""
    return {
        "paused_since": chain.paused_since if chain else None,
        "pending": sum(not step.confirmed for step in timeline),
        "needed": needed,
        "status_step": status_step(history),
    }


def render_item_page(item: ItemPublic, lang: str, confirmations_needed: int, explorer: str | None) -> str:
    name = product_name(item.metadata, lang)
    timeline = _timeline(item.history, item.carried)
    return _render(
        "item.html",
        lang,
        "offer_expired" if item.offer_expired else item.status,
        item=item,
        name=name or f"{item.gtin} / {item.serial}",
        timeline=timeline,
        origin=metadata_text(item.metadata, "origin"),
        explorer=explorer,
        **_chain_context(item.chain, item.history, timeline, confirmations_needed),
    )


def render_key_page(
    entity: LotPublic | LotItemPublic | UnitPublic, lang: str, confirmations_needed: int
) -> str:
    """Lots, lot items and logistic units: a short page with their on-chain anchor."""
    record = entity.lot if isinstance(entity, LotItemPublic) else entity
    if isinstance(entity, LotItemPublic):
        lot, serial = quote(entity.lot.lot, safe=""), quote(entity.serial, safe="")
        proof = f"/api/v1/lots/{entity.lot.gtin}/{lot}/items/{serial}/proof"
    else:
        proof = f"/api/v1/items/{entity.id}/proof"
    name = product_name(record.metadata, lang) if isinstance(record, LotPublic) else None
    packings = record.packings[-PACKINGS_SHOWN:] if isinstance(record, UnitPublic) else []
    timeline = _timeline(record.history, record.carried, packings)
    return _render(
        "key.html",
        lang,
        record.status,
        entity=entity,
        kind=type(entity).__name__,
        name=name,
        timeline=timeline,
        proof_path=proof,
        contents_shown=CONTENTS_SHOWN,
        packings_shown=len(packings),
        **_chain_context(record.chain, record.history, timeline, confirmations_needed),
    )


def render_error_page(
    status: int,
    detail: str,
    lang: str,
    paused_since: int | None = None,
    error: str = "",
    product: str | None = None,
) -> str:
    """What a shopper sees for a code the gateway cannot resolve: what went wrong in their
    language (by the `error` code where it has its own words, else the status; any other 4xx
    is an address that is not valid, which retrying will not mend, where "cannot be shown right
    now" said to try again), then the
    status and the technical reason (in English) for whoever helps them. While the registry is
    paused (since block time `paused_since`), the page says so: a label printed during the
    pause resolves to nothing until the brand can register it. `product`: the path of the
    product's own page, linked when the product exists but not what was asked of it."""
    text = TEXT[lang]
    heading = text.get(f"error_{error}") or text.get(f"error_{status}")
    if heading is None:
        heading = text["error_request" if 400 <= status < 500 else "error"]
    paused = iso_time(paused_since) if paused_since is not None else None
    return _env.get_template("error.html").render(
        lang=lang,
        t=text,
        status=status,
        detail=detail,
        heading=heading,
        paused_since=paused,
        product=product,
        error=error,
    )


def render_home_page(lang: str, docs: bool) -> str:
    """The landing page at `/`, for whoever opens the gateway without a product's code (it was
    the "no product is registered" page); it links the API's `/docs` when they are served."""
    return _env.get_template("home.html").render(lang=lang, t=TEXT[lang], docs=docs)

"""GS1 Digital Link resolver: items, lots and logistic units as JSON, linkset or shopper page."""

from dataclasses import replace
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from app.api.cache import Cached, page_language, request_path, variant
from app.api.canonical import canonical_link, depends_on_registry
from app.api.clone import Scan, coarse_region, is_crawler, scan_risk
from app.api.errors import LINK_TYPE_UNAVAILABLE, ApiError
from app.api.head import is_head
from app.api.items import ItemReader
from app.api.linkset import find_link, links_for, linkset
from app.api.lots import LotItemPublic, LotPublic, find_lot_item, load_lot, load_lot_item
from app.api.models import ErrorBody, ItemPublic
from app.api.pages import render_item_page, render_key_page
from app.api.units import UnitPublic
from app.core.config import Settings
from app.gs1.digital_link import PRIMARY_KEYS, DigitalLink, KeyKind, MissingKeyValue, parse_path
from app.gs1.keys import InvalidKey
from app.gs1.qr import qr_png, qr_svg

router = APIRouter(
    tags=["resolver"], responses={422: {"model": ErrorBody, "description": "Invalid query parameter"}}
)
QR_CACHE = "public, max-age=31536000, immutable"
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Not a valid GS1 Digital Link path; the detail says why"},
    404: {"model": ErrorBody, "description": "Nothing registered under this key, or no such link type"},
    429: {"model": ErrorBody, "description": "Too many resolutions from this client; retry later"},
}
RESOLVED: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {"content": {"text/html": {}, "application/linkset+json": {}}},
    307: {"description": "Redirect to the target of the requested linkType"},
}
LinkType = Annotated[
    str | None,
    Query(
        alias="linkType",
        max_length=200,
        description="`all` for the RFC 9264 linkset, or a GS1 link type (e.g. gs1:traceability) to redirect",
    ),
]


def parse_raw(path: str) -> DigitalLink:
    """The key of a path as the client sent it, or a 400 saying what is wrong. The router
    matched the decoded path, where `%2F` is a separator and a bad escape such as `%ZZ` text."""
    try:
        return parse_path(path)
    except MissingKeyValue as exc:
        raise ApiError(400, "missing_key_value", str(exc)) from None
    except InvalidKey as exc:
        raise ApiError(400, "invalid_key", str(exc)) from None


def parse_request(request: Request) -> DigitalLink:
    return parse_raw(request_path(request.scope))


def _send(
    request: Request,
    key: DigitalLink,
    status: int,
    media: str,
    body: bytes,
    item_id: str | None,
    settings: Settings,
    requested: DigitalLink,
    kind: str,
    generation: int,
) -> Response:
    """The response, naming `key`'s canonical URL; cached by the canonical form of the path
    `requested` (the printed label: for an item split off into a sub-lot, the parent lot's
    path) and the negotiated variant `kind`, when it has no query and the cache is still at
    `generation`. Cached scans count under `key`."""
    canonical = settings.base_url + key.path
    headers = {
        "Link": f'<{canonical}>; rel="canonical"',
        "Vary": "Accept, Accept-Language",
        "Cache-Control": "no-cache",
    }
    response = Response(body, status_code=status, media_type=media, headers=headers)
    if not request.scope["query_string"] and request_path(request.scope) == requested.path:
        cache = request.app.state.cache
        entry = Cached(status, response.raw_headers, body, item_id, key.path)
        cache.put(requested.path, kind, entry, generation)
    return response


def _region(request: Request, settings: Settings) -> str:
    """The scan's coarse region, from ORIGINTRACE_REGION_HEADER if set (else unknown)."""
    header = settings.region_header
    return coarse_region(request.headers.get(header) if header else None)


def resolve(key: DigitalLink, request: Request, link_type: str | None) -> Response:
    """Resolve `key`: count the scan, then answer with a redirect, linkset, page or JSON.

    Called from `async` routes without FastAPI dependencies: the reads are a few indexed
    SQLite/PostgreSQL lookups, cheaper inline than a hop through the thread pool, on the
    connection the gateway holds for them.
    """
    if link_type is not None and not link_type.strip():
        raise ApiError(
            400, "invalid_link_type", "linkType is empty; give all, or a link type such as gs1:pip"
        )
    state = request.app.state
    generation = state.cache.generation  # before the reads: see ResponseCache.put
    with state.reads.read() as conn:
        return _resolve(key, request, conn, state.settings, link_type, generation)


def _resolve(
    key: DigitalLink,
    request: Request,
    conn: Connection,
    settings: Settings,
    link_type: str | None,
    generation: int,
) -> Response:
    state = request.app.state
    client = request.client.host if request.client else "-"
    state.limiter.enforce(client, f"more than {settings.rate_limit_per_minute} resolutions a minute")
    entity: ItemPublic | LotPublic | LotItemPublic | UnitPublic | None = None
    item_id = None
    requested = key
    reader = ItemReader(conn, settings, state.places)
    serialised = key.serialised_item
    counted = not is_head(request.scope) and not is_crawler(request.headers.get("user-agent"))
    scan = Scan(_region(request, settings), client) if counted else None
    if serialised is not None:
        item_id = "0x" + serialised.item_id.hex()
        # A registered item's id is its GTIN and serial: a lot or variant in the URL is checked
        # against nothing, so the item's canonical URL leaves them out.
        as_item = replace(key, cpv=None, lot=None)
        entity = reader.load(item_id, as_item, state.recorder, scan)
        if entity is None:
            item_id = None
        else:
            key = as_item

    store = reader.lot_store()
    if entity is None and key.kind == KeyKind.ITEM:
        gtin, serial = str(key.gtin), str(key.serial)
        if key.lot is not None:
            entity = load_lot_item(conn, reader.parties, gtin, key.lot, serial, settings.base_url, store)
        else:  # no registered item: perhaps an item of a lot, looked up without its lot
            entity = find_lot_item(conn, reader.parties, gtin, serial, settings.base_url, store)
        if entity is not None:
            if entity.lot.lot != key.lot:  # found in a lot, or split off into a sub-lot: its URL names it
                key = replace(key, lot=entity.lot.lot)
            item_id = entity.item_id
            if scan is not None:
                state.recorder.record(item_id, key.path, scan.region, scan.client)
            entity.risk = scan_risk(conn, state.recorder, item_id, None, settings)
            reader.complete(entity.lot)
    elif key.kind in (KeyKind.LOT, KeyKind.UNIT):
        entity = reader.lot_or_unit(key)
        if isinstance(entity, UnitPublic) and scan is not None:
            # so the gateway learns the unit's SSCC, for the steps naming it
            state.recorder.record(entity.id, key.path, scan.region, scan.client)
    lot_item = entity is None and key.kind == KeyKind.ITEM and key.lot is not None
    if (
        lot_item
        and load_lot(conn, reader.parties, str(key.gtin), str(key.lot), settings.base_url) is not None
    ):
        detail = (
            f"serial {key.serial} is not in the stored manifest of lot {key.lot}"
            " (or, for a sub-lot, not as the lot it was split from lists it)"
        )
        raise ApiError(404, "not_found", detail)
    if entity is None:
        raise ApiError(404, "not_found", f"nothing is registered under {key.path}")
    record = entity.lot if isinstance(entity, LotItemPublic) else entity
    links = links_for(key, record.id, settings)
    if link_type is not None and link_type != "all":
        link = find_link(links, link_type)
        if link is None:
            available = ", ".join(["all", "gs1:defaultLink", *(link.rel for link in links)])
            raise ApiError(404, LINK_TYPE_UNAVAILABLE, f"no {link_type!r} link; available: {available}")
        if link.href != settings.base_url + key.path:
            return Response(status_code=307, headers={"Location": link.href, "Vary": "Accept"})
    kind = variant(request.headers.get("accept", ""), request.headers.get("accept-language"))
    lang = page_language(kind)
    if link_type == "all" or kind == "linkset":
        body = orjson.dumps(linkset(key, links, settings))
        media = "application/linkset+json"
    elif lang is not None:
        if isinstance(entity, ItemPublic):
            page = render_item_page(entity, lang, settings.confirmations, settings.explorer_url)
        else:
            page = render_key_page(entity, lang, settings.confirmations)
        body, media = page.encode(), "text/html; charset=utf-8"
    else:
        body = orjson.dumps(entity.model_dump(mode="json", by_alias=True))
        media = "application/json"
    return _send(request, key, 200, media, body, item_id, settings, requested, kind, generation)


@router.get(
    "/01/{gtin}/21/{serial}",
    response_model=ItemPublic,
    responses=RESOLVED,
    summary="Resolve a serialised item (JSON, linkset, or the shopper page for browsers)",
)
async def resolve_item(
    gtin: str,
    serial: str,
    request: Request,
    link_type: LinkType = None,
) -> Response:
    return resolve(parse_request(request), request, link_type)


@router.get(
    "/01/{gtin}/10/{lot}",
    response_model=LotPublic,
    responses=RESOLVED,
    summary="Resolve a lot anchored by its Merkle root",
)
async def resolve_lot(
    gtin: str,
    lot: str,
    request: Request,
    link_type: LinkType = None,
) -> Response:
    return resolve(parse_request(request), request, link_type)


@router.get(
    "/01/{gtin}/10/{lot}/21/{serial}",
    response_model=ItemPublic | LotItemPublic,
    responses=RESOLVED,
    summary="Resolve an item of a lot (with its Merkle proof) or a serialised item with its lot",
)
async def resolve_lot_item(
    gtin: str,
    lot: str,
    serial: str,
    request: Request,
    link_type: LinkType = None,
) -> Response:
    return resolve(parse_request(request), request, link_type)


@router.get(
    "/00/{sscc}",
    response_model=UnitPublic,
    responses=RESOLVED,
    summary="Resolve a logistic unit (SSCC) and what is packed in it",
)
async def resolve_unit(sscc: str, request: Request, link_type: LinkType = None) -> Response:
    return resolve(parse_request(request), request, link_type)


@router.get(
    "/01/{gtin}/21/{serial}/qr.png",
    responses=ERRORS,
    summary="QR code (PNG, error correction M) of the item's canonical Digital Link",
)
def item_qr_png(gtin: str, serial: str, request: Request) -> Response:
    return _qr(request, parse_raw(request_path(request.scope).removesuffix("/qr.png")), "png")


@router.get(
    "/01/{gtin}/21/{serial}/qr.svg",
    responses=ERRORS,
    summary="QR code (SVG, error correction M) of the item's canonical Digital Link",
)
def item_qr_svg(gtin: str, serial: str, request: Request) -> Response:
    return _qr(request, parse_raw(request_path(request.scope).removesuffix("/qr.svg")), "svg")


QR_FORMATS = {"png": (qr_png, "image/png"), "svg": (qr_svg, "image/svg+xml")}


def _qr(request: Request, key: DigitalLink, fmt: str) -> Response:
    """The QR code of `key`'s canonical Digital Link URL, as PNG or SVG (7-11 ms of CPU: called
    off the event loop, and counted against the client's limit like a resolution). A serial
    with a lot or variant is named as the resolver names it (`canonical_link`: a registered
    item without them, a split item under its sub-lot), not as asked, and that image is
    `no-cache`, not immutable: registering the item or splitting its lot changes it."""
    state = request.app.state
    client = request.client.host if request.client else "-"
    state.limiter.enforce(client, f"more than {state.settings.rate_limit_per_minute} requests a minute")
    draw, media = QR_FORMATS[fmt]
    cache = QR_CACHE
    if depends_on_registry(key):
        with state.engine.connect() as conn:
            key = canonical_link(conn, key, state.settings, state.places)
        cache = "no-cache"
    url = state.settings.base_url + key.path
    return Response(draw(url), media_type=media, headers={"Cache-Control": cache})


# Only /00/ and /01/ paths: a catch-all would answer 404 where another route's method is wrong (405).
@router.get("/00/{rest:path}", include_in_schema=False)
@router.get("/01/{rest:path}", include_in_schema=False)
async def resolve_any(
    rest: str,
    request: Request,
    link_type: LinkType = None,
) -> Response:
    """Every other Digital Link form (CPV, wrong order, bad values, a value holding an escaped
    `/`): resolved or a 400 saying why. `/qr.png` or `/qr.svg` after any key is its QR code."""
    path = request_path(request.scope)
    stem, _, fmt = path.rpartition("/qr.")
    key = parse_raw(stem if stem and fmt in QR_FORMATS else path)
    if stem and fmt in QR_FORMATS:
        return await run_in_threadpool(_qr, request, key, fmt)
    return resolve(key, request, link_type)


class PrimaryKeyAI(Convertor[str]):
    """A path segment that is the AI of a GS1 Digital Link primary key (PRIMARY_KEYS)."""

    regex = "|".join(sorted(PRIMARY_KEYS, key=len, reverse=True))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("gs1_key", PrimaryKeyAI())


@router.get("/{ai:gs1_key}", include_in_schema=False)
@router.get("/{ai:gs1_key}/", include_in_schema=False)
async def key_without_value(request: Request, link_type: LinkType = None) -> Response:
    """A primary key's AI alone (/01, /00, /8004; /01/ and /00/ reach `resolve_any`): a 400
    saying the value is missing and which form the gateway takes (`parse_path` refuses it),
    where /01 was redirected to /01/ and /8004 was a 404."""
    return resolve(parse_request(request), request, link_type)

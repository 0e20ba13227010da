"""The versioned JSON API: items with bounded pagination, history, EPCIS 2.0, proofs, labels."""

import time
from typing import Annotated, Any, Literal

import orjson
from eth_utils.address import is_address
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator
from sqlalchemy import Connection, select

from app.api.cache import request_path
from app.api.canonical import canonical_link, depends_on_registry
from app.api.clone import known_path
from app.api.deps import ConnectionDep, PlacesDep, SettingsDep
from app.api.epcis import contents_event, epcis_document, record_urn
from app.api.errors import ApiError
from app.api.items import ItemReader, indexed_lot_store, unit_of
from app.api.labels import MAX_LABELS, label_sheet
from app.api.lots import LotPublic, effective_custodians, load_lot_item, record_paths, record_status
from app.api.models import Attestation, ErrorBody, HistoryPage, ItemPage, ItemPublic, ItemSummary
from app.api.places import PlaceDirectory
from app.api.proof import ProofBundle, proof_bundle
from app.api.units import (
    CONTENTS_PAGE,
    PACKINGS_PAGE,
    STEP_CURSOR,
    ContentsPage,
    PackingsPage,
    UnitPublic,
    content_count,
    content_ids,
    contents_page,
    last_packing,
    step_cursor,
)
from app.core.config import Settings
from app.db.schema import RECORD_ROWS, items
from app.gs1.digital_link import DigitalLink, parse_path
from app.gs1.keys import InvalidKey
from app.indexer.decode import DecodedLog
from app.indexer.status import indexer_status

router = APIRouter(
    prefix="/api/v1",
    tags=["api v1"],
    responses={422: {"model": ErrorBody, "description": "Invalid parameter; the detail says which"}},
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No such item"}}
NO_UNIT: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No such logistic unit"}}
HEX_ID = r"^0[xX][0-9a-fA-F]{64}$"
"""A bytes32 id in hex, in either case (as block explorers and wallets print them)."""
ItemId = Annotated[
    str,
    Path(pattern=HEX_ID, description="On-chain bytes32 item id, 0x-hex (either case)"),
    AfterValidator(str.lower),
]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (at most 500)")]
AfterId = Annotated[
    str | None,
    Query(pattern=HEX_ID, description="Last id of the previous page"),
    AfterValidator(lambda value: value and value.lower()),
]


def _load(reader: ItemReader, item_id: str, request: Request) -> ItemPublic:
    item = reader.load(item_id, None, request.app.state.recorder)
    if item is None:
        raise ApiError(404, "not_found", f"no item {item_id} is indexed")
    return item


RecordKind = Annotated[
    Literal["item", "lot", "unit"],
    Query(description="What to list: serialised items (the default), lots or logistic units"),
]


@router.get(
    "/items",
    response_model=ItemPage,
    summary="Indexed records of one kind (items by default, or lots, or logistic units), ordered by id",
)
def list_items(
    conn: ConnectionDep,
    settings: SettingsDep,
    limit: Limit = 50,
    after: AfterId = None,
    kind: RecordKind = "item",
) -> ItemPage:
    """Pages of `kind` records by id; `url` is each one's Digital Link once the gateway knows its
    key (resolved before; for a lot, also from its file in the lot store)."""
    query = RECORD_ROWS.where(items.c.kind == kind).order_by(items.c.item_id).limit(limit + 1)
    if after is not None:
        query = query.where(items.c.item_id > after)
    rows = list(conn.execute(query))
    page = rows[:limit]
    paths = record_paths(conn, page, indexed_lot_store(settings, indexer_status(conn)))
    custodians = effective_custodians(conn, page)
    return ItemPage(
        items=[
            ItemSummary(
                id=r.item_id,
                kind=kind,
                url=settings.base_url + paths[r.item_id] if r.item_id in paths else None,
                status=record_status(conn, r.status, r.parent_id),
                brand=r.brand,
                custodian=custodians[r.item_id],
                registered_block=r.registered_block,
            )
            for r in page
        ],
        next_after=page[-1].item_id if len(rows) > limit else None,
    )


@router.get(
    "/items/{item_id}",
    response_model=ItemPublic | LotPublic | UnitPublic,
    responses=NOT_FOUND,
    summary="One record: an item, or a lot or logistic unit as resolving its key answers",
)
def get_item(
    item_id: ItemId, conn: ConnectionDep, settings: SettingsDep, places: PlacesDep, request: Request
) -> ItemPublic | LotPublic | UnitPublic:
    reader = ItemReader(conn, settings, places)
    return _lot_or_unit(reader, item_id) or _load(reader, item_id, request)


def _lot_or_unit(reader: ItemReader, record_id: str) -> LotPublic | UnitPublic | None:
    """The lot or logistic unit `record_id` as resolving its key answers (no scan counted), when
    the gateway knows that key (a lot's from its lot file, or any resolved before); None for
    items and for records whose key it does not know (those answer in the item shape)."""
    row = reader.conn.execute(
        select(items.c.item_id, items.c.kind).where(items.c.item_id == record_id)
    ).first()
    if row is None or row.kind == "item":
        return None
    path = record_paths(reader.conn, [row], reader.lot_store()).get(record_id)
    return reader.lot_or_unit(parse_path(path)) if path else None


@router.get(
    "/items/{item_id}/history",
    response_model=HistoryPage,
    responses=NOT_FOUND,
    summary="The item's custody history, a page at a time",
)
def get_history(
    item_id: ItemId,
    conn: ConnectionDep,
    settings: SettingsDep,
    places: PlacesDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Limit = 100,
) -> HistoryPage:
    reader = ItemReader(conn, settings, places)
    if not conn.execute(select(items.c.item_id).where(items.c.item_id == item_id)).first():
        raise ApiError(404, "not_found", f"no item {item_id} is indexed")
    rows = reader.events(item_id, offset, limit + 1, history_only=True)
    return HistoryPage(
        id=item_id,
        history=reader.history(rows[:limit]),
        next_offset=offset + limit if len(rows) > limit else None,
    )


@router.get(
    "/items/{item_id}/certifications",
    response_model=list[Attestation],
    responses=NOT_FOUND,
    summary="Certifier attestations (gs1:certificationInfo)",
)
def get_certifications(
    item_id: ItemId, conn: ConnectionDep, settings: SettingsDep, places: PlacesDep, request: Request
) -> list[Attestation]:
    return _load(ItemReader(conn, settings, places), item_id, request).attestations


@router.get(
    "/items/{item_id}/epcis",
    responses={**NOT_FOUND, 200: {"content": {"application/ld+json": {}}}},
    summary="The item's events as an EPCIS 2.0 EPCISQueryDocument (JSON-LD, CBV 2.0)",
)
def get_epcis(
    item_id: ItemId, conn: ConnectionDep, settings: SettingsDep, places: PlacesDep, request: Request
) -> Response:
    reader = ItemReader(conn, settings, places)
    item = _load(reader, item_id, request)
    epc = item.url or record_urn(item.chain.chain_id, item_id)
    rows = reader.events(item_id)
    named = [v for row in rows for v in row.args.values() if isinstance(v, str) and is_address(v)]
    parties = reader.parties
    parties.load(named)

    def gln_of(address: str, log: DecodedLog) -> str | None:
        return parties.gln_at(address, (log.block_number, log.log_index))

    packings = {unit for row in rows if (unit := unit_of(row))}
    units = {unit: settings.base_url + path for unit, path in reader.unit_paths(packings).items()}
    contents = _contents_event(reader, epc, item_id)
    lot = conn.execute(select(items.c.kind).where(items.c.item_id == item_id)).scalar() == "lot"
    now = int(time.time())
    document = epcis_document(
        rows, epc, item.chain.chain_id, settings.base_url, now, item_id, gln_of, units, contents, lot
    )
    return Response(orjson.dumps(document), media_type="application/ld+json")


def _contents_event(reader: ItemReader, unit_epc: str, unit_id: str) -> dict[str, Any] | None:
    """The AggregationEvent of what the unit `unit_id` holds now (None when it holds nothing,
    or is no unit): every record, by its Digital Link where known, else its record URN."""
    contents = content_ids(reader.conn, unit_id)
    if not contents or reader.state is None:
        return None
    chain_id = reader.state.chain_id
    paths = record_paths(reader.conn, contents, reader.lot_store())
    children: dict[bool, list[str]] = {True: [], False: []}  # lots (classes), and the rest
    for c in contents:
        epc = (
            reader.settings.base_url + paths[c.item_id]
            if c.item_id in paths
            else record_urn(chain_id, c.item_id)
        )
        children[c.kind == "lot"].append(epc)
    last = last_packing(reader.conn, unit_id)
    return (
        contents_event(unit_epc, children[False], chain_id, unit_id, last, children[True]) if last else None
    )


def _require_unit(conn: Connection, item_id: str) -> None:
    """404 unless `item_id` is an indexed logistic unit: `not_found` when nothing is indexed
    under it, `not_a_unit` naming what it is when it is an item or a lot (it said "no logistic
    unit is indexed", as if the record did not exist)."""
    kind = conn.execute(select(items.c.kind).where(items.c.item_id == item_id)).scalar()
    if kind is None:
        raise ApiError(404, "not_found", f"no logistic unit {item_id} is indexed")
    if kind != "unit":
        what = {"item": "a serialised item", "lot": "a lot"}.get(kind, f"a record of kind {kind!r}")
        detail = f"{item_id} is {what}, not a logistic unit: only a unit has contents and packing steps"
        raise ApiError(404, "not_a_unit", detail)


@router.get(
    "/items/{item_id}/contents",
    response_model=ContentsPage,
    responses=NO_UNIT,
    summary="What a logistic unit holds now (records packed directly in it), a page at a time, by id",
)
def get_contents(
    item_id: ItemId,
    conn: ConnectionDep,
    settings: SettingsDep,
    limit: Limit = CONTENTS_PAGE,
    after: AfterId = None,
) -> ContentsPage:
    _require_unit(conn, item_id)
    store = indexed_lot_store(settings, indexer_status(conn))
    contents, next_after = contents_page(conn, item_id, settings.base_url, store, after, limit)
    return ContentsPage(
        id=item_id, content_count=content_count(conn, item_id), contents=contents, next_after=next_after
    )


@router.get(
    "/items/{item_id}/packings",
    response_model=PackingsPage,
    responses=NO_UNIT,
    summary="What was packed into a logistic unit and taken out, a page of steps at a time, latest first",
)
def get_packings(
    item_id: ItemId,
    conn: ConnectionDep,
    settings: SettingsDep,
    places: PlacesDep,
    limit: Limit = PACKINGS_PAGE,
    before: Annotated[
        str | None,
        Query(pattern=STEP_CURSOR, description="`next_before` of the page after (BLOCK-LOG_INDEX)"),
    ] = None,
) -> PackingsPage:
    _require_unit(conn, item_id)
    reader = ItemReader(conn, settings, places)
    position = step_cursor(before) if before is not None else None
    steps, count, next_before = reader.packings(item_id, position, limit)
    return PackingsPage(id=item_id, packing_count=count, packings=steps, next_before=next_before)


@router.get(
    "/items/{item_id}/proof",
    response_model=ProofBundle,
    responses=NOT_FOUND,
    summary="Everything needed to verify the item against the chain without trusting the gateway",
)
def get_proof(
    item_id: ItemId, conn: ConnectionDep, settings: SettingsDep, places: PlacesDep, request: Request
) -> ProofBundle:
    path = known_path(conn, item_id)
    link = parse_path(path) if path else None
    if link is not None and link.lot is not None and link.serial is not None:
        # An item of an anchored lot: the gateway knows its lot since it was first resolved.
        return _lot_item_bundle(link, conn, settings, places)
    reader = ItemReader(conn, settings, places)
    _load(reader, item_id, request)  # 404 unless the registry has the item
    key = link.serialised_item if link else None
    return proof_bundle(reader, item_id, key.element_string if key else None, reader.events(item_id))


@router.get(
    "/lots/{gtin}/{lot}/items/{serial}/proof",
    response_model=ProofBundle,
    responses={**NOT_FOUND, 400: {"model": ErrorBody}},
    summary="The proof bundle of an item of an anchored lot: the lot's facts and the item's Merkle proof",
)
def get_lot_item_proof(
    gtin: str,
    lot: str,
    serial: str,
    request: Request,
    conn: ConnectionDep,
    settings: SettingsDep,
    places: PlacesDep,
) -> ProofBundle:
    """The values are read from the path as sent (see `_lot_item_proof`), not as decoded here."""
    return _lot_item_proof(request, conn, settings, places)


@router.get("/lots/{rest:path}", response_model=ProofBundle, include_in_schema=False)
def get_lot_item_proof_escaped(
    rest: str, request: Request, conn: ConnectionDep, settings: SettingsDep, places: PlacesDep
) -> ProofBundle:
    """The route above for a lot or serial holding an escaped `/` (`SL%2F2026`), which the
    router, matching the decoded path, cannot tell from a separator."""
    return _lot_item_proof(request, conn, settings, places)


def _lot_item_proof(
    request: Request, conn: Connection, settings: Settings, places: PlaceDirectory
) -> ProofBundle:
    """The lot item's proof bundle, its GTIN, lot and serial parsed from the path as sent, like
    the resolver's: an escaped `/` stays in its value, and a bad escape such as `%ZZ` is a 400."""
    raw = request_path(request.scope).removeprefix(f"{router.prefix}/lots/").split("/")
    if len(raw) != 5 or raw[2] != "items" or raw[4] != "proof":
        raise ApiError(404, "not_found", f"no route {request.url.path}; see /docs")
    try:
        key = parse_path(f"/01/{raw[0]}/10/{raw[1]}/21/{raw[3]}")
    except InvalidKey as exc:
        raise ApiError(400, "invalid_key", str(exc)) from None
    return _lot_item_bundle(key, conn, settings, places)


def _lot_item_bundle(
    key: DigitalLink, conn: Connection, settings: Settings, places: PlaceDirectory
) -> ProofBundle:
    """The proof bundle of the lot item `key` names."""
    item = key.serialised_item
    reader = ItemReader(conn, settings, places)
    state = reader.state
    if item is None or key.lot is None or state is None:
        raise ApiError(404, "not_found", f"nothing is indexed under {key.path}")
    found = load_lot_item(
        conn, reader.parties, item.gtin, key.lot, item.serial, settings.base_url, reader.lot_store()
    )
    if found is None:
        raise ApiError(404, "not_found", f"no stored manifest of lot {key.lot} lists serial {item.serial}")
    facts = reader.lot_facts(found.lot)
    return proof_bundle(reader, found.item_id, item.element_string, facts, found.merkle)


@router.get(
    "/labels.svg",
    responses={400: {"model": ErrorBody}, 200: {"content": {"image/svg+xml": {}}}},
    summary="A printable A4 sheet of QR labels for the given Digital Link paths",
)
def get_labels(
    conn: ConnectionDep,
    settings: SettingsDep,
    places: PlacesDep,
    path: Annotated[
        list[str],
        Query(min_length=1, max_length=MAX_LABELS, description="e.g. /01/09506000134352/21/DIA-0001"),
    ],
) -> Response:
    """Each label encodes its key's canonical URL, as the QR image of one key does (`canonical_link`:
    a registered item without a lot or variant given in the path, a split item under its sub-lot)."""
    urls, cache = [], "public, max-age=86400"
    for value in path:
        try:
            key = parse_path(value)
        except InvalidKey as exc:
            raise ApiError(400, "invalid_key", f"{value!r}: {exc}") from None
        if depends_on_registry(key):
            key, cache = canonical_link(conn, key, settings, places), "no-cache"
        urls.append(settings.base_url + key.path)
    return Response(label_sheet(urls), media_type="image/svg+xml", headers={"Cache-Control": cache})

"""The versioned JSON API: items with bounded pagination, history, EPCIS 2.0, proofs, labels."""

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import select

from app.api.clone import known_path
from app.api.deps import ConnectionDep, SettingsDep
from app.api.epcis import epcis_document
from app.api.errors import ApiError
from app.api.items import ItemReader
from app.api.labels import MAX_LABELS, label_sheet
from app.api.lots import effective_custodian
from app.api.models import Attestation, ErrorBody, HistoryPage, ItemPage, ItemPublic, ItemSummary
from app.api.proof import ProofBundle, proof_bundle
from app.db.schema import items, scans
from app.gs1.digital_link import parse_path
from app.gs1.keys import InvalidKey

router = APIRouter(
    prefix="/api/v1",
    tags=["api v1"],
    responses={422: {"model": ErrorBody, "description": "Invalid parameter; the detail says which"}},
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "No such item"}}
ItemId = Annotated[
    str, Path(pattern=r"^0x[0-9a-f]{64}$", description="On-chain bytes32 item id, lower-case hex")
]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (at most 500)")]


def _reader(conn: ConnectionDep, settings: SettingsDep, item_id: str, request: Request) -> ItemPublic:
    item = ItemReader(conn, settings).load(item_id, None, request.app.state.recorder)
    if item is None:
        raise ApiError(404, "not_found", f"no item {item_id} is indexed")
    return item


@router.get("/items", response_model=ItemPage, summary="Indexed items, ordered by id")
def list_items(
    conn: ConnectionDep,
    settings: SettingsDep,
    limit: Limit = 50,
    after: Annotated[
        str | None, Query(pattern=r"^0x[0-9a-f]{64}$", description="Last id of the previous page")
    ] = None,
) -> ItemPage:
    query = select(items).where(items.c.kind == "item").order_by(items.c.item_id).limit(limit + 1)
    if after is not None:
        query = query.where(items.c.item_id > after)
    rows = list(conn.execute(query))
    page = rows[:limit]
    ids = [r.item_id for r in page]
    paths = {
        r.item_id: r.path
        for r in conn.execute(select(scans.c.item_id, scans.c.path).where(scans.c.item_id.in_(ids)))
    }
    return ItemPage(
        items=[
            ItemSummary(
                id=r.item_id,
                url=settings.base_url + paths[r.item_id] if r.item_id in paths else None,
                status=r.status,
                brand=r.brand,
                custodian=effective_custodian(conn, r),
                registered_block=r.registered_block,
            )
            for r in page
        ],
        next_after=page[-1].item_id if len(rows) > limit else None,
    )


@router.get("/items/{item_id}", response_model=ItemPublic, responses=NOT_FOUND, summary="One item")
def get_item(item_id: ItemId, conn: ConnectionDep, settings: SettingsDep, request: Request) -> ItemPublic:
    return _reader(conn, settings, item_id, request)


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
    request: Request,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Limit = 100,
) -> HistoryPage:
    reader = ItemReader(conn, settings)
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
    item_id: ItemId, conn: ConnectionDep, settings: SettingsDep, request: Request
) -> list[Attestation]:
    return _reader(conn, settings, item_id, request).attestations


@router.get(
    "/items/{item_id}/epcis",
    responses={**NOT_FOUND, 200: {"content": {"application/ld+json": {}}}},
    summary="The item's events as an EPCIS 2.0 EPCISQueryDocument (JSON-LD, CBV 2.0)",
)
def get_epcis(item_id: ItemId, conn: ConnectionDep, settings: SettingsDep, request: Request) -> Response:
    item = _reader(conn, settings, item_id, request)
    logs = ItemReader(conn, settings).events(item_id)
    epc = item.url or f"urn:origintrace:eip155:{item.chain.chain_id}:item:{item_id}"
    document = epcis_document(logs, epc, item.chain.chain_id, settings.base_url, int(time.time()), item_id)
    return Response(orjson.dumps(document), media_type="application/ld+json")


@router.get(
    "/items/{item_id}/proof",
    response_model=ProofBundle,
    responses=NOT_FOUND,
    summary="Everything needed to verify the item against the chain without trusting the gateway",
)
def get_proof(item_id: ItemId, conn: ConnectionDep, settings: SettingsDep, request: Request) -> ProofBundle:
    item = _reader(conn, settings, item_id, request)
    path = known_path(conn, item_id)
    key = parse_path(path).serialised_item if path else None
    return proof_bundle(
        item.chain.chain_id,
        item.chain.registry,
        item_id,
        key.element_string if key else None,
        ItemReader(conn, settings).events(item_id),
    )


@router.get(
    "/labels.svg",
    responses={400: {"model": ErrorBody}, 200: {"content": {"image/svg+xml": {}}}},
    summary="A printable A4 sheet of QR labels for the given Digital Link paths",
)
def get_labels(
    settings: SettingsDep,
    path: Annotated[
        list[str],
        Query(min_length=1, max_length=MAX_LABELS, description="e.g. /01/09506000134352/21/DIA-0001"),
    ],
) -> Response:
    urls = []
    for value in path:
        try:
            urls.append(settings.base_url + parse_path(value).path)
        except InvalidKey as exc:
            raise ApiError(400, "invalid_key", f"{value}: {exc}") from None
    return Response(
        label_sheet(urls), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )

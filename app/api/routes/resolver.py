"""GS1 Digital Link resolver: /01/{gtin}/21/{serial}, its QR codes, JSON or the shopper page."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from app.api.deps import ConnectionDep, SettingsDep
from app.api.errors import ApiError
from app.api.items import load_item
from app.api.models import ErrorBody, ItemPublic
from app.api.pages import render_item_page
from app.gs1.keys import InvalidKey, SerialisedItem
from app.gs1.qr import qr_png, qr_svg

router = APIRouter(tags=["resolver"])
QR_CACHE = "public, max-age=31536000, immutable"
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Malformed GTIN or serial"},
    404: {"model": ErrorBody, "description": "No such item on the registry"},
}


def parse_key(gtin: str, serial: str) -> SerialisedItem:
    try:
        return SerialisedItem.parse(gtin, serial)
    except InvalidKey as exc:
        raise ApiError(400, "invalid_key", str(exc)) from None


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


@router.get(
    "/01/{gtin}/21/{serial}",
    response_model=ItemPublic,
    responses={**ERRORS, 200: {"content": {"text/html": {}}}},
    summary="Resolve a serialised item (JSON, or the shopper page for browsers)",
)
def resolve_item(
    gtin: str, serial: str, request: Request, conn: ConnectionDep, settings: SettingsDep
) -> Response:
    key = parse_key(gtin, serial)
    item = load_item(conn, key, settings.base_url, settings.confirmations)
    if item is None:
        raise ApiError(404, "not_found", f"no item {key.element_string} is registered")
    if wants_html(request):
        return HTMLResponse(render_item_page(item))
    return JSONResponse(item.model_dump(mode="json", by_alias=True))


@router.get(
    "/01/{gtin}/21/{serial}/qr.png", responses=ERRORS, summary="QR code (PNG) of the item's Digital Link"
)
def item_qr_png(gtin: str, serial: str, settings: SettingsDep) -> Response:
    key = parse_key(gtin, serial)
    return Response(
        qr_png(settings.base_url + key.path), media_type="image/png", headers={"Cache-Control": QR_CACHE}
    )


@router.get(
    "/01/{gtin}/21/{serial}/qr.svg", responses=ERRORS, summary="QR code (SVG) of the item's Digital Link"
)
def item_qr_svg(gtin: str, serial: str, settings: SettingsDep) -> Response:
    key = parse_key(gtin, serial)
    return Response(
        qr_svg(settings.base_url + key.path), media_type="image/svg+xml", headers={"Cache-Control": QR_CACHE}
    )

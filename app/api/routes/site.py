"""The gateway's own addresses outside the Digital Link paths: a landing page at `/`,
`/robots.txt` and `/favicon.ico`. All three answered the "no product is registered under this
code" page, with its hint about copied labels."""

from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from app.api.i18n import pick_language
from app.api.pages import render_home_page

router = APIRouter(include_in_schema=False)

ROBOTS: Final = """\
# OriginTrace gateway. Product pages (/01/..., /00/...) may be crawled: each is a public
# page about one product, linked from its label.
# /api/ is disallowed: it is JSON for programs (records, EPCIS, proof bundles, label sheets),
# nothing a search result should lead a shopper to, and a crawler walking its pages (every
# record, every history page) would cost the gateway reads for no reader.
User-agent: *
Allow: /
Disallow: /api/
"""
ROBOTS_CACHE: Final = "public, max-age=86400"
FAVICON_CACHE: Final = "public, max-age=31536000, immutable"
HOME_CACHE: Final = "public, max-age=3600"


@router.get("/")
def home(request: Request) -> Response:
    """A short page saying what the gateway is, in the browser's language (en or zh)."""
    lang = pick_language(request.headers.get("accept-language"))
    page = render_home_page(lang, request.app.state.settings.docs_enabled)
    return HTMLResponse(page, headers={"Vary": "Accept-Language", "Cache-Control": HOME_CACHE})


@router.get("/robots.txt")
def robots() -> Response:
    return PlainTextResponse(ROBOTS, headers={"Cache-Control": ROBOTS_CACHE})


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon (pages declare an empty one, `data:,`): a 204 that browsers keep for a year, so
    they stop asking."""
    return Response(status_code=204, headers={"Cache-Control": FAVICON_CACHE})

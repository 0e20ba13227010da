"""Errors as JSON bodies {"error", "detail"} for API clients and a short page for browsers;
never a stack trace."""

import logging
import re
from collections.abc import Mapping
from typing import Final

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.routing import Match
from web3.exceptions import BadFunctionCallOutput, BadResponseFormat, Web3RPCError

from app.api.cache import page_language, variant
from app.api.pages import render_error_page
from app.chain.client import node_said

log = logging.getLogger(__name__)

HTTP_ERRORS: Final = {404: "no_such_page", 405: "method_not_allowed"}
"""Codes of the errors Starlette raises itself (no route, wrong method); others are `http_error`.
An address no route takes is `no_such_page`, not `not_found`: its page said "no product is
registered under this code", as for a product code that resolves to nothing."""
ECHO_LIMIT: Final = 64
LINK_TYPE_UNAVAILABLE = "link_type_unavailable"
"""The error of a Digital Link whose product exists but has no link of the asked `linkType`."""
NOT_FOUND: Final = "not_found"
"""The error of a key or id nothing is registered under (other 404s name what they lack)."""
_LONG_QUOTED = re.compile(rf"""'([^']{{{ECHO_LIMIT}}})[^']+'|"([^"]{{{ECHO_LIMIT}}})[^"]+\"""")


def clip(detail: str) -> str:
    """`detail` with each quoted value over ECHO_LIMIT characters cut to that and an ellipsis:
    reasons quote the input they reject, and a 5,000-digit GTIN must not come back as 5 KB."""
    return _LONG_QUOTED.sub(lambda m: f"'{m[1]}…'" if m[1] else f'"{m[2]}…"', detail)


class ApiError(Exception):
    """An error with a short code and a reason (long quoted values clipped); `headers` go on
    the response (Retry-After on a 429, Allow on a 405)."""

    def __init__(
        self, status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, clip(detail), headers


def error_response(request: HTTPConnection, exc: ApiError) -> Response:
    """JSON for API clients; for a browser (a shopper who scanned a bad or unknown code) a short
    page in its language, as the item page negotiates. The status is the same either way."""
    headers = {**(exc.headers or {}), "Vary": "Accept, Accept-Language"}
    lang = page_language(variant(request.headers.get("accept", ""), request.headers.get("accept-language")))
    if lang is not None:
        unregistered = exc.status == 404 and exc.error == NOT_FOUND
        paused_since = getattr(request.app.state, "paused_since", None) if unregistered else None
        product = request.url.path if exc.error == LINK_TYPE_UNAVAILABLE else None
        page = render_error_page(exc.status, exc.detail, lang, paused_since, exc.error, product)
        return HTMLResponse(page, exc.status, headers)
    return JSONResponse({"error": exc.error, "detail": exc.detail}, exc.status, headers)


def _allowed(allow: str) -> list[str]:
    """The methods of an Allow header, with HEAD wherever GET is (see app/api/head.py)."""
    methods = [m.strip() for m in allow.split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return methods


def _path_methods(request: Request) -> list[str]:
    """The methods some route of the request's path takes: Starlette's Allow names only the
    first route matching the path (GET /items/{id}/lot-file, not the PUT beside it)."""
    return [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Keeps headers such as Allow on 405 (RFC 9110).
        error = HTTP_ERRORS.get(exc.status_code, "http_error")
        headers, detail = dict(exc.headers or {}), str(exc.detail)
        if exc.status_code == 405:
            allowed = _allowed(", ".join(_path_methods(request)) or headers.get("Allow", ""))
            headers["Allow"] = ", ".join(allowed)
            if request.method == "OPTIONS":  # what the path allows, as RFC 9110 section 9.3.7 asks
                return Response(status_code=204, headers={"Allow": ", ".join([*allowed, "OPTIONS"])})
            detail = f"{request.method} is not allowed here; use {' or '.join(allowed)}"
        return error_response(request, ApiError(exc.status_code, error, detail, headers))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return error_response(request, ApiError(422, "invalid_request", reasons))

    # Only the relayer's endpoints call the chain's node; everything else reads the index.
    @app.exception_handler(requests.RequestException)
    @app.exception_handler(BadResponseFormat)
    async def node_unavailable(request: Request, exc: Exception) -> Response:
        log.warning("the chain's node did not answer: %s", type(exc).__name__)
        detail = "the chain's node did not answer; try again shortly"
        return error_response(request, ApiError(503, "node_unavailable", detail, {"Retry-After": "5"}))

    @app.exception_handler(Web3RPCError)
    async def node_error(request: Request, exc: Web3RPCError) -> Response:
        log.warning("the chain's node answered an error: %s", node_said(exc))
        detail = f"the chain's node answered with an error: {node_said(exc)}; try again shortly"
        return error_response(request, ApiError(502, "node_error", detail, {"Retry-After": "5"}))

    @app.exception_handler(BadFunctionCallOutput)
    async def no_registry(request: Request, exc: BadFunctionCallOutput) -> Response:
        log.error("the registry answered nothing: is there a contract at its address? %s", exc)
        detail = (
            "the registry contract did not answer: there is no contract at its address on the chain "
            "(was the chain reset since the registry was deployed?); the gateway's operator must fix it"
        )
        return error_response(request, ApiError(502, "no_registry", detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        detail = "the gateway failed to answer; the error was logged"
        return error_response(request, ApiError(500, "internal_error", detail))

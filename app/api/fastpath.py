"""The resolver's fast path: Digital Link GETs answered ahead of FastAPI's routing.

A plain resolution (GET, or a HEAD that app/api/head.py runs as a GET, of /01/... or /00/...
without a query) is the gateway's hot path: every scan of every label is one. This ASGI
middleware answers it from the response cache when it can, and otherwise resolves it with
the same `resolve` the FastAPI routes call,
skipping only the routing and dependency machinery around it. Everything else (queries
such as ?linkType, QR images, paths that are not a valid key) goes on to FastAPI, which
also documents these routes in the OpenAPI schema.
"""

from typing import Any

from starlette.requests import Request

from app.api.cache import ResponseCache, request_path, variant
from app.api.clone import ScanRecorder, coarse_region
from app.api.errors import ApiError, error_response
from app.api.head import is_head
from app.api.ratelimit import RateLimiter
from app.api.routes.resolver import resolve
from app.gs1.digital_link import parse_path
from app.gs1.keys import InvalidKey


class FastPath:
    """ASGI middleware answering plain resolutions: from the cache, else by resolving them."""

    def __init__(
        self,
        app: Any,
        cache: ResponseCache,
        recorder: ScanRecorder,
        limiter: RateLimiter,
        region_header: str | None,
    ) -> None:
        self.app, self.cache, self.recorder, self.limiter = app, cache, recorder, limiter
        self.region_header = region_header.lower().encode() if region_header else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope["query_string"]
            or scope["path"][:4] not in ("/01/", "/00/")
        ):
            await self.app(scope, receive, send)
            return
        if self.cache.enabled and await self._send_cached(scope, send):
            return
        try:
            key = parse_path(request_path(scope))
        except InvalidKey:
            await self.app(scope, receive, send)  # QR images, or a 400 saying what is wrong
            return
        request = Request(scope, receive)
        try:
            response = resolve(key, request, None)
        except ApiError as exc:
            response = error_response(request, exc)  # a page for browsers: no DB work
        await response(scope, receive, send)

    async def _send_cached(self, scope: Any, send: Any) -> bool:
        """Answer from the cache (counting the scan) when it holds this path and variant."""
        headers = dict(scope["headers"])
        kind = variant(
            headers.get(b"accept", b"").decode("latin-1"),
            headers.get(b"accept-language", b"").decode("latin-1"),
        )
        entry = self.cache.get(request_path(scope), kind)
        client = scope["client"][0] if scope.get("client") else "-"
        if entry is None or not self.limiter.allow(client):
            return False
        if entry.item_id is not None and not is_head(scope):
            region = headers.get(self.region_header) if self.region_header else None
            self.recorder.record(
                entry.item_id, entry.path, coarse_region(region and region.decode("latin-1")), client
            )
        await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers})
        await send({"type": "http.response.body", "body": entry.body})
        return True

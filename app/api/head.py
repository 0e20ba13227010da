"""HEAD answered wherever GET is (RFC 9110 section 9.3.2): link checkers and load balancers
probe with HEAD, and FastAPI routes serve GET only."""

from typing import Any, Final

HEAD: Final = "origintrace.head"
"""Scope key set on a HEAD request while it runs as a GET."""


def is_head(scope: Any) -> bool:
    """Whether this request came as HEAD: it is answered, but not counted as a shopper's scan
    (a link checker's probes would otherwise raise clone warnings)."""
    return bool(scope.get(HEAD))


class HeadAsGet:
    """ASGI middleware running a HEAD as the GET of the same URL and sending only its status
    and headers (Content-Length included, as the GET's)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Any) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})

        await self.app({**scope, "method": "GET", HEAD: True}, receive, headers_only)

"""A bound on request bodies: the gateway takes small JSON (a relayed handoff of at most 100
ids is a few KB), and a client sending hundreds of MB must get a 413, not the worker's memory."""

from typing import Any, Final

from starlette.requests import HTTPConnection

from app.api.errors import ApiError, error_response

MAX_BODY_BYTES: Final = 64 * 1024
"""Largest request body accepted; a relay request of MAX_IDS (100) ids is about 8 KB."""


TOO_LARGE: Final = ApiError(
    413, "body_too_large", f"a request body may hold at most {MAX_BODY_BYTES:,} bytes"
)


def _streamed(scope: Any) -> bool:
    """A lot file sent to the gateway (app/api/routes/lot_files.py): its route streams it to disk
    under a bound of its own."""
    return bool(scope["method"] == "PUT" and scope["path"].endswith("/lot-file"))


class BodyLimit:
    """ASGI middleware refusing a body over MAX_BODY_BYTES with 413, whether announced by
    Content-Length or sent in chunks: the body is read (up to the bound) before the route runs,
    then handed to it as received."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS") or _streamed(scope):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await error_response(HTTPConnection(scope), TOO_LARGE)(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                await error_response(HTTPConnection(scope), TOO_LARGE)(scope, receive, send)
                return
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return await receive()  # after the body: a disconnect, when it comes
            sent = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

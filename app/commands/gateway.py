"""Talking to an OriginTrace gateway from the CLI: one JSON request, or a one-line error."""

from typing import Annotated, Any, BinaryIO

import httpx
import typer

from app.commands.context import fail
from app.core.config import get_settings

GatewayOption = Annotated[
    str | None, typer.Option(help="Gateway base URL (default: ORIGINTRACE_PUBLIC_URL or the local gateway)")
]


def gateway_url(gateway: str | None, path: str) -> str:
    """`path` (/api/v1/...) on the `--gateway` given, else on the configured one."""
    return (gateway or get_settings().base_url).rstrip("/") + path


_ACCEPT_JSON = {"Accept": "application/json"}


def gateway_json(
    method: str, url: str, *, body: Any = None, content: BinaryIO | None = None, timeout: float = 15
) -> tuple[int, Any]:
    """The status and JSON body of `method url` (sending `body` as JSON, or the file `content`);
    exits with one line when the gateway cannot be reached or answers with something other than
    JSON (a proxy's page, another server)."""
    try:
        response = httpx.request(
            method,
            url,
            json=body,
            content=content,
            headers=_ACCEPT_JSON,
            timeout=timeout,
            follow_redirects=True,
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the gateway at {url}: {exc}")
    try:
        return response.status_code, response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no Content-Type")
        fail(
            f"{url} did not answer with the gateway's JSON (it sent {response.status_code}, {kind});"
            " is it an OriginTrace gateway?"
        )


def reason(result: Any) -> str:
    """What a gateway's error body says: its `detail`, else the body itself."""
    detail = result.get("detail") if isinstance(result, dict) else None
    return str(detail if detail is not None else result)

"""Talking to an OriginTrace gateway from the CLI: one JSON request, or a one-line error."""

from typing import Annotated, Any, BinaryIO
from urllib.parse import urlsplit

import httpx
import typer

from app.commands.context import fail
from app.core.config import get_settings

GatewayOption = Annotated[
    str | None,
    typer.Option(
        help="Gateway base URL, http(s)://host[:port] (default: ORIGINTRACE_PUBLIC_URL or the local gateway)"
    ),
]


def checked_base(base_url: str, option: str) -> str:
    """`base_url` without a trailing slash, after checking it is http(s)://host[:port] (exit 2
    when not, before anything is sent: a QR code without a scheme is not a link a phone opens,
    and `notaurl` is not a gateway to reach)."""
    parts = urlsplit(base_url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        fail(f"{option} {base_url!r} must be http(s)://host[:port], e.g. https://gw.example", code=2)
    return f"{parts.scheme}://{parts.netloc}"


def gateway_url(gateway: str | None, path: str) -> str:
    """`path` (/api/v1/...) on the `--gateway` given (checked: `checked_base`), else on the
    configured one."""
    base = checked_base(gateway, "--gateway") if gateway is not None else get_settings().base_url
    return base.rstrip("/") + path


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
            follow_redirects=content is None,  # a file is read once: it cannot go on to another URL
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the gateway at {url}: {exc}")
    if response.is_redirect:
        fail(f"{url} redirects to {response.headers.get('location')}: give that gateway URL", code=2)
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

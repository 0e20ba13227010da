"""`origintrace qr`: the QR code of the GS1 Digital Link URL of an item, lot or logistic unit."""

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from app.commands.context import OptionalSerial, RecordArg, fail, named_record, writing
from app.commands.gateway import checked_base
from app.core.config import get_settings
from app.gs1.qr import qr_png, qr_svg


def _given_base(record: str) -> str | None:
    """The scheme and host of `record` when it is a whole URL, else None."""
    if not record.startswith(("http://", "https://")):
        return None
    parts = urlsplit(record)
    return f"{parts.scheme}://{parts.netloc}"


def qr(
    gtin: RecordArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file, .png or .svg")],
    serial: OptionalSerial = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Gateway base URL, http(s)://host[:port] (default: the host of a whole URL given,"
            " else ORIGINTRACE_PUBLIC_URL)"
        ),
    ] = None,
) -> None:
    """Write the QR code (error correction M) of the Digital Link URL of an item (GTIN and
    serial), or of a lot, an item of a lot or a logistic unit (its Digital Link path or URL,
    e.g. /01/09506000134352/10/L2026-11 or /00/<sscc>), on the gateway's host: --base-url's,
    else the URL's, else ORIGINTRACE_PUBLIC_URL's."""
    base = checked_base(base_url, "--base-url") if base_url is not None else None
    _, path = named_record(gtin, serial)
    url = (base or _given_base(gtin) or get_settings().base_url).rstrip("/") + path
    render = {".png": qr_png, ".svg": qr_svg}.get(out.suffix.lower())
    if render is None:
        fail(f"--out {out} must end in .png or .svg", code=2)
    with writing(out):
        out.write_bytes(render(url))
    typer.echo(f"{out}: {url}")

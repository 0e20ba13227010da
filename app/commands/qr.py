"""`origintrace qr`: the QR code of an item's GS1 Digital Link URL."""

from pathlib import Path
from typing import Annotated

import typer

from app.commands.context import Gtin, Serial, clear_errors, fail, item_key, writing
from app.core.config import get_settings
from app.gs1.qr import qr_png, qr_svg


def qr(
    gtin: Gtin,
    serial: Serial,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file, .png or .svg")],
    base_url: Annotated[
        str | None, typer.Option(help="Gateway base URL (default: ORIGINTRACE_PUBLIC_URL)")
    ] = None,
) -> None:
    """Write the QR code (error correction M) of an item's Digital Link URL."""
    with clear_errors():
        key = item_key(gtin, serial)
    url = (base_url or get_settings().base_url).rstrip("/") + key.path
    render = {".png": qr_png, ".svg": qr_svg}.get(out.suffix.lower())
    if render is None:
        fail(f"--out {out} must end in .png or .svg", code=2)
    with writing(out):
        out.write_bytes(render(url))
    typer.echo(f"{out}: {url}")

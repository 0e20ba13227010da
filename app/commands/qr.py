"""`origintrace qr`: the QR code of the GS1 Digital Link URL of an item, lot or logistic unit."""

from pathlib import Path
from typing import Annotated

import typer

from app.commands.context import OptionalSerial, RecordArg, fail, named_record, writing
from app.core.config import get_settings
from app.gs1.qr import qr_png, qr_svg


def qr(
    gtin: RecordArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file, .png or .svg")],
    serial: OptionalSerial = None,
    base_url: Annotated[
        str | None, typer.Option(help="Gateway base URL (default: ORIGINTRACE_PUBLIC_URL)")
    ] = None,
) -> None:
    """Write the QR code (error correction M) of the Digital Link URL of an item (GTIN and
    serial), or of a lot, an item of a lot or a logistic unit (its Digital Link path or URL,
    e.g. /01/09506000134352/10/L2026-11 or /00/<sscc>), on the gateway's host."""
    _, path = named_record(gtin, serial)
    url = (base_url or get_settings().base_url).rstrip("/") + path
    render = {".png": qr_png, ".svg": qr_svg}.get(out.suffix.lower())
    if render is None:
        fail(f"--out {out} must end in .png or .svg", code=2)
    with writing(out):
        out.write_bytes(render(url))
    typer.echo(f"{out}: {url}")

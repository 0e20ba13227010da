"""QR codes of GS1 Digital Link URLs (error correction level M, quiet zone 4)."""

import io
from pathlib import Path

import segno


def qr_png(url: str, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m", boost_error=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(url: str, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m", boost_error=False).save(
        buffer, kind="svg", scale=scale, border=4, xmldecl=False
    )
    return buffer.getvalue()


def write_qr_png(url: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(qr_png(url))
    return path

"""A printable label sheet: QR codes of Digital Link URLs on an A4 SVG page."""

import re
from xml.sax.saxutils import escape

from app.gs1.qr import qr_svg

COLUMNS, ROWS = 4, 6
PAGE_W, PAGE_H = 210, 297  # mm, A4
CELL_W, CELL_H = 50, 48
QR_MM = 38
MAX_LABELS = COLUMNS * ROWS
_SIZE = re.compile(rb'width="(\d+)"')


def label_sheet(urls: list[str]) -> bytes:
    """Up to MAX_LABELS QR labels (error correction M), each captioned with its URL path."""
    cells = []
    for index, url in enumerate(urls[:MAX_LABELS]):
        x, y = 5 + (index % COLUMNS) * CELL_W, 5 + (index // COLUMNS) * CELL_H
        code = qr_svg(url, scale=1)
        size = _SIZE.search(code)
        inner = code.split(b">", 1)[1].rsplit(b"</svg>", 1)[0].decode()
        modules = size.group(1).decode() if size else "0"
        cells.append(
            f'<svg x="{x}" y="{y}" width="{QR_MM}" height="{QR_MM}" viewBox="0 0 {modules} {modules}">'
            f'{inner}</svg><text x="{x + QR_MM / 2}" y="{y + QR_MM + 4}" font-size="2.4" '
            f'text-anchor="middle" font-family="monospace">{escape(url)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_W}mm" height="{PAGE_H}mm" '
        f'viewBox="0 0 {PAGE_W} {PAGE_H}">' + "".join(cells) + "</svg>"
    ).encode()

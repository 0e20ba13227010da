"""A synthetic "Double 11" import catalogue: many brands, origins, GTINs and lots of realistic sizes.

Deterministic for a seed. Brands get GS1 company prefixes, each brand a handful of products
(GTIN-13s with valid check digits) from a country of origin; lot sizes are log-uniform between
`MIN_LOT` and `MAX_LOT` items (a production batch or container load); serials are 10-digit
running numbers per GTIN; items share their product's metadata hash (one to three variants
per lot). Generated with numpy, one lot at a time, so it costs no per-item Python work.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from eth_utils.crypto import keccak

from app.scale.manifest import LotBlock

MIN_LOT = 5_000
MAX_LOT = 500_000
SERIAL_DIGITS = 10
ORIGINS = (
    "AU", "BE", "BR", "CA", "CH", "CL", "DE", "DK", "ES", "FR", "GB", "IE", "IT", "JP", "KR",
    "MY", "NL", "NO", "NZ", "PL", "PT", "SE", "TH", "US", "VN", "ZA",
)  # fmt: skip
CATEGORIES = ("infant formula", "skincare", "wine", "olive oil", "vitamins", "coffee", "handbags", "watches")


def gtin13(company_prefix: int, product: int) -> str:
    """A GTIN-13 (as its 14-digit form) from a 7-digit company prefix and a 5-digit item reference."""
    body = f"{company_prefix:07d}{product:05d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return "0" + body + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Product:
    gtin: str
    brand: str
    origin: str
    category: str

    def metadata_hash(self, variant: int) -> bytes:
        fields = {"gtin": self.gtin, "brand": self.brand, "origin": self.origin, "category": self.category}
        return keccak(text=json.dumps(fields | {"variant": variant}, sort_keys=True))


def _serials(first: int, count: int) -> bytes:
    """`count` fixed-width decimal serials from `first`, concatenated."""
    numbers = np.arange(first, first + count, dtype=np.int64)
    powers = 10 ** np.arange(SERIAL_DIGITS - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // powers) % 10 + ord("0")
    return digits.astype(np.uint8).tobytes()


def catalogue(items: int, seed: int = 11) -> Iterator[LotBlock]:
    """Lots totalling exactly `items` items."""
    rng = np.random.default_rng(seed)
    brands = max(1, min(500, items // 200_000))
    products = [
        Product(
            gtin13(4_000_000 + 37 * b, p),
            f"Brand {b:03d}",
            ORIGINS[int(rng.integers(len(ORIGINS)))],
            CATEGORIES[int(rng.integers(len(CATEGORIES)))],
        )
        for b in range(brands)
        for p in range(int(rng.integers(3, 9)))
    ]
    next_serial = dict.fromkeys((p.gtin for p in products), 0)
    made, lot_number = 0, 0
    while made < items:
        size = int(np.exp(rng.uniform(np.log(MIN_LOT), np.log(MAX_LOT))))
        size = min(size, items - made)
        product = products[int(rng.integers(len(products)))]
        variants = int(rng.integers(1, 4))
        lot_number += 1
        first = next_serial[product.gtin]
        next_serial[product.gtin] = first + size
        yield LotBlock(
            gtin=product.gtin,
            lot=f"D11-{lot_number:06d}",
            serials=_serials(first, size),
            offsets=np.arange(0, SERIAL_DIGITS * (size + 1), SERIAL_DIGITS, dtype="<u4").tobytes(),
            md_table=b"".join(product.metadata_hash(v) for v in range(variants)),
            md_index=(np.arange(size, dtype="<u4") % variants).tobytes(),
        )
        made += size

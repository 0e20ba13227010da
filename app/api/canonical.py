"""The canonical Digital Link of a key, as the resolver names it (`Link: rel="canonical"`),
for what must carry it without resolving: a QR image of any form of the key.

Parsing alone gives the canonical form of most keys (14-digit GTIN, qualifiers in order). A
serial with a lot or variant is the exception: the resolver's canonical URL then depends on
what is registered. A registered item's id is its GTIN and serial, so its canonical URL
leaves the lot and variant out; an item of a lot split off into a sub-lot is named under the
sub-lot. This follows `_resolve` in app/api/routes/resolver.py, which reads the whole record,
but for a serial without lot or variant: the resolver finds an item of a lot asked for so in
the lot files (`find_lot_item`) and names its lot, while its QR image keeps the path asked for
(it resolves to the same page, and a registered item's image stays cacheable for a year).
"""

from dataclasses import replace

from sqlalchemy import Connection, select

from app.api.items import ItemReader
from app.api.lots import load_lot_item
from app.api.places import PlaceDirectory
from app.core.config import Settings
from app.db.schema import items
from app.gs1.digital_link import DigitalLink


def depends_on_registry(key: DigitalLink) -> bool:
    """Whether `key`'s canonical form depends on what is registered (and so may change when
    an item is registered or a lot split): a serial with a lot or a variant."""
    return key.serial is not None and (key.lot is not None or key.cpv is not None)


def canonical_link(
    conn: Connection, key: DigitalLink, settings: Settings, places: PlaceDirectory
) -> DigitalLink:
    """`key` as the resolver's canonical URL names it now (`key` itself when nothing
    registered under it says otherwise, as the resolver's 404 names it)."""
    serialised = key.serialised_item
    if serialised is None or not depends_on_registry(key):
        return key
    registered = select(items.c.item_id).where(items.c.item_id == "0x" + serialised.item_id.hex())
    if conn.execute(registered).first() is not None:
        return replace(key, cpv=None, lot=None)
    if key.lot is None:
        return key
    reader = ItemReader(conn, settings, places)
    lot_item = load_lot_item(
        conn, reader.parties, str(key.gtin), key.lot, str(key.serial), settings.base_url, reader.lot_store()
    )
    if lot_item is not None and lot_item.lot.lot != key.lot:  # split off into a sub-lot
        return replace(key, lot=lot_item.lot.lot)
    return key

"""Effective custody of packed records: the outermost container's custodian, for many at once."""

from sqlalchemy import Engine, insert

from app.api.lots import effective_custodian, effective_custodians
from app.db.schema import RECORD_ROWS, items, unit_contents

BRAND, CARRIER, SHIP = ("0x" + c * 40 for c in "abc")


def _row(item_id: str, custodian: str, kind: str = "item") -> dict[str, object]:
    return {
        "item_id": item_id,
        "brand": BRAND,
        "custodian": custodian,
        "status": "active",
        "metadata_hash": "0x" + "00" * 32,
        "metadata_uri": "",
        "registered_block": 1,
        "updated_block": 1,
        "kind": kind,
        "created_tx": "0x" + "00" * 32,
        "created_log_index": 0,
    }


def test_nested_and_free_records_resolve_together(engine: Engine) -> None:
    container, pallet, packed, free = ("0x" + f"{n:064x}" for n in range(1, 5))
    with engine.begin() as conn:
        conn.execute(
            insert(items),
            [
                _row(container, SHIP, "unit"),
                _row(pallet, CARRIER, "unit"),
                _row(packed, BRAND),
                _row(free, BRAND),
            ],
        )
        conn.execute(
            insert(unit_contents),
            [{"item_id": pallet, "container": container}, {"item_id": packed, "container": pallet}],
        )
    with engine.connect() as conn:
        rows = conn.execute(RECORD_ROWS).all()
        found = effective_custodians(conn, rows)
        assert found == {container: SHIP, pallet: SHIP, packed: SHIP, free: BRAND}
        by_id = {row.item_id: row for row in rows}
        assert effective_custodian(conn, by_id[packed]) == SHIP
        assert effective_custodian(conn, by_id[free]) == BRAND

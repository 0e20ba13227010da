"""Bulk writes (app.db.writes) on SQLite and PostgreSQL: collisions, partial updates, one transaction."""

from sqlalchemy import Engine, select

from app.db.schema import blocks, items
from app.db.writes import insert_ignore, update_rows, upsert


def _block(number: int, tag: str) -> dict[str, object]:
    return {"chain_id": 1, "number": number, "hash": f"0x{tag}{number:063x}", "parent_hash": None}


def _item(n: int) -> dict[str, object]:
    return {
        "item_id": f"0x{n:064x}",
        "brand": "0x" + "b1" * 20,
        "custodian": "0x" + "b1" * 20,
        "status": "active",
        "metadata_hash": "0x" + "00" * 32,
        "metadata_uri": "",
        "registered_block": 1,
        "updated_block": 1,
        "created_tx": "0x" + "00" * 32,
        "created_log_index": n,
    }


def test_insert_ignore_keeps_the_first_row_of_a_key_and_the_transaction_usable(index_engine: Engine) -> None:
    with index_engine.begin() as conn:
        insert_ignore(conn, blocks, [_block(n, "a") for n in (1, 2)])
        # 2 collides (PostgreSQL's direct COPY fails and falls back), 3 is new.
        insert_ignore(conn, blocks, [_block(n, "b") for n in (2, 3)])
        upsert(conn, blocks, [_block(4, "c")], ["chain_id", "number"])  # same transaction, still usable
    with index_engine.connect() as conn:
        stored = {row.number: row.hash[2] for row in conn.execute(select(blocks))}
    assert stored == {1: "a", 2: "a", 3: "b", 4: "c"}


def test_update_rows_sets_only_the_given_columns_of_existing_rows(index_engine: Engine) -> None:
    with index_engine.begin() as conn:
        upsert(conn, items, [_item(1), _item(2)], ["item_id"])
        changes = [
            {"custodian": "0x" + "ca" * 20, "updated_block": 7, "item_id": f"0x{n:064x}"} for n in (1, 2, 3)
        ]
        changed = update_rows(conn, items, changes, "item_id")
    assert changed == 2
    with index_engine.connect() as conn:
        rows = {row.item_id: row for row in conn.execute(select(items))}
    assert set(rows) == {f"0x{n:064x}" for n in (1, 2)}
    for row in rows.values():
        assert (row.custodian, row.updated_block, row.brand, row.registered_block) == (
            "0x" + "ca" * 20,
            7,
            "0x" + "b1" * 20,
            1,
        )


def test_an_upsert_of_rows_expected_new_still_updates_the_ones_that_exist(index_engine: Engine) -> None:
    """With new=True PostgreSQL copies the rows straight in; a collision (a record the range
    thought new) must fall back to the upsert, updating the stored row, not skipping it."""
    with index_engine.begin() as conn:
        upsert(conn, items, [_item(1)], ["item_id"], new=True)
        upsert(conn, items, [{**_item(1), "status": "sold"}, _item(2)], ["item_id"], new=True)
        upsert(conn, items, [_item(3)], ["item_id"], new=True)  # same transaction, still usable
    with index_engine.connect() as conn:
        stored = {row.item_id: row.status for row in conn.execute(select(items))}
    assert stored == {f"0x{1:064x}": "sold", f"0x{2:064x}": "active", f"0x{3:064x}": "active"}

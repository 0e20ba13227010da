"""Scan counting on both databases: buffered resolutions flushed as additive upserts."""

import pytest
from sqlalchemy import Engine, select

from app.api.clone import ScanRecorder, known_path, known_paths, stored_counts
from app.db.schema import scans

ITEM = "0x" + "ab" * 32
NOW = 1_800_000_000.0


def test_one_item_resolved_by_two_paths_in_a_minute_is_one_row_counting_both(index_engine: Engine) -> None:
    # An item of a lot resolves by /01/g/21/s and by /01/g/10/lot/21/s: same id, minute, region.
    recorder = ScanRecorder()
    recorder.record(ITEM, "/01/09506000134352/21/S1", "CN", now=NOW)
    recorder.record(ITEM, "/01/09506000134352/10/L1/21/S1", "CN", now=NOW + 1)
    recorder.record(ITEM, "/01/09506000134352/21/S1", "DE", now=NOW + 2)
    assert sorted((c.region, c.count) for c in recorder.pending(ITEM)) == [("CN", 2), ("DE", 1)]

    assert recorder.flush(index_engine) == 2
    assert recorder.pending(ITEM) == []
    recorder.record(ITEM, "/01/09506000134352/21/S1", "CN", now=NOW + 3)
    assert recorder.flush(index_engine) == 1

    with index_engine.connect() as conn:
        counts = {c.region: c.count for c in stored_counts(conn, ITEM, int(NOW // 60))}
        paths = dict(conn.execute(select(scans.c.region, scans.c.path)).all())
    assert counts == {"CN": 3, "DE": 1}
    assert paths["CN"] == "/01/09506000134352/21/S1"  # the last path it was resolved by


def test_a_failed_flush_keeps_the_counts_for_the_next(index_engine: Engine) -> None:
    recorder = ScanRecorder()
    recorder.record(ITEM, "/01/09506000134352/21/S1", "CN", now=NOW)
    with index_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE scans RENAME TO scans_away")
    try:
        with pytest.raises(Exception, match="scans"):  # the driver's error: no such table
            recorder.flush(index_engine)
        recorder.record(ITEM, "/01/09506000134352/21/S1", "CN", now=NOW + 1)  # while it was failing
        assert [(c.region, c.count) for c in recorder.pending(ITEM)] == [("CN", 2)]
    finally:
        with index_engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE scans_away RENAME TO scans")
    assert recorder.flush(index_engine) == 1
    with index_engine.connect() as conn:
        assert [c.count for c in stored_counts(conn, ITEM, 0)] == [2]


def test_known_paths_are_each_items_latest_in_one_lookup(index_engine: Engine) -> None:
    other = "0x" + "cd" * 32
    recorder = ScanRecorder()
    recorder.record(ITEM, "/01/09506000134352/21/OLD", "CN", now=NOW)
    recorder.record(ITEM, "/01/09506000134352/10/L1/21/NEW", "DE", now=NOW + 120)
    recorder.record(other, "/01/09506000134352/21/S2", "ZZ", now=NOW)
    recorder.flush(index_engine)
    with index_engine.connect() as conn:
        found = known_paths(conn, [ITEM, other, "0x" + "ef" * 32])
        assert found == {ITEM: "/01/09506000134352/10/L1/21/NEW", other: "/01/09506000134352/21/S2"}
        assert known_path(conn, ITEM) == "/01/09506000134352/10/L1/21/NEW"
        assert known_path(conn, "0x" + "ef" * 32) is None

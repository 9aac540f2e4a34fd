"""The mart comparison the reliability cases use: exact on text, tolerant on summed numbers."""

from __future__ import annotations

import duckdb

from reliability import harness


def _warehouse(path, rows):
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.cost_daily (project_id varchar, cost_usd double, "
            "ratio decimal(18, 12), last_used_at timestamp)"
        )
        if rows:
            con.executemany("insert into marts.cost_daily values (?, ?, ?, ?)", rows)
    return path


def test_sums_that_straddle_a_rounding_boundary_still_compare_equal(tmp_path):
    # The same exact decimal, ...7285, summed in two orders lands one bit under or over it; at 9
    # decimals these round to ...728 and ...729 (what a fixed-digit fingerprint once compared).
    a = _warehouse(tmp_path / "a.duckdb", [("p1", 629170.8876447284, 0.5, "2026-01-01")])
    b = _warehouse(tmp_path / "b.duckdb", [("p1", 629170.8876447286, 0.5, "2026-02-01")])
    assert harness.mart_fingerprint(a) == harness.mart_fingerprint(b)


def test_rows_in_another_physical_order_compare_equal(tmp_path):
    rows = [("p1", 1.0, 0.25, None), ("p2", 2.0, 0.75, None)]
    a = _warehouse(tmp_path / "a.duckdb", rows)
    b = _warehouse(tmp_path / "b.duckdb", list(reversed(rows)))
    assert harness.mart_fingerprint(a) == harness.mart_fingerprint(b)


def test_a_cent_a_row_or_a_renamed_key_is_a_difference(tmp_path):
    base = [("p1", 64.07, 0.5, None), ("p2", 1.0, 0.5, None)]
    reference = harness.mart_fingerprint(_warehouse(tmp_path / "ref.duckdb", base))
    changed = {
        "cent": [("p1", 64.08, 0.5, None), ("p2", 1.0, 0.5, None)],
        "row": base[:1],
        "key": [("p1", 64.07, 0.5, None), ("p3", 1.0, 0.5, None)],
        "ratio": [("p1", 64.07, 0.5, None), ("p2", 1.0, 0.500001, None)],
    }
    for name, rows in changed.items():
        other = harness.mart_fingerprint(_warehouse(tmp_path / f"{name}.duckdb", rows))
        assert harness.differing_marts(reference, other) == ["cost_daily"], name


def test_a_missing_mart_is_named(tmp_path):
    reference = harness.mart_fingerprint(_warehouse(tmp_path / "ref.duckdb", []))
    assert harness.differing_marts(reference, {}) == ["cost_daily"]
    assert harness.mart_fingerprint(tmp_path / "absent.duckdb") == {}

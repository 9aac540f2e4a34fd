"""Restated days: after the scheduled lookback reload, the warehouse equals what the API returns
now, row for row (changed numbers, vanished and new groups), and the open day is marked partial."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from fixtures.dlt_pipelines import new_pipeline

from assets.schedules import LOOKBACK_DAYS
from pipelines.openai_admin import openai_usage
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator

NOW = dt.datetime(2026, 3, 18, 15, 31, tzinfo=dt.UTC)
TODAY = NOW.date()
TABLES = ("completions_usage", "costs", "costs_by_api_key", "embeddings_usage", "images_usage")
_SKIP = {"_dlt_load_id", "_dlt_id"}


def _pipeline(tmp_path):
    return new_pipeline(tmp_path, "restate")


def _rows(pipeline, table: str) -> list[tuple]:
    path = pipeline.destination.config_params["credentials"]
    with duckdb.connect(path, read_only=True) as con:
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by column_name",
                [table],
            ).fetchall()
            if c not in _SKIP
        ]
        rows = con.execute(f"select {', '.join(columns)} from raw.{table}").fetchall()
    return sorted(rows, key=repr)


def _load(pipeline, sim, start, end, tables=TABLES):
    source = openai_usage(start, end, "1d", base_url=sim.base_url, api_key=ADMIN_KEY, now=NOW)
    pipeline.run(source.with_resources(*tables))


@pytest.fixture
def sim():
    with start_simulator(SimulatorConfig(seed=5, now=NOW, history_days=60)) as handle:
        yield handle


def test_lookback_reload_makes_the_warehouse_equal_the_restated_api(sim, tmp_path):
    start = TODAY - dt.timedelta(days=8)
    end = TODAY + dt.timedelta(days=1)
    warehouse = _pipeline(tmp_path)
    _load(warehouse, sim, start, end)
    before = {t: _rows(warehouse, t) for t in TABLES}

    revised = sim.restate(days=LOOKBACK_DAYS, seed=3)
    assert len(revised) == LOOKBACK_DAYS
    # The scheduled run: the last closed days and today (assets.schedules.lookback_range).
    _load(warehouse, sim, TODAY - dt.timedelta(days=LOOKBACK_DAYS), end)

    fresh = _pipeline(tmp_path)
    _load(fresh, sim, start, end)
    for table in TABLES:
        assert _rows(warehouse, table) == _rows(fresh, table), table
        assert _rows(warehouse, table) != before[table], f"{table}: restatement had no effect"

    # The restated days really changed shape: a group vanished and a new one appeared.
    def groups(rows_of):
        path = rows_of.destination.config_params["credentials"]
        with duckdb.connect(path, read_only=True) as con:
            return set(
                con.execute(
                    "select bucket_date, project_id, user_id, api_key_id, model, batch, "
                    "service_tier from raw.completions_usage where bucket_date >= ?",
                    [TODAY - dt.timedelta(days=LOOKBACK_DAYS - 1)],
                ).fetchall()
            )

    new_groups = groups(warehouse)
    # The same organization before the restatement (the simulator is deterministic).
    first_load = _pipeline(tmp_path)
    with start_simulator(SimulatorConfig(seed=5, now=NOW, history_days=60)) as unrevised:
        _load(first_load, unrevised, TODAY - dt.timedelta(days=LOOKBACK_DAYS), end)
    old_groups = groups(first_load)
    assert new_groups - old_groups, "no new group appeared"
    assert old_groups - new_groups, "no group vanished"


def test_todays_rows_are_partial_and_closed_days_final(sim, tmp_path):
    warehouse = _pipeline(tmp_path)
    tables = ("completions_usage", "costs", "web_search_calls_usage")
    _load(warehouse, sim, TODAY - dt.timedelta(days=2), TODAY + dt.timedelta(days=1), tables)
    path = warehouse.destination.config_params["credentials"]
    with duckdb.connect(path, read_only=True) as con:
        for table in tables:
            flags = dict(
                con.execute(
                    f"select bucket_date, bool_and(is_final) from raw.{table} group by 1"
                ).fetchall()
            )
            assert flags[TODAY] is False, table
            assert flags[TODAY - dt.timedelta(days=1)] is True, table

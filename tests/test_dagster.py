"""Dagster tier: the definitions load, and real materializations into a temporary DuckDB file."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest
from fixtures.simulated_api import use_simulator

from assets.dbt import DBT_PROJECT_DIR
from assets.schedules import daily_refresh, partition_range_tags, refresh_job
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator
from warehouse import paths

TODAY = dt.datetime.now(dt.UTC).date()
DBT_TARGET = DBT_PROJECT_DIR / "target"
RAW_KEYS = {
    ("raw", name)
    for name in (
        "completions_usage",
        "costs",
        "users",
        "projects",
        "project_api_keys",
        "model_prices",
    )
}


@pytest.fixture
def sim_env(monkeypatch):
    with start_simulator(SimulatorConfig(seed=11)) as sim:
        use_simulator(monkeypatch, sim.base_url)
        yield sim


def _load_defs() -> dg.Definitions:
    from assets.definitions import defs

    return defs()


def test_definitions_load_with_the_expected_graph(monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
    defs = _load_defs()
    graph = defs.resolve_asset_graph()
    keys = {tuple(k.path) for k in graph.get_all_asset_keys()}
    assert keys >= RAW_KEYS
    assert {("marts", "cost_by_model_daily"), ("marts", "cost_by_project_daily")} <= keys

    usage = graph.get(dg.AssetKey(["raw", "completions_usage"]))
    assert isinstance(usage.partitions_def, dg.DailyPartitionsDefinition)
    assert usage.partitions_def.start.date() == dt.date(2024, 1, 1)
    assert usage.backfill_policy == dg.BackfillPolicy.single_run()
    # Every writer of the DuckDB file shares the pool of size one.
    for key in (dg.AssetKey(list(k)) for k in RAW_KEYS | {("marts", "cost_by_model_daily")}):
        assert graph.get(key).pools == {"duckdb"}, key
    # dbt tests on marts are asset checks; tests on staging views are observed, not checks.
    checks = {(tuple(k.asset_key.path), k.name) for k in graph.asset_check_keys}
    assert any(asset == ("marts", "cost_by_model_daily") for asset, _ in checks)
    assert not any(asset[0] == "staging" for asset, _ in checks)
    # Assets are grouped by the schema they are built in, as BI tools see them.
    for key, group in (
        (["raw", "costs"], "raw"),
        (["raw", "budgets"], "raw"),
        (["staging", "stg_openai__costs"], "staging"),
        (["intermediate", "int_costs__allocated"], "intermediate"),
        (["marts", "cost_by_model_daily"], "marts"),
        (["marts", "budget_status"], "marts"),
    ):
        assert graph.get(dg.AssetKey(key)).group_name == group, key
    # Lineage connects dlt's raw tables to dbt's sources.
    staging = dg.AssetKey(["staging", "stg_openai__costs"])
    assert dg.AssetKey(["raw", "costs"]) in graph.get(staging).parent_keys

    schedule = defs.resolve_schedule_def(daily_refresh.name)
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    # The legacy endpoint is opt-in: only its dbt source is declared.
    assert not graph.get(dg.AssetKey(["raw", "legacy_usage"])).is_materializable


def test_the_legacy_usage_asset_exists_only_when_enabled(monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.setenv("OPENAI_LEGACY_USAGE", "1")
    graph = _load_defs().resolve_asset_graph()
    legacy = graph.get(dg.AssetKey(["raw", "legacy_usage"]))
    assert legacy.is_materializable
    assert isinstance(legacy.partitions_def, dg.DailyPartitionsDefinition)
    assert legacy.pools == {"duckdb"}
    staging = dg.AssetKey(["staging", "stg_openai__legacy_usages"])
    assert dg.AssetKey(["raw", "legacy_usage"]) in graph.get(staging).parent_keys


def _scheduled_request(monkeypatch, first_day: str, when: dt.datetime):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.setenv("USAGE_START_DATE", first_day)
    with dg.build_schedule_context(scheduled_execution_time=when) as context:
        return daily_refresh(context)


SCHEDULED = dt.datetime(2025, 3, 10, 2, tzinfo=dt.UTC)


def test_schedule_requests_one_run_over_the_lookback_window(monkeypatch):
    request = _scheduled_request(monkeypatch, "2025-01-01", SCHEDULED)
    assert request.tags == partition_range_tags("2025-03-07", "2025-03-10")


def test_schedule_of_a_new_install_asks_only_for_partitions_that_exist(monkeypatch):
    request = _scheduled_request(monkeypatch, "2025-03-09", SCHEDULED)
    assert request.tags == partition_range_tags("2025-03-09", "2025-03-10")
    # A tick from before the first day (a schedule evaluated for a past time) skips.
    early = dt.datetime(2025, 3, 8, 2, tzinfo=dt.UTC)
    assert isinstance(_scheduled_request(monkeypatch, "2025-03-09", early), dg.SkipReason)


def _run(defs, tags, instance):
    result = defs.resolve_job_def(refresh_job.name).execute_in_process(
        instance=instance, tags=tags, raise_on_error=False
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def _marts(path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            name: sorted(con.table(f"marts.{name}").fetchall(), key=repr)
            for name in ("cost_by_model_daily", "cost_by_project_daily")
        }


def test_one_partition_then_a_range_materialize_everything(sim_env, tmp_path):
    defs = _load_defs()
    day = (TODAY - dt.timedelta(days=5)).isoformat()
    project_targets = set(DBT_TARGET.iterdir()) if DBT_TARGET.exists() else set()
    with dg.instance_for_test() as instance:
        one = _run(defs, partition_range_tags(day, day), instance)
        parts = {
            (tuple(m.asset_key.path), m.partition)
            for m in (
                e.event_specific_data.materialization
                for e in one.get_asset_materialization_events()
            )
        }
        assert (("raw", "completions_usage"), day) in parts
        usage_event = next(
            m
            for m in (
                e.event_specific_data.materialization
                for e in one.get_asset_materialization_events()
            )
            if m.asset_key == dg.AssetKey(["raw", "completions_usage"])
        )
        # Partition metadata says what the day's load contained.
        assert f"| {day} | default |" in usage_event.metadata["rows_by_day"].value
        assert usage_event.metadata["days_loaded"].value == 1
        # What each load did is kept; dlt's per-load schema and job list (the same every time,
        # copied onto every partition of a backfill) are not.
        assert usage_event.metadata["default/rows_loaded"].value > 0
        assert not any(k.endswith(("column_schema", "/jobs")) for k in usage_event.metadata)
        # Every asset shares the daily partitions, so a range is one run of everything.
        assert (("marts", "cost_by_model_daily"), day) in parts
        assert all(partition == day for _, partition in parts)
        # Tests that are not checks still report, once, on their model, without a warning.
        observed = [
            e.event_specific_data.asset_observation
            for e in one.all_events
            if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
        ]
        assert any(o.asset_key.path[0] == "staging" for o in observed)
        assert all(not o.description for o in observed)
        assert one.get_asset_check_evaluations()

        start = (TODAY - dt.timedelta(days=9)).isoformat()
        end = (TODAY - dt.timedelta(days=3)).isoformat()
        _run(defs, partition_range_tags(start, end), instance)
        first = _marts(tmp_path / "warehouse" / "openai_usage.duckdb")

    # (Re-running a range leaves identical marts: tests/test_e2e.py, through `make backfill`.)
    # dbt's per-run folders do not pile up; its parse is kept for the next run of this warehouse.
    state = paths.dbt_state_dir()
    assert state.parent.parent == tmp_path / "warehouse"
    assert (state / "partial_parse.msgpack").stat().st_size > 0
    assert list((state / "runs").iterdir()) == []
    assert set(DBT_TARGET.iterdir()) - project_targets <= {DBT_TARGET / "partial_parse.msgpack"}
    days = {row[0] for row in first["cost_by_model_daily"]}
    assert min(days).isoformat() == start and max(days).isoformat() == end
    assert len(first["cost_by_project_daily"]) > 7

"""A new organization (the simulator's `fresh` profile) and a quiet one (`sparse`) through the
whole pipeline: the backfill command's run, then the scheduled daily run, into one warehouse.

Each profile's runs happen once, in the module fixture; the tests read what each run left: the
marts, the serving folder (DuckDB file, Parquet, CSV) and the HTML report.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.dbt import DBT_PROJECT_DIR
from assets.schedules import daily_refresh, refresh_job
from scripts.backfill import PLANNED_EVENTS_VARIABLE, failure_summary, run_backfill
from serving.publish import SERVING_DB_NAME, mart_files
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator

TODAY = dt.datetime.now(dt.UTC).date()
BACKFILL = (TODAY - dt.timedelta(days=7), TODAY - dt.timedelta(days=1))
# Marts that hold the organization's directory rather than its spend.
DIRECTORY_MARTS = {"dim_projects", "dim_users", "dim_api_keys"}


@dataclass(frozen=True)
class Outcome:
    """What one run left behind."""

    success: bool
    failure: str
    marts: dict[str, int]  # mart -> rows
    day_kinds: dict[dt.date, tuple[bool, bool]]  # day -> (has requests, has billed cost)
    serving_files: set[str]
    serving_marts: set[str]
    report: str


def _marts_declared() -> set[str]:
    """Every model dbt builds into schema `marts` (the manifest `python -m assets.dbt` wrote)."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    return {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }


def _outcome(result: dg.ExecuteInProcessResult, warehouse: Path) -> Outcome:
    serving = warehouse.parent / "serving"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        marts = {
            name: con.execute(f'select count(*) from marts."{name}"').fetchone()[0]
            for (name,) in names
        }
        kinds = con.execute(
            "select usage_date, sum(requests) > 0, sum(billed_cost_usd) > 0"
            " from marts.cost_by_model_daily where usage_date between ? and ? group by 1",
            list(BACKFILL),
        ).fetchall()
    with duckdb.connect(str(serving / SERVING_DB_NAME), read_only=True) as con:
        served = con.execute("select table_name from information_schema.tables").fetchall()
    return Outcome(
        success=result.success,
        failure="" if result.success else failure_summary(result),
        marts=marts,
        day_kinds={day: (requests, billed) for day, requests, billed in kinds},
        serving_files={p.relative_to(serving).as_posix() for p in serving.rglob("*.*")},
        serving_marts={name for (name,) in served},
        report=(serving / "report.html").read_text(),
    )


def _runs(profile: str, work: Path) -> dict:
    """The backfill of the last seven closed days, then the daily schedule's run."""
    warehouse = work / "warehouse" / "openai_usage.duckdb"
    warehouse.parent.mkdir()
    (work / "dagster").mkdir()
    with (
        pytest.MonkeyPatch.context() as env,
        start_simulator(SimulatorConfig(seed=3, profile=profile)) as sim,
        dg.instance_for_test(temp_dir=str(work / "dagster")) as instance,
    ):
        env.setenv("WAREHOUSE_PATH", str(warehouse))
        env.setenv("OPENAI_BASE_URL", sim.base_url)
        env.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
        env.setenv("OPENAI_REQUESTS_PER_SECOND", "0")
        env.setenv("USAGE_START_DATE", (TODAY - dt.timedelta(days=30)).isoformat())
        env.setenv(PLANNED_EVENTS_VARIABLE, "1")
        for name in ("SERVING_DIR", "USAGE_BUCKET_WIDTH", "OPENAI_ORGANIZATIONS"):
            env.delenv(name, raising=False)

        backfill = _outcome(run_backfill(*BACKFILL, instance), warehouse)

        from assets.definitions import defs

        when = dt.datetime.combine(TODAY, dt.time(2), dt.UTC)
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=when) as ctx:
            run_request = daily_refresh(ctx)
        scheduled = (
            defs()
            .resolve_job_def(refresh_job.name)
            .execute_in_process(instance=instance, tags=run_request.tags, raise_on_error=False)
        )
        return {
            "backfill": backfill,
            "scheduled": _outcome(scheduled, warehouse),
            "run_request_tags": run_request.tags,
        }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict:
    return _runs("fresh", tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="module")
def sparse(tmp_path_factory) -> dict:
    return _runs("sparse", tmp_path_factory.mktemp("sparse"))


@pytest.mark.parametrize("run", ["backfill", "scheduled"])
@pytest.mark.parametrize("profile", ["fresh", "sparse"])
def test_both_runs_succeed_and_build_and_publish_every_mart(request, profile, run):
    outcome: Outcome = request.getfixturevalue(profile)[run]
    assert outcome.success, outcome.failure
    marts = _marts_declared()
    assert set(outcome.marts) == marts
    assert outcome.serving_marts >= marts
    for mart in marts:
        assert set(mart_files(mart)) <= outcome.serving_files, mart
    assert {SERVING_DB_NAME, "manifest.json", "report.html"} <= outcome.serving_files


@pytest.mark.parametrize("profile", ["fresh", "sparse"])
def test_the_schedule_reloads_the_lookback_days_and_today(request, profile):
    tags = request.getfixturevalue(profile)["run_request_tags"]
    assert tags["dagster/asset_partition_range_end"] == TODAY.isoformat()
    assert tags["dagster/asset_partition_range_start"] == (TODAY - dt.timedelta(3)).isoformat()


@pytest.mark.parametrize("run", ["backfill", "scheduled"])
def test_a_fresh_organization_has_empty_spend_marts_and_a_report_that_says_so(fresh, run):
    outcome: Outcome = fresh[run]
    spend = {mart: rows for mart, rows in outcome.marts.items() if mart not in DIRECTORY_MARTS}
    assert spend and spend == dict.fromkeys(spend, 0)
    # One owner, the Default project, no project API keys.
    assert {m: outcome.marts[m] for m in DIRECTORY_MARTS} == {
        "dim_projects": 1,
        "dim_users": 1,
        "dim_api_keys": 0,
    }
    assert 'id="spend-notice">No spend yet from ' in outcome.report


@pytest.mark.parametrize("run", ["backfill", "scheduled"])
def test_a_sparse_organization_shows_its_quiet_days_as_they_are(sparse, run):
    outcome: Outcome = sparse[run]
    # In any seven days: one billed usage day, one unbilled usage day, one storage-only day;
    # the four days with nothing have no rows.
    assert sorted(outcome.day_kinds.values()) == [(False, True), (True, False), (True, True)]
    assert outcome.marts["dim_projects"] == 2 and outcome.marts["dim_api_keys"] == 2
    assert outcome.marts["usage_daily"] > 0 and outcome.marts["cost_by_line_item_daily"] > 0
    assert 'id="spend-notice"' not in outcome.report  # there is spend to show

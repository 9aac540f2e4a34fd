"""Run retention (assets/retention.py): which runs go, and a real instance pruned."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import dagster as dg
import pytest

from assets.retention import (
    TRIMMED_TAG,
    RunAge,
    as_of,
    build_retention,
    runs_to_delete,
    runs_to_trim,
)
from assets.schedules import partition_range_tags, refresh_job
from assets.settings import ConfigError, Settings, parse_retention_days
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator

NOW = dt.datetime(2025, 6, 30, 3, 30, tzinfo=dt.UTC)  # a fake clock: the schedule's instant


def _age(run_id: str, days_ago: float | None) -> RunAge:
    finished = None if days_ago is None else NOW - dt.timedelta(days=days_ago)
    return RunAge(run_id, finished)


def test_runs_to_delete_takes_old_finished_runs_that_hold_no_latest_materialization():
    runs = [
        _age("recent", 29.9),
        _age("old", 30.1),
        _age("old-but-latest", 45),
        _age("ancient", 400),
        _age("in-progress", None),
    ]
    assert runs_to_delete(runs, {"old-but-latest"}, NOW, 30) == ["old", "ancient"]


def test_runs_to_delete_counts_the_window_from_now():
    runs = [_age("a", 10), _age("b", 5)]
    assert runs_to_delete(runs, set(), NOW, 7) == ["a"]
    assert runs_to_delete(runs, set(), NOW + dt.timedelta(days=3), 7) == ["a", "b"]
    assert runs_to_delete(runs, set(), NOW, 30) == []


def test_runs_to_delete_never_takes_a_run_in_progress_nor_anything_when_disabled():
    runs = [_age("queued", None), _age("old", 90)]
    assert runs_to_delete(runs, set(), NOW, 30) == ["old"]
    assert runs_to_delete(runs, set(), NOW, 0) == []


def test_runs_to_trim_takes_old_runs_that_hold_a_latest_materialization_once():
    runs = [
        _age("recent-latest", 29.9),
        _age("old", 30.1),
        _age("old-latest", 45),
        RunAge("old-latest-trimmed", NOW - dt.timedelta(days=45), trimmed=True),
        _age("in-progress", None),
    ]
    holders = {"recent-latest", "old-latest", "old-latest-trimmed", "in-progress"}
    assert runs_to_trim(runs, holders, NOW, 30) == ["old-latest"]
    assert runs_to_trim(runs, holders, NOW, 0) == []
    # A run is deleted or trimmed, never both.
    assert not set(runs_to_trim(runs, holders, NOW, 30)) & set(
        runs_to_delete(runs, holders, NOW, 30)
    )


def test_retention_days_from_the_environment():
    assert parse_retention_days(None) == 30
    assert parse_retention_days(" ") == 30
    assert parse_retention_days("7") == 7
    assert parse_retention_days("0") == 0
    for bad in ("-1", "thirty", "1.5"):
        with pytest.raises(ConfigError, match="RUN_RETENTION_DAYS=.*0 to keep every run"):
            parse_retention_days(bad)


def test_a_bad_retention_setting_stops_the_definitions_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("RUN_RETENTION_DAYS", "a month")
    with pytest.raises(ConfigError, match="RUN_RETENTION_DAYS='a month'"):
        Settings.from_env()


def test_retention_off_defines_no_job_and_no_schedule():
    assert build_retention(0) == ([], [])
    jobs, schedules = build_retention(30)
    assert [job.name for job in jobs] == ["prune_run_history"]
    assert schedules[0].cron_schedule == "30 3 * * *"
    assert schedules[0].default_status == dg.DefaultScheduleStatus.RUNNING


def test_as_of_needs_a_time_zone():
    assert as_of("2025-06-30T03:30:00+00:00") == NOW
    with pytest.raises(dg.Failure, match="time zone"):
        as_of("2025-06-30T03:30:00")
    with pytest.raises(dg.Failure, match="time zone"):
        as_of("yesterday")


# --- a real instance -------------------------------------------------------------------------

TODAY = dt.datetime.now(dt.UTC).date()


def _index_rows(home: Path, run_id: str) -> tuple[int, int]:
    """A run's events and asset check rows in the SQLite storage's index."""
    with sqlite3.connect(home / "history" / "runs" / "index.db") as con:
        return tuple(
            con.execute(f"select count(*) from {table} where run_id = ?", (run_id,)).fetchone()[0]
            for table in ("event_logs", "asset_check_executions")
        )


def _index_event_types(home: Path, run_id: str) -> dict[str, int]:
    with sqlite3.connect(home / "history" / "runs" / "index.db") as con:
        rows = con.execute(
            "select dagster_event_type, count(*) from event_logs where run_id = ? group by 1",
            (run_id,),
        ).fetchall()
    return dict(rows)


def _latest_checks(home: Path) -> set[tuple[str, str, int]]:
    """The latest evaluation of every asset check: (asset key, check name, row id)."""
    with sqlite3.connect(home / "history" / "runs" / "index.db") as con:
        rows = con.execute(
            "select asset_key, check_name, max(id) from asset_check_executions group by 1, 2"
        ).fetchall()
    return set(rows)


@pytest.mark.e2e
def test_pruning_deletes_the_superseded_run_and_keeps_the_latest(monkeypatch):
    home = Path(os.environ["DAGSTER_HOME"])
    with start_simulator(SimulatorConfig(seed=13)) as sim:
        monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
        monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
        monkeypatch.setenv("USAGE_START_DATE", (TODAY - dt.timedelta(days=30)).isoformat())
        monkeypatch.setenv("RUN_RETENTION_DAYS", "30")
        from assets.definitions import defs

        definitions = defs()
        refresh = definitions.resolve_job_def(refresh_job.name)
        prune = definitions.resolve_job_def("prune_run_history")
        day = (TODAY - dt.timedelta(days=2)).isoformat()
        other = (TODAY - dt.timedelta(days=3)).isoformat()
        with dg.DagsterInstance.get() as instance:
            runs = []
            for first, last in ((other, other), (day, day), (day, day)):
                result = refresh.execute_in_process(
                    instance=instance, tags=partition_range_tags(first, last), raise_on_error=False
                )
                assert result.success
                runs.append(result.run_id)
            only_other, older, latest = runs
            assert all(count > 0 for count in _index_rows(home, older))
            assert (home / "storage" / older).is_dir()  # its captured stdout and stderr
            assert (home / "history" / "runs" / f"{older}.db").exists()

            def prune_as_of(moment: dt.datetime) -> dg.ExecuteInProcessResult:
                config = {"ops": {"delete_old_runs": {"config": {"as_of": moment.isoformat()}}}}
                result = prune.execute_in_process(instance=instance, run_config=config)
                assert result.success
                return result

            # Within the window nothing goes.
            prune_as_of(dt.datetime.now(dt.UTC))
            assert all(instance.get_run_by_id(run_id) for run_id in runs)

            checks_before = _latest_checks(home)
            events_before = _index_rows(home, latest)[0]
            assert instance.all_logs(latest)

            # A month on: the day's first run was superseded by its re-run and goes, with its
            # events, its event file and its check rows; the runs holding the latest
            # materializations are trimmed to them.
            month_on = prune_as_of(dt.datetime.now(dt.UTC) + dt.timedelta(days=31))
            (output,) = [e for e in month_on.all_node_events if e.is_successful_output]
            assert output.step_output_data.metadata["deleted_runs"].value == 2
            assert output.step_output_data.metadata["trimmed_runs"].value == 2
            assert instance.get_run_by_id(older) is None
            assert not (home / "history" / "runs" / f"{older}.db").exists()
            assert _index_rows(home, older) == (0, 0)
            assert not (home / "storage" / older).exists()
            assert instance.all_logs(older) == []  # read again: nothing, and no error
            # The earlier pruning run is old and materialized nothing: it went too.
            prunes = instance.get_run_records(dg.RunsFilter(job_name="prune_run_history"))
            assert [r.dagster_run.run_id for r in prunes] == [month_on.run_id]

            # The holders keep their records, tagged; their event files, captured output,
            # step events and superseded check results are gone.
            for run_id in (latest, only_other):
                assert TRIMMED_TAG in instance.get_run_by_id(run_id).tags
                assert not (home / "history" / "runs" / f"{run_id}.db").exists()
                assert not (home / "storage" / run_id).exists()
                assert instance.all_logs(run_id) == []
                kept = _index_event_types(home, run_id)
                assert kept["ASSET_MATERIALIZATION"] > 0
                assert set(kept) <= {
                    "ASSET_MATERIALIZATION",
                    "ASSET_CHECK_EVALUATION",
                    "PIPELINE_START",
                    "PIPELINE_SUCCESS",
                    "PIPELINE_STARTING",
                    "PIPELINE_ENQUEUED",
                }, kept
            assert _index_rows(home, latest)[0] < events_before
            # Every asset check keeps its latest evaluation.
            assert _latest_checks(home) == checks_before
            # A later pruning finds nothing more to do.
            again = prune_as_of(dt.datetime.now(dt.UTC) + dt.timedelta(days=32))
            (output,) = [e for e in again.all_node_events if e.is_successful_output]
            assert output.step_output_data.metadata["trimmed_runs"].value == 0

            # The UI's partition status and last materialization still read right.
            mart = dg.AssetKey(["marts", "cost_by_model_daily"])
            assert {other, day} <= instance.get_materialized_partitions(mart)
            last = instance.get_latest_materialization_event(mart)
            assert last is not None and last.run_id == latest
            for key in (mart, dg.AssetKey(["raw", "costs"])):
                holder = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day]), limit=5
                ).records
                assert [r.run_id for r in holder] == [latest]

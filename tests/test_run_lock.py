"""One run writes a warehouse at a time, however it was started (warehouse/locks.py)."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.schedules import partition_range_tags, refresh_job
from scripts.backfill import CODE_LOCATION, QUEUE_TAG, run_tags
from scripts.instance import dagster_instance
from scripts.sim_process import simulator_process
from simulator import ADMIN_KEY
from warehouse.locks import reentry_depth, run_lock

REPO_ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.datetime.now(dt.UTC).date()


def _taken_elsewhere(path: Path) -> bool:
    """Whether another holder has the lock: a second open file cannot take it now."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_reentry_depth_counts_only_the_holding_thread():
    path = Path("/w/.openai_usage.duckdb.run.lock")
    held = {path: (7, 2)}
    assert reentry_depth(held, path, 7) == 2
    assert reentry_depth(held, path, 8) == 0  # another thread must acquire it (and wait)
    assert reentry_depth(held, Path("/w/.other.duckdb.run.lock"), 7) == 0
    assert reentry_depth({}, path, 7) == 0


def test_run_lock_is_reentrant_in_the_thread_that_holds_it(tmp_path):
    lock = tmp_path / ".wh.run.lock"
    states: list[bool] = []

    def nested() -> None:
        with run_lock(lock):
            with run_lock(lock):  # `make backfill`, then its run's resource
                states.append(_taken_elsewhere(lock))
            states.append(_taken_elsewhere(lock))  # still held by the outer block
        states.append(_taken_elsewhere(lock))

    worker = threading.Thread(target=nested)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "re-entering the lock from its own thread blocked"
    assert states == [True, True, False]


def test_run_lock_makes_another_thread_wait_until_the_holder_leaves(tmp_path):
    lock = tmp_path / ".wh.run.lock"
    waiting = threading.Event()
    order: list[str] = []

    def second() -> None:
        with run_lock(lock, on_wait=waiting.set):
            order.append("second in")

    with run_lock(lock):
        thread = threading.Thread(target=second)
        thread.start()
        assert waiting.wait(timeout=30), "the second holder never had to wait"
        order.append("first out")
    thread.join(timeout=30)
    assert order == ["first out", "second in"]


def test_every_asset_and_check_on_the_warehouse_holds_the_lock(monkeypatch):
    monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.setenv("OPENAI_LEGACY_USAGE", "1")
    from assets.definitions import defs

    graph = defs().resolve_asset_graph()
    # Every step opens the working warehouse: the loads, dbt, publishing, the report, the
    # budgets and the checks (read-only, but a DuckDB reader blocks the writer).
    steps = {d.node_def.name: d for d in graph.assets_defs if d.is_executable}
    assert {"openai_usage", "openai_legacy_usage", "dbt_models", "mart_checks"} <= set(steps)
    assert {"raw__budgets", "report", "serving__bi_files"} <= set(steps)
    assert len(steps) == 11
    for name, assets_def in steps.items():
        assert assets_def.node_def.pools == {"duckdb"}, name
        assert "warehouse_lock" in assets_def.required_resource_keys, name


def test_the_daemon_queues_runs_of_this_code_location_one_at_a_time(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", home)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": QUEUE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    finally:
        instance.dispose()
    # `make backfill` runs are counted like the daemon's: same tag, same location name.
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["location_name"] == CODE_LOCATION
    assert run_tags(TODAY, TODAY)[QUEUE_TAG] == CODE_LOCATION


def _first_and_last(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    """When a run's first step started and its last step ended (event timestamps)."""
    events = [e for e in instance.all_logs(run_id) if e.dagster_event is not None]
    starts = [e.timestamp for e in events if e.dagster_event.event_type_value == "STEP_START"]
    ends = [
        e.timestamp
        for e in events
        if e.dagster_event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE")
    ]
    return min(starts), max(ends)


@pytest.mark.e2e
def test_two_runs_started_together_write_one_after_the_other():
    """Two `dagster job execute` processes on one warehouse, as two runs launched by the
    daemon or the UI would be: no `make backfill` lock around them, only their resource."""
    home = Path(os.environ["DAGSTER_HOME"])
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", home)
    # The storages exist before the runs start, as `make dev` makes sure (scripts/instance.py).
    dagster_instance().dispose()
    days = [(TODAY - dt.timedelta(days=n)).isoformat() for n in (3, 1)]
    with simulator_process(seed=21) as (base_url, key):
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "OPENAI_BASE_URL": base_url,
            "OPENAI_ADMIN_KEY": key,
            "USAGE_START_DATE": (TODAY - dt.timedelta(days=30)).isoformat(),
        }
        procs = [
            subprocess.Popen(
                [
                    *(sys.executable, "-m", "dagster", "job", "execute"),
                    *("-m", "assets.definitions", "-j", refresh_job.name),
                    *("--tags", json.dumps(partition_range_tags(day, day))),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for day in days
        ]
        outputs = [proc.communicate(timeout=900)[0] for proc in procs]
    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output[-3000:]

    instance = dg.DagsterInstance.get()
    try:
        records = instance.get_run_records(dg.RunsFilter(job_name=refresh_job.name))
        assert [r.dagster_run.status for r in records] == [dg.DagsterRunStatus.SUCCESS] * 2
        spans = sorted(_first_and_last(instance, r.dagster_run.run_id) for r in records)
        (_, first_end), (second_start, _) = spans
        # The later run's first step (its first write) started after the earlier run's last
        # step ended; the lock made it wait, and it said so in its own log.
        assert second_start > first_end, spans
        later = max(records, key=lambda r: _first_and_last(instance, r.dagster_run.run_id))
        messages = [e.user_message for e in instance.all_logs(later.dagster_run.run_id)]
        assert any("Another run is writing" in m for m in messages), messages[:20]
    finally:
        instance.dispose()

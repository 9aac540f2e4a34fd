"""End to end: `make backfill` as a user runs it, against a simulator subprocess."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
from pathlib import Path

import duckdb
import pytest

from scripts.sim_process import simulator_process

REPO_ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.datetime.now(dt.UTC).date()

pytestmark = pytest.mark.e2e


def _make_backfill(start: str, end: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "backfill", f"START={start}", f"END={end}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _mart_snapshot(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            name: sorted(con.table(f"marts.{name}").fetchall(), key=repr)
            for name in ("cost_by_model_daily", "cost_by_project_daily")
        }


def test_make_backfill_twice_leaves_identical_marts(tmp_path):
    warehouse = tmp_path / "elsewhere" / "usage.duckdb"
    start = (TODAY - dt.timedelta(days=6)).isoformat()
    end = (TODAY - dt.timedelta(days=2)).isoformat()
    with simulator_process(seed=3) as (base_url, key):
        env = {
            **os.environ,
            "OPENAI_BASE_URL": base_url,
            "OPENAI_REQUESTS_PER_SECOND": "0",
            "OPENAI_ADMIN_KEY": key,
            "WAREHOUSE_PATH": str(warehouse),
            "DAGSTER_HOME": str(tmp_path / "dagster_home"),
            "USAGE_START_DATE": (TODAY - dt.timedelta(days=30)).isoformat(),
        }
        first = _make_backfill(start, end, env)
        assert first.returncode == 0, first.stderr[-3000:]
        # A warehouse file not named like the default must not trip dbt's parse-time catalog.
        errors = [
            line for line in (first.stdout + first.stderr).splitlines() if " - ERROR - " in line
        ]
        assert not errors, errors[:3]
        snapshot = _mart_snapshot(warehouse)
        second = _make_backfill(start, end, env)
        assert second.returncode == 0, second.stderr[-3000:]
        # The second run parses only what changed (the parse is kept per warehouse path).
        assert "Unable to do partial parsing" not in second.stdout + second.stderr
    assert _mart_snapshot(warehouse) == snapshot
    days = {row[0].isoformat() for row in snapshot["cost_by_model_daily"]}
    assert min(days) == start and max(days) == end
    assert key not in first.stdout + first.stderr  # the key never reaches the output
    # The run is recorded in the Dagster instance the UI reads, with one planned materialization
    # per asset for the 5-day range (not one per asset and day).
    shards = [p for p in (tmp_path / "dagster_home").rglob("*.db") if p.stem.count("-") == 4]
    assert len(shards) == 2
    with sqlite3.connect(shards[0]) as con:
        planned = con.execute(
            "select count(*), count(distinct asset_key) from event_logs"
            " where dagster_event_type = 'ASSET_MATERIALIZATION_PLANNED'"
        ).fetchone()
    assert planned[0] == planned[1] > 10


def test_make_backfill_explains_a_reversed_range(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dh"), "OPENAI_ADMIN_KEY": "sk-admin-x"}
    result = _make_backfill("2025-02-01", "2025-01-01", env)
    assert result.returncode != 0
    assert "START 2025-02-01 is after END 2025-01-01" in result.stderr

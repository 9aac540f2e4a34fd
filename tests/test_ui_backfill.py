"""The Dagster UI's own gestures, end to end: `make dev`, then the *Materialize* dialog's
`launchPartitionBackfill` request, followed to the backfill's final status."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from scripts.dagster_ui import DagsterUI, dagster_ui

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.datetime.now(dt.UTC).date()
WEEK = [(TODAY - dt.timedelta(days=n)).isoformat() for n in range(8, 0, -1)]
# Variables of the developer's shell that would point `make dev` elsewhere.
NOT_INHERITED = ("OPENAI_ADMIN_KEY", "OPENAI_BASE_URL", "SERVING_DIR", "USAGE_BUCKET_WIDTH")


@pytest.fixture(scope="module")
def ui(tmp_path_factory) -> tuple[DagsterUI, Path]:
    """A fresh install: a new Dagster home and warehouse, `make dev` on its own simulator."""
    root = tmp_path_factory.mktemp("ui")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    warehouse = root / "warehouse" / "openai_usage.duckdb"
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env |= {
        "DAGSTER_HOME": str(home),
        "WAREHOUSE_PATH": str(warehouse),
        "USAGE_START_DATE": (TODAY - dt.timedelta(days=30)).isoformat(),
        "OPENAI_REQUESTS_PER_SECOND": "0",
    }
    with dagster_ui(env, root / "dev.log") as running:
        yield running, warehouse


@pytest.fixture(scope="module")
def materialized_all(ui) -> dict:
    """*Materialize all* over a custom range of 8 days, then *Launch backfill*."""
    running, _ = ui
    backfill_id = running.launch_backfill(running.materializable_assets(), WEEK)
    return running.wait_backfill(backfill_id)


def _marts_days(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select distinct usage_date from marts.cost_by_model_daily").fetchall()
    return {day.isoformat() for (day,) in rows}


def test_materialize_all_over_a_week_is_one_successful_run(ui, materialized_all):
    _, warehouse = ui
    assert materialized_all["status"] == "COMPLETED_SUCCESS", materialized_all
    assert [run["status"] for run in materialized_all["runs"]] == ["SUCCESS"]
    assert set(WEEK) <= _marts_days(warehouse)
    serving = warehouse.parent / "serving"
    assert (serving / "report.html").exists()
    assert (serving / "marts" / "cost_by_model_daily.parquet").exists() or any(
        serving.rglob("cost_by_model_daily.parquet")
    )


def test_materialize_a_single_mart(ui, materialized_all):
    running, _ = ui
    mart = [["marts", "cost_by_project_daily"]]
    backfill = running.wait_backfill(running.launch_backfill(mart, WEEK[-1:]))
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert [run["status"] for run in backfill["runs"]] == ["SUCCESS"]


def test_materialize_raw_assets_and_their_downstream(ui, materialized_all):
    running, _ = ui
    selection = running.with_downstream([["raw", "costs"], ["raw", "completions_usage"]])
    assert ["marts", "cost_by_model_daily"] in selection and ["raw", "users"] not in selection
    backfill = running.wait_backfill(running.launch_backfill(selection, WEEK[-2:]))
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    assert [run["status"] for run in backfill["runs"]] == ["SUCCESS"]

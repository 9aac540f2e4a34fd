"""Helpers shared by the budget, alert and anomaly tests: real Dagster runs on the simulator."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets.checks_budgets import BUDGET_STATUS_KEY
from assets.schedules import partition_range_tags, refresh_job

TODAY = dt.datetime.now(dt.UTC).date()
BUDGET_ONLY = "budgets_only"


def load_defs() -> dg.Definitions:
    from assets.definitions import defs

    budgets_only = dg.define_asset_job(
        BUDGET_ONLY,
        selection=dg.AssetSelection.assets(dg.AssetKey(["raw", "budgets"]), BUDGET_STATUS_KEY),
    )
    return dg.Definitions.merge(defs(), dg.Definitions(jobs=[budgets_only]))


def run(defs: dg.Definitions, instance, days: int, job: str = refresh_job.name):
    """One run over the last `days` days up to today (a single-run backfill)."""
    start = (TODAY - dt.timedelta(days=days - 1)).isoformat()
    # Every asset is partitioned by day, so every job runs over a range of days.
    tags = partition_range_tags(start, TODAY.isoformat())
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, tags=tags, raise_on_error=False
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result

"""The daily refresh: every asset, re-pulling a trailing window for late and restated data."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets.settings import usage_start_date

LOOKBACK_DAYS = 3
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

refresh_job = dg.define_asset_job("refresh_all", selection=dg.AssetSelection.all())


def lookback_range(
    today: dt.date, first_day: dt.date, lookback_days: int = LOOKBACK_DAYS
) -> tuple[str, str]:
    """The partitions a scheduled run reloads: the last `lookback_days` closed days and today.

    Costs and usage of recent days are restated after the fact; today's partition is partial and
    is completed by the next runs. The range never starts before `first_day` (USAGE_START_DATE,
    the first partition): on an install that starts loading today, the days before do not exist
    as partitions, and a run asking for them would fail.
    """
    start = max(today - dt.timedelta(days=lookback_days), first_day)
    return start.isoformat(), today.isoformat()


def partition_range_tags(start: str, end: str) -> dict[str, str]:
    """Run tags that make one run cover an inclusive partition range (single-run backfill)."""
    return {RANGE_START_TAG: start, RANGE_END_TAG: end}


@dg.schedule(
    job=refresh_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    today = context.scheduled_execution_time.astimezone(dt.UTC).date()
    first_day = usage_start_date()
    if today < first_day:
        return dg.SkipReason(f"{today} is before USAGE_START_DATE {first_day}: nothing to load.")
    start, end = lookback_range(today, first_day)
    return dg.RunRequest(run_key=f"daily-{today}", tags=partition_range_tags(start, end))


@dg.schedule(
    job=refresh_job,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Optional: reload today's partition every hour (budgets on the estimated basis "
    "and spend spikes are then checked within the day). Off by default.",
)
def intraday_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    now = context.scheduled_execution_time.astimezone(dt.UTC)
    today = now.date().isoformat()
    return dg.RunRequest(
        run_key=f"intraday-{now:%Y-%m-%dT%H}", tags=partition_range_tags(today, today)
    )

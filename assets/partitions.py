"""Daily UTC partitions: one per day of usage, today's (still open) partition included."""

import datetime as dt

import dagster as dg


def daily_partitions(start_date: dt.date) -> dg.DailyPartitionsDefinition:
    # end_offset=1 makes today a partition, so the schedule can re-pull the open day.
    return dg.DailyPartitionsDefinition(
        start_date=start_date.isoformat(), timezone="UTC", end_offset=1
    )

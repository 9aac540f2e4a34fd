"""Daily UTC partitions, shared by every asset, and the one backfill policy they all use.

Every asset has the same partitions and a single-run backfill policy, so any selection over any
range (the UI's *Materialize all*, a backfill, the schedule) becomes one run. Dagster splits a
backfill into one run per partitioning, and a dbt step that builds only part of the graph would
test models against others not yet built. Assets that are not loaded by day (the directory, the
prices, the dbt models, the serving files) ignore the window: each run builds them whole.
"""

import datetime as dt

import dagster as dg

SINGLE_RUN = dg.BackfillPolicy.single_run()


def daily_partitions(start_date: dt.date) -> dg.DailyPartitionsDefinition:
    # end_offset=1 makes today a partition, so the schedule can re-pull the open day.
    return dg.DailyPartitionsDefinition(
        start_date=start_date.isoformat(), timezone="UTC", end_offset=1
    )

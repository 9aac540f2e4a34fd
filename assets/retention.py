"""Run retention: Dagster forgets finished runs older than `RUN_RETENTION_DAYS` (default 30).

Dagster keeps every run's event log for good, and Dagster OSS has no retention setting: at one
daily run that is several megabytes a day in `DAGSTER_HOME` (README, *Run history*). The
`prune_run_history` job, scheduled daily, deletes old runs with `DagsterInstance.delete_run`.

A run is kept, whatever its age, while it holds the latest materialization of any asset
partition: the UI's partition status, an asset's last materialization and its lineage read that
event, and without it a partition would show as never materialized. So a run goes once every
partition it materialized has been materialized again by a later run (a re-run of the same days,
the next hourly refresh), or when it materialized nothing (a failed run). A daily run is the
last to load the oldest day of its window (assets/schedules.py), so daily runs stay.

`delete_run` removes a run's record and events, but leaves three things behind, which are removed
with it here: with SQLite storage the run's own event file, emptied but as large as before
(3.9 MB for a daily run); the run's captured stdout/stderr; and the rows of its asset check
evaluations (about a third of the index database's growth per run).
"""

# No `from __future__ import annotations`: Dagster reads the config annotation at runtime.

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dagster as dg

# Longest list of storage ids asked for in one query (SQLite allows 32,766 bound parameters).
_STORAGE_ID_BATCH = 500
_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


@dataclass(frozen=True)
class RunAge:
    """A run as retention sees it: when it finished (None while queued or in progress)."""

    run_id: str
    finished_at: dt.datetime | None


def runs_to_delete(
    runs: Iterable[RunAge], latest_holders: set[str], now: dt.datetime, retention_days: int
) -> list[str]:
    """The runs to delete: finished more than `retention_days` before `now`, and holding the
    latest materialization of no asset partition. `retention_days` 0 deletes nothing."""
    if retention_days <= 0:
        return []
    cutoff = now - dt.timedelta(days=retention_days)
    return [
        run.run_id
        for run in runs
        if run.finished_at is not None
        and run.finished_at < cutoff
        and run.run_id not in latest_holders
    ]


def finished_runs(instance: dg.DagsterInstance) -> list[RunAge]:
    """Every finished run, with the time it ended (the time of its last update if it never
    started, e.g. canceled in the queue)."""
    ages = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=_FINISHED)):
        ended = record.end_time or record.update_timestamp.timestamp()
        ages.append(RunAge(record.dagster_run.run_id, dt.datetime.fromtimestamp(ended, dt.UTC)))
    return ages


def latest_materialization_runs(instance: dg.DagsterInstance) -> set[str]:
    """The runs holding the latest materialization of some asset partition (or of an asset
    without partitions)."""
    holders: set[str] = set()
    for key in instance.get_asset_keys():
        latest = instance.get_latest_materialization_event(key)
        if latest is not None and latest.run_id:
            holders.add(latest.run_id)
        by_partition = instance.get_latest_storage_id_by_partition(
            key, dg.DagsterEventType.ASSET_MATERIALIZATION
        )
        holders |= _run_ids(instance, key, sorted(set(by_partition.values())))
    holders.discard("")  # materializations reported outside any run
    return holders


def _run_ids(
    instance: dg.DagsterInstance, key: dg.AssetKey, storage_ids: Sequence[int]
) -> set[str]:
    run_ids: set[str] = set()
    for start in range(0, len(storage_ids), _STORAGE_ID_BATCH):
        batch = storage_ids[start : start + _STORAGE_ID_BATCH]
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, storage_ids=batch), limit=len(batch)
        ).records
        run_ids |= {record.run_id for record in records}
    return run_ids


def delete_run(instance: dg.DagsterInstance, run_id: str) -> None:
    """`instance.delete_run`, and what it leaves behind of the run (module docstring)."""
    instance.delete_run(run_id)
    instance.compute_log_manager.delete_logs(prefix=[run_id])
    _delete_check_executions(instance, run_id)
    _delete_sqlite_run_file(instance, run_id)


def _delete_check_executions(instance: dg.DagsterInstance, run_id: str) -> None:
    # Dagster 1.13 has no public call for these rows; they live in the SQL event log storage's
    # index (SQLite or Postgres) and name their run.
    from dagster._core.storage.event_log import SqlEventLogStorage
    from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable

    storage = instance.event_log_storage
    if not isinstance(storage, SqlEventLogStorage):
        return
    with storage.index_connection() as conn:
        conn.execute(
            AssetCheckExecutionsTable.delete().where(AssetCheckExecutionsTable.c.run_id == run_id)
        )


def _delete_sqlite_run_file(instance: dg.DagsterInstance, run_id: str) -> None:
    # SQLite storage keeps each run's events in a file of its own; `delete_run` empties it, and
    # SQLite files do not shrink. Dagster's own `wipe` removes these files the same way. This
    # process forgets it set the file up, so that a later read of the run finds it missing and
    # sets up an empty one rather than failing on a file without tables.
    from dagster._core.storage.event_log import SqliteEventLogStorage

    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        return
    path = storage.path_for_shard(run_id)
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.remove(name)
    storage._initialized_dbs.discard(run_id)


class RetentionConfig(dg.Config):
    """`as_of`: prune as if it were this UTC time (ISO 8601, e.g. 2025-03-01T00:00:00+00:00);
    by default, now."""

    as_of: str | None = None


def as_of(text: str | None) -> dt.datetime:
    """The time retention counts from: `text` (ISO 8601 with a time zone), else now."""
    if not text:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise dg.Failure(
            f"as_of={text!r} is not a time with a time zone: use e.g. 2025-03-01T00:00:00+00:00."
        )
    return moment


def build_retention_job(retention_days: int) -> dg.JobDefinition:
    """The `prune_run_history` job: one op deleting the runs `runs_to_delete` picks."""

    @dg.op(
        name="delete_old_runs",
        description=f"Deletes finished runs older than {retention_days} days (RUN_RETENTION_DAYS) "
        "that hold the latest materialization of no asset partition.",
    )
    def delete_old_runs(context: dg.OpExecutionContext, config: RetentionConfig) -> dg.Output:
        now = as_of(config.as_of)
        instance = context.instance
        runs = finished_runs(instance)
        holders = latest_materialization_runs(instance)
        doomed = runs_to_delete(runs, holders, now, retention_days)
        for run_id in doomed:
            delete_run(instance, run_id)
        context.log.info(
            f"Deleted {len(doomed)} of {len(runs)} finished runs (older than {retention_days} "
            f"days and superseded); {len(holders)} runs hold a latest materialization and stay"
        )
        return dg.Output(
            None,
            metadata={
                "deleted_runs": len(doomed),
                "finished_runs": len(runs),
                "runs_holding_latest_materializations": len(holders),
                "as_of": now.isoformat(),
            },
        )

    @dg.job(
        name="prune_run_history",
        description="Deletes old finished runs from Dagster's storage (RUN_RETENTION_DAYS), "
        "keeping every run that holds the latest materialization of an asset partition.",
    )
    def prune_run_history() -> None:
        delete_old_runs()

    return prune_run_history


def build_retention(
    retention_days: int,
) -> tuple[list[dg.JobDefinition], list[dg.ScheduleDefinition]]:
    """The job and its daily schedule; none when retention is off (`RUN_RETENTION_DAYS=0`).

    It runs after the daily refresh (assets/schedules.py); a refresh still in progress when it
    fires holds it in the run queue (`.dagster_home/dagster.yaml`).
    """
    if retention_days <= 0:
        return [], []
    job = build_retention_job(retention_days)
    schedule = dg.ScheduleDefinition(
        name="daily_run_retention",
        job=job,
        cron_schedule="30 3 * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return [job], [schedule]

"""Run retention: Dagster forgets finished runs older than `RUN_RETENTION_DAYS` (default 30).

Dagster keeps every run's event log for good, and Dagster OSS has no retention setting: at one
daily run that is several megabytes a day in `DAGSTER_HOME` (README, *Run history*). The
`prune_run_history` job, scheduled daily, deletes old runs with `DagsterInstance.delete_run`.

A run that holds the latest materialization of any asset partition is not deleted: the UI's
partition status, an asset's last materialization and its lineage read that event, and without
it a partition would show as never materialized. So a run goes once every partition it
materialized has been materialized again by a later run (a re-run of the same days, the next
hourly refresh), or when it materialized nothing (a failed run). A daily run is the last to load
the oldest day of its window (assets/schedules.py), so daily runs are never deleted.

They are trimmed instead: past the same age, a run that still holds latest materializations
keeps its record, those materialization events, its run-status events and the latest evaluation
of any asset check it holds; everything else it stored goes (step events, logs, superseded
materializations and check results, captured stdout/stderr). The run is tagged
`retention/trimmed` so the next pruning passes over it. Storage then grows by what the latest
materializations of a new day take, not by whole runs.

`delete_run` removes a run's record and events, but leaves three things behind, which are removed
with it here: with SQLite storage the run's own event file, emptied but as large as before
(3.9 MB for a daily run); the run's captured stdout/stderr; and the rows of its asset check
evaluations (about a third of the index database's growth per run).
"""

# No `from __future__ import annotations`: Dagster reads the config annotation at runtime.

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dagster as dg
import sqlalchemy as sa

from assets import dagster_compat

# Longest list of storage ids asked for in one query (SQLite allows 32,766 bound parameters).
_STORAGE_ID_BATCH = 500
# Set on a run once trimmed (module docstring), with the day it was.
TRIMMED_TAG = "retention/trimmed"
_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


@dataclass(frozen=True)
class RunAge:
    """A run as retention sees it: when it finished (None while queued or in progress), and
    whether an earlier pruning already trimmed it."""

    run_id: str
    finished_at: dt.datetime | None
    trimmed: bool = False


def _expired(run: RunAge, now: dt.datetime, retention_days: int) -> bool:
    cutoff = now - dt.timedelta(days=retention_days)
    return retention_days > 0 and run.finished_at is not None and run.finished_at < cutoff


def runs_to_delete(
    runs: Iterable[RunAge], latest_holders: set[str], now: dt.datetime, retention_days: int
) -> list[str]:
    """The runs to delete: finished more than `retention_days` before `now`, and holding the
    latest materialization of no asset partition. `retention_days` 0 deletes nothing."""
    return [
        run.run_id
        for run in runs
        if _expired(run, now, retention_days) and run.run_id not in latest_holders
    ]


def runs_to_trim(
    runs: Iterable[RunAge], latest_holders: set[str], now: dt.datetime, retention_days: int
) -> list[str]:
    """The runs to trim: as old as the runs to delete, but holding a latest materialization,
    and not trimmed yet. `retention_days` 0 trims nothing."""
    return [
        run.run_id
        for run in runs
        if _expired(run, now, retention_days) and run.run_id in latest_holders and not run.trimmed
    ]


def finished_runs(instance: dg.DagsterInstance) -> list[RunAge]:
    """Every finished run, with the time it ended (the time of its last update if it never
    started, e.g. canceled in the queue)."""
    ages = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=_FINISHED)):
        run = record.dagster_run
        ended = record.end_time or record.update_timestamp.timestamp()
        finished_at = dt.datetime.fromtimestamp(ended, dt.UTC)
        ages.append(RunAge(run.run_id, finished_at, TRIMMED_TAG in run.tags))
    return ages


def latest_materializations(instance: dg.DagsterInstance) -> dict[str, set[int]]:
    """The runs holding the latest materialization of some asset partition (or of an asset
    without partitions), each with the storage ids of those events."""
    held: dict[str, set[int]] = {}
    for key in instance.get_asset_keys():
        by_partition = instance.get_latest_storage_id_by_partition(
            key, dg.DagsterEventType.ASSET_MATERIALIZATION
        )
        latest = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1)
        storage_ids = set(by_partition.values()) | {r.storage_id for r in latest.records}
        for run_id, storage_id in _runs_of(instance, key, sorted(storage_ids)):
            held.setdefault(run_id, set()).add(storage_id)
    held.pop("", None)  # materializations reported outside any run
    return held


def _runs_of(
    instance: dg.DagsterInstance, key: dg.AssetKey, storage_ids: Sequence[int]
) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for start in range(0, len(storage_ids), _STORAGE_ID_BATCH):
        batch = storage_ids[start : start + _STORAGE_ID_BATCH]
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, storage_ids=batch), limit=len(batch)
        ).records
        found += [(record.run_id, record.storage_id) for record in records]
    return found


def delete_run(instance: dg.DagsterInstance, run_id: str) -> None:
    """`instance.delete_run`, and what it leaves behind of the run (module docstring)."""
    instance.delete_run(run_id)
    _delete_check_executions(instance, run_id, keep_latest=False)
    _delete_run_files(instance, run_id)


def trim_run(instance: dg.DagsterInstance, run_id: str, kept_materializations: set[int]) -> None:
    """Keep of `run_id` its record and what the module docstring lists; delete the rest."""
    kept_checks = _delete_check_executions(instance, run_id, keep_latest=True)
    _delete_events(instance, run_id, kept_materializations | kept_checks)
    _delete_run_files(instance, run_id)
    instance.add_run_tags(run_id, {TRIMMED_TAG: dt.datetime.now(dt.UTC).date().isoformat()})


# Dagster 1.13 has no public call to delete some of a run's events or its asset check rows: the
# functions below use its SQL event log storage's own tables (SQLite or Postgres), reached
# through assets/dagster_compat.py. With SQLite they are the index shared by all runs (asset,
# check and run-status events are mirrored there; the rest lives in the run's own file); with
# Postgres they hold every event.


def _delete_check_executions(
    instance: dg.DagsterInstance, run_id: str, keep_latest: bool
) -> set[int]:
    """Delete the run's asset check rows, except, with `keep_latest`, those that are the latest
    of their check; return the storage ids of the evaluation events kept."""
    storage = dagster_compat.sql_event_log(instance)
    if storage is None:
        return set()
    checks = dagster_compat.AssetCheckExecutionsTable
    latest = sa.select(sa.func.max(checks.c.id)).group_by(checks.c.asset_key, checks.c.check_name)
    with storage.index_connection() as conn:
        kept = (
            conn.execute(
                sa.select(checks.c.id, checks.c.evaluation_event_storage_id).where(
                    checks.c.run_id == run_id, checks.c.id.in_(latest)
                )
            ).fetchall()
            if keep_latest
            else []
        )
        conn.execute(
            checks.delete().where(
                checks.c.run_id == run_id, checks.c.id.notin_([row[0] for row in kept])
            )
        )
    return {row[1] for row in kept if row[1] is not None}


def _delete_events(instance: dg.DagsterInstance, run_id: str, keep: set[int]) -> None:
    """Delete the run's events but those with a storage id in `keep` and its run-status events
    (with their asset event tags)."""
    storage = dagster_compat.sql_event_log(instance)
    if storage is None:
        return
    events = dagster_compat.SqlEventLogStorageTable
    tags = dagster_compat.AssetEventTagsTable
    statuses = dagster_compat.run_status_event_types()
    doomed = sa.select(events.c.id).where(
        events.c.run_id == run_id,
        events.c.id.notin_(sorted(keep)),
        sa.or_(events.c.dagster_event_type.is_(None), events.c.dagster_event_type.notin_(statuses)),
    )
    with storage.index_connection() as conn:
        conn.execute(tags.delete().where(tags.c.event_id.in_(doomed)))
        conn.execute(events.delete().where(events.c.id.in_(doomed)))


def _delete_run_files(instance: dg.DagsterInstance, run_id: str) -> None:
    """The run's captured stdout/stderr and, with SQLite storage, its own event file
    (`delete_run` empties that file, and SQLite files do not shrink)."""
    instance.compute_log_manager.delete_logs(prefix=[run_id])
    dagster_compat.forget_run_event_file(instance, run_id)


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
        "that hold the latest materialization of no asset partition, and trims the others to "
        "those materializations.",
    )
    def delete_old_runs(context: dg.OpExecutionContext, config: RetentionConfig) -> dg.Output:
        now = as_of(config.as_of)
        instance = context.instance
        runs = finished_runs(instance)
        held = latest_materializations(instance)
        holders = set(held)
        doomed = runs_to_delete(runs, holders, now, retention_days)
        trimmed = runs_to_trim(runs, holders, now, retention_days)
        for run_id in doomed:
            delete_run(instance, run_id)
        for run_id in trimmed:
            trim_run(instance, run_id, held[run_id])
        context.log.info(
            f"Of {len(runs)} finished runs older than {retention_days} days: deleted "
            f"{len(doomed)} (superseded), trimmed {len(trimmed)} to their latest "
            f"materializations; {len(held)} runs hold a latest materialization"
        )
        return dg.Output(
            None,
            metadata={
                "deleted_runs": len(doomed),
                "trimmed_runs": len(trimmed),
                "finished_runs": len(runs),
                "runs_holding_latest_materializations": len(held),
                "as_of": now.isoformat(),
            },
        )

    @dg.job(
        name="prune_run_history",
        description="Deletes old finished runs from Dagster's storage (RUN_RETENTION_DAYS); "
        "a run holding the latest materialization of an asset partition keeps its record and "
        "those materializations.",
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

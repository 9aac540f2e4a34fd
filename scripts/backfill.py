"""`make backfill START=YYYY-MM-DD END=YYYY-MM-DD`: every asset for an inclusive range, one run.

`make backfill` runs `python -m scripts.backfill`. The run is recorded in the Dagster instance at
`DAGSTER_HOME` like a UI backfill, so it shows up in `make dev`. Configuration comes from the
environment (README, configuration table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import socket
import sys
import traceback

import dagster as dg

from assets.schedules import partition_range_tags, refresh_job
from assets.settings import ConfigError, Settings
from scripts.instance import (
    URL_VARIABLE,
    InstanceConfigError,
    dagster_instance,
    storage_url,
)
from warehouse import location, paths
from warehouse.locks import run_lock, waiting_message

log = logging.getLogger("openai_usage_warehouse")

_QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
PID_TAG = "openai_usage_warehouse/pid"
HOST_TAG = "openai_usage_warehouse/host"
# The daemon queues a run while another one with the same value of this tag is in progress
# (`.dagster_home/dagster.yaml`), rather than start it only to wait on the warehouse's run lock.
# Dagster tags every run it launches with its code location; a backfill tags its runs the same
# way, with the name `workspace.yaml` gives the location.
QUEUE_TAG = "dagster/code_location"
CODE_LOCATION = "openai_usage_warehouse"


class BackfillError(ValueError):
    """A range that cannot be backfilled; the message says which bound to change."""


def parse_range(start: str, end: str, earliest: dt.date, today: dt.date) -> tuple[dt.date, dt.date]:
    """Validate an inclusive `START..END` range of UTC days."""
    try:
        first = dt.date.fromisoformat(start)
        last = dt.date.fromisoformat(end)
    except ValueError:
        raise BackfillError(
            f"START={start!r} and END={end!r} must be dates as YYYY-MM-DD."
        ) from None
    if first > last:
        raise BackfillError(f"START {first} is after END {last}: swap them.")
    if first < earliest:
        raise BackfillError(
            f"START {first} is before USAGE_START_DATE {earliest}: "
            "use a later START or set USAGE_START_DATE earlier."
        )
    if last > today:
        raise BackfillError(f"END {last} is in the future (today is {today} UTC).")
    return first, last


def run_backfill(
    first: dt.date, last: dt.date, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize every asset for `[first, last]` in one run and return its result."""
    from assets.definitions import defs

    job = defs().resolve_job_def(refresh_job.name)
    planned_events_per_asset()
    instance = instance or dagster_instance()
    release_dead_runs(instance)
    tags = run_tags(first, last)
    # The run's `warehouse_lock` resource keeps other runs off the warehouse (warehouse/locks.py);
    # taken here first, a backfill that has to wait is not shown as started meanwhile.
    with run_lock(paths.run_lock_path(), on_wait=_log_waiting):
        return job.execute_in_process(
            instance=instance,
            tags=tags,
            run_config=_QUIET_RUN_CONFIG,
            raise_on_error=False,
        )


def run_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """A backfill run's tags: its range; the process running it (`release_dead_runs`); and the
    code location, like every run the daemon launches, so the daemon's run queue counts it."""
    return {
        **partition_range_tags(first.isoformat(), last.isoformat()),
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
        QUEUE_TAG: CODE_LOCATION,
    }


def _log_waiting() -> None:
    log.info(waiting_message())


PLANNED_EVENTS_VARIABLE = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


def planned_events_per_asset() -> None:
    """One "materialization planned" event per asset for a range, not one per partition.

    Dagster's SQLite storage otherwise writes one per asset and day before the first step
    starts: 13,210 events and 9 of the 15 minutes of a 3-year backfill (RELIABILITY.md). The
    cost, in Dagster's words: partitions of a failed run show as missing rather than failed
    (the run itself shows failed, and a re-run of missing partitions picks them up). Set the
    variable to 0 to keep per-partition events.
    """
    os.environ.setdefault(PLANNED_EVENTS_VARIABLE, "1")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail earlier backfill runs whose process is gone, and free their `duckdb` pool slot.

    A run killed half-way (SIGKILL, a closed laptop) never reports its end, so it would hold the
    pool slot for good and every later run would wait on it. Only runs started by this command
    on this host are considered: their tags name the process that ran them.
    """
    released = []
    statuses = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
    for record in instance.get_run_records(dg.RunsFilter(statuses=statuses)):
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if not pid or run.tags.get(HOST_TAG) != socket.gethostname():
            continue
        if _process_alive(int(pid)):
            continue
        instance.report_run_failed(run, "Its process ended without finishing (killed).")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        log.warning("Released run %s, left behind by a killed process %s", run.run_id, pid)
        released.append(run.run_id)
    return released


def configure_logging() -> None:
    """Progress of the pages fetched, on stderr (Dagster prints its own events)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    for name in ("pipelines", "openai_usage_warehouse"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        if not logger.handlers:
            logger.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", required=True, help="first UTC day, YYYY-MM-DD")
    parser.add_argument("--end", required=True, help="last UTC day (inclusive), YYYY-MM-DD")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        settings = Settings.from_env()
        storage_url(os.environ.get(URL_VARIABLE))
        first, last = parse_range(
            args.start, args.end, settings.usage_start_date, dt.datetime.now(dt.UTC).date()
        )
    except (ConfigError, BackfillError, InstanceConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    log.info("Backfilling %s..%s into %s", first, last, location.describe(settings.warehouse))
    try:
        result = run_backfill(first, last)
    except Exception as exc:
        # Not a step failure (those are in the result) but the run itself: Dagster's storage, the
        # definitions. The traceback is for a bug report; the last line says what happened.
        # Neither may show a database password.
        print(mask_passwords(traceback.format_exc()), file=sys.stderr, end="")
        print(
            mask_passwords(f"error: the backfill could not run: {type(exc).__name__}: {exc}"),
            file=sys.stderr,
        )
        return 1
    if not result.success:
        print(
            mask_passwords(
                f"error: backfill run {result.run_id} failed: {failure_summary(result)}"
            ),
            file=sys.stderr,
        )
        return 1
    log.info("Backfill run %s succeeded", result.run_id)
    return 0


def mask_passwords(text: str) -> str:
    """`text` without the passwords of the warehouse's and Dagster's Postgres URLs."""
    for variable in (location.URL_VARIABLE, URL_VARIABLE):
        text = location.mask_password_of(os.environ.get(variable), text)
    return text


def failure_summary(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's error message, which is what a user needs to act on."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and "dagster" in error.cls_name.lower():
                error = error.cause
            return f"step {event.step_key}: {error.message.strip()}"
    return "see the run's logs in the Dagster UI"


if __name__ == "__main__":
    sys.exit(main())

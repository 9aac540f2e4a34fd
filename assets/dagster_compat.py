"""The Dagster internals run retention (assets/retention.py) relies on, all in one place.

Dagster 1.13 has no public call to delete some of a run's events, its asset check rows or its
SQLite event file (`DagsterInstance.delete_run` deletes a whole run and leaves the latter two).
Retention therefore works on the SQL event log storage's own tables (SQLite or Postgres). Each
name below says why no public way exists; tests/test_dagster_compat.py fails when a Dagster
upgrade moves or changes any of them.
"""

import os

import dagster as dg

# Dagster's own list of the events that set a run's status (start, success, failure, enqueued,
# canceled, ...): a trimmed run keeps them so that its status still reads right. Only this
# private mapping says which event types these are, and it grows with Dagster (e.g. suspended
# and resumed runs), so a list written here would drift from it.
from dagster._core.events import EVENT_TYPE_TO_PIPELINE_RUN_STATUS

# The storage classes: the public `EventLogStorage` interface has no SQL connection nor table,
# only these implementations (SQLite, and Postgres as a subclass of SqlEventLogStorage) do.
from dagster._core.storage.event_log import SqlEventLogStorage, SqliteEventLogStorage

# The tables of the SQL event log storage: no public API deletes single events (trimming keeps
# some of a run's events) nor asset check evaluation rows (delete_run leaves them behind).
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    AssetEventTagsTable,
    SqlEventLogStorageTable,
)

__all__ = [
    "AssetCheckExecutionsTable",
    "AssetEventTagsTable",
    "SqlEventLogStorageTable",
    "forget_run_event_file",
    "run_status_event_types",
    "sql_event_log",
]


def run_status_event_types() -> list[str]:
    """The stored `dagster_event_type` values of the events that set a run's status."""
    return [event_type.value for event_type in EVENT_TYPE_TO_PIPELINE_RUN_STATUS]


def sql_event_log(instance: dg.DagsterInstance) -> SqlEventLogStorage | None:
    """The instance's event log storage when it is SQL-backed (whose `index_connection` reaches
    the tables above), else None."""
    storage = instance.event_log_storage
    return storage if isinstance(storage, SqlEventLogStorage) else None


def forget_run_event_file(instance: dg.DagsterInstance, run_id: str) -> None:
    """With SQLite storage, remove the run's own event file (and its WAL/SHM companions).

    `delete_run` empties that file but SQLite files do not shrink; Dagster's own `wipe` removes
    them the same way, through `path_for_shard`, which no public API exposes. The storage
    remembers which run files it set up (`_initialized_dbs`, private): it is told to forget this
    one, so that a later read of the run sets up an empty file rather than failing on a file
    without tables.
    """
    storage = instance.event_log_storage
    if not isinstance(storage, SqliteEventLogStorage):
        return
    path = storage.path_for_shard(run_id)
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.remove(name)
    storage._initialized_dbs.discard(run_id)

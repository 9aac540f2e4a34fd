"""The Dagster instance at `DAGSTER_HOME`, opened safely when several processes start at once.

Dagster creates its SQLite storages (runs, event log index, schedules) on first use without a
lock between processes: two runs started together on a new `DAGSTER_HOME` (a cron'd backfill and
`make dev`, or the reliability suite's overlapping runs) can stamp the schema version twice, and
from then on every process fails with alembic's "more than one head present". Measured here: 10 of
10 four-process starts on a fresh home. Every entry point opens the instance through
`dagster_instance()`, which creates the storages under an exclusive file lock in `DAGSTER_HOME`;
once they exist the lock is held for milliseconds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg

LOCK_FILE = ".openai_usage_warehouse.instance.lock"


@contextlib.contextmanager
def exclusive(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if missing) while the block runs;
    `on_wait` is called once if another holder makes this one wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def dagster_instance() -> dg.DagsterInstance:
    """`DagsterInstance.get()`, with its storages created by one process at a time."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        # Dagster's own error says to set DAGSTER_HOME; there is no shared home to race on.
        return dg.DagsterInstance.get()
    with exclusive(Path(home) / LOCK_FILE):
        # Building the instance builds its storages (and their SQLite schemas) there and then.
        return dg.DagsterInstance.get()

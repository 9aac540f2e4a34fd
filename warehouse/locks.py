"""File locks: one run writes a warehouse at a time, however it was started.

DuckDB allows one writer process, and a reader blocks it; on Postgres, two runs interleaving
their loads and dbt builds would leave marts of neither. Dagster's `duckdb` pool orders the steps
of concurrent runs, but its SQLite storage can hand the one slot to two runs asking in the same
instant, and a pool slot is held per step, not per run. So every run that touches the warehouse
holds an exclusive file lock beside it (`paths.run_lock_path()`) from its first step to its last:
the `warehouse_lock` resource, which every asset and check that opens the warehouse requires.
With the in-process executor (assets/definitions.py) Dagster sets a run's resources up once,
before its first step, and tears them down after its last.

`make backfill` takes the same lock before it creates its run, so a backfill that has to wait is
not shown as started meanwhile; the run's resource then enters the lock its own thread already
holds. The lock is re-entrant in that thread only: another thread of the same process waits like
another process would.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from warehouse import location, paths


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


# Lock path -> (thread holding it, how many blocks of that thread are inside).
_held: dict[Path, tuple[int, int]] = {}


def reentry_depth(held: dict[Path, tuple[int, int]], path: Path, thread: int) -> int:
    """How deep `thread` already is inside the lock on `path` (0: it must acquire it)."""
    holder, depth = held.get(path, (None, 0))
    return depth if holder == thread else 0


@contextlib.contextmanager
def run_lock(path: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the run lock on `path` while the block runs; `on_wait` is called once if another
    run makes this one wait. Re-entering from the thread that holds it never waits."""
    path = path.resolve()
    thread = threading.get_ident()
    depth = reentry_depth(_held, path, thread)
    if depth:
        _held[path] = (thread, depth + 1)
        try:
            yield
        finally:
            _held[path] = (thread, depth)
        return
    with exclusive(path, on_wait):
        _held[path] = (thread, 1)
        try:
            yield
        finally:
            del _held[path]


def waiting_message() -> str:
    """What a run that waits for the warehouse says (`make backfill`, the run's own log)."""
    return (
        f"Another run is writing {location.describe(paths.warehouse())}: "
        "this one starts when it has finished"
    )

"""Workspaces, backfill subprocesses, mart fingerprints and secret scans used by every case.

Each case gets its own workspace (warehouse folder, Dagster home, serving folder, logs) under the
suite's root, so cases never share state unless they mean to, and the secret scan at the end can
read everything the suite produced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from serving import publish
from warehouse import paths

REPO_ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.datetime.now(dt.UTC).date()
# One distinctive fake admin key per suite run: the simulator accepts any `sk-admin-` bearer.
SECRET_KEY = f"sk-admin-RELIABILITY-{secrets.token_hex(12)}"
RUN_TIMEOUT_S = 900
# Runs in flight, so an interrupted suite can SIGKILL exactly the process groups it started.
LIVE: set[subprocess.Popen] = set()


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


@dataclass
class Outcome:
    """How one backfill subprocess ended: exit code, merged output, wall time."""

    returncode: int
    output: str
    seconds: float

    def error_line(self) -> str:
        """The one `error: ...` line the command prints on failure (empty when none)."""
        lines = [line for line in self.output.splitlines() if line.startswith("error: ")]
        return lines[-1] if lines else ""

    def failure_line(self) -> str:
        """Why a failed run failed: its `error:` line, else its last line (a traceback's end)."""
        if self.returncode == 0:
            return ""
        last = [line for line in self.output.splitlines() if line.strip()][-1:]
        return self.error_line() or (last[0] if last else f"no output, exit {self.returncode}")


@dataclass
class Workspace:
    """A private warehouse + Dagster home + serving folder + logs, and the env to run in it."""

    root: Path
    base_url: str = ""
    key: str = SECRET_KEY
    extra_env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    def __post_init__(self) -> None:
        for name in ("warehouse", "dagster_home", "serving", "logs"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        # `make backfill` copies the instance settings (the `duckdb` pool) the same way.
        shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", self.dagster_home)

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "openai_usage.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def serving(self) -> Path:
        return self.root / "serving"

    @property
    def dbt_dir(self) -> Path:
        return paths.beside(self.warehouse, ".dbt")

    @property
    def dlt_dir(self) -> Path:
        return paths.beside(self.warehouse, ".dlt")

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "USAGE_", "RUNTIME__", "PYTEST_"))
        }
        env.update(
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            OPENAI_BASE_URL=self.base_url,
            OPENAI_ADMIN_KEY=self.key,
            # Faults come from the proxy; client pacing (tested elsewhere) would only add time.
            OPENAI_REQUESTS_PER_SECOND="0",
            WAREHOUSE_PATH=str(self.warehouse),
            DAGSTER_HOME=str(self.dagster_home),
            SERVING_DIR=str(self.serving),
            USAGE_START_DATE=days_ago(400).isoformat(),
        )
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def start(self, start: dt.date | str, end: dt.date | str, **env: str) -> tuple:
        """Start `python -m scripts.backfill` in its own process group; output goes to a log."""
        self.runs += 1
        log = self.root / "logs" / f"run{self.runs:03d}.log"
        handle = log.open("w")
        cmd = [sys.executable, "-m", "scripts.backfill", "--start", str(start), "--end", str(end)]
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=self.env(**env),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        LIVE.add(proc)
        return proc, log, handle, time.monotonic()

    def backfill(
        self,
        start: dt.date | str,
        end: dt.date | str,
        timeout_s: float = RUN_TIMEOUT_S,
        **env: str,
    ) -> Outcome:
        """Run a backfill to its end (killed after `timeout_s`)."""
        proc, log, handle, began = self.start(start, end, **env)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.wait()
            with log.open("a") as note:
                note.write(f"\nerror: killed by the suite after {timeout_s:.0f} s\n")
        LIVE.discard(proc)
        handle.close()
        return Outcome(proc.returncode, log.read_text(errors="replace"), time.monotonic() - began)

    def kill_when(
        self,
        start: dt.date,
        end: dt.date,
        ready: Callable[[str, float], bool],
        **env: str,
    ) -> tuple[bool, float, str]:
        """Start a run and SIGKILL its process group once `ready(output, elapsed)` is true.

        Returns (killed, elapsed, output). A run that ends before `ready` fires is not killed.
        """
        proc, log, handle, began = self.start(start, end, **env)
        killed = False
        while proc.poll() is None and time.monotonic() - began < RUN_TIMEOUT_S:
            if ready(log.read_text(errors="replace"), time.monotonic() - began):
                kill_group(proc)
                killed = True
                break
            time.sleep(0.05)
        proc.wait()
        LIVE.discard(proc)
        handle.close()
        return killed, time.monotonic() - began, log.read_text(errors="replace")


def kill_live() -> None:
    """SIGKILL every run still in flight (the suite is being interrupted)."""
    for proc in list(LIVE):
        kill_group(proc)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group this harness started (the run and its dbt subprocess)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# Marts


# Columns that describe the present, not the window: the directory is a live snapshot and the
# simulator's keys are "last used" minutes before now, and a spend limit is dated by the load
# that first saw it, so two honest runs differ there.
VOLATILE_COLUMNS = {"last_used_at", "limit_seen_since"}


@dataclass(frozen=True)
class MartRows:
    """Every row of one mart, in a canonical order, compared with a tolerance on its numbers.

    Summing the same rows in another order changes the last bits of a double. Rounding to a
    fixed number of digits before comparing does not help: costs are exact decimals (tokens
    times a price), so two such sums often straddle the rounding boundary and round apart.
    Numbers therefore compare within 1e-9, relative or absolute; other columns compare exactly.
    """

    rows: tuple[tuple, ...]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MartRows):
            return NotImplemented
        return len(self.rows) == len(other.rows) and all(
            _rows_close(a, b) for a, b in zip(self.rows, other.rows, strict=True)
        )

    __hash__ = None  # type: ignore[assignment]


def numbers_close(x: float, y: float) -> bool:
    """Two sums of the same numbers in another order: equal within 1e-9, relative or absolute."""
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def _rows_close(a: tuple, b: tuple) -> bool:
    return all(
        numbers_close(x, y) if isinstance(x, float) else x == y for x, y in zip(a, b, strict=True)
    )


def mart_fingerprint(path: Path) -> dict[str, MartRows]:
    """Every table of schema `marts` with its rows (see MartRows); {} when there is no warehouse."""
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        return {table: _mart_rows(con, table) for table in publish.mart_names(con)}


def differing_marts(a: dict[str, MartRows], b: dict[str, MartRows]) -> list[str]:
    """Names of the marts that are missing on one side or hold other rows."""
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))


def _mart_rows(con: duckdb.DuckDBPyConnection, table: str) -> MartRows:
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    kept = [(name, kind) for name, kind in columns if name not in VOLATILE_COLUMNS]
    numbers = [f'"{name}"::double' for name, kind in kept if _is_fractional(kind)]
    others = [f'"{name}"::varchar' for name, kind in kept if not _is_fractional(kind)]
    # Exact columns sort first, so a last-bit difference in a number cannot reorder the rows.
    order = ", ".join(str(i + 1) for i in range(len(others) + len(numbers))) or "1"
    select = ", ".join(others + numbers) or "1"
    rows = con.execute(f'select {select} from marts."{table}" order by {order}').fetchall()
    return MartRows(tuple(rows))


def _is_fractional(kind: str) -> bool:
    return kind in ("DOUBLE", "FLOAT", "REAL") or kind.startswith("DECIMAL")


def raw_counts(path: Path) -> dict[str, int]:
    """Row counts of the raw usage and cost tables (what endurance checks exactly)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            name: con.execute(f"select count(*) from raw.{name}").fetchone()[0]
            for name in ("completions_usage", "costs")
        }


# --------------------------------------------------------------------------------------------
# Secrets and sizes


def files_containing(root: Path, needle: str) -> list[str]:
    """Every file under `root` whose bytes contain `needle` (binary files included)."""
    token = needle.encode()
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if token in path.read_bytes():
                    hits.append(str(path))
            except OSError:
                continue
    return hits


def duckdb_values_containing(path: Path, needle: str) -> list[str]:
    """`schema.table.column` of every varchar column of a DuckDB file holding `needle`.

    Byte scans can miss compressed strings in DuckDB files, so the contents are queried too.
    """
    hits = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in columns:
            found = con.execute(
                f'select count(*) from "{schema}"."{table}" where contains("{column}", ?)',
                [needle],
            ).fetchone()[0]
            if found:
                hits.append(f"{schema}.{table}.{column}")
    return hits


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0

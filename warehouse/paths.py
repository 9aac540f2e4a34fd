"""File locations from the environment, as absolute paths.

The variables are the interface contract in docs/architecture.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from warehouse import location

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "openai_usage.duckdb"


def warehouse_path() -> Path:
    """The working DuckDB file (`WAREHOUSE_PATH`); relative paths are taken from the repo root."""
    raw = os.environ.get("WAREHOUSE_PATH")
    path = Path(raw) if raw else DEFAULT_WAREHOUSE
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def warehouse() -> location.Warehouse:
    """The working warehouse: the Postgres database of `WAREHOUSE_URL` when set, else the
    DuckDB file."""
    return location.postgres_url() or warehouse_path()


def state_anchor() -> Path:
    """What local tool state (dlt, dbt, the run lock) is kept beside: the working DuckDB file,
    or for a Postgres warehouse a name of its database in the same folder, so two databases
    never share it."""
    url = location.postgres_url()
    path = warehouse_path()
    return path if url is None else path.with_name(url.state_name())


def serving_dir() -> Path:
    """What BI tools open (`SERVING_DIR`, default `serving/` beside the working file)."""
    raw = os.environ.get("SERVING_DIR")
    if raw:
        path = Path(raw)
        return path if path.is_absolute() else (REPO_ROOT / path).resolve()
    return warehouse_path().parent / "serving"


def beside(warehouse: Path, tool: str) -> Path:
    """A tool's working state for `warehouse` (`.dlt`, `.dbt`): beside the file, one folder per
    warehouse name, so two warehouses in one folder never share it."""
    return warehouse.parent / tool / warehouse.stem


def dlt_pipelines_dir() -> Path:
    """dlt's local working state, kept beside the warehouse it belongs to (never in $HOME)."""
    return beside(state_anchor(), ".dlt")


def dbt_state_dir() -> Path:
    """dbt's per-run target folders and its partial-parse cache, beside the warehouse they
    were parsed for (dbt re-parses from scratch when the warehouse path differs)."""
    return beside(state_anchor(), ".dbt")


def run_lock_path() -> Path:
    """The lock file one run on the warehouse holds at a time (`scripts/backfill.py`)."""
    anchor = state_anchor()
    return anchor.parent / f".{anchor.name}.run.lock"

"""File locations from the environment (DESIGN.md interface contract), as absolute paths."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "openai_usage.duckdb"


def warehouse_path() -> Path:
    """The working DuckDB file (`WAREHOUSE_PATH`); relative paths are taken from the repo root."""
    raw = os.environ.get("WAREHOUSE_PATH")
    path = Path(raw) if raw else DEFAULT_WAREHOUSE
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def serving_dir() -> Path:
    """What BI tools open (`SERVING_DIR`, default `serving/` beside the working file)."""
    raw = os.environ.get("SERVING_DIR")
    if raw:
        path = Path(raw)
        return path if path.is_absolute() else (REPO_ROOT / path).resolve()
    return warehouse_path().parent / "serving"


def dlt_pipelines_dir() -> Path:
    """dlt's local working state, kept beside the warehouse it belongs to (never in $HOME)."""
    return warehouse_path().parent / ".dlt" / warehouse_path().stem


def dbt_state_dir() -> Path:
    """dbt's per-run target folders and its partial-parse cache, beside the warehouse they
    were parsed for (dbt re-parses from scratch when the warehouse path differs)."""
    return warehouse_path().parent / ".dbt" / warehouse_path().stem

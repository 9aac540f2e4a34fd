"""Small read-only queries of the working warehouse used by Python steps (no transforms here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

_MODEL_DAYS = """
select distinct model, bucket_date
from raw.completions_usage
where model is not null
order by model, bucket_date
"""


def model_days(path: Path) -> list[tuple[str, dt.date]]:
    """Every (model, day) with usage: the prices dbt needs. Empty before the first load."""
    if not path.exists():
        return []
    with duckdb.connect(str(path), read_only=True) as con:
        has_table = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'completions_usage'"
        ).fetchone()[0]
        if not has_table:
            return []
        return [(model, day) for model, day in con.execute(_MODEL_DAYS).fetchall()]

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
        ).fetchall()[0][0]
        if not has_table:
            return []
        return [(model, day) for model, day in con.execute(_MODEL_DAYS).fetchall()]


def rows_by_day(
    path: Path, table: str, first: dt.date, end: dt.date
) -> list[tuple[dt.date, str, int]]:
    """Rows per (day, organization) of a bucketed raw table in `[first, end)`.

    What a partition's load contained, for the Dagster UI. `table` must be a raw table name; it
    is looked up, never spliced into SQL text.
    """
    if not path.exists():
        return []
    with duckdb.connect(str(path), read_only=True) as con:
        known = con.execute(
            "select count(*) from information_schema.columns where table_schema = 'raw' "
            "and table_name = ? and column_name = 'bucket_date'",
            [table],
        ).fetchall()[0][0]
        if not known:
            return []
        day = duckdb.ColumnExpression("bucket_date")
        relation = con.table(f"raw.{table}").filter(
            (day >= duckdb.ConstantExpression(first)) & (day < duckdb.ConstantExpression(end))
        )
        counted = relation.aggregate(
            "bucket_date, organization, count(*) as row_count", "bucket_date, organization"
        )
        return sorted(counted.fetchall())

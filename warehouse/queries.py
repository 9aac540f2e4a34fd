"""Small read-only queries of the working warehouse used by Python steps (no transforms here)."""

from __future__ import annotations

import datetime as dt

from warehouse.connection import connect, exists
from warehouse.location import Warehouse

_MODEL_DAYS = """
select distinct model, bucket_date
from raw.completions_usage
where model is not null
order by model, bucket_date
"""


def model_days(warehouse: Warehouse) -> list[tuple[str, dt.date]]:
    """Every (model, day) with usage: the prices dbt needs. Empty before the first load."""
    if not exists(warehouse):
        return []
    with connect(warehouse) as con:
        has_table = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'completions_usage'"
        ).fetchall()[0][0]
        if not has_table:
            return []
        return [(model, day) for model, day in con.execute(_MODEL_DAYS).fetchall()]


def rows_by_day(
    warehouse: Warehouse, table: str, first: dt.date, end: dt.date
) -> list[tuple[dt.date, str, int]]:
    """Rows per (day, organization) of a bucketed raw table in `[first, end)`.

    What a partition's load contained, for the Dagster UI. `table` must be a raw table name; it
    is looked up in the catalog before it is quoted into SQL.
    """
    if not exists(warehouse):
        return []
    with connect(warehouse) as con:
        known = con.execute(
            "select table_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = ? and column_name = 'bucket_date'",
            [table],
        ).fetchall()
        if not known:
            return []
        name = known[0][0].replace('"', '""')
        counted = con.execute(
            "select bucket_date, organization, count(*) as row_count"
            f' from raw."{name}"'  # a name from the catalog, quoted
            " where bucket_date >= ? and bucket_date < ?"
            " group by bucket_date, organization",
            [first, end],
        ).fetchall()
        return sorted((day, org, int(count)) for day, org, count in counted)

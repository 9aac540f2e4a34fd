"""Small read-only queries of the working warehouse used by Python steps (no transforms here)."""

from __future__ import annotations

import datetime as dt

from warehouse.connection import Connection, connect, exists
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


def existing_columns(con: Connection) -> dict[str, set[str]]:
    """Every relation of the warehouse as `schema.table` -> its column names."""
    rows = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for schema, table, column in rows:
        found.setdefault(f"{schema}.{table}", set()).add(column)
    return found

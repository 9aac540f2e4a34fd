"""Row counts and first rows of warehouse relations, for the metadata Dagster shows.

Kept apart from the report so that the dbt step, which records these facts after every build,
loads neither pandas nor Plotly.
"""

from __future__ import annotations

from collections.abc import Sequence

from warehouse.connection import Connection, connect
from warehouse.location import Warehouse
from warehouse.markdown import markdown_table


def existing_columns(con: Connection) -> dict[str, set[str]]:
    """Every relation of the warehouse as `schema.table` -> its column names."""
    rows = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
    ).fetchall()
    found: dict[str, set[str]] = {}
    for schema, table, column in rows:
        found.setdefault(f"{schema}.{table}", set()).add(column)
    return found


Table = tuple[str, str]


def table_facts(
    warehouse: Warehouse, counted: Sequence[Table], previewed: Sequence[Table], limit: int = 5
) -> tuple[dict[Table, int], dict[Table, str]]:
    """Row counts of the `counted` (schema, table or view) and the first `limit` rows of the
    `previewed` ones as Markdown (newest `usage_date` first), in one read-only connection.

    Relations are found by schema and name only: dagster-dbt's own row counts name them by the
    catalog the manifest was parsed with (the file's stem at parse time), so they fail whenever
    `WAREHOUSE_PATH` names another file. Identifiers are checked against the catalog before
    they are quoted into SQL; relations that do not exist are left out.
    """
    counts: dict[Table, int] = {}
    previews: dict[Table, str] = {}
    with connect(warehouse) as con:
        columns = existing_columns(con)
        for schema, table in counted:
            if f"{schema}.{table}" in columns:
                sql = f'select count(*) from "{schema}"."{table}"'  # identifiers checked
                counts[(schema, table)] = con.execute(sql).fetchall()[0][0]
        for schema, table in previewed:
            cols = columns.get(f"{schema}.{table}")
            if cols is None:
                continue
            keys = [c for c in ("usage_date desc", "billed_cost_usd desc") if c.split()[0] in cols]
            order = ("order by " + ", ".join(keys)) if keys else ""
            sql = f'select * from "{schema}"."{table}" {order} limit ?'  # identifiers checked
            cursor = con.execute(sql, [limit])
            names = [d[0] for d in cursor.description]
            previews[(schema, table)] = markdown_table(names, cursor.fetchall())
    return counts, previews

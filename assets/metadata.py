"""What the assets show in the Dagster UI: Markdown tables, rows per day of a load, row counts
and first rows of relations.

No pandas or Plotly here: every run process imports this module (the dbt step records these facts
after every build), and loading the definitions must not load them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from warehouse import queries
from warehouse.connection import connect, exists
from warehouse.location import Warehouse


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float | Decimal):
        text = f"{value:,.4f}".rstrip("0").rstrip(".")
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    columns: Sequence[str], rows: Sequence[Sequence[object]], limit: int | None = None
) -> str:
    """A GitHub-style Markdown table; "(none)" when empty, a "… N more" row past `limit`."""
    if not rows:
        return "(none)"
    shown = rows if limit is None else rows[:limit]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in shown]
    if len(rows) > len(shown):
        lines.append(f"| … {len(rows) - len(shown)} more |" + " |" * (len(columns) - 1))
    return "\n".join(lines)


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
        columns = queries.existing_columns(con)
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

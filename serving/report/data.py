"""The report's reads: fixed SQL over the marts into small DataFrames, in one read-only session.

Each section reads one mart. A section whose mart does not exist in this warehouse (built by an
older version, or budgets not configured) gets no frame and the page says so; it is never an
error. The connection is closed before any figure is built, because DuckDB lets a reader block
the pipeline's writer. The SQL runs on the DuckDB file and on a Postgres warehouse alike
(`warehouse/connection.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from warehouse.connection import Connection, connect, exists
from warehouse.location import Warehouse, describe
from warehouse.queries import existing_columns


class ReportError(RuntimeError):
    """The report cannot be rendered; the message says what to run first."""


@dataclass(frozen=True)
class Source:
    """One section's read: fixed SQL over relations that must exist first.

    `needs` maps each relation the SQL reads to the columns it uses; when one is missing (a mart
    not built yet) the section shows a note instead. SQL is constant text with bound `?`
    parameters, never formatted with values.
    """

    label: str
    needs: dict[str, tuple[str, ...]]
    sql: str
    params: Callable[[dt.date, dt.date], list[object]] = lambda start, end: [start, end]


_USAGE_COLS = ("usage_date", "requests", "input_tokens", "cached_input_tokens", "output_tokens")
_COST_COLS = ("billed_cost_usd", "estimated_cost_usd")

# Sums over any extra grain a mart has (e.g. `organization`): the report shows all of them.
MODEL_DAILY = Source(
    "marts.cost_by_model_daily",
    {"marts.cost_by_model_daily": (*_USAGE_COLS, "model", *_COST_COLS)},
    """
    select usage_date, model, cast(sum(requests) as bigint) as requests,
           cast(sum(input_tokens) as bigint) as input_tokens,
           cast(sum(cached_input_tokens) as bigint) as cached_input_tokens,
           cast(sum(output_tokens) as bigint) as output_tokens,
           cast(sum(billed_cost_usd) as double precision) as billed_cost_usd,
           sum(estimated_cost_usd) as estimated_cost_usd
    from marts.cost_by_model_daily
    where usage_date between ? and ?
    group by usage_date, model
    """,
)

PROJECT_DAILY = Source(
    "marts.cost_by_project_daily",
    {"marts.cost_by_project_daily": ("usage_date", "project_id", "project_name", *_COST_COLS)},
    """
    select usage_date, coalesce(project_name, project_id) as project,
           cast(sum(billed_cost_usd) as double precision) as billed_cost_usd,
           sum(estimated_cost_usd) as estimated_cost_usd
    from marts.cost_by_project_daily
    where usage_date between ? and ?
    group by usage_date, coalesce(project_name, project_id)
    """,
)

# usage_daily covers every usage family (completions, embeddings, ...), not only completions.
# dim_projects holds one row per project of the projects listing, named as there.
USAGE_BY_MODEL_PROJECT = Source(
    "marts.usage_daily",
    {
        "marts.usage_daily": ("usage_date", "model", "project_id", "requests"),
        "marts.dim_projects": ("project_id", "project_name"),
    },
    """
    select coalesce(u.model, '(unknown model)') as model,
           coalesce(p.project_name, u.project_id, '(no project)') as project,
           cast(sum(u.requests) as bigint) as requests
    from marts.usage_daily as u
    left join marts.dim_projects as p on u.project_id = p.project_id
    where u.usage_date between ? and ?
    group by 1, 2
    """,
)

LINE_ITEMS = Source(
    "marts.cost_by_line_item_daily",
    {"marts.cost_by_line_item_daily": ("usage_date", "line_item", "billed_cost_usd")},
    """
    select coalesce(line_item, '(no line item)') as line_item,
           cast(sum(billed_cost_usd) as double precision) as billed_cost_usd
    from marts.cost_by_line_item_daily
    where usage_date between ? and ?
    group by 1
    """,
)

API_KEYS_DAILY = Source(
    "marts.cost_by_api_key_daily",
    {
        "marts.cost_by_api_key_daily": (
            "usage_date",
            "api_key_id",
            "api_key_name",
            "owner_name",
            "project_name",
            "requests",
            "estimated_cost_usd",
        )
    },
    """
    select usage_date, api_key_id, min(api_key_name) as api_key_name,
           min(owner_name) as owner_name, min(project_name) as project_name,
           cast(sum(requests) as bigint) as requests,
           sum(estimated_cost_usd) as estimated_cost_usd
    from marts.cost_by_api_key_daily
    where usage_date between ? and ?
    group by usage_date, api_key_id
    """,
)

DAILY_TOTALS = Source(
    "marts.cost_reconciliation_daily",
    {"marts.cost_reconciliation_daily": ("usage_date", *_COST_COLS)},
    """
    select usage_date, cast(sum(billed_cost_usd) as double precision) as billed_cost_usd,
           sum(estimated_cost_usd) as estimated_cost_usd
    from marts.cost_reconciliation_daily
    where usage_date between ? and ?
    group by usage_date
    """,
)

# The month-end projection is the monthly marts' (linear month to date, as the budgets use),
# summed over projects and organizations for the month of the report's last day.
PROJECTED_MONTH = Source(
    "marts.cost_by_project_monthly",
    {"marts.cost_by_project_monthly": ("month_start", "projected_billed_cost_usd")},
    """
    select cast(sum(projected_billed_cost_usd) as double precision) as projected_billed_cost_usd
    from marts.cost_by_project_monthly
    where month_start = ?
    """,
    params=lambda start, end: [end.replace(day=1)],
)

# Budgets' marts: their newest rows as they are.
BUDGET_STATUS = Source(
    "marts.budget_status",
    {"marts.budget_status": ()},
    "select * from marts.budget_status limit 50",
    params=lambda start, end: [],
)
SPEND_ANOMALIES = Source(
    "marts.spend_anomalies",
    {"marts.spend_anomalies": ("usage_date",)},
    """
    select * from marts.spend_anomalies
    where usage_date between ? and ?
    order by usage_date desc
    limit 50
    """,
)

# OpenAI's own hard limits and alerts, in USD (the API gives cents), beside our budgets.
SPEND_LIMITS = Source(
    "marts.openai_spend_limits",
    {
        "marts.openai_spend_limits": (
            "organization",
            "scope_type",
            "scope_name",
            "limit_usd",
            "limit_interval",
            "enforcement_status",
            "spent_usd",
            "percent_used",
        )
    },
    """
    select organization, scope_type, scope_name,
           cast(limit_usd as double precision) as limit_usd, limit_interval,
           enforcement_status, spent_usd, percent_used
    from marts.openai_spend_limits
    """,
    params=lambda start, end: [],
)
SPEND_ALERTS = Source(
    "marts.openai_spend_alerts",
    {
        "marts.openai_spend_alerts": (
            "organization",
            "scope_type",
            "scope_name",
            "threshold_usd",
            "alert_interval",
            "recipient_count",
            "spent_usd",
            "is_crossed",
        )
    },
    """
    select organization, scope_type, scope_name,
           cast(threshold_usd as double precision) as threshold_usd, alert_interval,
           recipient_count, spent_usd, is_crossed
    from marts.openai_spend_alerts
    """,
    params=lambda start, end: [],
)


@dataclass(frozen=True)
class Loaded:
    """A section's frame and the mart it came from; `frame` is None when the mart does not
    exist yet."""

    frame: pd.DataFrame | None
    source: str


def is_available(source: Source, columns: dict[str, set[str]]) -> bool:
    """Whether every relation and column `source` reads exists."""
    return all(rel in columns and set(cols) <= columns[rel] for rel, cols in source.needs.items())


def load(
    con: Connection,
    source: Source,
    columns: dict[str, set[str]],
    start: dt.date,
    end: dt.date,
) -> Loaded:
    """Read a section's frame, or none when its mart does not exist."""
    if not is_available(source, columns):
        return Loaded(None, source.label)
    return Loaded(con.execute(source.sql, source.params(start, end)).df(), source.label)


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, read in one short read-only session."""

    start: dt.date
    end: dt.date
    model_daily: Loaded
    project_daily: Loaded
    usage_by_model_project: Loaded
    line_items: Loaded
    api_keys_daily: Loaded
    daily_totals: Loaded
    headline_daily: Loaded
    projected_month: Loaded
    budget_status: Loaded
    spend_anomalies: Loaded
    spend_limits: Loaded
    spend_alerts: Loaded


def headline_window(start: dt.date, end: dt.date) -> dt.date:
    """First day the headline figures need: the previous period and the month's start."""
    days = (end - start).days + 1
    return min(start - dt.timedelta(days=days), end.replace(day=1))


def read_report_data(warehouse: Warehouse, start: dt.date, end: dt.date) -> ReportData:
    """Read every section's frame from the working warehouse (read-only, closed on return)."""
    if not exists(warehouse):
        raise ReportError(f"No warehouse at {warehouse}: run `make demo` or `make backfill` first.")
    with connect(warehouse) as con:
        columns = existing_columns(con)
        if "marts.cost_by_model_daily" not in columns:
            raise ReportError(
                f"{describe(warehouse)} has no marts yet: run `make demo` or `make backfill` first."
            )

        def read(source: Source, first: dt.date = start) -> Loaded:
            return load(con, source, columns, first, end)

        return ReportData(
            start=start,
            end=end,
            model_daily=read(MODEL_DAILY),
            project_daily=read(PROJECT_DAILY),
            usage_by_model_project=read(USAGE_BY_MODEL_PROJECT),
            line_items=read(LINE_ITEMS),
            api_keys_daily=read(API_KEYS_DAILY),
            daily_totals=read(DAILY_TOTALS),
            headline_daily=read(DAILY_TOTALS, headline_window(start, end)),
            projected_month=read(PROJECTED_MONTH),
            budget_status=read(BUDGET_STATUS),
            spend_anomalies=read(SPEND_ANOMALIES),
            spend_limits=read(SPEND_LIMITS),
            spend_alerts=read(SPEND_ALERTS),
        )

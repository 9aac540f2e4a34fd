"""The spend report: one self-contained HTML page of interactive Plotly charts over the marts.

`python -m warehouse.report [--start YYYY-MM-DD] [--end YYYY-MM-DD]` (`make report`) and the
Dagster asset `report` write `report.html` in `SERVING_DIR`. The page embeds plotly.js, so it
opens offline, from `file://` or as an e-mail attachment, and makes no network request.

Shape: each section reads one small frame from the warehouse (a mart when it exists, otherwise a
fallback over the dbt views it will replace), a pure function turns it into exactly what the
chart shows, and a figure builder draws it. A section whose data does not exist yet is replaced
by a short visible note, never an error. The connection is read-only and closed before any
figure is built, because DuckDB lets a reader block the pipeline's writer. The SQL runs on the
DuckDB file and on a Postgres warehouse alike (`warehouse/connection.py`).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import html
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from warehouse import paths
from warehouse.connection import Connection, connect, exists
from warehouse.location import Warehouse, describe
from warehouse.queries import existing_columns

REPORT_FILE = "report.html"
DEFAULT_DAYS = 30
TOP_N = 10
OTHER = "other"
RUN_RATE_DAYS = 7

# Colour-blind-safe qualitative palette (Paul Tol's, as shipped by Plotly) for the top series;
# the long tail is always grey so it reads as "the rest", not as one more series.
PALETTE = (
    "rgb(51, 34, 136)",
    "rgb(136, 204, 238)",
    "rgb(68, 170, 153)",
    "rgb(17, 119, 51)",
    "rgb(153, 153, 51)",
    "rgb(221, 204, 119)",
    "rgb(204, 102, 119)",
    "rgb(136, 34, 85)",
    "rgb(170, 68, 153)",
    "rgb(102, 17, 0)",
)
OTHER_COLOUR = "rgb(170, 170, 170)"
BILLED_COLOUR, ESTIMATED_COLOUR = "rgb(51, 34, 136)", "rgb(204, 102, 119)"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


class ReportError(RuntimeError):
    """The report cannot be rendered; the message says what to run first."""


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Source:
    """One way to read a section's data: fixed SQL over relations that must exist first.

    `needs` maps each relation the SQL reads to the columns it uses; a source whose relations or
    columns are missing (a mart not built yet) is passed over for the next one. SQL is constant
    text with bound `?` parameters, never formatted with values.
    """

    label: str
    needs: dict[str, tuple[str, ...]]
    sql: str
    params: Callable[[dt.date, dt.date], list[object]] = lambda start, end: [start, end]


_USAGE_COLS = ("usage_date", "requests", "input_tokens", "cached_input_tokens", "output_tokens")
_COST_COLS = ("billed_cost_usd", "estimated_cost_usd")

# Sums over any extra grain a mart gains later (e.g. `organization`) so the report keeps working.
MODEL_DAILY = (
    Source(
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
    ),
)

PROJECT_DAILY = (
    Source(
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
    ),
)

_NO_PROJECT = "'(no project)'"
USAGE_BY_MODEL_PROJECT = (
    # usage_daily covers every usage family (completions, embeddings, ...), not only completions
    Source(
        "marts.usage_daily",
        {
            "marts.usage_daily": ("usage_date", "model", "project_id", "requests"),
            "staging.stg_openai__projects": ("project_id", "project_name"),
        },
        """
        select coalesce(u.model, '(unknown model)') as model,
               coalesce(p.project_name, u.project_id, """
        + _NO_PROJECT
        + """) as project,
               cast(sum(u.requests) as bigint) as requests
        from marts.usage_daily as u
        left join staging.stg_openai__projects as p on u.project_id = p.project_id
        where u.usage_date between ? and ?
        group by 1, 2
        """,
    ),
    Source(
        "intermediate.int_completion_usages__priced",
        {
            "intermediate.int_completion_usages__priced": (
                "usage_date",
                "model",
                "project_id",
                "requests",
            ),
            "staging.stg_openai__projects": ("project_id", "project_name"),
        },
        """
        select coalesce(u.model, '(unknown model)') as model,
               coalesce(p.project_name, u.project_id, """
        + _NO_PROJECT
        + """) as project,
               cast(sum(u.requests) as bigint) as requests
        from intermediate.int_completion_usages__priced as u
        left join staging.stg_openai__projects as p on u.project_id = p.project_id
        where u.usage_date between ? and ?
        group by 1, 2
        """,
    ),
)

LINE_ITEMS = (
    Source(
        "marts.cost_by_line_item_daily",
        {"marts.cost_by_line_item_daily": ("usage_date", "line_item", "billed_cost_usd")},
        """
        select coalesce(line_item, '(no line item)') as line_item,
               cast(sum(billed_cost_usd) as double precision) as billed_cost_usd
        from marts.cost_by_line_item_daily
        where usage_date between ? and ?
        group by 1
        """,
    ),
    Source(
        "intermediate.int_costs__line_items_parsed",
        {"intermediate.int_costs__line_items_parsed": ("usage_date", "line_item", "amount")},
        """
        select coalesce(line_item, '(no line item)') as line_item,
               cast(sum(amount) as double precision) as billed_cost_usd
        from intermediate.int_costs__line_items_parsed
        where usage_date between ? and ?
        group by 1
        """,
    ),
)

API_KEYS_DAILY = (
    Source(
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
    ),
    Source(
        "intermediate.int_completion_usages__priced + staging.stg_openai__api_keys",
        {
            "intermediate.int_completion_usages__priced": (
                "usage_date",
                "api_key_id",
                "project_id",
                "requests",
                "estimated_cost_usd",
            ),
            "staging.stg_openai__api_keys": ("api_key_id", "api_key_name", "owner_name"),
            "staging.stg_openai__projects": ("project_id", "project_name"),
        },
        """
        with keys as (
            select api_key_id, min(api_key_name) as api_key_name,
                   min(owner_name) as owner_name
            from staging.stg_openai__api_keys
            group by api_key_id
        )
        select u.usage_date, coalesce(u.api_key_id, '(no key)') as api_key_id,
               min(keys.api_key_name) as api_key_name,
               min(keys.owner_name) as owner_name,
               min(coalesce(p.project_name, u.project_id)) as project_name,
               cast(sum(u.requests) as bigint) as requests,
               sum(u.estimated_cost_usd) as estimated_cost_usd
        from intermediate.int_completion_usages__priced as u
        left join keys on u.api_key_id = keys.api_key_id
        left join staging.stg_openai__projects as p on u.project_id = p.project_id
        where u.usage_date between ? and ?
        group by u.usage_date, coalesce(u.api_key_id, '(no key)')
        """,
    ),
)

DAILY_TOTALS = (
    Source(
        "marts.cost_reconciliation_daily",
        {"marts.cost_reconciliation_daily": ("usage_date", *_COST_COLS)},
        """
        select usage_date, cast(sum(billed_cost_usd) as double precision) as billed_cost_usd,
               sum(estimated_cost_usd) as estimated_cost_usd
        from marts.cost_reconciliation_daily
        where usage_date between ? and ?
        group by usage_date
        """,
    ),
    Source(
        "marts.cost_by_model_daily",
        {"marts.cost_by_model_daily": ("usage_date", *_COST_COLS)},
        """
        select usage_date, cast(sum(billed_cost_usd) as double precision) as billed_cost_usd,
               sum(estimated_cost_usd) as estimated_cost_usd
        from marts.cost_by_model_daily
        where usage_date between ? and ?
        group by usage_date
        """,
    ),
)

# Budgets land later with unknown columns: show their newest rows as they are.
BUDGET_STATUS = (
    Source(
        "marts.budget_status",
        {"marts.budget_status": ()},
        "select * from marts.budget_status limit 50",
        params=lambda start, end: [],
    ),
)
SPEND_ANOMALIES = (
    Source(
        "marts.spend_anomalies",
        {"marts.spend_anomalies": ("usage_date",)},
        """
        select * from marts.spend_anomalies
        where usage_date between ? and ?
        order by usage_date desc
        limit 50
        """,
    ),
)

# OpenAI's own hard limits and alerts, in USD (the API gives cents), beside our budgets.
SPEND_LIMITS = (
    Source(
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
    ),
)
SPEND_ALERTS = (
    Source(
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
    ),
)


@dataclass(frozen=True)
class Loaded:
    """A section's frame and where it came from; `frame` is None when no source exists yet."""

    frame: pd.DataFrame | None
    source: str | None
    wanted: str


def pick_source(sources: Sequence[Source], columns: dict[str, set[str]]) -> Source | None:
    """The first source whose relations and columns all exist."""
    for source in sources:
        if all(rel in columns and set(cols) <= columns[rel] for rel, cols in source.needs.items()):
            return source
    return None


def load(
    con: Connection,
    sources: Sequence[Source],
    columns: dict[str, set[str]],
    start: dt.date,
    end: dt.date,
) -> Loaded:
    """Read a section's frame from its first available source."""
    source = pick_source(sources, columns)
    if source is None:
        return Loaded(None, None, sources[0].label)
    frame = con.execute(source.sql, source.params(start, end)).df()
    return Loaded(frame, source.label, sources[0].label)


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, read in one short read-only session."""

    start: dt.date
    end: dt.date
    today: dt.date
    model_daily: Loaded
    project_daily: Loaded
    usage_by_model_project: Loaded
    line_items: Loaded
    api_keys_daily: Loaded
    daily_totals: Loaded
    headline_daily: Loaded
    budget_status: Loaded
    spend_anomalies: Loaded
    spend_limits: Loaded
    spend_alerts: Loaded


def headline_window(start: dt.date, end: dt.date, today: dt.date) -> dt.date:
    """First day the headline figures need: previous period, month start and run-rate days."""
    days = (end - start).days + 1
    closed = min(end, today - dt.timedelta(days=1))
    return min(
        start - dt.timedelta(days=days),
        end.replace(day=1),
        closed - dt.timedelta(days=RUN_RATE_DAYS - 1),
    )


def read_report_data(
    warehouse: Warehouse, start: dt.date, end: dt.date, today: dt.date | None = None
) -> ReportData:
    """Read every section's frame from the working warehouse (read-only, closed on return)."""
    today = today or dt.datetime.now(dt.UTC).date()
    if not exists(warehouse):
        raise ReportError(f"No warehouse at {warehouse}: run `make demo` or `make backfill` first.")
    with connect(warehouse) as con:
        columns = existing_columns(con)
        if "marts.cost_by_model_daily" not in columns:
            raise ReportError(
                f"{describe(warehouse)} has no marts yet: run `make demo` or `make backfill` first."
            )

        def read(sources: Sequence[Source], first: dt.date = start) -> Loaded:
            return load(con, sources, columns, first, end)

        return ReportData(
            start=start,
            end=end,
            today=today,
            model_daily=read(MODEL_DAILY),
            project_daily=read(PROJECT_DAILY),
            usage_by_model_project=read(USAGE_BY_MODEL_PROJECT),
            line_items=read(LINE_ITEMS),
            api_keys_daily=read(API_KEYS_DAILY),
            daily_totals=read(DAILY_TOTALS),
            headline_daily=read(DAILY_TOTALS, headline_window(start, end, today)),
            budget_status=read(BUDGET_STATUS),
            spend_anomalies=read(SPEND_ANOMALIES),
            spend_limits=read(SPEND_LIMITS),
            spend_alerts=read(SPEND_ALERTS),
        )


# --------------------------------------------------------------------------- figure data


def days_between(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """Every UTC day of the inclusive range, so days without spend show as zero, not a gap."""
    return pd.date_range(start, end, freq="D", name="usage_date")


def top_labels(totals: pd.Series, n: int = TOP_N) -> list[str]:
    """The `n` largest labels by total, largest first; ties broken by name for stable output."""
    ordered = sorted(totals.items(), key=lambda item: (-float(item[1]), str(item[0])))
    return [label for label, _ in ordered[:n]]


def group_tail(frame: pd.DataFrame, key: str, value: str, n: int = TOP_N) -> pd.Series:
    """`frame[key]` with every label outside the top `n` (by total `value`) renamed `other`.

    With more than `n + 1` labels the tail becomes one grey series, which keeps a chart of fifty
    projects readable; with `n + 1` or fewer nothing is grouped.
    """
    labels = frame[key].fillna("(none)").astype(str)
    totals = frame[value].fillna(0).groupby(labels).sum()
    if len(totals) <= n + 1:
        return labels
    keep = set(top_labels(totals, n))
    return labels.where(labels.isin(keep), OTHER)


def series_by_day(
    frame: pd.DataFrame, key: str, value: str, start: dt.date, end: dt.date, n: int = TOP_N
) -> pd.DataFrame:
    """A wide frame: one row per day of the range, one column per label (top `n` + `other`).

    Columns are ordered by total, largest first, with `other` last; missing days are 0.
    """
    if frame.empty:
        return pd.DataFrame(index=days_between(start, end))
    grouped = frame.assign(label=group_tail(frame, key, value, n))
    wide = grouped.pivot_table(
        index="usage_date", columns="label", values=value, aggfunc="sum", fill_value=0
    )
    wide.index = pd.to_datetime(wide.index)
    wide = wide.reindex(days_between(start, end), fill_value=0)
    totals = wide.sum()
    order = top_labels(totals.drop(OTHER, errors="ignore"), len(totals))
    if OTHER in totals.index:
        order.append(OTHER)
    wide = wide[order].astype(float)
    wide.columns.name = key
    return wide


def cost_by_model_over_time(model_daily: pd.DataFrame, start: dt.date, end: dt.date):
    """Billed USD per day and model (top models + other): the stacked cost chart."""
    return series_by_day(model_daily, "model", "billed_cost_usd", start, end)


def cost_by_project_over_time(project_daily: pd.DataFrame, start: dt.date, end: dt.date):
    """Billed USD per day and project (top projects + other)."""
    return series_by_day(project_daily, "project", "billed_cost_usd", start, end)


def project_share(project_daily: pd.DataFrame, n: int = TOP_N) -> pd.Series:
    """Billed USD per project over the range (top `n` + other), largest first; zeros dropped."""
    labels = group_tail(project_daily, "project", "billed_cost_usd", n)
    totals = project_daily["billed_cost_usd"].groupby(labels).sum()
    totals = totals[totals > 0]
    order = top_labels(totals.drop(OTHER, errors="ignore"), len(totals))
    if OTHER in totals.index:
        order.append(OTHER)
    return totals[order].astype(float).rename("billed_cost_usd")


def token_mix(model_daily: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Tokens per day split into uncached input, cached input and output, with the cached share.

    Cached tokens are part of input tokens (API semantics), so uncached = input - cached and the
    share is cached / input (NaN on days without input).
    """
    cols = ["input_tokens", "cached_input_tokens", "output_tokens"]
    daily = model_daily.groupby("usage_date")[cols].sum() if not model_daily.empty else None
    if daily is None:
        daily = pd.DataFrame(columns=cols, dtype=float)
    daily.index = pd.to_datetime(daily.index)
    daily = daily.reindex(days_between(start, end), fill_value=0).astype(float)
    input_tokens = daily["input_tokens"]
    return pd.DataFrame(
        {
            "uncached_input_tokens": input_tokens - daily["cached_input_tokens"],
            "cached_input_tokens": daily["cached_input_tokens"],
            "output_tokens": daily["output_tokens"],
            "cached_share": daily["cached_input_tokens"] / input_tokens.where(input_tokens > 0),
        }
    )


def requests_matrix(usage: pd.DataFrame, n_models: int = 12, n_projects: int = 15):
    """Requests over the range as a model x project matrix (each axis: top N + other)."""
    frame = usage.assign(
        model=group_tail(usage, "model", "requests", n_models),
        project=group_tail(usage, "project", "requests", n_projects),
    )
    matrix = frame.pivot_table(
        index="model", columns="project", values="requests", aggfunc="sum", fill_value=0
    )

    def order(totals: pd.Series) -> list[str]:
        labels = top_labels(totals.drop(OTHER, errors="ignore"), len(totals))
        return labels + ([OTHER] if OTHER in totals.index else [])

    return matrix.loc[order(matrix.sum(axis=1)), order(matrix.sum(axis=0))].astype(int)


def line_item_costs(line_items: pd.DataFrame, n: int = 15) -> pd.Series:
    """Billed USD per line item over the range (top `n` + other), largest first."""
    labels = group_tail(line_items, "line_item", "billed_cost_usd", n)
    totals = line_items["billed_cost_usd"].groupby(labels).sum()
    order = top_labels(totals.drop(OTHER, errors="ignore"), len(totals))
    if OTHER in totals.index:
        order.append(OTHER)
    return totals[order].astype(float).rename("billed_cost_usd")


def key_labels(keys: pd.DataFrame) -> pd.Series:
    """A readable, unique label per API key: its name, with the id's tail when names repeat."""
    names = keys["api_key_name"].fillna(keys["api_key_id"]).astype(str)
    per_name = keys.groupby(names)["api_key_id"].transform("nunique")
    tail = keys["api_key_id"].astype(str).str[-6:]
    return names.where(per_name <= 1, names + " (" + tail + ")")


def top_api_keys(
    keys_daily: pd.DataFrame, start: dt.date, end: dt.date, n: int = TOP_N
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The `n` API keys (agents) with the highest estimated cost, and their daily trend.

    Returns (table, trend): the table has one row per key with owner, project, requests and
    estimated USD, largest first; the trend is estimated USD per day, one column per key.
    """
    frame = keys_daily.assign(label=key_labels(keys_daily))
    frame["estimated_cost_usd"] = frame["estimated_cost_usd"].fillna(0.0)
    table = (
        frame.groupby("label")
        .agg(
            owner=("owner_name", "first"),
            project=("project_name", "first"),
            requests=("requests", "sum"),
            estimated_cost_usd=("estimated_cost_usd", "sum"),
        )
        .reset_index()
    )
    table["requests"] = table["requests"].fillna(0).astype("int64")
    table = table.sort_values(["estimated_cost_usd", "label"], ascending=[False, True]).head(n)
    table = table.reset_index(drop=True)
    chosen = frame[frame["label"].isin(table["label"])]
    trend = chosen.pivot_table(
        index="usage_date", columns="label", values="estimated_cost_usd", aggfunc="sum"
    )
    trend.index = pd.to_datetime(trend.index)
    trend = trend.reindex(days_between(start, end), fill_value=0).fillna(0.0)
    return table, trend[list(table["label"])].astype(float)


def estimated_vs_billed(daily: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Billed and estimated USD per day; estimate NaN on days where nothing could be priced."""
    frame = daily.set_index(pd.to_datetime(daily["usage_date"]))[
        ["billed_cost_usd", "estimated_cost_usd"]
    ].astype(float)
    frame = frame.groupby(level=0).sum(min_count=1)
    frame = frame.reindex(days_between(start, end))
    frame["billed_cost_usd"] = frame["billed_cost_usd"].fillna(0.0)
    return frame


def _scope_order(frame: pd.DataFrame, share: str) -> pd.DataFrame:
    """Each organization's own row first, then its projects by `share`, largest first."""
    return frame.assign(
        _project=frame["scope_type"] != "organization", _share=frame[share].fillna(-1.0)
    ).sort_values(
        ["organization", "_project", "_share", "scope_name"],
        ascending=[True, True, False, True],
    )


def _scope_column(frame: pd.DataFrame) -> pd.Series:
    """The scope as read: the project's name, or the organization marked as such; prefixed by
    the organization when several are loaded."""
    label = frame["scope_name"].where(
        frame["scope_type"] != "organization", frame["scope_name"] + " (organization)"
    )
    if frame["organization"].nunique() > 1:
        label = (
            frame["organization"]
            + " / "
            + label.where(frame["scope_type"] != "organization", "(organization)")
        )
    return label


def spend_limits_table(limits: pd.DataFrame) -> pd.DataFrame:
    """OpenAI's hard limits as the report shows them: the organization's own limit first, then
    the projects, most used first; USD (the API's cents already converted in the mart)."""
    frame = _scope_order(limits, "percent_used")
    return pd.DataFrame(
        {
            "Scope": _scope_column(frame),
            "Limit USD": frame["limit_usd"].astype(float),
            "Interval": frame["limit_interval"],
            "Enforcement": frame["enforcement_status"],
            "Spent this month USD": frame["spent_usd"].astype(float),
            "Used %": frame["percent_used"].astype(float),
        }
    ).reset_index(drop=True)


def spend_alerts_table(alerts: pd.DataFrame) -> pd.DataFrame:
    """OpenAI's spend alerts as the report shows them, ordered like the limits (by how close
    this month's spend is to the threshold)."""
    frame = alerts.assign(
        share=alerts["spent_usd"].astype(float) / alerts["threshold_usd"].astype(float)
    )
    frame = _scope_order(frame, "share")
    return pd.DataFrame(
        {
            "Scope": _scope_column(frame),
            "Threshold USD": frame["threshold_usd"].astype(float),
            "Interval": frame["alert_interval"],
            "Recipients": frame["recipient_count"],
            "Spent this month USD": frame["spent_usd"].astype(float),
            "Crossed": frame["is_crossed"].map({True: "yes", False: "no"}),
        }
    ).reset_index(drop=True)


@dataclass(frozen=True)
class Headline:
    """The figures at the top of the page (USD billed by the Costs API unless stated)."""

    billed: float
    estimated: float | None
    previous_billed: float
    change_pct: float | None
    month_label: str
    month_to_date: float
    projected_month: float | None
    run_rate: float | None


def headline(daily: pd.DataFrame, start: dt.date, end: dt.date, today: dt.date) -> Headline:
    """Range total, change vs the previous period of equal length, month to date and projection.

    The projection is the billed total of the month's closed days plus the average of the last
    seven closed days for each remaining day: today's open (partial) day would drag it down.
    """
    billed = pd.Series(
        daily["billed_cost_usd"].astype(float).to_numpy(),
        index=pd.to_datetime(daily["usage_date"]).dt.date,
    )
    billed = billed.groupby(level=0).sum()
    estimated = pd.Series(
        daily["estimated_cost_usd"].astype(float).to_numpy(),
        index=pd.to_datetime(daily["usage_date"]).dt.date,
    )

    def total(series: pd.Series, first: dt.date, last: dt.date) -> float:
        return float(series[(series.index >= first) & (series.index <= last)].sum())

    days = (end - start).days + 1
    current = total(billed, start, end)
    previous = total(billed, start - dt.timedelta(days=days), start - dt.timedelta(days=1))
    in_range = estimated[(estimated.index >= start) & (estimated.index <= end)]
    month_start = end.replace(day=1)
    month_end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
    closed = min(end, today - dt.timedelta(days=1))
    run_rate = total(billed, closed - dt.timedelta(days=RUN_RATE_DAYS - 1), closed) / RUN_RATE_DAYS
    closed_in_month = total(billed, month_start, closed) if closed >= month_start else 0.0
    remaining = (month_end - max(closed, month_start - dt.timedelta(days=1))).days
    return Headline(
        billed=current,
        estimated=float(in_range.sum()) if in_range.notna().any() else None,
        previous_billed=previous,
        change_pct=(current - previous) / previous * 100 if previous > 0 else None,
        month_label=end.strftime("%B %Y"),
        month_to_date=total(billed, month_start, end),
        projected_month=closed_in_month + run_rate * remaining,
        run_rate=run_rate,
    )


# --------------------------------------------------------------------------- figures


def colour_for(labels: Sequence[str]) -> dict[str, str]:
    """Palette colours in label order; `other` is grey."""
    colours, i = {}, 0
    for label in labels:
        if label == OTHER:
            colours[label] = OTHER_COLOUR
        else:
            colours[label] = PALETTE[i % len(PALETTE)]
            i += 1
    return colours


def base_layout(title: str, y_title: str, height: int = 440, **extra: object) -> dict:
    """Layout shared by every chart: white template, titled axes, legend on the right."""
    layout = {
        "title": {"text": title, "x": 0.01},
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 60, "b": 60},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"title": {"text": ""}},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


def _daily_x() -> dict:
    return {"title": {"text": "UTC day"}, "tickformat": "%b %d", "type": "date"}


def stacked_cost_figure(wide: pd.DataFrame, title: str, kind: str = "bar"):
    """Stacked bars (or lines) of USD per day, one trace per column of `wide`."""
    import plotly.graph_objects as go

    colours = colour_for(list(wide.columns))
    fig = go.Figure()
    for label in wide.columns:
        common = {
            "x": wide.index,
            "y": wide[label],
            "name": str(label),
            "hovertemplate": "%{x|%Y-%m-%d} · %{fullData.name}: $%{y:,.2f}<extra></extra>",
        }
        if kind == "bar":
            fig.add_trace(go.Bar(marker_color=colours[label], **common))
        else:
            fig.add_trace(
                go.Scatter(mode="lines+markers", line={"color": colours[label]}, **common)
            )
    fig.update_layout(
        **base_layout(title, "Cost (USD)", barmode="stack", xaxis=_daily_x()),
    )
    fig.update_yaxes(tickprefix="$", tickformat=",.2f")
    return fig


def token_figure(mix: pd.DataFrame):
    """Stacked token bars per day with the cached share of input on a second axis."""
    import plotly.graph_objects as go

    fig = go.Figure()
    parts = (
        ("uncached_input_tokens", "Input (uncached)", "rgb(136, 204, 238)"),
        ("cached_input_tokens", "Input (cached)", "rgb(68, 170, 153)"),
        ("output_tokens", "Output", "rgb(51, 34, 136)"),
    )
    for column, name, colour in parts:
        fig.add_trace(
            go.Bar(
                x=mix.index,
                y=mix[column],
                name=name,
                marker_color=colour,
                hovertemplate="%{x|%Y-%m-%d} · " + name + ": %{y:,.0f} tokens<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=mix.index,
            y=mix["cached_share"] * 100,
            name="Cached share of input (%)",
            yaxis="y2",
            mode="lines+markers",
            line={"color": "rgb(204, 102, 119)", "width": 2},
            hovertemplate="%{x|%Y-%m-%d} · cached share: %{y:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            "Input vs output tokens per day, with the cached share of input",
            "Tokens",
            barmode="stack",
            xaxis=_daily_x(),
            yaxis2={
                "title": {"text": "Cached share of input (%)"},
                "overlaying": "y",
                "side": "right",
                "range": [0, 100],
                "ticksuffix": "%",
                "showgrid": False,
            },
            legend={"orientation": "h", "y": -0.2},
        )
    )
    fig.update_layout(margin={"r": 70, "b": 90})
    return fig


def requests_heatmap(matrix: pd.DataFrame):
    """Requests by model (rows) and project (columns) as a heatmap with the counts on hover."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=[str(c) for c in matrix.columns],
            y=[str(i) for i in matrix.index],
            colorscale="Blues",
            colorbar={"title": {"text": "Requests"}},
            hovertemplate="model %{y}<br>project %{x}<br>%{z:,} requests<extra></extra>",
        )
    )
    height = max(320, 120 + 32 * len(matrix.index))
    fig.update_layout(
        **base_layout(
            "Requests by model and project",
            "Model",
            height=height,
            xaxis={"title": {"text": "Project"}, "tickangle": -30},
        )
    )
    fig.update_yaxes(autorange="reversed", rangemode=None)
    fig.update_layout(margin={"l": 200, "b": 120})
    return fig


def share_figure(totals: pd.Series):
    """Donut of billed USD by project (top + other)."""
    import plotly.graph_objects as go

    colours = colour_for(list(totals.index))
    fig = go.Figure(
        go.Pie(
            labels=[str(i) for i in totals.index],
            values=totals.to_numpy(),
            hole=0.45,
            sort=False,
            marker={"colors": [colours[i] for i in totals.index]},
            textinfo="percent",
            hovertemplate="%{label}: $%{value:,.2f} (%{percent})<extra></extra>",
        )
    )
    fig.update_layout(**base_layout("Share of billed spend by project (USD)", ""))
    return fig


def hbar_figure(totals: pd.Series, title: str, x_title: str, colour: str = PALETTE[0]):
    """Horizontal bars, largest on top; `other` in grey."""
    import plotly.graph_objects as go

    labels = [str(i) for i in totals.index]
    fig = go.Figure(
        go.Bar(
            x=totals.to_numpy(),
            y=labels,
            orientation="h",
            marker_color=[OTHER_COLOUR if i == OTHER else colour for i in labels],
            hovertemplate="%{y}: $%{x:,.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            title,
            "",
            height=max(300, 110 + 28 * len(labels)),
            xaxis={"title": {"text": x_title}, "tickprefix": "$", "tickformat": ",.2f"},
        )
    )
    fig.update_yaxes(autorange="reversed", rangemode=None)
    fig.update_layout(margin={"l": 280})
    return fig


def reconciliation_figure(frame: pd.DataFrame):
    """Billed (Costs API) and estimated (tokens x list prices) USD per day as two lines."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for column, name, colour, dash in (
        ("billed_cost_usd", "Billed (Costs API)", BILLED_COLOUR, "solid"),
        ("estimated_cost_usd", "Estimated (tokens × list prices)", ESTIMATED_COLOUR, "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=frame.index,
                y=frame[column],
                name=name,
                mode="lines+markers",
                line={"color": colour, "dash": dash},
                hovertemplate="%{x|%Y-%m-%d} · " + name + ": $%{y:,.2f}<extra></extra>",
            )
        )
    fig.update_layout(
        **base_layout("Estimated vs billed cost per day", "Cost (USD)", xaxis=_daily_x())
    )
    fig.update_yaxes(tickprefix="$", tickformat=",.2f")
    return fig


# --------------------------------------------------------------------------- page


@dataclass
class Section:
    """One block of the page: charts (HTML fragments) or a note saying why it is absent."""

    title: str
    intro: str
    body: list[str] = field(default_factory=list)
    note: str | None = None
    source: str | None = None


def figure_html(fig, div_id: str) -> str:
    """A chart's `<div>` and script; plotly.js itself is embedded once in the page head."""
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=PLOTLY_CONFIG,
        default_height=f"{fig.layout.height or 440}px",
    )


def table_html(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A small escaped HTML table; `formats` maps columns to format specs like `,.2f`."""
    formats = formats or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                text = ""
            elif column in formats:
                text = format(value, formats[column])
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def missing(section: Section, loaded: Loaded, later: str) -> Section:
    """Mark a section as skipped because its mart does not exist yet."""
    section.note = f"Not available yet: `{loaded.wanted}` does not exist in this warehouse {later}."
    return section


def no_data(section: Section, loaded: Loaded) -> Section:
    section.note = "No data in this date range."
    section.source = loaded.source
    return section


def build_sections(data: ReportData) -> list[Section]:
    """Every section of the page in order, charts built from the pure data functions."""
    start, end = data.start, data.end
    sections: list[Section] = []

    section = Section("Cost over time by model", "Billed USD per UTC day, stacked by model.")
    model_daily = data.model_daily
    if model_daily.frame is None or model_daily.frame.empty:
        no_data(section, model_daily)
    else:
        section.source = model_daily.source
        wide = cost_by_model_over_time(model_daily.frame, start, end)
        fig = stacked_cost_figure(wide, "Billed cost per day by model (USD)")
        section.body.append(figure_html(fig, "chart-cost-by-model"))
    sections.append(section)

    section = Section("Daily cost by project", "Billed USD per UTC day for the top projects.")
    project_daily = data.project_daily
    if project_daily.frame is None or project_daily.frame.empty:
        no_data(section, project_daily)
    else:
        section.source = project_daily.source
        wide = cost_by_project_over_time(project_daily.frame, start, end)
        fig = stacked_cost_figure(wide, "Billed cost per day by project (USD)", kind="line")
        section.body.append(figure_html(fig, "chart-cost-by-project"))
        fig = share_figure(project_share(project_daily.frame))
        section.body.append(figure_html(fig, "chart-project-share"))
    sections.append(section)

    section = Section(
        "Tokens",
        "Input tokens (cached and uncached) and output tokens per day, all models. Cached input "
        "is billed at a discount; a higher cached share means cheaper input.",
    )
    if model_daily.frame is None or model_daily.frame.empty:
        no_data(section, model_daily)
    else:
        section.source = model_daily.source
        fig = token_figure(token_mix(model_daily.frame, start, end))
        section.body.append(figure_html(fig, "chart-tokens"))
    sections.append(section)

    section = Section("Requests by model and project", "Requests over the whole range.")
    usage = data.usage_by_model_project
    if usage.frame is None:
        missing(section, usage, "(built by dbt)")
    elif usage.frame.empty or usage.frame["requests"].sum() == 0:
        no_data(section, usage)
    else:
        section.source = usage.source
        section.body.append(
            figure_html(requests_heatmap(requests_matrix(usage.frame)), "chart-req")
        )
    sections.append(section)

    section = Section(
        "Cost by line item", "Billed USD over the range per Costs API line item (model, direction)."
    )
    items = data.line_items
    if items.frame is None:
        missing(section, items, "(built by dbt)")
    elif items.frame.empty:
        no_data(section, items)
    else:
        section.source = items.source
        fig = hbar_figure(line_item_costs(items.frame), "Billed cost by line item", "Cost (USD)")
        section.body.append(figure_html(fig, "chart-line-items"))
    sections.append(section)

    section = Section(
        "Top API keys (agents)",
        "API keys with the highest estimated cost (tokens × list prices) over the range, and "
        "their daily trend. Keys are often one per agent or service.",
    )
    keys = data.api_keys_daily
    if keys.frame is None:
        missing(section, keys, "(built by dbt)")
    elif keys.frame.empty:
        no_data(section, keys)
    else:
        section.source = keys.source
        table, trend = top_api_keys(keys.frame, start, end)
        shown = table.rename(
            columns={
                "label": "API key",
                "owner": "Owner",
                "project": "Project",
                "requests": "Requests",
                "estimated_cost_usd": "Estimated USD",
            }
        )
        section.body.append(table_html(shown, {"Requests": ",", "Estimated USD": ",.2f"}))
        fig = stacked_cost_figure(trend, "Estimated cost per day of the top API keys", "line")
        fig.update_yaxes(title={"text": "Estimated cost (USD)"})
        section.body.append(figure_html(fig, "chart-api-keys"))
    sections.append(section)

    section = Section(
        "Estimated vs billed",
        "Billed USD comes from the Costs API and reconciles to the invoice; the estimate is "
        "usage × list prices (cached and batch discounts applied) and leaves out models without "
        "a price. A persistent gap points at missing prices or unusual discounts.",
    )
    daily = data.daily_totals
    if daily.frame is None or daily.frame.empty:
        no_data(section, daily)
    else:
        section.source = daily.source
        fig = reconciliation_figure(estimated_vs_billed(daily.frame, start, end))
        section.body.append(figure_html(fig, "chart-reconciliation"))
    sections.append(section)

    sections.append(budget_table_section("Budget status", data.budget_status))
    sections.append(spend_controls_section(data.spend_limits, data.spend_alerts))
    sections.append(budget_table_section("Spend anomalies", data.spend_anomalies))
    return sections


def budget_table_section(title: str, loaded: Loaded) -> Section:
    """A budget mart's newest rows as they are."""
    section = Section(title, "")
    if loaded.frame is None:
        missing(section, loaded, "(budgets are not configured yet)")
    elif loaded.frame.empty:
        no_data(section, loaded)
    else:
        section.source = loaded.source
        section.body.append(table_html(loaded.frame))
    return section


def spend_controls_section(limits: Loaded, alerts: Loaded) -> Section:
    """OpenAI's hard limits and alerts, beside our budgets."""
    section = Section(
        "OpenAI spend limits and alerts",
        "Hard limits and e-mail alerts set in OpenAI itself, beside the budgets above: once an "
        "enforcing limit is reached the API refuses requests, where a budget only warns. Spent "
        "is this month's billed USD (Costs API), counted as for monthly budgets.",
    )
    if limits.frame is None or alerts.frame is None:
        return missing(section, limits if limits.frame is None else alerts, "(built by dbt)")
    if limits.frame.empty and alerts.frame.empty:
        section.note = "No hard limit or alert is set in OpenAI, or the admin key cannot read them."
        section.source = limits.source
        return section
    section.source = f"{limits.source}, {alerts.source}"
    money_cols = ("Limit USD", "Threshold USD", "Spent this month USD")
    formats = {column: ",.2f" for column in money_cols} | {"Used %": ".1f"}
    if not limits.frame.empty:
        section.body.append(table_html(spend_limits_table(limits.frame), formats))
    if not alerts.frame.empty:
        section.body.append(table_html(spend_alerts_table(alerts.frame), formats))
    return section


def _column_total(loaded: Loaded, column: str) -> float:
    frame = loaded.frame
    if frame is None or frame.empty or column not in frame:
        return 0.0
    return float(frame[column].astype(float).sum())


def spend_notice(data: ReportData) -> str | None:
    """What the page says first when the range holds no billed spend: a new organization, or
    one whose usage the Costs API did not bill (yet). None when there is spend to show."""
    if _column_total(data.model_daily, "billed_cost_usd") > 0:
        return None
    requests = _column_total(data.usage_by_model_project, "requests") or _column_total(
        data.model_daily, "requests"
    )
    if requests > 0:
        return (
            f"No billed spend from {data.start} to {data.end}: usage was reported, but the "
            "Costs API billed none of it (yet)."
        )
    return (
        f"No spend yet from {data.start} to {data.end}: the Costs API billed nothing and no "
        "usage was reported in this range. The charts fill in once the organization uses the API."
    )


def money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def headline_html(head: Headline, start: dt.date, end: dt.date) -> str:
    """The figure cards at the top of the page."""
    days = (end - start).days + 1
    if head.change_pct is None:
        change, change_class = "n/a", ""
        change_note = "no spend in the previous period"
    else:
        change = f"{head.change_pct:+.1f}%"
        change_class = "up" if head.change_pct > 0 else "down"
        change_note = f"vs {money(head.previous_billed)} in the previous {days} days"
    cards = (
        ("Billed in range", money(head.billed), f"{start} to {end} ({days} days)", ""),
        ("Estimated in range", money(head.estimated), "tokens × list prices", ""),
        ("Change vs previous period", change, change_note, change_class),
        (f"Month to date ({head.month_label})", money(head.month_to_date), f"through {end}", ""),
        (
            "Projected month total",
            money(head.projected_month),
            f"closed days + {money(head.run_rate)}/day (average of the last "
            f"{RUN_RATE_DAYS} closed days) for the rest of the month",
            "",
        ),
    )
    return "".join(
        f'<div class="card {cls}"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="sub">{html.escape(sub)}</div></div>'
        for label, value, sub, cls in cards
    )


_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0;
       color: #222; background: #f6f7f9; }
header, main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
header h1 { margin: 8px 0 4px; font-size: 1.6rem; }
header p { margin: 2px 0; color: #555; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; }
.card { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 2px #0002; }
.card .label { font-size: .85rem; color: #555; }
.card .value { font-size: 1.6rem; font-weight: 600; margin: 4px 0; }
.card .sub { font-size: .8rem; color: #777; }
.card.up .value { color: #b2182b; } .card.down .value { color: #1a7a3a; }
section { background: #fff; border-radius: 8px; padding: 8px 16px 16px; margin: 16px 0;
          box-shadow: 0 1px 2px #0002; }
section h2 { font-size: 1.2rem; margin: 12px 0 4px; }
.intro, .source { color: #555; font-size: .9rem; margin: 4px 0; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; color: #5d4500; }
table.data { border-collapse: collapse; font-size: .85rem; margin: 8px 0; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px;
                               text-align: left; }
table.data td:nth-child(n+4) { font-variant-numeric: tabular-nums; }
"""


def render_html(data: ReportData, sections: list[Section], generated_at: dt.datetime) -> str:
    """The whole page as one string, plotly.js embedded so it needs no network."""
    from plotly.offline import get_plotlyjs

    head = (
        headline(data.headline_daily.frame, data.start, data.end, data.today)
        if data.headline_daily.frame is not None
        else None
    )
    parts = []
    for section in sections:
        inner = [f"<h2>{html.escape(section.title)}</h2>"]
        if section.intro:
            inner.append(f'<p class="intro">{html.escape(section.intro)}</p>')
        if section.note:
            inner.append(f'<p class="note">{html.escape(section.note)}</p>')
        inner.extend(section.body)
        if section.source:
            inner.append(f'<p class="source">Source: {html.escape(section.source)}</p>')
        parts.append("<section>" + "".join(inner) + "</section>")
    cards = headline_html(head, data.start, data.end) if head else ""
    notice = spend_notice(data)
    notice_html = f'<p class="note" id="spend-notice">{html.escape(notice)}</p>' if notice else ""
    title = f"OpenAI spend report, {data.start} to {data.end}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<header><h1>OpenAI spend report</h1>
<p>{data.start} to {data.end} (UTC days). Billed USD from the Costs API unless marked
as estimated. Generated {generated_at:%Y-%m-%d %H:%M} UTC.</p>
<div class="cards">{cards}</div>{notice_html}</header>
<main>{"".join(parts)}</main>
</body></html>
"""


def write_atomically(text: str, path: Path) -> None:
    """Write `path` via a temporary file in the same folder and `os.replace`.

    A BI user or mail client holding the old report never sees a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp creates 0600; the report is meant to be opened by other users and tools
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class RenderResult:
    """What was written, for the Dagster asset's metadata and the command's output."""

    path: Path
    start: dt.date
    end: dt.date
    charts: int
    skipped: list[str]
    size_bytes: int
    notice: str | None = None  # the page's first line when the range holds no billed spend


def default_range(today: dt.date, days: int = DEFAULT_DAYS) -> tuple[dt.date, dt.date]:
    """The last `days` UTC days, today included."""
    return today - dt.timedelta(days=days - 1), today


def render_report(
    warehouse: Warehouse | None = None,
    out: Path | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
) -> RenderResult:
    """Read the warehouse, build the page and write it atomically; defaults from the env."""
    today = today or dt.datetime.now(dt.UTC).date()
    default_start, default_end = default_range(end or today)
    end = end or default_end
    start = start or default_start
    if start > end:
        raise ReportError(f"START {start} is after END {end}: swap them.")
    warehouse = warehouse or paths.warehouse()
    out = out or paths.serving_dir() / REPORT_FILE
    data = read_report_data(warehouse, start, end, today)
    sections = build_sections(data)
    text = render_html(data, sections, dt.datetime.now(dt.UTC))
    write_atomically(text, out)
    return RenderResult(
        path=out,
        start=start,
        end=end,
        charts=text.count('class="plotly-graph-div"'),
        skipped=[s.title for s in sections if s.note and not s.body],
        size_bytes=out.stat().st_size,
        notice=spend_notice(data),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the spend report (report.html).")
    parser.add_argument("--start", help="first UTC day, YYYY-MM-DD (default: 29 days before end)")
    parser.add_argument("--end", help="last UTC day, YYYY-MM-DD (default: today)")
    parser.add_argument("--out", type=Path, help="output file (default: SERVING_DIR/report.html)")
    args = parser.parse_args(argv)
    try:
        start = dt.date.fromisoformat(args.start) if args.start else None
        end = dt.date.fromisoformat(args.end) if args.end else None
    except ValueError:
        print("error: START and END must be dates as YYYY-MM-DD.", file=sys.stderr)
        return 2
    try:
        result = render_report(out=args.out, start=start, end=end)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Spend report {result.start}..{result.end}: {result.path}")
    if result.notice:
        print(f"  {result.notice}")
    for title in result.skipped:
        print(f"  skipped (no data or mart not built yet): {title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The report's pure shaping: each section's frame turned into exactly what its chart shows.

No I/O here: every function takes the frames `data.py` read (or any frame of the same columns)
and returns new ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

TOP_N = 10
OTHER = "other"


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


def projected_month(projection: pd.DataFrame | None) -> float | None:
    """The monthly marts' month-end projection as read, or None when there is none (the mart
    is missing or holds nothing for the month)."""
    if projection is None or projection.empty:
        return None
    value = projection["projected_billed_cost_usd"].iloc[0]
    return None if pd.isna(value) else float(value)


def headline(
    daily: pd.DataFrame, start: dt.date, end: dt.date, projected: float | None
) -> Headline:
    """Range total, change vs the previous period of equal length, month to date, and the
    month-end projection `projected` of the monthly marts (one projection, written in dbt)."""
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
    return Headline(
        billed=current,
        estimated=float(in_range.sum()) if in_range.notna().any() else None,
        previous_billed=previous,
        change_pct=(current - previous) / previous * 100 if previous > 0 else None,
        month_label=end.strftime("%B %Y"),
        month_to_date=total(billed, end.replace(day=1), end),
        projected_month=projected,
    )

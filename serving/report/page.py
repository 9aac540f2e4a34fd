"""The report's page: sections of figures and tables assembled into one self-contained HTML page.

plotly.js is embedded once in the page head, so the page opens offline, from `file://` or as an
e-mail attachment, and makes no network request. A section whose mart does not exist yet, or
whose range holds no data, shows a short visible note instead of its charts.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from plotly.offline import get_plotlyjs

from serving.report import figures, shaping
from serving.report.data import Loaded, ReportData

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


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
    section.note = f"Not available yet: `{loaded.source}` does not exist in this warehouse {later}."
    return section


def no_data(section: Section, loaded: Loaded) -> Section:
    section.note = "No data in this date range."
    section.source = loaded.source
    return section


def drawable(
    section: Section,
    loaded: Loaded,
    later: str | None = "(built by dbt)",
    has_rows: Callable[[pd.DataFrame], bool] = lambda frame: not frame.empty,
) -> pd.DataFrame | None:
    """The frame a section draws from, or None once the note that replaces its charts is set.

    A mart that does not exist yet is "not available yet" (`later` says when it will be); with
    `later=None` it reads as no data, as a range without rows does.
    """
    if loaded.frame is None and later is not None:
        missing(section, loaded, later)
        return None
    if loaded.frame is None or not has_rows(loaded.frame):
        no_data(section, loaded)
        return None
    section.source = loaded.source
    return loaded.frame


def build_sections(data: ReportData) -> list[Section]:
    """Every section of the page in order, charts built from the pure data functions."""
    start, end = data.start, data.end
    sections: list[Section] = []

    section = Section("Cost over time by model", "Billed USD per UTC day, stacked by model.")
    model_daily = drawable(section, data.model_daily, later=None)
    if model_daily is not None:
        wide = shaping.cost_by_model_over_time(model_daily, start, end)
        fig = figures.stacked_cost_figure(wide, "Billed cost per day by model (USD)")
        section.body.append(figure_html(fig, "chart-cost-by-model"))
    sections.append(section)

    section = Section("Daily cost by project", "Billed USD per UTC day for the top projects.")
    project_daily = drawable(section, data.project_daily, later=None)
    if project_daily is not None:
        wide = shaping.cost_by_project_over_time(project_daily, start, end)
        fig = figures.stacked_cost_figure(wide, "Billed cost per day by project (USD)", kind="line")
        section.body.append(figure_html(fig, "chart-cost-by-project"))
        fig = figures.share_figure(shaping.project_share(project_daily))
        section.body.append(figure_html(fig, "chart-project-share"))
    sections.append(section)

    section = Section(
        "Tokens",
        "Input tokens (cached and uncached) and output tokens per day, all models. Cached input "
        "is billed at a discount; a higher cached share means cheaper input.",
    )
    model_daily = drawable(section, data.model_daily, later=None)
    if model_daily is not None:
        fig = figures.token_figure(shaping.token_mix(model_daily, start, end))
        section.body.append(figure_html(fig, "chart-tokens"))
    sections.append(section)

    section = Section("Requests by model and project", "Requests over the whole range.")
    usage = drawable(
        section, data.usage_by_model_project, has_rows=lambda frame: frame["requests"].sum() > 0
    )
    if usage is not None:
        section.body.append(
            figure_html(figures.requests_heatmap(shaping.requests_matrix(usage)), "chart-req")
        )
    sections.append(section)

    section = Section(
        "Cost by line item", "Billed USD over the range per Costs API line item (model, direction)."
    )
    items = drawable(section, data.line_items)
    if items is not None:
        fig = figures.hbar_figure(
            shaping.line_item_costs(items), "Billed cost by line item", "Cost (USD)"
        )
        section.body.append(figure_html(fig, "chart-line-items"))
    sections.append(section)

    section = Section(
        "Top API keys (agents)",
        "API keys with the highest estimated cost (tokens × list prices) over the range, and "
        "their daily trend. Keys are often one per agent or service.",
    )
    keys = drawable(section, data.api_keys_daily)
    if keys is not None:
        table, trend = shaping.top_api_keys(keys, start, end)
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
        fig = figures.stacked_cost_figure(
            trend, "Estimated cost per day of the top API keys", "line"
        )
        fig.update_yaxes(title={"text": "Estimated cost (USD)"})
        section.body.append(figure_html(fig, "chart-api-keys"))
    sections.append(section)

    section = Section(
        "Estimated vs billed",
        "Billed USD comes from the Costs API and reconciles to the invoice; the estimate is "
        "usage × list prices (cached and batch discounts applied) and leaves out models without "
        "a price. A persistent gap points at missing prices or unusual discounts.",
    )
    daily = drawable(section, data.daily_totals)
    if daily is not None:
        fig = figures.reconciliation_figure(shaping.estimated_vs_billed(daily, start, end))
        section.body.append(figure_html(fig, "chart-reconciliation"))
    sections.append(section)

    sections.append(budget_table_section("Budget status", data.budget_status))
    sections.append(spend_controls_section(data.spend_limits, data.spend_alerts))
    sections.append(budget_table_section("Spend anomalies", data.spend_anomalies))
    return sections


def budget_table_section(title: str, loaded: Loaded) -> Section:
    """A budget mart's newest rows as they are."""
    section = Section(title, "")
    frame = drawable(section, loaded, later="(budgets are not configured yet)")
    if frame is not None:
        section.body.append(table_html(frame))
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
        section.body.append(table_html(shaping.spend_limits_table(limits.frame), formats))
    if not alerts.frame.empty:
        section.body.append(table_html(shaping.spend_alerts_table(alerts.frame), formats))
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


def headline_html(head: shaping.Headline, start: dt.date, end: dt.date) -> str:
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
            "linear month-to-date projection from the marts, same as the monthly marts and budgets",
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
    head = (
        shaping.headline(
            data.headline_daily.frame,
            data.start,
            data.end,
            shaping.projected_month(data.projected_month.frame),
        )
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

"""Render the report: read the marts, build the page, write it atomically into SERVING_DIR."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from serving import atomic
from serving.report import page
from serving.report.data import ReportError, read_report_data
from warehouse import paths
from warehouse.location import Warehouse

REPORT_FILE = "report.html"
DEFAULT_DAYS = 30


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
    data = read_report_data(warehouse, start, end)
    sections = page.build_sections(data)
    text = page.render_html(data, sections, dt.datetime.now(dt.UTC))
    atomic.write_text(out, text)
    return RenderResult(
        path=out,
        start=start,
        end=end,
        charts=text.count('class="plotly-graph-div"'),
        skipped=[s.title for s in sections if s.note and not s.body],
        size_bytes=out.stat().st_size,
        notice=page.spend_notice(data),
    )

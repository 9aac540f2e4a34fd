"""Markdown tables for Dagster metadata (one formatter for checks, previews and load summaries)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal


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

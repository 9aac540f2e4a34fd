"""Asset checks on the cost marts, visible in the Dagster UI after every run.

- `costs_are_fresh`: yesterday's (UTC) costs are loaded once it is past `FRESHNESS_HOUR_UTC`
  (env var, default 6: the Costs API has usually closed the day by then).
- `reconciliation_within_threshold`: estimated vs billed drift per model-day stays within
  `RECONCILIATION_THRESHOLD_PCT` (env var, default 1%) for fully priced model-days above a
  minimum bill (tiny bills drift by rounding).
- `all_models_priced`: no usage of a model without a price (its estimate is NULL, never $0).
- `billed_and_token_sums_match_raw`: every billed-cost mart sums to the raw Costs total and
  every token mart to the raw completions usage (the dbt tests check the same per day; this
  shows the totals in the UI).

They read the working warehouse read-only in the `duckdb` pool, so they never meet a writer; the
SQL runs on DuckDB and on Postgres alike (`warehouse/connection.py`).
"""

# No `from __future__ import annotations`: Dagster reads the context annotation at runtime.

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import dagster as dg

from assets.metadata import markdown_table
from assets.resources import DUCKDB_POOL, WarehouseLock
from warehouse import paths
from warehouse.connection import Connection, connect

FRESHNESS_KEY = dg.AssetKey(["marts", "cost_by_line_item_daily"])
RECONCILIATION_KEY = dg.AssetKey(["marts", "cost_by_model_daily"])
UNPRICED_KEY = dg.AssetKey(["marts", "models_without_price"])
SUMS_KEY = dg.AssetKey(["marts", "cost_by_project_daily"])

DEFAULT_FRESHNESS_HOUR_UTC = 6
DEFAULT_RECONCILIATION_THRESHOLD_PCT = 1.0
# Model-days billed less than this are not judged: cents of rounding are not drift.
MIN_BILLED_USD_FOR_DRIFT = 0.01
SUM_TOLERANCE_USD = 1e-6

BILLED_MARTS = (
    "cost_by_model_daily",
    "cost_by_project_daily",
    "cost_by_api_key_daily",
    "cost_by_user_daily",
    "cost_by_line_item_daily",
    "cost_reconciliation_daily",
)
TOKEN_MARTS = ("cost_by_model_daily", "cost_by_project_daily", "cost_by_api_key_daily",
               "cost_by_user_daily")  # fmt: skip


def freshness_hour_utc() -> int:
    return int(os.environ.get("FRESHNESS_HOUR_UTC", DEFAULT_FRESHNESS_HOUR_UTC))


def reconciliation_threshold_pct() -> float:
    return float(
        os.environ.get("RECONCILIATION_THRESHOLD_PCT", DEFAULT_RECONCILIATION_THRESHOLD_PCT)
    )


def freshness_result(con: Connection, now: dt.datetime) -> dg.AssetCheckResult:
    """Yesterday's costs are present for every organization once past the configured hour."""
    yesterday = now.date() - dt.timedelta(days=1)
    due = now.hour >= freshness_hour_utc()
    rows = con.execute(
        "select organization, max(usage_date) from marts.cost_by_line_item_daily group by 1"
    ).fetchall()
    latest = {org: day for org, day in rows}
    stale = sorted(org for org, day in latest.items() if day < yesterday)
    passed = bool(latest) and (not due or not stale)
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "expected_day": str(yesterday),
            "due_from_hour_utc": freshness_hour_utc(),
            "is_due": due,
            "latest_cost_day": dg.MetadataValue.json({k: str(v) for k, v in latest.items()}),
            "stale_organizations": ", ".join(stale) or "none",
        },
    )


def reconciliation_result(con: Connection) -> dg.AssetCheckResult:
    """Fully priced model-days whose estimate drifts from the bill by more than the threshold."""
    threshold = reconciliation_threshold_pct()
    drifting = con.execute(
        """
        select organization, cast(usage_date as varchar), model,
               cast(billed_cost_usd as double precision),
               cast(estimated_cost_usd as double precision),
               100 * (estimated_cost_usd - billed_cost_usd) / billed_cost_usd
        from marts.cost_by_model_daily
        where unpriced_requests = 0 and estimated_cost_usd is not null and requests > 0
          and billed_cost_usd >= ?
          and abs(estimated_cost_usd - billed_cost_usd) > ? / 100 * billed_cost_usd
        order by abs(estimated_cost_usd - billed_cost_usd) desc
        """,
        [MIN_BILLED_USD_FOR_DRIFT, threshold],
    ).fetchall()
    rows = [
        (org, day, model, round(billed, 4), round(estimated, 4), round(float(drift), 3))
        for org, day, model, billed, estimated, drift in drifting
    ]
    (judged, worst) = con.execute(
        """
        select count(*),
               max(abs(100 * (estimated_cost_usd - billed_cost_usd) / billed_cost_usd))
        from marts.cost_by_model_daily
        where unpriced_requests = 0 and estimated_cost_usd is not null and requests > 0
          and billed_cost_usd >= ?
        """,
        [MIN_BILLED_USD_FOR_DRIFT],
    ).fetchone()
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "threshold_pct": threshold,
            "model_days_judged": judged,
            "max_abs_drift_pct": None if worst is None else round(float(worst), 4),
            "over_threshold": len(rows),
            "drifting_model_days": dg.MetadataValue.md(
                markdown_table(
                    ["organization", "day", "model", "billed", "estimated", "drift %"], rows, 20
                )
            ),
        },
    )


def unpriced_result(con: Connection) -> dg.AssetCheckResult:
    rows = con.execute(
        "select organization, model, unpriced_reason, cast(first_date as varchar),"
        " cast(last_date as varchar), requests from marts.models_without_price"
        " order by requests desc"
    ).fetchall()
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unpriced_models": len(rows),
            "models": dg.MetadataValue.md(
                markdown_table(
                    ["organization", "model", "reason", "first", "last", "requests"], rows, 20
                )
            ),
        },
    )


def sums_result(con: Connection) -> dg.AssetCheckResult:
    """Every billed mart sums to raw.costs and every token mart to raw.completions_usage."""
    raw_billed = con.execute("select coalesce(sum(amount_value), 0) from raw.costs").fetchone()[0]
    raw_tokens = con.execute(
        "select coalesce(sum(num_model_requests), 0), coalesce(sum(input_tokens), 0),"
        " coalesce(sum(input_cached_tokens), 0), coalesce(sum(output_tokens), 0)"
        " from raw.completions_usage"
    ).fetchone()
    mismatches: list[tuple[Any, ...]] = []
    billed: dict[str, float] = {}
    for mart in BILLED_MARTS:
        total = con.execute(
            f"select coalesce(sum(billed_cost_usd), 0) from marts.{mart}"
        ).fetchone()[0]
        billed[mart] = float(total)
        if abs(Decimal(str(total)) - Decimal(str(raw_billed))) > Decimal(str(SUM_TOLERANCE_USD)):
            mismatches.append((mart, "billed_cost_usd", float(total), float(raw_billed)))
    for mart in TOKEN_MARTS:
        totals = con.execute(
            "select coalesce(sum(requests), 0), coalesce(sum(input_tokens), 0),"
            f" coalesce(sum(cached_input_tokens), 0), coalesce(sum(output_tokens), 0)"
            f" from marts.{mart}"
        ).fetchone()
        for name, got, want in zip(
            ("requests", "input_tokens", "cached_input_tokens", "output_tokens"),
            totals,
            raw_tokens,
            strict=True,
        ):
            if got != want:
                mismatches.append((mart, name, got, want))
    return dg.AssetCheckResult(
        passed=not mismatches,
        metadata={
            "raw_billed_cost_usd": float(raw_billed),
            "mart_billed_cost_usd": dg.MetadataValue.json(billed),
            "mismatches": dg.MetadataValue.md(
                markdown_table(["mart", "column", "mart total", "raw total"], mismatches, 20)
            ),
        },
    )


_SPECS = [
    dg.AssetCheckSpec(
        "costs_are_fresh",
        asset=FRESHNESS_KEY,
        description="Yesterday's (UTC) costs are loaded for every organization once past "
        "FRESHNESS_HOUR_UTC (default 6).",
    ),
    dg.AssetCheckSpec(
        "reconciliation_within_threshold",
        asset=RECONCILIATION_KEY,
        description="Estimated vs billed cost per fully priced model-day drifts less than "
        "RECONCILIATION_THRESHOLD_PCT (default 1%).",
    ),
    dg.AssetCheckSpec(
        "all_models_priced",
        asset=UNPRICED_KEY,
        description="No usage of a model without a price (its estimate is NULL, never $0).",
    ),
    dg.AssetCheckSpec(
        "billed_and_token_sums_match_raw",
        asset=SUMS_KEY,
        description="Every billed-cost mart sums to the raw Costs total; token marts to raw usage.",
    ),
]


def build_mart_checks() -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(specs=_SPECS, pool=DUCKDB_POOL, can_subset=True, name="mart_checks")
    def mart_checks(context: dg.AssetCheckExecutionContext, warehouse_lock: WarehouseLock):
        selected = {key.name for key in context.selected_asset_check_keys}
        with connect(paths.warehouse()) as con:
            results = {
                "costs_are_fresh": lambda: freshness_result(con, dt.datetime.now(dt.UTC)),
                "reconciliation_within_threshold": lambda: reconciliation_result(con),
                "all_models_priced": lambda: unpriced_result(con),
                "billed_and_token_sums_match_raw": lambda: sums_result(con),
            }
            for spec in _SPECS:
                if spec.name in selected:
                    result = results[spec.name]()
                    yield dg.AssetCheckResult(
                        asset_key=spec.asset_key,
                        check_name=spec.name,
                        passed=result.passed,
                        severity=result.severity,
                        metadata=result.metadata,
                    )

    return mart_checks

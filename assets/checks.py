"""Asset checks on the cost marts, visible in the Dagster UI after every run.

- `costs_are_fresh`: yesterday's (UTC) costs are loaded once it is past `FRESHNESS_HOUR_UTC`
  (env var, default 6: the Costs API has usually closed the day by then).
- `reconciliation_within_threshold`: estimated vs billed drift per model-day stays within
  `RECONCILIATION_THRESHOLD_PCT` (env var, default 1%) for fully priced model-days above a
  minimum bill (tiny bills drift by rounding).
- `all_models_priced`: no usage of a model without a price (its estimate is NULL, never $0).

That every mart sums to the raw Costs and usage totals is a dbt test
(`dbt_models/tests/assert_marts_*_matches_raw_*.sql`), which dagster-dbt shows as an asset check
of its mart.

They read the working warehouse read-only in the `duckdb` pool, so they never meet a writer; the
SQL runs on DuckDB and on Postgres alike (`warehouse/connection.py`).
"""

# No `from __future__ import annotations`: Dagster reads the context annotation at runtime.

import datetime as dt
import os

import dagster as dg

from assets.metadata import markdown_table
from assets.resources import DUCKDB_POOL, WarehouseLock
from warehouse import paths
from warehouse.connection import Connection, connect

FRESHNESS_KEY = dg.AssetKey(["marts", "cost_by_line_item_daily"])
RECONCILIATION_KEY = dg.AssetKey(["marts", "cost_by_model_daily"])
UNPRICED_KEY = dg.AssetKey(["marts", "models_without_price"])

DEFAULT_FRESHNESS_HOUR_UTC = 6
DEFAULT_RECONCILIATION_THRESHOLD_PCT = 1.0
# Model-days billed less than this are not judged: cents of rounding are not drift.
MIN_BILLED_USD_FOR_DRIFT = 0.01


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

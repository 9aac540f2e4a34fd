"""Asset checks that show budget warn/breach and spend spikes on the marts in the Dagster UI.

They run in the same run right after dbt built `marts.budget_status` and
`marts.spend_anomalies`, in the `duckdb` pool (so their short read-only query never meets a
writer), and record the open alerts as check metadata (`alerts`, JSON). The alert sensor
(`assets/sensors.py`) delivers from that metadata and never opens the warehouse itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg

from assets.metadata import markdown_table
from assets.resources import DUCKDB_POOL, WarehouseLock
from assets.settings import Settings
from warehouse.connection import connect

BUDGET_STATUS_KEY = dg.AssetKey(["marts", "budget_status"])
ANOMALIES_KEY = dg.AssetKey(["marts", "spend_anomalies"])
BUDGET_CHECK = "budgets_within_limits"
ANOMALY_CHECK = "no_recent_spend_spikes"
BUDGET_CHECK_KEY = dg.AssetCheckKey(BUDGET_STATUS_KEY, BUDGET_CHECK)
ANOMALY_CHECK_KEY = dg.AssetCheckKey(ANOMALIES_KEY, ANOMALY_CHECK)
# Spikes on days older than this (before the latest day loaded) are history, not alerts.
RECENT_ANOMALY_DAYS = 7

SCOPE_LABELS = {
    "organization": "organization",
    "project": "project",
    "api_key": "API key",
    "user": "user",
    "model": "model",
}

_CURRENT_BUDGETS = """
select organization, budget_name, scope_type, scope_match, period, basis,
       cast(period_start as varchar), matched_scopes, spent_usd, limit_usd, warn_percent,
       percent_used, projected_usd, state
from marts.budget_status
where is_current_period
order by organization, budget_name
"""
_RECENT_ANOMALIES = """
select organization, scope_type, scope_id, scope_name, cast(usage_date as varchar), spend_usd,
       baseline_median_usd, spike_factor
from marts.spend_anomalies
where usage_date >= ?
order by usage_date, organization, scope_type, scope_id
"""


def _alert(
    kind: str, key: tuple, state: str, organization: str, asset: dg.AssetKey, **fields: Any
) -> dict[str, Any]:
    """An alert (JSON-able): what every kind has, in the same order (`key` names it across
    runs: kind, organization, then `key`), around the kind's own `fields`."""
    return {
        "key": "/".join(str(part) for part in (kind, organization, *key)),
        "kind": kind,
        "state": state,
        "organization": organization,
        **fields,
        "asset": asset.to_user_string(),
    }


def budget_alert(row: tuple) -> dict[str, Any]:
    """An alert from one current `budget_status` row."""
    (org, name, scope_type, match, period, basis, start, _matched, spent, limit, _warn, pct,
     projected, state) = row  # fmt: skip
    return _alert(
        "budget",
        (name, start),
        state,
        org,
        BUDGET_STATUS_KEY,
        budget=name,
        scope_type=scope_type,
        scope=match or org,
        period=period,
        period_start=start,
        basis=basis,
        amount_usd=round(float(spent), 2),
        limit_usd=round(float(limit), 2),
        percent=round(float(pct), 1),
        projected_usd=None if projected is None else round(float(projected), 2),
    )


def anomaly_alert(row: tuple) -> dict[str, Any]:
    """An alert from one `spend_anomalies` row."""
    org, scope_type, scope_id, scope_name, day, spend, baseline, factor = row
    label = f"{scope_name} ({scope_id})" if scope_name and scope_name != scope_id else scope_id
    return _alert(
        "anomaly",
        (scope_type, scope_id, day),
        "spike",
        org,
        ANOMALIES_KEY,
        scope_type=scope_type,
        scope=label,
        date=day,
        amount_usd=round(float(spend), 2),
        baseline_usd=round(float(baseline), 2),
        factor=round(float(factor), 1),
    )


def _query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with connect(settings.warehouse) as con:
        return con.execute(sql, params or []).fetchall()


def _alert_table(alerts: list[dict[str, Any]], columns: list[str]) -> str:
    return markdown_table(columns, [[a.get(c, "") for c in columns] for a in alerts])


def build_budget_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    @dg.asset_check(
        asset=BUDGET_STATUS_KEY,
        name=BUDGET_CHECK,
        pool=DUCKDB_POOL,
        description="Fails (WARN) when a budget's current period reaches its warn threshold, "
        "(ERROR) when one reaches its limit. Metadata lists them.",
    )
    def budgets_within_limits(warehouse_lock: WarehouseLock) -> dg.AssetCheckResult:
        rows = _query(settings, _CURRENT_BUDGETS)
        current = [budget_alert(r) for r in rows]
        alerts = [a for a in current if a["state"] in ("warn", "breach")]
        breaches = sum(a["state"] == "breach" for a in alerts)
        return dg.AssetCheckResult(
            passed=not alerts,
            severity=dg.AssetCheckSeverity.ERROR if breaches else dg.AssetCheckSeverity.WARN,
            metadata={
                "budgets": len(current),
                "warn": len(alerts) - breaches,
                "breach": breaches,
                "current_periods": dg.MetadataValue.md(
                    _alert_table(
                        current,
                        [
                            "budget",
                            "state",
                            "scope",
                            "period",
                            "amount_usd",
                            "limit_usd",
                            "percent",
                            "projected_usd",
                        ],
                    )  # fmt: skip
                ),
                "alerts": dg.MetadataValue.json(alerts),
            },
        )

    @dg.asset_check(
        asset=ANOMALIES_KEY,
        name=ANOMALY_CHECK,
        pool=DUCKDB_POOL,
        description=f"Fails (WARN) when an API key or project spiked in the last "
        f"{RECENT_ANOMALY_DAYS} days. Metadata lists the spikes.",
    )
    def no_recent_spend_spikes(warehouse_lock: WarehouseLock) -> dg.AssetCheckResult:
        since = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=RECENT_ANOMALY_DAYS)
        alerts = [anomaly_alert(r) for r in _query(settings, _RECENT_ANOMALIES, [since])]
        return dg.AssetCheckResult(
            passed=not alerts,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "spikes": len(alerts),
                "recent_spikes": dg.MetadataValue.md(
                    _alert_table(
                        alerts,
                        ["date", "scope_type", "scope", "amount_usd", "baseline_usd", "factor"],
                    )  # fmt: skip
                ),
                "alerts": dg.MetadataValue.json(alerts),
            },
        )

    return [budgets_within_limits, no_recent_spend_spikes]

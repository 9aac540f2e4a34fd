"""The Dagster asset checks on the marts (`assets/checks.py`), on a small hand-made file."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from assets import checks

NOW = dt.datetime(2025, 3, 10, 8, tzinfo=dt.UTC)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.cost_by_line_item_daily as select * from (values"
        " ('default', date '2025-03-09'), ('labs', date '2025-03-07'))"
        " as t(organization, usage_date)"
    )
    con.execute(
        "create table marts.cost_by_model_daily as select * from (values"
        " ('default', date '2025-03-09', 'gpt-4o', 10, 100.0, 100.5, 0),"
        " ('default', date '2025-03-09', 'o3', 10, 100.0, 103.0, 0),"
        " ('default', date '2025-03-09', 'ft-x', 10, 100.0, null, 10),"
        " ('default', date '2025-03-09', 'tiny', 1, 0.001, 0.002, 0)"
        ") as t(organization, usage_date, model, requests, billed_cost_usd, estimated_cost_usd,"
        " unpriced_requests)"
    )
    con.execute(
        "create table marts.models_without_price as select 'default' as organization,"
        " 'ft:x' as model, 'no price for the model that day' as unpriced_reason,"
        " date '2025-03-09' as first_date, date '2025-03-09' as last_date, 10 as requests"
    )
    yield con
    con.close()


def test_freshness_fails_for_a_stale_organization_only_once_due(con, monkeypatch):
    monkeypatch.setenv("FRESHNESS_HOUR_UTC", "6")
    result = checks.freshness_result(con, NOW)
    assert not result.passed
    assert result.metadata["stale_organizations"].value == "labs"
    early = checks.freshness_result(con, NOW.replace(hour=5))
    assert early.passed  # yesterday's costs are not due yet


def test_reconciliation_flags_fully_priced_model_days_over_the_threshold(con, monkeypatch):
    monkeypatch.setenv("RECONCILIATION_THRESHOLD_PCT", "1")
    result = checks.reconciliation_result(con)
    assert not result.passed
    assert result.metadata["over_threshold"].value == 1  # o3 at +3%; gpt-4o +0.5% is fine
    assert result.metadata["max_abs_drift_pct"].value == pytest.approx(3.0)
    assert "o3" in result.metadata["drifting_model_days"].value
    monkeypatch.setenv("RECONCILIATION_THRESHOLD_PCT", "5")
    assert checks.reconciliation_result(con).passed


def test_unpriced_models_are_reported(con):
    result = checks.unpriced_result(con)
    assert not result.passed
    assert result.metadata["unpriced_models"].value == 1
    con.execute("delete from marts.models_without_price")
    assert checks.unpriced_result(con).passed

"""OpenAI's hard limits and alerts beside the month's spend: a real Dagster run on the simulator
(ingestion, directory, dbt build, publishing, report), checked against the simulator's truth."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest
from _budget_runs import load_defs, run

from simulator import ADMIN_KEY, SimulatorConfig, start_simulator
from simulator.activity import DAY, day_of


def _month_to_date_truth(org, now_ts: int) -> tuple[dt.date, dict[str | None, float]]:
    """The latest day with billed cost (up to now), and each scope's billed USD from the first
    of its month to that day: the organization (None) and every project."""

    def day_rows(day: int) -> list[dict]:
        return org.cost_truth(day * DAY, until=min((day + 1) * DAY, now_ts))

    last = day_of(now_ts)
    while not day_rows(last):
        last -= 1
    as_of = dt.date(1970, 1, 1) + dt.timedelta(days=last)
    first = day_of(int(dt.datetime(as_of.year, as_of.month, 1, tzinfo=dt.UTC).timestamp()))
    spent: dict[str | None, float] = {None: 0.0}
    for day in range(first, last + 1):
        for row in day_rows(day):
            spent[None] += row["amount"]
            spent[row["project_id"]] = spent.get(row["project_id"], 0.0) + row["amount"]
    return as_of, spent


def test_spend_marts_show_the_simulators_limits_alerts_and_month_spend(monkeypatch, tmp_path):
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    with start_simulator(SimulatorConfig(seed=7, now=now)) as sim:
        monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
        monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
        monkeypatch.setenv("USAGE_START_DATE", (now.date() - dt.timedelta(days=60)).isoformat())
        monkeypatch.setenv("BUDGETS_PATH", str(tmp_path / "none.yaml"))
        as_of, spent = _month_to_date_truth(sim.org, int(now.timestamp()))
        with dg.instance_for_test() as instance:
            # Every day of the month of the latest day with cost, up to today.
            run(load_defs(), instance, days=(now.date() - as_of.replace(day=1)).days + 1)
        controls = sim.org.spend
        names = {p.id: p.name for p in sim.org.projects}

    warehouse = tmp_path / "warehouse" / "openai_usage.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        limits = con.execute(
            "select project_id, scope_type, scope_name, limit_usd, enforcement_status,"
            " is_enforcing, as_of_date, period_start, spent_usd, percent_used, is_reached"
            " from marts.openai_spend_limits"
        ).fetchall()
        alerts = con.execute(
            "select alert_id, project_id, threshold_usd, recipient_count, spent_usd, is_crossed"
            " from marts.openai_spend_alerts"
        ).fetchall()

    # One row per scope with a limit, in USD from the API's cents, the month's billed spend.
    assert {row[0] for row in limits} == set(controls.limits)
    for project_id, scope_type, name, limit_usd, status, enforcing, day, start, *used in limits:
        truth = controls.limits[project_id]
        assert scope_type == ("organization" if project_id is None else "project")
        assert name == ("default" if project_id is None else names[project_id])
        assert limit_usd * 100 == truth.threshold_amount
        assert (status, enforcing) == (truth.enforcement_status, status == "enforcing")
        assert day == as_of and start == as_of.replace(day=1)
        spent_usd, percent_used, is_reached = used
        assert spent_usd == pytest.approx(spent.get(project_id, 0.0), rel=1e-9, abs=1e-9)
        assert percent_used == pytest.approx(100 * spent_usd / float(limit_usd))
        assert is_reached == (spent_usd >= float(limit_usd))
    assert spent[None] > 0 and any(0 < row[9] < 100 for row in limits)

    assert len(alerts) == len(controls.alerts)
    truth_alerts = {a.id: a for a in controls.alerts}
    for alert_id, project_id, threshold_usd, recipients, spent_usd, crossed in alerts:
        truth = truth_alerts[alert_id]
        assert project_id == truth.project_id
        assert threshold_usd * 100 == truth.threshold_amount
        assert recipients == len(truth.recipients)
        assert spent_usd == pytest.approx(spent.get(project_id, 0.0), rel=1e-9, abs=1e-9)
        assert crossed == (spent_usd >= float(threshold_usd))

    # Published for BI tools, and shown in the report's budget section.
    serving = tmp_path / "warehouse" / "serving"
    parquet = serving / "parquet" / "openai_spend_limits.parquet"
    with duckdb.connect() as con:
        published = con.execute("select count(*) from read_parquet(?)", [str(parquet)]).fetchone()
    assert published == (len(controls.limits),)
    assert (serving / "csv" / "openai_spend_alerts.csv").exists()
    page = (serving / "report.html").read_text()
    section = page.split("<h2>OpenAI spend limits and alerts</h2>", 1)[1].split("</section>")[0]
    org_limit = controls.limits[None].threshold_amount / 100
    assert f"<td>default (organization)</td><td>{org_limit:,.2f}</td>" in section

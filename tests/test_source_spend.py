"""Spend limits and alerts of the directory source: loaded with history from the simulator (real
HTTP on 127.0.0.1) into a temporary DuckDB file; refusals are a warning and an empty table."""

from __future__ import annotations

import json
import logging

import pytest
from fixtures.dlt_pipelines import new_pipeline, query

from pipelines.openai_admin import openai_directory, settings, spend
from pipelines.openai_admin.errors import AdminApiError
from reliability.faultproxy import FaultPlan, FaultProxy, FaultRule
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator

LIMITS = "select project_id, threshold_amount, currency, interval, enforcement_status"
CURRENT = "_dlt_valid_to is null"


def _load(pipeline, base_url: str) -> None:
    """The directory source, with only the tables these tests read (the spend tables need the
    projects they iterate)."""
    source = openai_directory(base_url=base_url, api_key=ADMIN_KEY)
    pipeline.run(source.with_resources("projects", "spend_limits", "spend_alerts"))


def _current_limits(pipeline) -> set[tuple]:
    return set(query(pipeline, f"{LIMITS} from raw.spend_limits where {CURRENT}"))


def _current_alerts(pipeline) -> set[tuple]:
    sql = "select project_id, id, threshold_amount, recipients_json from raw.spend_alerts"
    return set(query(pipeline, f"{sql} where {CURRENT}"))


def _limits_truth(controls) -> set[tuple]:
    return {
        (p, limit.threshold_amount, "USD", "month", limit.enforcement_status)
        for p, limit in controls.limits.items()
    }


def _alerts_truth(controls) -> set[tuple]:
    return {
        (a.project_id, a.id, a.threshold_amount, json.dumps(list(a.recipients), sort_keys=True))
        for a in controls.alerts
    }


def test_limits_and_alerts_load_in_cents_and_keep_their_history(tmp_path):
    pipeline = new_pipeline(tmp_path, "spend")
    with start_simulator(SimulatorConfig(seed=7)) as sim:
        controls = sim.org.spend
        _load(pipeline, sim.base_url)
        # Amounts exactly as the API gives them (cents, USD): the organization's limit with a
        # NULL project, and only the projects that have controls.
        assert _current_limits(pipeline) == _limits_truth(controls)
        assert _current_alerts(pipeline) == _alerts_truth(controls)
        projects = {p.id for p in sim.org.projects}
        assert set(controls.limits) - {None} < projects  # some projects have no limit...
        assert {a.project_id for a in controls.alerts} - {None} < projects  # ...or alerts

        # Reloading an unchanged organization opens no new version.
        _load(pipeline, sim.base_url)
        counts = query(
            pipeline,
            "select (select count(*) from raw.spend_limits), "
            "(select count(*) from raw.spend_alerts)",
        )[0]
        assert counts == (len(controls.limits), len(controls.alerts))

        changes = sim.change_spend_controls(seed=1)
        _load(pipeline, sim.base_url)
        assert _current_limits(pipeline) == _limits_truth(controls)
        assert _current_alerts(pipeline) == _alerts_truth(controls)
        org_versions = query(
            pipeline,
            "select threshold_amount, _dlt_valid_to is null from raw.spend_limits "
            "where project_id is null order by _dlt_valid_from",
        )
        assert [current for _, current in org_versions] == [False, True]
        assert org_versions[1][0] == changes["organization_limit"] > org_versions[0][0]
        flipped = query(
            pipeline,
            "select enforcement_status from raw.spend_limits where project_id = ? "
            "order by _dlt_valid_from",
            [changes["flipped_project"]],
        )
        assert len(flipped) == 2 and flipped[0] != flipped[1]
        removed = query(
            pipeline,
            f"select {CURRENT} from raw.spend_alerts where id = ?",
            [changes["removed_alert"]],
        )
        assert removed == [(False,)]  # retired, not deleted: its history stays

        # Every control removed: the organization's row says "no limit", everything else ends.
        sim.config.spend_controls = "none"
        _load(pipeline, sim.base_url)
    assert _current_limits(pipeline) == {(None, None, None, None, None)}
    assert _current_alerts(pipeline) == {(None, None, None, None)}
    assert query(pipeline, "select count(*) from raw.spend_alerts where id is not null")[0][0] > 0


def test_alert_listings_follow_their_cursor_page_by_page(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "SPEND_ALERTS_MAX_LIMIT", 2)
    pipeline = new_pipeline(tmp_path, "spend")
    with start_simulator(SimulatorConfig(seed=7)) as sim:
        _load(pipeline, sim.base_url)
        controls = sim.org.spend
        org_requests = [r for r in sim.requests if r.path == "/v1/organization/spend_alerts"]
    organization_alerts = controls.alerts_of(None)
    assert len(organization_alerts) > 2  # so it takes more than one page
    assert len(org_requests) == -(-len(organization_alerts) // 2)
    assert all(r.query["limit"] == ["2"] and r.query["order"] == ["asc"] for r in org_requests)
    assert [r.query.get("after") for r in org_requests][1:] == [
        [a.id] for a in organization_alerts[1:-1:2]
    ]
    assert _current_alerts(pipeline) == _alerts_truth(controls)


@pytest.mark.parametrize("unset", ["404", "null"])
def test_a_scope_without_a_limit_reads_the_same_whatever_the_api_answers(tmp_path, unset):
    """No limit answered as 404 or as an explicit 200 with a null amount: the same rows."""
    pipeline = new_pipeline(tmp_path, "spend")
    with start_simulator(SimulatorConfig(seed=7, spend_limit_unset=unset)) as sim:
        _load(pipeline, sim.base_url)
        assert _current_limits(pipeline) == _limits_truth(sim.org.spend)
    with start_simulator(SimulatorConfig(seed=7, spend_limit_unset=unset)) as sim:
        sim.config.spend_controls = "none"
        pipeline = new_pipeline(tmp_path, "spend")
        _load(pipeline, sim.base_url)
    assert _current_limits(pipeline) == {(None, None, None, None, None)}


@pytest.mark.parametrize(("mode", "status"), [("forbidden", 403), ("unavailable", 404)])
def test_a_refusal_warns_leaves_the_tables_empty_and_the_run_succeeds(
    tmp_path, caplog, mode, status
):
    pipeline = new_pipeline(tmp_path, "spend")
    with start_simulator(SimulatorConfig(seed=7, spend_controls=mode)) as sim:
        with caplog.at_level(logging.WARNING, logger="pipelines.openai_admin"):
            _load(pipeline, sim.base_url)
        spend_requests = [r for r in sim.requests if "/spend_" in r.path]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    refused = f"{status} on /v1/organization/spend_alerts"
    assert any(w.startswith("Spend alerts not loaded") and refused in w for w in warnings), warnings
    assert ADMIN_KEY not in " ".join(warnings)
    # The rest of the directory loaded, and both tables exist with their declared columns.
    assert query(pipeline, "select count(*) from raw.projects")[0][0] > 0
    assert query(pipeline, "select count(*) from raw.spend_alerts")[0][0] == 0
    columns = {c for (c,) in query(pipeline, "select column_name from (describe raw.spend_limits)")}
    assert {"project_id", "threshold_amount", "enforcement_status", "interval"} <= columns
    limits = _current_limits(pipeline)
    if status == 403:
        # One refused request per endpoint: the projects are not asked one by one.
        assert limits == set() and len(spend_requests) == 2
        assert any(w.startswith("Spend limits not loaded") for w in warnings)
    else:
        # A 404 on a limit reads as "no limit set": the organization's row without an amount.
        assert limits == {(None, None, None, None, None)}


def test_a_refusal_keeps_what_earlier_runs_loaded(tmp_path):
    pipeline = new_pipeline(tmp_path, "spend")
    with start_simulator(SimulatorConfig(seed=7)) as sim:
        _load(pipeline, sim.base_url)
        before = (_current_limits(pipeline), _current_alerts(pipeline))
        sim.config.spend_controls = "forbidden"
        _load(pipeline, sim.base_url)
    assert (_current_limits(pipeline), _current_alerts(pipeline)) == before


def test_a_server_error_on_spend_controls_is_not_a_refusal(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")
    pipeline = new_pipeline(tmp_path, "spend")
    plan = FaultPlan([FaultRule("5xx", path="organization/spend_limit", count=100, status=500)])
    with (
        start_simulator(SimulatorConfig(seed=7)) as sim,
        FaultProxy(sim.base_url, plan) as proxy,
        pytest.raises(Exception, match="spend_limit"),
    ):
        _load(pipeline, proxy.base_url)
    assert plan.rules[0].applied == 2


# ---------------------------------------------------------------------------------- row shapes


def test_limit_row_keeps_cents_and_unknown_enum_values():
    body = {
        "object": "project.spend_limit",
        "threshold_amount": 123456,
        "currency": "EUR",
        "interval": "quarter",
        "enforcement": {"status": "grace_period"},
        "new_field": 1,
    }
    assert spend.limit_row(body, "acme", "proj_1") == {
        "organization": "acme",
        "project_id": "proj_1",
        "object": "project.spend_limit",
        "threshold_amount": 123456,
        "currency": "EUR",
        "interval": "quarter",
        "enforcement_status": "grace_period",
    }
    none = spend.limit_row(None, "acme", None)
    assert none["organization"] == "acme" and none["threshold_amount"] is None
    assert (
        spend.limit_row({"threshold_amount": 5, "enforcement": None}, "a", None)[
            "enforcement_status"
        ]
        is None
    )


def test_alert_row_flattens_the_email_channel():
    alert = {
        "id": "alert_1",
        "object": "organization.spend_alert",
        "threshold_amount": 100000,
        "currency": "USD",
        "interval": "month",
        "notification_channel": {"type": "email", "recipients": ["b@x.io", "a@x.io"]},
    }
    row = spend.alert_row(alert, "acme", None)
    assert row["threshold_amount"] == 100000 and row["notification_type"] == "email"
    assert json.loads(row["recipients_json"]) == ["b@x.io", "a@x.io"]
    assert row["subject_prefix"] is None
    placeholder = spend.no_alerts_row("acme")
    assert placeholder["organization"] == "acme"
    assert all(v is None for k, v in placeholder.items() if k != "organization")


@pytest.mark.parametrize(("status", "skipped"), [(403, True), (404, True), (400, False)])
def test_only_403_and_404_are_refusals_a_run_may_skip(status, skipped):
    import requests

    response = requests.Response()
    response.status_code = status
    response._content = b'{"error": {"message": "nope", "type": "t", "param": null, "code": null}}'
    response.request = requests.Request("GET", "http://x/v1/organization/spend_limit").prepare()
    try:
        raise AdminApiError("refused") from requests.HTTPError(response=response)
    except AdminApiError as exc:
        error = exc
    assert (spend.refused_response(error) is response) is skipped
    assert spend.refusal_text(response) == f"{status} on /v1/organization/spend_limit: nope"
    assert spend.refused_response(RuntimeError("no response")) is None

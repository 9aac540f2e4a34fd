"""Alerts: a real webhook receiver on 127.0.0.1 gets each warn, breach and spike exactly once.

A full run loads the simulator's last days with a budget at 90% (warn); budget-only runs then
move it to breach by changing budgets.yaml, then change nothing. The sensor is evaluated after
each run with its cursor, as the Dagster daemon does.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
from _budget_runs import BUDGET_ONLY, TODAY, load_defs, run
from fixtures.simulated_api import use_simulator

from assets.sensors import AlertState, json_payload, slack_payload, spend_alerts
from simulator import SimulatorConfig, start_simulator


class Receiver:
    """A webhook endpoint recording JSON bodies; `status` answers every POST."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status == 200:
                    receiver.bodies.append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[dict]:
        bodies, self.bodies = self.bodies, []
        return bodies


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def _tick(instance, cursor):
    with dg.build_sensor_context(instance=instance, cursor=cursor) as context:
        spend_alerts(context)
        return context.cursor


def _ts(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


BUDGET = """\
budgets:
  - name: org-monthly
    scope: organization
    period: monthly
    limit_usd: {limit}
  - name: roomy-daily
    scope: organization
    period: daily
    limit_usd: 1000000
"""


def test_warn_then_breach_then_nothing_and_a_down_webhook_loses_nothing(
    monkeypatch, tmp_path, receiver
):
    budgets = tmp_path / "budgets.yaml"
    monkeypatch.setenv("BUDGETS_PATH", str(budgets))
    monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("ALERT_WEBHOOK_FORMAT", "json")
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", "http://dagster.example:3000")
    with (
        start_simulator(SimulatorConfig(seed=42)) as sim,
        dg.instance_for_test() as instance,
    ):
        use_simulator(monkeypatch, sim.base_url)
        # This month's billed total of the days the first run loads, from the simulator's truth.
        now = int(time.time())
        first_day = max(TODAY.replace(day=1), TODAY - dt.timedelta(days=2))
        spent = sum(
            row["amount"]
            for n in range((TODAY - first_day).days + 1)
            for row in sim.org.cost_truth(_ts(first_day + dt.timedelta(days=n)), until=now)
        )
        assert spent > 0
        # 90% of the limit: one warn, sent once.
        budgets.write_text(BUDGET.format(limit=spent / 0.9))
        defs = load_defs()
        run(defs, instance, days=3)
        cursor = None
        cursor = _tick(instance, cursor)
        (warn,) = receiver.take()
        assert (warn["kind"], warn["state"], warn["budget"]) == ("budget", "warn", "org-monthly")
        assert warn["amount_usd"] == pytest.approx(spent, rel=0.01)
        assert warn["percent"] == pytest.approx(90, rel=0.01)
        assert warn["url"] == "http://dagster.example:3000/assets/marts/budget_status"
        assert "org-monthly" in warn["text"] and "WARN" in warn["text"]
        cursor = _tick(instance, cursor)
        assert receiver.take() == []  # the same state is not sent again

        # Over the limit while the webhook is down: kept, then delivered once it is back.
        budgets.write_text(BUDGET.format(limit=spent / 1.5))
        run(defs, instance, days=1, job=BUDGET_ONLY)
        receiver.status = 503
        cursor = _tick(instance, cursor)
        assert json.loads(cursor)["pending"][0]["state"] == "breach"
        monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/closed")
        cursor = _tick(instance, cursor)  # connection refused: still pending
        monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
        receiver.status = 200
        assert receiver.take() == []
        cursor = _tick(instance, cursor)
        (breach,) = receiver.take()
        assert (breach["state"], breach["budget"]) == ("breach", "org-monthly")
        assert breach["limit_usd"] == pytest.approx(spent / 1.5, abs=0.01)

        # Another run with the same data: nothing new.
        run(defs, instance, days=1, job=BUDGET_ONLY)
        cursor = _tick(instance, cursor)
        cursor = _tick(instance, cursor)
        assert receiver.take() == []
        assert json.loads(cursor)["pending"] == []


ALERT = {
    "key": "budget/default/b/2025-01-01",
    "kind": "budget",
    "state": "warn",
    "organization": "default",
    "budget": "b",
    "scope_type": "project",
    "scope": "Support Copilot",
    "period": "monthly",
    "period_start": "2025-01-01",
    "basis": "billed",
    "amount_usd": 85.0,
    "limit_usd": 100.0,
    "percent": 85.0,
    "projected_usd": 170.0,
    "asset": "marts/budget_status",
}


def test_payloads_name_scope_amount_limit_and_link():
    slack = slack_payload(ALERT, "http://ui:3000/")
    assert set(slack) == {"text", "blocks"}
    assert "project Support Copilot" in slack["text"] and "$85.00 of $100.00" in slack["text"]
    assert "http://ui:3000/assets/marts/budget_status" in json.dumps(slack["blocks"])
    plain = json_payload(ALERT, "http://ui:3000")
    assert plain["state"] == "warn" and plain["url"].endswith("/assets/marts/budget_status")
    spike = {
        **ALERT,
        **{"kind": "anomaly", "state": "spike", "scope_type": "api_key", "scope": "bot (key_1)"},
        **{"date": "2025-01-09", "baseline_usd": 8.5, "factor": 10.0},
    }
    assert "10.0x its baseline of $8.50/day" in slack_payload(spike)["text"]


def test_state_queues_changes_only_and_keeps_order_until_delivered():
    state = AlertState()
    warn = dict(ALERT)
    state.merge([warn])
    assert [a["state"] for a in state.pending] == ["warn"]
    assert state.deliver(lambda a: (_ for _ in ()).throw(OSError("down"))) == (0, "OSError: down")
    state.merge([{**warn, "state": "breach"}])  # newer state replaces the undelivered one
    sent: list[dict] = []
    assert state.deliver(sent.append) == (1, None)
    assert [a["state"] for a in sent] == ["breach"] and state.sent == {warn["key"]: "breach"}
    state.merge([{**warn, "state": "breach"}])
    assert state.pending == []
    state.merge([])  # the period is over: forgotten
    assert state.sent == {} and AlertState.from_cursor(state.to_cursor()) == state

"""`spend_alerts`: every new budget warn/breach and spend spike, once, to `ALERT_WEBHOOK_URL`.

The sensor reads the open alerts that the checks in `assets/checks_budgets.py` recorded after
the latest run (check metadata in the Dagster instance), so it never opens the DuckDB file and
never blocks the pipeline. Its cursor is the alert state, JSON::

    {"sent": {alert key: last state delivered}, "pending": [alert, ...]}

An alert is queued when its state differs from the last one delivered (a new warn, warn ->
breach, a new spike); the same state is never sent twice. Pending alerts stay queued until the
webhook answers 2xx; a failed delivery is retried on the next tick, in order, so nothing is lost
or repeated. Alerts that are no longer open (a past period, a spike older than the check's
window) are forgotten. Without `ALERT_WEBHOOK_URL` the sensor skips and keeps its state.

Payloads are Slack-compatible (`{"text", "blocks"}`) by default; `ALERT_WEBHOOK_FORMAT=json`
posts the alert itself plus `text` and `url`.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from assets.checks_budgets import ANOMALY_CHECK_KEY, BUDGET_CHECK_KEY, SCOPE_LABELS

DEFAULT_WEBSERVER_URL = "http://localhost:3000"
ALERT_CHECKS = (BUDGET_CHECK_KEY, ANOMALY_CHECK_KEY)
TIMEOUT_SECONDS = 10

Alert = dict[str, Any]


# ------------------------------------------------------------------------------------------
# Payloads (pure)
# ------------------------------------------------------------------------------------------


def asset_url(alert: Alert, webserver_url: str = DEFAULT_WEBSERVER_URL) -> str:
    """Link to the alert's asset in the Dagster UI."""
    return f"{webserver_url.rstrip('/')}/assets/{alert['asset']}"


def alert_text(alert: Alert) -> str:
    """One line naming the scope, the amount and the limit or baseline."""
    scope = f"{SCOPE_LABELS.get(alert['scope_type'], alert['scope_type'])} {alert['scope']}"
    org = "" if alert["organization"] == "default" else f" [{alert['organization']}]"
    if alert["kind"] == "budget":
        projected = (
            f", month-end projection ${alert['projected_usd']:,.2f}"
            if alert.get("projected_usd") is not None and alert["period"] == "monthly"
            else ""
        )
        return (
            f"Budget {alert['state'].upper()}{org}: {alert['budget']} ({scope}, "
            f"{alert['period']} from {alert['period_start']}, {alert['basis']}) spent "
            f"${alert['amount_usd']:,.2f} of ${alert['limit_usd']:,.2f} limit "
            f"({alert['percent']:.1f}%){projected}"
        )
    return (
        f"Spend spike{org}: {scope} spent ${alert['amount_usd']:,.2f} on {alert['date']}, "
        f"{alert['factor']:.1f}x its baseline of ${alert['baseline_usd']:,.2f}/day"
    )


def slack_payload(alert: Alert, webserver_url: str = DEFAULT_WEBSERVER_URL) -> dict[str, Any]:
    """Slack incoming-webhook JSON (also accepted by Mattermost, Rocket.Chat, Teams workflows)."""
    text = alert_text(alert)
    url = asset_url(alert, webserver_url)
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{url}|{alert['asset']} in Dagster>"}],
            },
        ],
    }


def json_payload(alert: Alert, webserver_url: str = DEFAULT_WEBSERVER_URL) -> dict[str, Any]:
    """Plain JSON: the alert's fields, a text line and the asset link."""
    return {**alert, "text": alert_text(alert), "url": asset_url(alert, webserver_url)}


def build_payload(alert: Alert, fmt: str, webserver_url: str) -> dict[str, Any]:
    return (
        json_payload(alert, webserver_url) if fmt == "json" else slack_payload(alert, webserver_url)
    )


# ------------------------------------------------------------------------------------------
# State (pure)
# ------------------------------------------------------------------------------------------


@dataclass
class AlertState:
    sent: dict[str, str] = field(default_factory=dict)
    pending: list[Alert] = field(default_factory=list)

    @classmethod
    def from_cursor(cls, cursor: str | None) -> AlertState:
        if not cursor:
            return cls()
        data = json.loads(cursor)
        return cls(sent=dict(data.get("sent", {})), pending=list(data.get("pending", [])))

    def to_cursor(self) -> str:
        return json.dumps({"sent": self.sent, "pending": self.pending}, sort_keys=True)

    def merge(self, open_alerts: Iterable[Alert]) -> None:
        """Queue alerts whose state was not delivered yet; forget alerts no longer open."""
        open_alerts = list(open_alerts)
        open_keys = {a["key"] for a in open_alerts}
        self.sent = {k: v for k, v in self.sent.items() if k in open_keys}
        pending = {a["key"]: a for a in self.pending if a["key"] in open_keys}
        for alert in open_alerts:
            if self.sent.get(alert["key"]) == alert["state"]:
                pending.pop(alert["key"], None)  # e.g. breach -> warn -> breach before delivery
            else:
                pending[alert["key"]] = alert  # newest state replaces an undelivered older one
        order = {a["key"]: i for i, a in enumerate(self.pending)}
        self.pending = sorted(pending.values(), key=lambda a: order.get(a["key"], len(order)))

    def deliver(self, send: Callable[[Alert], None]) -> tuple[int, str | None]:
        """Send pending alerts in order until one fails; returns (delivered, error)."""
        delivered = 0
        while self.pending:
            alert = self.pending[0]
            try:
                send(alert)
            except Exception as exc:  # noqa: BLE001 - any failure means retry next tick
                return delivered, f"{type(exc).__name__}: {exc}"
            self.sent[alert["key"]] = alert["state"]
            self.pending.pop(0)
            delivered += 1
        return delivered, None


# ------------------------------------------------------------------------------------------
# Delivery and the sensor
# ------------------------------------------------------------------------------------------


def post_json(url: str, payload: dict[str, Any]) -> None:
    """POST JSON; raise unless the answer is 2xx."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not 2xx", response.headers, None)


def open_alerts(instance: dg.DagsterInstance) -> list[Alert] | None:
    """Open alerts recorded by the latest evaluation of each alert check; None before any."""
    alerts: list[Alert] = []
    found = False
    for check_key in ALERT_CHECKS:
        record = instance.get_latest_asset_check_evaluation_record(check_key)
        evaluation = record.evaluation if record else None
        if evaluation is None:
            # The latest execution may be planned or running: use the latest finished one.
            history = instance.event_log_storage.get_asset_check_execution_history(
                check_key, limit=5
            )
            evaluation = next((r.evaluation for r in history if r.evaluation), None)
        if evaluation is None:
            continue
        found = True
        value = evaluation.metadata.get("alerts")
        alerts.extend(value.value if value is not None else [])
    return alerts if found else None


@dg.sensor(
    name="spend_alerts",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Sends each new budget warn/breach and spend spike once to ALERT_WEBHOOK_URL.",
)
def spend_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    url = os.environ.get("ALERT_WEBHOOK_URL", "").strip()
    if not url:
        return dg.SkipReason("ALERT_WEBHOOK_URL is not set: no alerts are sent.")
    fmt = os.environ.get("ALERT_WEBHOOK_FORMAT", "slack").strip().lower()
    webserver = os.environ.get("DAGSTER_WEBSERVER_URL", DEFAULT_WEBSERVER_URL)
    state = AlertState.from_cursor(context.cursor)
    current = open_alerts(context.instance)
    if current is not None:
        state.merge(current)
    delivered, error = state.deliver(lambda a: post_json(url, build_payload(a, fmt, webserver)))
    context.update_cursor(state.to_cursor())
    if error:
        context.log.warning(
            f"Alert webhook failed ({error}); {len(state.pending)} alert(s) kept for the next tick"
        )
        return dg.SkipReason(f"Delivered {delivered}; webhook failed, {len(state.pending)} pending")
    return dg.SkipReason(f"Delivered {delivered} alert(s); nothing pending")

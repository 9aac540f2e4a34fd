"""Spend spikes: the simulator's incident (one key x10 for a day) is flagged, and nothing else."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest
from _budget_runs import TODAY, load_defs, run
from fixtures.simulated_api import use_simulator

from simulator import SimulatorConfig, start_simulator
from simulator.activity import DAY, day_of
from simulator.org import Organization

INCIDENT_DAYS_AGO = 2


def _org(**incident) -> Organization:
    from simulator.server import SimulatorState

    return SimulatorState(SimulatorConfig(seed=42, **incident)).org


def test_the_incident_scales_usage_and_cost_of_one_key_on_one_day_only():
    plain, hit = _org(), _org(incident_days_ago=INCIDENT_DAYS_AGO)
    incident = hit.incident
    assert incident.factor == 10
    assert incident.day == day_of(int(dt.datetime.now(dt.UTC).timestamp())) - INCIDENT_DAYS_AGO

    def by_key(org, day):
        rows = org.usage_truth(day * DAY, (day + 1) * DAY)
        out: dict[str, list[int]] = {}
        for r in rows:
            acc = out.setdefault(r["api_key_id"], [0, 0, 0])
            acc[0] += r["num_model_requests"]
            acc[1] += r["input_tokens"]
            acc[2] += r["output_tokens"]
        return out

    before, after = by_key(plain, incident.day), by_key(hit, incident.day)
    assert after[incident.api_key_id] == [10 * v for v in before[incident.api_key_id]]
    assert {k: v for k, v in after.items() if k != incident.api_key_id} == {
        k: v for k, v in before.items() if k != incident.api_key_id
    }
    assert by_key(hit, incident.day - 1) == by_key(plain, incident.day - 1)

    def key_cost(org):
        rows = org.cost_truth(incident.day * DAY)
        return sum(r["amount"] for r in rows if r["api_key_id"] == incident.api_key_id)

    assert key_cost(hit) == pytest.approx(10 * key_cost(plain), rel=1e-3)


def test_the_incident_key_can_be_named():
    plain = _org()
    key = plain.api_keys[3]
    hit = _org(incident_days_ago=1, incident_api_key=key.name)
    assert hit.incident.api_key_id == key.id
    with pytest.raises(ValueError, match="neither the id nor the name"):
        _org(incident_days_ago=1, incident_api_key="no such key")


def test_spend_anomalies_flags_exactly_the_incident(monkeypatch, tmp_path):
    with start_simulator(SimulatorConfig(seed=42, incident_days_ago=INCIDENT_DAYS_AGO)) as sim:
        use_simulator(monkeypatch, sim.base_url)
        monkeypatch.setenv("BUDGETS_PATH", str(tmp_path / "none.yaml"))
        key = sim.org.incident.api_key_id
        with dg.instance_for_test() as instance:
            result = run(load_defs(), instance, days=14)
    day = TODAY - dt.timedelta(days=INCIDENT_DAYS_AGO)
    with duckdb.connect(str(tmp_path / "warehouse" / "openai_usage.duckdb"), read_only=True) as con:
        flagged = con.execute(
            "select scope_type, scope_id, usage_date, spike_factor from marts.spend_anomalies"
        ).fetchall()
        (project,) = con.execute(
            "select distinct project_id from marts.cost_by_api_key_daily where api_key_id = ?",
            [key],
        ).fetchone()
    # The runaway key on that day; at most also its project (the same incident seen per
    # project, flagged when the key is a large enough share of it); nothing else.
    got = {(t, i, d) for t, i, d, _ in flagged}
    assert ("api_key", key, day) in got
    assert got <= {("api_key", key, day), ("project", project, day)}
    assert all(factor >= 5 for *_, factor in flagged)
    checks = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    spikes = checks["no_recent_spend_spikes"]
    assert not spikes.passed and spikes.metadata["spikes"].value == len(flagged)

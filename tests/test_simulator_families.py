"""Simulator additions: usage families, several organizations, restatement, the legacy endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from simulator import ADMIN_KEY, PROJECT_KEY, SimulatorConfig, start_simulator
from simulator.families import FAMILIES

NOW = datetime(2026, 3, 18, 15, 31, 39, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())
DAY = 86_400
TODAY = NOW_TS - NOW_TS % DAY
LABS_KEY = "sk-admin-labs-0000000000000000"


@pytest.fixture(scope="module")
def sim():
    config = SimulatorConfig(seed=7, now=NOW, history_days=60, organizations={LABS_KEY: 9})
    with start_simulator(config) as handle:
        yield handle


def _get(sim, path, key=ADMIN_KEY, **params):
    return requests.get(
        f"{sim.base_url}{path}", params=params, headers={"Authorization": f"Bearer {key}"}
    )


def _sum(body, field):
    return sum(r[field] for b in body["data"] for r in b["results"])


@pytest.mark.parametrize("name", list(FAMILIES))
def test_family_minutes_add_up_to_hours_and_hours_to_days(sim, name):
    counter = FAMILIES[name].counters[0]
    start = TODAY - 3 * DAY
    day = _get(sim, f"/organization/usage/{name}", start_time=start, end_time=start + DAY).json()
    hours = _get(
        sim,
        f"/organization/usage/{name}",
        start_time=start,
        end_time=start + DAY,
        bucket_width="1h",
        limit=24,
    ).json()
    minutes = _get(
        sim,
        f"/organization/usage/{name}",
        start_time=start + 5 * 3600,
        end_time=start + 6 * 3600,
        bucket_width="1m",
        limit=60,
    ).json()
    assert _sum(day, counter) == _sum(hours, counter)
    assert _sum(minutes, counter) == sum(r[counter] for r in hours["data"][5]["results"])


def test_two_organizations_under_two_keys(sim):
    acme = _get(sim, "/organization/projects").json()["data"]
    labs = _get(sim, "/organization/projects", key=LABS_KEY).json()["data"]
    assert {p["id"] for p in acme}.isdisjoint({p["id"] for p in labs})
    # Any other admin key belongs to the primary organization.
    other = _get(sim, "/organization/projects", key="sk-admin-another").json()["data"]
    assert other == acme
    costs = _get(sim, "/organization/costs", key=LABS_KEY, start_time=TODAY - DAY).json()
    assert {r["organization_id"] for b in costs["data"] for r in b["results"]} == {
        sim.org_for(LABS_KEY).id
    }


def test_restatement_changes_recent_days_only_and_is_deterministic():
    def truths(restate: bool):
        with start_simulator(SimulatorConfig(seed=3, now=NOW, history_days=30)) as handle:
            if restate:
                handle.restate(days=2, seed=4)
            org = handle.org
            return [
                (
                    org.usage_truth(day, day + DAY),
                    org.family_truth("embeddings", day, day + DAY),
                    org.cost_truth(day),
                )
                for day in (TODAY - 3 * DAY, TODAY - DAY)
            ]

    plain, revised, again = truths(False), truths(True), truths(True)
    assert revised == again
    assert plain[0] == revised[0]  # an older day is untouched
    assert plain[1] != revised[1]
    old_groups = {tuple(r[k] for k in ("api_key_id", "model", "service_tier")) for r in plain[1][0]}
    new_groups = {
        tuple(r[k] for k in ("api_key_id", "model", "service_tier")) for r in revised[1][0]
    }
    assert old_groups - new_groups and new_groups - old_groups


def test_legacy_usage_needs_a_date_and_is_paced():
    config = SimulatorConfig(
        seed=7, now=NOW, history_days=30, legacy_requests_per_minute=5, legacy_burst=2
    )
    with start_simulator(config) as sim:
        missing = _get(sim, "/usage")
        assert missing.status_code == 400
        assert missing.json()["error"]["message"] == "Missing query parameter 'date'"
        day = datetime.fromtimestamp(TODAY - DAY, UTC).date().isoformat()
        first = _get(sim, "/usage", key=PROJECT_KEY, date=day)  # project keys worked here
        assert first.status_code == 200
        body = first.json()
        assert body["object"] == "list" and body["data"] and body["dalle_api_data"]
        assert {"ft_data", "whisper_api_data", "tts_api_data"} <= set(body)
        paced = _get(sim, "/usage", date=day)
        assert paced.status_code == 429 and int(paced.headers["Retry-After"]) >= 1

"""Simulator organization profiles (rich, fresh, sparse), refused endpoints, undeclared fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from scripts.sim_process import simulator_process
from simulator import ADMIN_KEY, SimulatorConfig, SimulatorHandle, start_simulator
from simulator.families import FAMILIES
from simulator.org import Organization
from simulator.reports import UNDECLARED_COUNTER
from simulator.server import refused_status

NOW = datetime(2026, 3, 18, 15, 31, 39, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())
DAY = 86_400
TODAY = NOW_TS - NOW_TS % DAY


def _get(sim: SimulatorHandle, path: str, params=None) -> requests.Response:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    return requests.get(f"{sim.base_url}{path}", params=params, headers=headers, timeout=30)


def _ok(sim: SimulatorHandle, path: str, params=None) -> dict:
    response = _get(sim, path, params)
    assert response.status_code == 200, response.text
    return response.json()


def _listed(sim: SimulatorHandle, path: str, params=None) -> list[dict]:
    return _ok(sim, path, {"limit": 100, **(params or {})})["data"]


def _results(sim: SimulatorHandle, path: str, days: int, **params) -> dict[int, list[dict]]:
    """Results per day index of the last `days` closed days (one page of daily buckets)."""
    start = TODAY - days * DAY
    body = _ok(sim, path, {"start_time": start, "end_time": TODAY, "limit": 31, **params})
    return {bucket["start_time"] // DAY: bucket["results"] for bucket in body["data"]}


@pytest.fixture(scope="module")
def fresh():
    with start_simulator(SimulatorConfig(seed=5, now=NOW, profile="fresh")) as handle:
        yield handle


@pytest.fixture(scope="module")
def sparse():
    with start_simulator(SimulatorConfig(seed=5, now=NOW, profile="sparse")) as handle:
        yield handle


def test_fresh_organization_has_one_owner_the_default_project_and_nothing_used(fresh):
    users = _listed(fresh, "/organization/users")
    assert [u["role"] for u in users] == ["owner"]
    projects = _listed(fresh, "/organization/projects", {"include_archived": "true"})
    assert [p["name"] for p in projects] == ["Default Project"]
    project = projects[0]["id"]
    assert _listed(fresh, f"/organization/projects/{project}/api_keys") == []
    assert _listed(fresh, f"/organization/projects/{project}/service_accounts") == []
    members = _listed(fresh, f"/organization/projects/{project}/users")
    assert [m["id"] for m in members] == [users[0]["id"]]
    admin_keys = _listed(fresh, "/organization/admin_api_keys")
    assert [k["owner"]["id"] for k in admin_keys] == [users[0]["id"]]
    assert _listed(fresh, "/organization/invites") == []
    for family in ("completions", *FAMILIES):
        days = _results(fresh, f"/organization/usage/{family}", 30, group_by="project_id")
        assert len(days) == 30 and not any(days.values()), family
    costs = _results(fresh, "/organization/costs", 30, group_by="line_item")
    assert len(costs) == 30 and not any(costs.values())


def test_sparse_organization_lists_little_and_has_every_kind_of_quiet_day(sparse):
    assert len(_listed(sparse, "/organization/users")) == 2
    projects = _listed(sparse, "/organization/projects", {"include_archived": "true"})
    assert len(projects) == 2 and all(p["status"] == "active" for p in projects)
    for project in projects:
        keys = _listed(sparse, f"/organization/projects/{project['id']}/api_keys")
        assert len(keys) == 1
        assert _listed(sparse, f"/organization/projects/{project['id']}/service_accounts") == []
        assert _listed(sparse, f"/organization/projects/{project['id']}/users") == []
    assert _listed(sparse, "/organization/admin_api_keys") == []
    assert _listed(sparse, "/organization/invites") == []

    usage = _results(sparse, "/organization/usage/completions", 14, group_by="api_key_id")
    costs = _results(sparse, "/organization/costs", 14, group_by="line_item")
    kinds = {day: (bool(usage[day]), bool(costs[day])) for day in usage}  # (has usage, has costs)
    assert set(kinds.values()) == {(True, True), (True, False), (False, True), (False, False)}
    # A weekly pattern: any seven days hold each kind, and two weeks repeat it.
    assert [kinds[d] for d in sorted(kinds)[:7]] == [kinds[d] for d in sorted(kinds)[7:]]
    costs_only = [c for d, c in costs.items() if not usage[d] and c]
    assert {r["line_item"] for day in costs_only for r in day} == {"assistants api | file search"}
    for family in FAMILIES:
        days = _results(sparse, f"/organization/usage/{family}", 14, group_by="project_id")
        assert not any(days.values()), family


def test_profiles_are_deterministic_and_rich_is_the_default():
    assert SimulatorConfig().profile == "rich"
    rich = Organization(seed=5, now_ts=NOW_TS, history_days=60)
    assert rich.usage_truth(TODAY - 3 * DAY, TODAY) == Organization(
        seed=5, now_ts=NOW_TS, history_days=60, profile="rich"
    ).usage_truth(TODAY - 3 * DAY, TODAY)
    one = Organization(seed=5, now_ts=NOW_TS, history_days=60, profile="sparse")
    two = Organization(seed=5, now_ts=NOW_TS, history_days=60, profile="sparse")
    assert [k.id for k in one.api_keys] == [k.id for k in two.api_keys]
    assert one.usage_truth(TODAY - 14 * DAY, TODAY) == two.usage_truth(TODAY - 14 * DAY, TODAY)
    assert one.usage_truth(TODAY - 14 * DAY, TODAY)
    # The smaller profiles are cut from the rich directory: same founder, same Default project.
    assert one.users[0] == rich.users[0] and one.projects[0] == rich.projects[0]
    with pytest.raises(ValueError, match="Unknown simulator profile 'tiny'"):
        Organization(seed=5, now_ts=NOW_TS, profile="tiny")
    with pytest.raises(ValueError, match="needs the rich profile"):
        one.restate(2, seed=1, now_ts=NOW_TS)


def test_rich_payloads_carry_fields_the_spec_does_not_declare():
    with start_simulator(SimulatorConfig(seed=5, now=NOW, history_days=30)) as sim:
        users = _listed(sim, "/organization/users")
        day = _results(sim, "/organization/usage/completions", 1, group_by="model")
    assert all(isinstance(u["mfa_enabled"], bool) for u in users)
    assert {u["mfa_enabled"] for u in users} == {True, False}
    results = next(iter(day.values()))
    assert results and all(UNDECLARED_COUNTER in r for r in results)
    assert any(r[UNDECLARED_COUNTER] > 0 for r in results)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/organization/invites", 403),
        ("/v1/organization/projects/proj_x/users", 404),
        ("/v1/organization/projects/proj_x/api_keys", None),
        ("/v1/organization/projects", None),
        ("/v1/organization/usage/web_search_calls", 404),
        ("/v1/organization/usage/completions", None),
    ],
)
def test_refused_status_matches_patterns_and_the_paths_below_them(path, status):
    refuse = {
        "organization/invites": 403,
        "/organization/projects/*/users": 404,
        "organization/usage/web_search_calls": 404,
    }
    assert refused_status(refuse, path) == status


def test_refused_endpoints_answer_their_status_and_the_rest_serve(fresh):
    fresh.config.refuse = {"organization/invites": 403, "organization/admin_api_keys": 404}
    try:
        forbidden = _get(fresh, "/organization/invites")
        missing = _get(fresh, "/organization/admin_api_keys")
        served = _get(fresh, "/organization/users")
    finally:
        fresh.config.refuse = {}
    assert forbidden.status_code == 403 and "Missing scopes" in forbidden.json()["error"]["message"]
    assert missing.status_code == 404
    assert served.status_code == 200
    assert _get(fresh, "/organization/invites").status_code == 200


def test_emptied_endpoints_list_nothing_and_keep_their_shape():
    config = SimulatorConfig(seed=5, now=NOW, history_days=30, legacy_requests_per_minute=None)
    config.empty = ["organization/users", "organization/usage/completions", "usage"]
    with start_simulator(config) as sim:
        users = _ok(sim, "/organization/users")
        usage = _results(sim, "/organization/usage/completions", 3, group_by="model")
        embeddings = _results(sim, "/organization/usage/embeddings", 3, group_by="model")
        legacy = _ok(sim, "/usage", {"date": "2026-03-16"})
        projects = _listed(sim, "/organization/projects")
    assert users["data"] == [] and users["has_more"] is False and users["object"] == "list"
    assert len(usage) == 3 and not any(usage.values())  # the buckets are there, empty
    assert any(embeddings.values()) and projects  # other endpoints serve as always
    assert legacy["object"] == "list" and legacy["data"] == [] and legacy["dalle_api_data"] == []


@pytest.mark.e2e
def test_cli_takes_a_profile_refusals_and_emptied_endpoints():
    args = ("--history-days", "20", "--refuse", "organization/invites=404")
    args += ("--empty", "organization/admin_api_keys")
    with simulator_process(9, *args, profile="fresh") as (base_url, key):
        headers = {"Authorization": f"Bearer {key}"}
        users = requests.get(f"{base_url}/organization/users", headers=headers, timeout=10)
        invites = requests.get(f"{base_url}/organization/invites", headers=headers, timeout=10)
        admin = requests.get(f"{base_url}/organization/admin_api_keys", headers=headers, timeout=10)
    assert len(users.json()["data"]) == 1
    assert invites.status_code == 404
    assert admin.status_code == 200 and admin.json()["data"] == []

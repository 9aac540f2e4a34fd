"""The dlt source against the simulator (real HTTP on 127.0.0.1) into a temporary DuckDB file."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest
import requests
from fixtures.dlt_pipelines import new_pipeline, query

from pipelines.openai_admin import AdminApiError, openai_directory, openai_usage
from pipelines.openai_admin.errors import MalformedBodyError
from reliability.faultproxy import FaultPlan, FaultProxy, FaultRule
from simulator import ADMIN_KEY, PROJECT_KEY, SimulatorConfig, start_simulator

TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture
def sim():
    with start_simulator(SimulatorConfig(seed=7)) as handle:
        yield handle


@pytest.fixture
def pipeline(tmp_path):
    return new_pipeline(tmp_path, "test")


def _api_totals(base_url, start, end, width):
    """Ungrouped totals straight from the API: the truth the grouped load must add up to."""
    totals = {"input_tokens": 0, "output_tokens": 0, "num_model_requests": 0}
    params = {"start_time": _ts(start), "end_time": _ts(end), "bucket_width": width, "limit": 31}
    params["limit"] = {"1d": 31, "1h": 168}[width]
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    while True:
        page = requests.get(
            f"{base_url}/organization/usage/completions", params=params, headers=headers, timeout=30
        ).json()
        for bucket in page["data"]:
            for result in bucket["results"]:
                for k in totals:
                    totals[k] += result[k]
        if not page["has_more"]:
            return totals
        params["page"] = page["next_page"]


def _ts(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _usage_requests(sim, path_end):
    return [r for r in sim.requests if r[0] == "GET" and r[1].endswith(path_end)]


def test_hourly_window_pages_with_maximum_limit_and_adds_up(sim, pipeline):
    start, end = TODAY - dt.timedelta(days=40), TODAY - dt.timedelta(days=30)
    pipeline.run(openai_usage(start, end, "1h", base_url=sim.base_url, api_key=ADMIN_KEY))

    usage = _usage_requests(sim, "/usage/completions")
    hours = (end - start).days * 24
    assert len(usage) == math.ceil(hours / 168)  # fewest pages possible
    assert all(r[2]["limit"] in ("168", ["168"]) for r in usage)
    costs = _usage_requests(sim, "/organization/costs")
    # One request per grouping: by project and line item, and by API key.
    assert len(costs) == 2 and all(r[2]["limit"] in ("180", ["180"]) for r in costs)

    loaded = query(
        pipeline,
        "select sum(input_tokens), sum(output_tokens), sum(num_model_requests), "
        "count(distinct start_time), min(bucket_date), max(bucket_date) "
        "from raw.completions_usage",
    )[0]
    truth = _api_totals(sim.base_url, start, end, "1h")
    assert loaded[:3] == (
        truth["input_tokens"],
        truth["output_tokens"],
        truth["num_model_requests"],
    )
    assert loaded[3] <= hours and loaded[4] == start and loaded[5] == end - dt.timedelta(days=1)


def test_null_dimensions_are_kept(sim, pipeline):
    start, end = TODAY - dt.timedelta(days=20), TODAY - dt.timedelta(days=10)
    pipeline.run(openai_usage(start, end, "1d", base_url=sim.base_url, api_key=ADMIN_KEY))
    null_users, total = query(
        pipeline,
        "select count(*) filter (where user_id is null), count(*) from raw.completions_usage",
    )[0]
    assert total > 0 and null_users > 0  # service-account keys have no user
    truth = _api_totals(sim.base_url, start, end, "1d")
    assert (
        query(pipeline, "select sum(input_tokens) from raw.completions_usage")[0][0]
        == (truth["input_tokens"])
    )


def test_a_429_is_retried_and_nothing_is_lost(pipeline):
    config = SimulatorConfig(seed=7, fail_next=[429, 503])
    with start_simulator(config) as sim:
        start, end = TODAY - dt.timedelta(days=5), TODAY - dt.timedelta(days=3)
        pipeline.run(openai_usage(start, end, "1d", base_url=sim.base_url, api_key=ADMIN_KEY))
        statuses = [r[3] for r in sim.requests]
        truth = _api_totals(sim.base_url, start, end, "1d")
    assert statuses[:2] == [429, 503] and statuses.count(200) >= 2
    assert (
        query(pipeline, "select sum(input_tokens) from raw.completions_usage")[0][0]
        == (truth["input_tokens"])
    )


def test_a_malformed_200_body_is_retried_and_nothing_is_lost(sim, pipeline):
    start, end = TODAY - dt.timedelta(days=5), TODAY - dt.timedelta(days=3)
    plan = FaultPlan([FaultRule("malformed", path="usage/completions", count=2)])
    with FaultProxy(sim.base_url, plan) as proxy:
        pipeline.run(openai_usage(start, end, "1d", base_url=proxy.base_url, api_key=ADMIN_KEY))
    truth = _api_totals(sim.base_url, start, end, "1d")
    assert plan.rules[0].applied == 2
    loaded = query(pipeline, "select sum(input_tokens) from raw.completions_usage")[0][0]
    assert loaded == truth["input_tokens"]


def test_a_body_that_never_parses_fails_with_what_arrived(monkeypatch, sim, pipeline):
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")
    start, end = TODAY - dt.timedelta(days=5), TODAY - dt.timedelta(days=3)
    plan = FaultPlan([FaultRule("malformed", path="usage/completions", count=100)])
    with FaultProxy(sim.base_url, plan) as proxy, pytest.raises(Exception) as failure:
        source = openai_usage(start, end, "1d", base_url=proxy.base_url, api_key=ADMIN_KEY)
        pipeline.run(source)
    chain, exc = [], failure.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    malformed = [e for e in chain if isinstance(e, MalformedBodyError)]
    assert malformed, chain
    assert "not valid JSON" in str(malformed[0]) and "/organization/usage/completions" in str(
        malformed[0]
    )
    assert plan.rules[0].applied == 2  # both attempts, then the clear error


def test_reloading_a_window_replaces_it_including_vanished_rows(sim, pipeline):
    start, end = TODAY - dt.timedelta(days=12), TODAY - dt.timedelta(days=9)
    source = lambda: openai_usage(start, end, "1d", base_url=sim.base_url, api_key=ADMIN_KEY)  # noqa: E731
    pipeline.run(source())
    before = query(pipeline, "select count(*), sum(input_tokens) from raw.completions_usage")[0]
    path = pipeline.destination.config_params["credentials"]
    day = _ts(start)
    later = end + dt.timedelta(days=5)
    with duckdb.connect(path) as con:
        # Stand-ins: a group the API no longer reports (inside the window), a row outside the
        # window, and a row of another organization on a day inside the window.
        con.executemany(
            "insert into raw.completions_usage (organization, bucket_date, start_time, end_time, "
            "model, input_tokens, output_tokens, num_model_requests) "
            "values (?, ?, ?, ?, ?, 1, 1, 1)",
            [
                ["default", start, day, day + 86400, "vanished"],
                ["default", later, _ts(later), _ts(later) + 86400, "outside"],
                ["other-org", start, day, day + 86400, "other org"],
            ],
        )
    pipeline.run(source())
    after = query(
        pipeline,
        "select count(*), sum(input_tokens) from raw.completions_usage "
        "where organization = 'default' and model is distinct from 'outside'",
    )[0]
    assert after == before
    models = {m for (m,) in query(pipeline, "select distinct model from raw.completions_usage")}
    assert "vanished" not in models
    assert {"outside", "other org"} <= models


def test_costs_sum_to_the_ungrouped_api_total(sim, pipeline):
    start, end = TODAY - dt.timedelta(days=8), TODAY - dt.timedelta(days=1)
    pipeline.run(openai_usage(start, end, "1d", base_url=sim.base_url, api_key=ADMIN_KEY))
    response = requests.get(
        f"{sim.base_url}/organization/costs",
        params={"start_time": _ts(start), "end_time": _ts(end), "limit": 180},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=30,
    ).json()
    truth = sum(r["amount"]["value"] for b in response["data"] for r in b["results"])
    loaded, line_items = query(
        pipeline, "select sum(amount_value), count(distinct line_item) from raw.costs"
    )[0]
    assert float(loaded) == pytest.approx(truth, rel=1e-9)
    assert line_items > 3


def test_a_project_key_fails_with_an_actionable_message_and_writes_nothing(sim, pipeline):
    start, end = TODAY - dt.timedelta(days=3), TODAY - dt.timedelta(days=2)
    with pytest.raises(Exception) as info:
        pipeline.run(openai_usage(start, end, "1d", base_url=sim.base_url, api_key=PROJECT_KEY))
    text = str(info.value)
    assert "Admin API key" in text and "api.usage.read" in text
    assert PROJECT_KEY not in text
    assert isinstance(_root_cause(info.value), AdminApiError)
    tables = query(
        pipeline,
        "select count(*) from information_schema.tables where table_name = 'completions_usage'",
    )
    assert tables[0][0] == 0


def _root_cause(exc: BaseException | None) -> BaseException | None:
    """The AdminApiError somewhere in the chain dlt wraps around it."""
    while exc is not None and not isinstance(exc, AdminApiError):
        exc = exc.__cause__ or exc.__context__
    return exc


def test_directory_loads_archived_projects_and_every_key(sim, pipeline):
    pipeline.run(openai_directory(base_url=sim.base_url, api_key=ADMIN_KEY))
    projects = query(pipeline, "select count(*), count(archived_at) from raw.projects")[0]
    assert projects[0] >= 5 and projects[1] >= 1
    keys = query(
        pipeline,
        "select count(*), count(distinct project_id), count(owner_id), "
        "count(*) filter (where owner_type = 'service_account') from raw.project_api_keys",
    )[0]
    assert keys[0] >= 20 and keys[1] >= 3 and keys[2] == keys[0] and keys[3] >= 1
    users = query(pipeline, "select count(*), count(email) from raw.users")[0]
    assert users[0] >= 10 and users[1] == users[0]

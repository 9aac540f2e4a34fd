"""Every endpoint through the dlt source: all usage families with every dimension, costs by key,
the directory with history, old response shapes, fewest requests, and the shared request budget."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pytest
from fixtures.dlt_pipelines import new_pipeline, query

from pipelines.openai_admin import (
    families,
    openai_directory,
    openai_usage,
    schemas,
    settings,
)
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator
from simulator.families import FAMILIES

NOW = dt.datetime(2026, 3, 18, 15, 31, tzinfo=dt.UTC)
TODAY = NOW.date()
START, END = TODAY - dt.timedelta(days=6), TODAY - dt.timedelta(days=1)


def _ts(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _pipeline(tmp_path):
    return new_pipeline(tmp_path, "cov")


def _usage(sim, start: dt.date = START, bucket_width: str = "1d", **options):
    """The usage source on the simulator `sim`, from `start` to END, as of NOW."""
    return openai_usage(
        start, END, bucket_width, base_url=sim.base_url, api_key=ADMIN_KEY, now=NOW, **options
    )


def _columns(pipeline, table):
    rows = query(
        pipeline,
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = ?",
        [table],
    )
    return {c for (c,) in rows}


@pytest.fixture(scope="module")
def sim():
    with start_simulator(SimulatorConfig(seed=7, now=NOW, history_days=90)) as handle:
        yield handle


@pytest.fixture(scope="module")
def loaded(sim, tmp_path_factory):
    pipeline = _pipeline(tmp_path_factory.mktemp("cov"))
    pipeline.run(_usage(sim))
    return pipeline


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_usage_family_loads_every_dimension_and_counter(sim, loaded, family):
    table = f"{family}_usage"
    spec = FAMILIES[family]
    schema = families.BY_NAME[family].schema
    assert set(spec.dimensions) | set(spec.counters) <= set(schema.names)
    assert settings.USAGE_GROUP_BY[family] == list(spec.dimensions)
    assert set(schema.names) - {"_deleted"} <= _columns(loaded, table)

    truth = sim.org.family_truth(family, _ts(START), _ts(END))
    assert truth, f"the simulator has no {family} usage in the window"
    counters = ", ".join(f"sum({c})" for c in spec.counters)
    got = query(loaded, f"select {counters} from raw.{table}")[0]
    assert list(got) == [sum(r[c] for r in truth) for c in spec.counters]
    # Grouped by every dimension: the key dimensions are filled (service accounts have no user).
    filled = query(loaded, f"select count(*) - count(project_id) from raw.{table}")[0][0]
    assert filled == 0


def test_costs_by_api_key_carry_key_quantity_and_unit(sim, loaded):
    rows = query(
        loaded,
        "select count(api_key_id), count(quantity), count(quantity_unit), count(*), "
        "sum(amount_value) from raw.costs_by_api_key",
    )[0]
    assert rows[0] > 0 and rows[1] == rows[3] and rows[2] > 0
    per_project = query(loaded, "select sum(amount_value) from raw.costs")[0][0]
    assert float(rows[4]) == pytest.approx(float(per_project), rel=1e-9)


def test_an_api_without_costs_by_key_still_loads_the_rest(tmp_path):
    config = SimulatorConfig(seed=7, now=NOW, history_days=30, costs_api_key_grouping=False)
    pipeline = _pipeline(tmp_path)
    with start_simulator(config) as old_api:
        pipeline.run(_usage(old_api).with_resources("costs", "costs_by_api_key"))
    assert query(pipeline, "select count(*) from raw.costs")[0][0] > 0
    # Skipped with a warning, nothing deleted or written: the table exists, empty.
    assert query(pipeline, "select count(*) from raw.costs_by_api_key")[0][0] == 0
    assert set(schemas.COSTS.names) <= _columns(pipeline, "costs_by_api_key")


def test_old_response_shapes_are_accepted(tmp_path):
    """`result` instead of `results`, `sessions` instead of `num_sessions` (Dec 2024 API)."""
    config = SimulatorConfig(seed=7, now=NOW, history_days=30, legacy_result_names=True)
    pipeline = _pipeline(tmp_path)
    with start_simulator(config) as old_api:
        pipeline.run(
            _usage(old_api).with_resources("code_interpreter_sessions_usage", "images_usage")
        )
        truth = old_api.org.family_truth("code_interpreter_sessions", _ts(START), _ts(END))
    loaded = query(
        pipeline,
        "select sum(num_sessions), count(*) - count(num_sessions) "
        "from raw.code_interpreter_sessions_usage",
    )[0]
    assert loaded == (sum(r["num_sessions"] for r in truth), 0)
    assert query(pipeline, "select count(*) from raw.images_usage")[0][0] > 0


def test_a_year_at_1h_takes_the_fewest_requests_per_endpoint():
    now = dt.datetime(2026, 3, 18, tzinfo=dt.UTC)
    config = SimulatorConfig(seed=1, now=now, history_days=400, groups_per_hour_target=2)
    with start_simulator(config) as sim:
        source = openai_usage(
            now - dt.timedelta(days=365),
            now,
            "1h",
            base_url=sim.base_url,
            api_key=ADMIN_KEY,
            now=now,
            requests_per_second=None,
        )
        for _ in source:  # extract only: the requests are what is counted
            pass
        seen = Counter(r.path for r in sim.requests if r.status == 200)
        limits = {r.query["limit"][0] for r in sim.requests if "/usage/" in r.path}
    pages = math.ceil(365 * 24 / 168)
    for family in settings.USAGE_GROUP_BY:
        assert seen[f"/v1/organization/usage/{family}"] == pages, family
    assert limits == {"168"}
    assert seen["/v1/organization/costs"] == 2 * math.ceil(365 / 180)  # two groupings
    assert sum(seen.values()) == len(sim.requests)  # no retries, no errors


def test_a_server_slower_than_the_budget_is_matched_not_hammered():
    # The API allows 2/s; the client is configured for 10/s. A budget that does not slow down
    # gets twice as many refusals as pages here (and at 50/s runs out of retries).
    config = SimulatorConfig(
        seed=7, now=NOW, history_days=30, rate_limit_rps=2, burst=2, retry_after_s=1
    )
    with start_simulator(config) as sim:
        source = _usage(sim, START - dt.timedelta(days=7), "1h", requests_per_second=10)
        rows = sum(len(item) if hasattr(item, "num_rows") else 0 for item in source)
        statuses = Counter(r.status for r in sim.requests)
    assert rows > 0
    assert statuses[200] == 10 * math.ceil(12 * 24 / 168) + 2  # every page, once
    assert statuses[429] < statuses[200], statuses


def test_concurrent_endpoints_share_one_budget_and_provoke_no_429():
    # The API allows 10/s with a burst of 5: 12 endpoints fetched at once would overrun it.
    config = SimulatorConfig(seed=7, now=NOW, history_days=30, rate_limit_rps=10, burst=5)
    with start_simulator(config) as sim:
        source = _usage(sim, requests_per_second=8)
        for _ in source:
            pass
        statuses = Counter(r.status for r in sim.requests)
    # Unpaced, 12 requests at once would overrun the server's burst of 5 and meet 429s. (The
    # budget's timing is tested on a fake clock in test_pacing.py.)
    assert statuses == {200: 12}


def test_directory_loads_every_endpoint_and_keeps_history(tmp_path):
    with start_simulator(SimulatorConfig(seed=7, now=NOW, history_days=90)) as sim:
        pipeline = _pipeline(tmp_path)
        pipeline.run(openai_directory(base_url=sim.base_url, api_key=ADMIN_KEY))
        counts = {
            t: query(pipeline, f"select count(*) from raw.{t}")[0][0]
            for t in (
                "users",
                "projects",
                "project_api_keys",
                "project_service_accounts",
                "project_users",
                "admin_api_keys",
                "invites",
                "spend_limits",
                "spend_alerts",
            )
        }
        assert all(counts.values()), counts
        # Archived projects answer 400 for members: skipped, not fatal.
        archived = [p.id for p in sim.org.projects if p.archived_at is not None]
        members = query(pipeline, "select distinct project_id from raw.project_users")
        assert archived and not set(archived) & {p for (p,) in members}

        changes = sim.evolve_directory(seed=1)
        pipeline.run(openai_directory(base_url=sim.base_url, api_key=ADMIN_KEY))

    def versions(table, ident):
        return query(
            pipeline,
            f"select name, _dlt_valid_to is null from raw.{table} where id = ? "
            "order by _dlt_valid_from",
            [ident],
        )

    renamed = versions("projects", changes["renamed_project"])
    assert [current for _, current in renamed] == [False, True]
    assert renamed[1][0] == renamed[0][0] + " (renamed)"
    archived_now = query(
        pipeline,
        "select archived_at is not null from raw.projects where id = ? and _dlt_valid_to is null",
        [changes["archived_project"]],
    )
    assert archived_now == [(True,)]
    assert [c for _, c in versions("project_api_keys", changes["deleted_key"])] == [False]
    assert [c for _, c in versions("project_api_keys", changes["renamed_key"])] == [False, True]
    assert [c for _, c in versions("users", changes["deleted_user"])] == [False]
    assert [c for _, c in versions("users", changes["renamed_user"])] == [False, True]
    # Unchanged rows (last_used_at moves on every use) keep a single version.
    single = query(
        pipeline,
        "select count(*) from (select id from raw.project_api_keys group by id "
        "having count(*) > 1)",
    )[0][0]
    assert single == 1

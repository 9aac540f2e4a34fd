"""What an organization's API may do that the rich simulator does not by default: refuse an
optional endpoint (a warning and an empty table), refuse a required one (a failed load that says
what to do), and send fields or group values nobody declared (kept and reported)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest
from fixtures.dlt_pipelines import new_pipeline, query
from fixtures.raw_fixture import DAY_1, build_raw_fixture

from assets.dbt import DBT_PROJECT_DIR
from assets.ingestion import build_directory_assets
from assets.partitions import daily_partitions
from assets.resources import build_resources
from assets.settings import Settings
from pipelines.openai_admin import (
    AdminApiError,
    client,
    families,
    openai_directory,
    openai_usage,
    settings,
)
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator
from simulator.reports import UNDECLARED_COUNTER

NOW = dt.datetime(2026, 3, 18, 15, 31, tzinfo=dt.UTC)
START, END = NOW.date() - dt.timedelta(days=3), NOW.date() - dt.timedelta(days=1)
DAY = 86_400
WARNINGS_FROM = "pipelines.openai_admin"

OPTIONAL = [
    ("invites", "organization/invites"),
    ("admin_api_keys", "organization/admin_api_keys"),
    ("project_service_accounts", "organization/projects/*/service_accounts"),
    ("project_users", "organization/projects/*/users"),
    ("file_search_calls_usage", "organization/usage/file_search_calls"),
    ("web_search_calls_usage", "organization/usage/web_search_calls"),
]
REQUIRED = [
    ("users", "organization/users", 403),
    ("projects", "organization/projects", 404),
    ("project_api_keys", "organization/projects/*/api_keys", 403),
    ("completions_usage", "organization/usage/completions", 403),
    ("embeddings_usage", "organization/usage/embeddings", 404),
    ("costs", "organization/costs", 403),
]


@pytest.fixture(scope="module")
def sim():
    with start_simulator(SimulatorConfig(seed=7, now=NOW, history_days=60)) as handle:
        yield handle


@pytest.fixture
def refusing(sim):
    """The simulator, whose `refuse` setting the test sets; cleared afterwards."""
    yield sim
    sim.config.refuse = {}


def _source(table: str, base_url: str):
    if table.endswith("_usage") or table.startswith("costs"):
        source = openai_usage(START, END, "1d", base_url=base_url, api_key=ADMIN_KEY, now=NOW)
        # The refused table and one that still loads, to keep the run short.
        return source.with_resources(table, "costs" if table != "costs" else "images_usage")
    return openai_directory(base_url=base_url, api_key=ADMIN_KEY)


def _warnings(caplog, *words: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(WARNINGS_FROM)
        and r.levelno == logging.WARNING
        and all(w in r.getMessage() for w in words)
    ]


def _tables(pipeline) -> set[str]:
    rows = query(
        pipeline, "select table_name from information_schema.tables where table_schema = 'raw'"
    )
    return {name for (name,) in rows}


# --------------------------------------------------------------------------------------------
# Optional endpoints


@pytest.mark.parametrize("status", [403, 404])
@pytest.mark.parametrize(("table", "pattern"), OPTIONAL, ids=[t for t, _ in OPTIONAL])
def test_a_refused_optional_endpoint_warns_and_leaves_an_empty_table(
    refusing, tmp_path, caplog, table, pattern, status
):
    refusing.config.refuse = {pattern: status}
    pipeline = new_pipeline(tmp_path, "optional")
    with caplog.at_level(logging.WARNING, logger=WARNINGS_FROM):
        pipeline.run(_source(table, refusing.base_url))

    assert query(pipeline, f"select count(*) from raw.{table}") == [(0,)]
    other = "costs" if table.endswith("_usage") else "projects"
    assert query(pipeline, f"select count(*) from raw.{other}")[0][0] > 0
    endpoint = pattern.replace("*", "{project_id}")
    warned = _warnings(caplog, endpoint, f"answered {status}", "optional")
    # Once per run, even when every project's listing is refused.
    assert len(warned) == 1, _warnings(caplog)
    assert ADMIN_KEY not in caplog.text


def test_a_refusal_keeps_what_earlier_loads_stored(refusing, tmp_path):
    pipeline = new_pipeline(tmp_path, "kept")
    pipeline.run(_source("invites", refusing.base_url).with_resources("invites"))
    pipeline.run(_source("web_search_calls_usage", refusing.base_url))
    before = (
        query(pipeline, "select count(*) from raw.invites where _dlt_valid_to is null"),
        query(pipeline, "select count(*), sum(num_requests) from raw.web_search_calls_usage"),
    )
    assert before[0][0][0] > 0 and before[1][0][0] > 0
    refusing.config.refuse = {
        "organization/invites": 403,
        "organization/usage/web_search_calls": 404,
    }
    pipeline.run(_source("invites", refusing.base_url).with_resources("invites"))
    pipeline.run(_source("web_search_calls_usage", refusing.base_url))
    after = (
        query(pipeline, "select count(*) from raw.invites where _dlt_valid_to is null"),
        query(pipeline, "select count(*), sum(num_requests) from raw.web_search_calls_usage"),
    )
    assert after == before


# --------------------------------------------------------------------------------------------
# Required endpoints


def _admin_api_error(exc: BaseException | None) -> AdminApiError | None:
    while exc is not None and not isinstance(exc, AdminApiError):
        exc = exc.__cause__ or exc.__context__
    return exc


@pytest.mark.parametrize(("table", "pattern", "status"), REQUIRED, ids=[t for t, *_ in REQUIRED])
def test_a_refused_required_endpoint_fails_the_load_with_what_to_do(
    refusing, tmp_path, table, pattern, status
):
    refusing.config.refuse = {pattern: status}
    pipeline = new_pipeline(tmp_path, "required")
    with pytest.raises(Exception) as failure:
        pipeline.run(_source(table, refusing.base_url))
    error = _admin_api_error(failure.value)
    assert error is not None and error.status == status
    if status == 403:
        assert "api.usage.read" in str(error) and settings.ADMIN_KEYS_URL in str(error)
    else:
        assert f"refused a request (404 on /v1/{pattern.split('*')[0]}" in str(error)
    assert ADMIN_KEY not in str(failure.value)
    assert table not in _tables(pipeline)  # a failed extract loads nothing


def _materialize_directory(monkeypatch, sim):
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
    config = Settings.from_env()
    resources = build_resources(config, str(DBT_PROJECT_DIR))
    resources.pop("dbt")
    partitions = daily_partitions(config.usage_start_date)
    result = dg.materialize(
        [build_directory_assets(config, partitions)],
        resources=resources,
        partition_key=partitions.get_last_partition_key(),
        raise_on_error=False,
    )
    return config, result


def test_in_dagster_a_refused_optional_endpoint_leaves_the_run_green(monkeypatch, refusing):
    refusing.config.refuse = {"organization/invites": 404}
    config, result = _materialize_directory(monkeypatch, refusing)
    assert result.success
    with duckdb.connect(str(config.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from raw.invites").fetchall() == [(0,)]
        assert con.execute("select count(*) from raw.users").fetchall()[0][0] > 0


def test_in_dagster_a_refused_required_endpoint_fails_the_step_with_what_to_do(
    monkeypatch, refusing
):
    refusing.config.refuse = {"organization/users": 403}
    _, result = _materialize_directory(monkeypatch, refusing)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    text = str(failure.event_specific_data.error)
    assert "No organization could be loaded" in text and "default: AdminApiError" in text
    assert "The key is not allowed to read usage (403 on /v1/organization/users" in text


# --------------------------------------------------------------------------------------------
# The decision, by name


@pytest.mark.parametrize(
    ("endpoint", "status", "tolerated"),
    [
        (settings.INVITES_PATH, 403, True),
        (settings.PROJECT_USERS_PATH, 404, True),
        (settings.USAGE_PATH.format(family="web_search_calls"), 404, True),
        (settings.SPEND_LIMIT_PATH, 403, True),
        (settings.PROJECT_SPEND_ALERTS_PATH, 404, True),
        (settings.INVITES_PATH, 400, False),
        (settings.INVITES_PATH, 401, False),
        (settings.INVITES_PATH, None, False),
        (settings.USERS_PATH, 403, False),
        (settings.PROJECT_API_KEYS_PATH, 404, False),
        (settings.COMPLETIONS_PATH, 403, False),
        (settings.COSTS_PATH, 404, False),
    ],
)
def test_is_optional_refusal(endpoint, status, tolerated):
    assert settings.is_optional_refusal(endpoint, status) is tolerated


def _pages(*items, refusal: AdminApiError | None = None):
    yield from items
    if refusal is not None:
        raise refusal


def test_unless_refused_passes_pages_and_forgives_only_an_optional_refusal_before_any(caplog):
    api = client.OrgClient(client=None, organization="acme")
    forbidden = AdminApiError("403 on /v1/organization/invites", status=403, detail="no")
    pages = client.unless_refused(api, settings.INVITES_PATH, _pages(refusal=forbidden))
    with caplog.at_level(logging.WARNING, logger=WARNINGS_FROM):
        assert list(pages) == []
    assert ("refused", settings.INVITES_PATH) in api.notices.given
    assert "'acme'" in caplog.text and "answered 403" in caplog.text
    # Pages pass through; a refusal after one arrived would leave a partial listing: raised.
    pages = client.unless_refused(api, settings.INVITES_PATH, _pages([1], refusal=forbidden))
    with pytest.raises(AdminApiError):
        list(pages)
    # A required endpoint's refusal is raised as it is.
    pages = client.unless_refused(api, settings.USERS_PATH, _pages(refusal=forbidden))
    with pytest.raises(AdminApiError, match="403 on"):
        list(pages)
    assert list(client.unless_refused(api, settings.USERS_PATH, _pages([1], [2]))) == [[1], [2]]


def test_notices_are_given_once_per_key():
    notices = client.Notices()
    for _ in range(3):
        notices.warn(("undeclared", "organization/users", "x"), "x")
    notices.warn(("undeclared", "organization/users", "y"), "y")
    assert notices.given == {
        ("undeclared", "organization/users", "x"),
        ("undeclared", "organization/users", "y"),
    }


# --------------------------------------------------------------------------------------------
# Fields nobody declared


def test_an_undeclared_directory_field_is_kept_as_a_column_and_reported_once(sim, tmp_path, caplog):
    pipeline = new_pipeline(tmp_path, "fields")
    with caplog.at_level(logging.WARNING, logger=WARNINGS_FROM):
        pipeline.run(openai_directory(base_url=sim.base_url, api_key=ADMIN_KEY))
    kept = dict(query(pipeline, "select id, mfa_enabled from raw.users"))
    assert kept == {u.id: u.role == "owner" for u in sim.org.users}
    warned = _warnings(caplog, "organization/users", "'mfa_enabled'", "kept")
    assert len(warned) == 1  # twenty users, one warning


def test_an_undeclared_usage_field_is_kept_as_a_column_and_reported_once(sim, tmp_path, caplog):
    pipeline = new_pipeline(tmp_path, "fields")
    source = openai_usage(START, END, "1d", base_url=sim.base_url, api_key=ADMIN_KEY, now=NOW)
    with caplog.at_level(logging.WARNING, logger=WARNINGS_FROM):
        pipeline.run(source.with_resources("completions_usage"))
    loaded = query(pipeline, f"select sum({UNDECLARED_COUNTER}) from raw.completions_usage")
    start = int(dt.datetime.combine(START, dt.time(), dt.UTC).timestamp())
    days = (END - START).days  # the window is [START, END)
    truth = sum(
        row["num_model_requests"]
        for day in range(days)
        for row in sim.org.usage_truth(start + day * DAY, start + (day + 1) * DAY)
        if row["input_cached_tokens"] > 0
    )
    assert loaded == [(truth,)] and truth > 0
    assert len(_warnings(caplog, "organization/usage/completions", UNDECLARED_COUNTER)) == 1


# --------------------------------------------------------------------------------------------
# Group values nobody listed (dbt tests of severity warn)

DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
# Test name prefix -> how many unknown values the rows below give it.
WARN_TESTS = {
    "relationships_stg_openai__completion_usages_service_tier": 1,
    "accepted_values_int_costs__line_items_parsed_direction": 1,
    "accepted_values_int_costs__line_items_parsed_line_item": 1,
    "accepted_values_stg_openai__costs_quantity_unit": 1,
    "accepted_values_stg_openai__web_search_call_usages_context_level": 1,
    "accepted_values_stg_openai__image_usages_image_size": 1,
    "accepted_values_stg_openai__image_usages_image_source": 1,
}


def _unknown_values(path: Path) -> None:
    """Rows whose group values the API does not document (yet): a new service tier, a new
    token direction and product in costs, a new unit, context level, image size and source."""
    start = int(dt.datetime.combine(DAY_1, dt.time(), dt.UTC).timestamp())
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into raw.completions_usage (bucket_date, start_time, end_time, project_id,"
            " model, batch, service_tier, num_model_requests, input_tokens, output_tokens)"
            " values (?, ?, ?, 'proj_alpha', 'gpt-4o-2024-08-06', false, 'scale', 1, 10, 5)",
            [DAY_1, start, start + DAY],
        )
        con.executemany(
            "insert into raw.costs (bucket_date, start_time, end_time, project_id, line_item,"
            " amount_value, amount_currency, quantity, quantity_unit)"
            " values (?, ?, ?, 'proj_alpha', ?, ?, 'usd', 1, ?)",
            [
                [DAY_1, start, start + DAY, "gpt-4o-2024-08-06, reasoning output", 0.5, "tokens"],
                [DAY_1, start, start + DAY, "realtime sessions", 0.25, "sessions"],
            ],
        )
        for family, row in (
            ("web_search_calls", {"context_level": "maximal"}),
            ("images", {"size": "4096x4096", "source": "image.upscale"}),
        ):
            schema = families.BY_NAME[family].schema
            row = {
                "organization": "default",
                "bucket_date": DAY_1,
                "start_time": start,
                "end_time": start + DAY,
                "project_id": "proj_alpha",
                "model": "gpt-image-1",
                "num_model_requests": 1,
                **row,
            }
            con.register("new_rows", pa.Table.from_pylist([row], schema=schema))
            con.execute(f"insert into raw.{family}_usage by name select * from new_rows")
            con.unregister("new_rows")


def test_unknown_group_values_are_kept_and_reported_by_warn_tests(tmp_path):
    warehouse = tmp_path / "unknown.duckdb"
    build_raw_fixture(warehouse)
    _unknown_values(warehouse)
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse), "DO_NOT_TRACK": "1"}
    command = [str(DBT_EXECUTABLE), "build", "--exclude-resource-type", "unit_test"]
    command += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    command += ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:]

    run_results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    by_name = {r["unique_id"].split(".")[2]: r for r in run_results["results"]}
    for prefix, failures in WARN_TESTS.items():
        matches = [r for name, r in by_name.items() if name.startswith(prefix)]
        assert len(matches) == 1, (prefix, sorted(by_name))
        assert matches[0]["status"] == "warn" and matches[0]["failures"] == failures, prefix
    # The values are kept, as text, in what BI tools read.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tiers = con.execute(
            "select unpriced_reason from intermediate.int_completion_usages__priced"
            " where service_tier = 'scale'"
        ).fetchall()
        items = dict(
            con.execute(
                "select line_item, billed_cost_usd from marts.cost_by_line_item_daily"
                " where line_item in ('gpt-4o-2024-08-06, reasoning output', 'realtime sessions')"
            ).fetchall()
        )
        levels = con.execute(
            "select context_level from staging.stg_openai__web_search_call_usages"
        ).fetchall()
    assert tiers == [("unknown service tier",)]
    assert items == {
        "gpt-4o-2024-08-06, reasoning output": Decimal("0.5"),
        "realtime sessions": Decimal("0.25"),
    }
    assert levels == [("maximal",)]

"""Several organizations: configuration, one warehouse with both, and isolation of a failing one."""

from __future__ import annotations

import datetime as dt
import uuid

import dagster as dg
import dlt
import duckdb
import pytest

from assets.dbt import DBT_PROJECT_DIR
from assets.ingestion import build_usage_assets, failure_reason
from assets.partitions import daily_partitions
from assets.resources import build_resources
from assets.settings import ConfigError, Organization, Settings, parse_organizations
from pipelines.openai_admin import AdminApiError, openai_usage
from pipelines.openai_admin.client import parse_json_object
from pipelines.openai_admin.errors import MalformedBodyError
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator

LABS_KEY = "sk-admin-labs-0000000000000000"
BAD_KEY = "sk-live-not-an-admin-key-123456"  # authenticated, but not admin: 403
TODAY = dt.datetime.now(dt.UTC).date()


def test_parse_organizations_default_is_one_organization_named_default():
    assert parse_organizations(None) == (Organization("default", "OPENAI_ADMIN_KEY"),)
    assert parse_organizations("  ") == (Organization("default", "OPENAI_ADMIN_KEY"),)


def test_parse_organizations_reads_name_variable_pairs():
    parsed = parse_organizations("acme=OPENAI_ADMIN_KEY_ACME, labs-2=KEY_LABS")
    assert parsed == (
        Organization("acme", "OPENAI_ADMIN_KEY_ACME"),
        Organization("labs-2", "KEY_LABS"),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acme", "not name=ENV_VAR"),
        ("Acme=KEY", "not valid"),
        ("acme=sk-admin-abc", "not an environment variable name"),
        ("acme=A,acme=B", "twice"),
        ("acme=", "not name=ENV_VAR"),
    ],
)
def test_parse_organizations_rejects_bad_entries(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_organizations(text)


def test_failure_reason_keeps_the_actionable_message_and_masks_secrets():
    try:
        try:
            raise AdminApiError(f"403 on /v1/organization/costs for {BAD_KEY}")
        except AdminApiError as inner:
            raise RuntimeError("Pipeline execution failed at stage extract") from inner
    except RuntimeError as outer:
        reason = failure_reason(outer, (BAD_KEY,))
    assert reason.startswith("AdminApiError: 403") and BAD_KEY not in reason


def test_failure_reason_names_a_malformed_body_not_the_json_parser():
    try:
        try:
            parse_json_object(b'{"object": "page", "data": [', "/v1/organization/costs")
        except MalformedBodyError as inner:
            raise RuntimeError("Pipeline execution failed at stage extract") from inner
    except RuntimeError as outer:
        reason = failure_reason(outer)
    assert reason.startswith("MalformedBodyError: The API answered 200 on /v1/organization/costs")


def test_failure_reason_names_the_url_the_api_could_not_be_reached_at():
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as refused:
            raise RuntimeError("Pipeline execution failed at stage extract") from refused
    except RuntimeError as outer:
        reason = failure_reason(outer, base_url="http://127.0.0.1:9/v1")
    assert reason.startswith("Cannot reach the OpenAI Admin API at http://127.0.0.1:9/v1")
    assert "OPENAI_BASE_URL" in reason and "Connection refused" in reason


@pytest.fixture(scope="module")
def sim():
    config = SimulatorConfig(seed=7, organizations={LABS_KEY: 8}, history_days=60)
    with start_simulator(config) as handle:
        yield handle


def _pipeline(tmp_path):
    return dlt.pipeline(
        pipeline_name=f"orgs_{uuid.uuid4().hex[:8]}",
        destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
        dataset_name="raw",
        pipelines_dir=str(tmp_path / "dlt"),
    )


def _query(path, sql, params=None):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_two_organizations_share_the_warehouse_and_reload_independently(sim, tmp_path):
    start, end = TODAY - dt.timedelta(days=6), TODAY - dt.timedelta(days=3)
    pipeline = _pipeline(tmp_path)

    def load(name, key):
        source = openai_usage(
            start, end, "1d", base_url=sim.base_url, api_key=key, organization=name
        )
        pipeline.run(source.with_resources("completions_usage", "costs"))

    load("acme", ADMIN_KEY)
    load("labs", LABS_KEY)
    load("acme", ADMIN_KEY)  # a reload of one organization leaves the other alone
    path = pipeline.destination.config_params["credentials"]
    totals = dict(
        _query(
            path,
            "select organization, sum(input_tokens) from raw.completions_usage group by 1",
        )
    )
    for name, key in (("acme", ADMIN_KEY), ("labs", LABS_KEY)):
        org = sim.org_for(key)
        truth = sum(r["input_tokens"] for r in org.usage_truth(_ts(start), _ts(end)))
        assert totals[name] == truth, name
    org_ids = dict(_query(path, "select distinct organization, organization_id from raw.costs"))
    assert org_ids == {"acme": sim.org.id, "labs": sim.org_for(LABS_KEY).id}
    assert sim.org.id != sim.org_for(LABS_KEY).id


def _ts(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _materialize(monkeypatch, sim, organizations: str, keys: dict[str, str]):
    monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
    monkeypatch.setenv("OPENAI_ORGANIZATIONS", organizations)
    monkeypatch.setenv("USAGE_START_DATE", (TODAY - dt.timedelta(days=30)).isoformat())
    for variable, key in keys.items():
        monkeypatch.setenv(variable, key)
    settings = Settings.from_env()
    assets = build_usage_assets(settings, daily_partitions(settings.usage_start_date))
    resources = build_resources(settings, str(DBT_PROJECT_DIR))
    resources.pop("dbt")
    partition = (TODAY - dt.timedelta(days=4)).isoformat()
    result = dg.materialize(
        [assets],
        resources=resources,
        partition_key=partition,
        raise_on_error=False,
        selection=[dg.AssetKey(["raw", "completions_usage"]), dg.AssetKey(["raw", "costs"])],
    )
    return settings, result


def test_a_failing_organization_is_reported_and_the_others_still_load(monkeypatch, sim):
    settings, result = _materialize(
        monkeypatch,
        sim,
        "acme=OPENAI_ADMIN_KEY_ACME,labs=OPENAI_ADMIN_KEY_LABS",
        {"OPENAI_ADMIN_KEY_ACME": ADMIN_KEY, "OPENAI_ADMIN_KEY_LABS": BAD_KEY},
    )
    assert result.success
    loaded = _query(
        settings.warehouse_path,
        "select distinct organization from raw.completions_usage",
    )
    assert loaded == [("acme",)]
    materialization = next(
        m
        for m in result.asset_materializations_for_node("openai_usage")
        if m.asset_key == dg.AssetKey(["raw", "costs"])
    )
    failed = materialization.metadata["failed_organizations"].value
    assert set(failed) == {"labs"} and "api.usage.read" in failed["labs"]
    assert BAD_KEY not in repr(materialization.metadata)
    assert materialization.metadata["organizations_loaded"].value == "acme"


def test_the_step_fails_when_every_organization_fails(monkeypatch, sim):
    _, result = _materialize(
        monkeypatch, sim, "labs=OPENAI_ADMIN_KEY_LABS", {"OPENAI_ADMIN_KEY_LABS": BAD_KEY}
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    text = str(failure.event_specific_data.error)
    assert "labs" in text and BAD_KEY not in text

"""Unit tests of the small pure functions that make the pipeline's decisions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest

from assets.ingestion import rows_by_period
from assets.schedules import lookback_range, partition_range_tags
from assets.settings import ConfigError, Settings, parse_flag, parse_request_rate
from pipelines.model_prices import price_rates, price_rows
from pipelines.openai_admin import (
    client,
    directory,
    errors,
    families,
    pages,
    schemas,
    settings,
    windows,
)
from scripts.backfill import BackfillError, parse_range

UTC = dt.UTC


# -- windows ----------------------------------------------------------------------------------


def test_align_window_widens_to_whole_utc_days():
    w = windows.align_window(
        dt.datetime(2025, 1, 11, 17, 31, 39, tzinfo=UTC), dt.datetime(2025, 1, 12, 1, tzinfo=UTC)
    )
    assert w.start == dt.datetime(2025, 1, 11, tzinfo=UTC)
    assert w.end == dt.datetime(2025, 1, 13, tzinfo=UTC)
    assert w.days() == [dt.date(2025, 1, 11), dt.date(2025, 1, 12)]


def test_align_window_keeps_aligned_dates_and_treats_naive_as_utc():
    w = windows.align_window(dt.date(2025, 3, 1), dt.datetime(2025, 3, 2))
    assert (w.start_ts, w.end_ts) == (1740787200, 1740873600)
    assert w.days() == [dt.date(2025, 3, 1)]


def test_align_window_converts_other_timezones_to_utc():
    plus2 = dt.timezone(dt.timedelta(hours=2))
    w = windows.align_window(
        dt.datetime(2025, 3, 2, 1, tzinfo=plus2), dt.datetime(2025, 3, 2, 3, tzinfo=plus2)
    )
    assert w.days() == [dt.date(2025, 3, 1), dt.date(2025, 3, 2)]


@pytest.mark.parametrize(
    ("start", "end", "width", "message"),
    [
        (dt.date(2025, 1, 2), dt.date(2025, 1, 1), "1d", "Empty window"),
        (dt.date(2025, 1, 1), dt.date(2025, 1, 1), "1d", "Empty window"),
        (dt.date(2025, 1, 1), dt.date(2025, 1, 2), "5m", "Unknown bucket width"),
    ],
)
def test_align_window_rejects_bad_input(start, end, width, message):
    with pytest.raises(ValueError, match=message):
        windows.align_window(start, end, width)


def test_request_end_never_asks_for_the_future():
    w = windows.align_window(dt.date(2025, 1, 1), dt.date(2025, 1, 3))
    assert windows.request_end(w, dt.datetime(2025, 2, 1, tzinfo=UTC)) == w.end_ts
    noon = dt.datetime(2025, 1, 2, 12, tzinfo=UTC)
    assert windows.request_end(w, noon) == int(noon.timestamp())
    assert windows.request_end(w, dt.datetime(2025, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(("width", "limit"), [("1d", 31), ("1h", 168), ("1m", 1440)])
def test_usage_limit_is_the_maximum_per_width(width, limit):
    assert windows.usage_limit(width) == limit


# -- rows -------------------------------------------------------------------------------------


def _bucket(start, results, key="results"):
    return {"object": "bucket", "start_time": start, "end_time": start + 86400, key: results}


def _as_page(buckets, indent=None):
    """The buckets as the API's page body, then as the source's parse of it serves them."""
    body = json.dumps(
        {"object": "page", "data": buckets, "has_more": True, "next_page": "p2"}, indent=indent
    ).encode()
    return body, pages.read_bucket_page(body, families.BY_NAME["completions"].schema)


@pytest.mark.parametrize("parse", ["dicts", "arrow", "arrow_pretty_printed"])
def test_buckets_to_arrow_keeps_nulls_new_fields_and_the_old_result_key(parse):
    buckets = [
        _bucket(
            1735689600,
            [
                {"input_tokens": 10, "output_tokens": 2, "num_model_requests": 1, "model": None},
                {"input_tokens": 5, "output_tokens": 1, "num_model_requests": 1, "brand_new": 7},
            ],
        ),
        _bucket(1735776000, [], key="results"),
        _bucket(
            1735862400,
            [
                {
                    "input_tokens": 1,
                    "output_tokens": 0,
                    "num_model_requests": 1,
                    "project_id": "proj_a",
                    "batch": True,
                }
            ],
            key="result",
        ),
    ]
    if parse != "dicts":
        _, page = _as_page(buckets, indent=2 if parse == "arrow_pretty_printed" else None)
        assert isinstance(page["data"], pages.ArrowBuckets) and len(page["data"]) == 3
        assert page["has_more"] is True and page["next_page"] == "p2"
        buckets = page["data"]
    table = pages.buckets_to_arrow(buckets, families.BY_NAME["completions"].schema, "acme")
    # The declared columns, then the field nobody declared, kept with its values.
    declared = len(families.BY_NAME["completions"].schema)
    assert table.schema.remove(declared) == families.BY_NAME["completions"].schema
    assert table.schema.field(declared) == pa.field("brand_new", pa.int64())
    assert table.column("brand_new").to_pylist() == [None, 7, None]
    assert table.num_rows == 3
    rows = table.to_pylist()
    assert rows[0]["bucket_date"] == dt.date(2025, 1, 1)
    assert {r["organization"] for r in rows} == {"acme"}
    assert rows[0]["model"] is None and rows[0]["project_id"] is None
    assert rows[1]["input_cached_tokens"] is None  # missing optional counter: null, not 0
    assert rows[2]["bucket_date"] == dt.date(2025, 1, 3)
    assert rows[2]["batch"] is True and rows[2]["project_id"] == "proj_a"
    assert "object" not in table.column_names  # the type tag is not a field to keep


def test_a_page_arrow_cannot_read_as_typed_is_left_to_the_general_parse():
    # Arrow's reader is strict: `1.0` for an integer, or a body that is not JSON, is not read.
    _, page = _as_page([_bucket(1735689600, [{"input_tokens": 1.0, "num_model_requests": 1}])])
    assert page is None
    body = b'{"object": "page", "data": [{"start_time": 17'
    assert pages.read_bucket_page(body, families.BY_NAME["completions"].schema) is None
    with pytest.raises(errors.MalformedBodyError, match="not valid JSON"):
        client.parse_json_object(body, "/v1/organization/usage/completions")
    # The general parse still loads the first one, as before.
    table = pages.buckets_to_arrow(
        [_bucket(1735689600, [{"input_tokens": 1.0, "num_model_requests": 1}])],
        families.BY_NAME["completions"].schema,
        "acme",
    )
    assert table.column("input_tokens").to_pylist() == [1]


def test_costs_keep_every_digit_of_the_amount():
    bucket = _bucket(
        1735689600,
        [
            {
                "object": "organization.costs.result",
                "amount": {"value": 0.13080438340307526, "currency": "usd"},
                "line_item": "gpt-4o-2024-08-06, input",
                "project_id": "proj_a",
                "organization_id": "org-x",
            }
        ],
    )
    table = pages.buckets_to_arrow([bucket], schemas.COSTS, "acme", pages.costs_result)
    row = table.to_pylist()[0]
    assert row["amount_value"] == Decimal("0.13080438340307526")
    assert row["amount_currency"] == "usd" and row["organization_id"] == "org-x"


def test_deletion_markers_cover_every_day_and_nothing_else():
    days = [dt.date(2025, 1, 1), dt.date(2025, 1, 2)]
    markers = pages.deletion_markers(days, schemas.COSTS, "acme")
    assert markers.schema == schemas.COSTS
    assert markers.column("bucket_date").to_pylist() == days
    assert markers.column("organization").to_pylist() == ["acme", "acme"]
    assert markers.column("_deleted").to_pylist() == [True, True]
    assert markers.column("amount_value").null_count == 2


@pytest.mark.parametrize(
    "owner",
    [
        {"type": "user", "user": {"id": "user-1", "name": "Ann", "email": "a@x", "role": "owner"}},
        {
            "type": "user",
            "user": {
                "object": "organization.project.user",
                "id": "user-1",
                "name": "Ann",
                "email": "a@x",
                "role": "owner",
                "added_at": 1,
            },
        },
    ],
)
def test_flatten_api_key_accepts_both_owner_shapes(owner):
    row = directory.flatten_api_key({"id": "key_1", "name": "agent", "owner": owner}, "proj_a", "o")
    assert (row["owner_type"], row["owner_id"], row["owner_name"]) == ("user", "user-1", "Ann")
    assert row["project_id"] == "proj_a"


def test_flatten_api_key_service_account_owner():
    owner = {"type": "service_account", "service_account": {"id": "svc_1", "name": "bot"}}
    row = directory.flatten_api_key({"id": "key_2", "owner": owner}, "proj_b", "o")
    assert (row["owner_type"], row["owner_id"], row["owner_email"]) == (
        "service_account",
        "svc_1",
        None,
    )


# -- prices -----------------------------------------------------------------------------------


def test_price_rates_follow_the_date_of_the_bucket():
    before = price_rates("o3-2025-04-16", dt.date(2025, 5, 1))
    after = price_rates("o3-2025-04-16", dt.date(2025, 7, 1))
    assert before is not None and after is not None
    assert before.input > after.input  # o3's price cut on 2025-06-10
    assert after.input == pytest.approx(2.0)


def test_price_rates_cached_input_is_cheaper_and_unknown_model_is_none():
    rates = price_rates("gpt-4o-2024-08-06", dt.date(2025, 1, 1))
    assert rates is not None
    assert (rates.input, rates.cached_input, rates.output) == pytest.approx((2.5, 1.25, 10.0))
    assert price_rates("not-a-model-xyz", dt.date(2025, 1, 1)) is None


def test_price_rows_skip_unpriced_models():
    rows = price_rows(
        [("gpt-4o-mini-2024-07-18", dt.date(2025, 1, 1)), ("not-a-model-xyz", dt.date(2025, 1, 1))]
    )
    assert [r["model"] for r in rows] == ["gpt-4o-mini-2024-07-18"]
    assert rows[0]["price_source"].startswith("genai-prices ")


# -- orchestration ----------------------------------------------------------------------------


def test_lookback_range_is_three_closed_days_and_today():
    assert lookback_range(dt.date(2025, 3, 1), dt.date(2024, 1, 1)) == ("2025-02-26", "2025-03-01")


def test_lookback_range_never_starts_before_the_first_partition():
    # An install that started loading yesterday has two partitions, not four.
    assert lookback_range(dt.date(2025, 3, 1), dt.date(2025, 2, 28)) == ("2025-02-28", "2025-03-01")
    assert lookback_range(dt.date(2025, 3, 1), dt.date(2025, 3, 1)) == ("2025-03-01", "2025-03-01")
    assert partition_range_tags("a", "b") == {
        "dagster/asset_partition_range_start": "a",
        "dagster/asset_partition_range_end": "b",
    }


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2025-02-01", "2025-01-01", "after END"),
        ("2023-12-31", "2024-01-05", "before USAGE_START_DATE"),
        ("2025-01-01", "2025-12-31", "in the future"),
        ("01/01/2025", "2025-01-02", "YYYY-MM-DD"),
    ],
)
def test_parse_range_rejects_bad_ranges(start, end, message):
    with pytest.raises(BackfillError, match=message):
        parse_range(start, end, earliest=dt.date(2024, 1, 1), today=dt.date(2025, 6, 1))


def test_parse_range_accepts_a_single_day():
    day = dt.date(2025, 1, 1)
    assert parse_range("2025-01-01", "2025-01-01", dt.date(2024, 1, 1), day) == (day, day)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("USAGE_BUCKET_WIDTH", "2h", "USAGE_BUCKET_WIDTH"),
        ("USAGE_START_DATE", "soon", "YYYY-MM-DD"),
        ("OPENAI_REQUESTS_PER_SECOND", "fast", "requests per second"),
        ("OPENAI_REQUESTS_PER_SECOND", "-3", "requests per second"),
        ("OPENAI_REQUESTS_PER_SECOND", "inf", "requests per second"),
        ("OPENAI_LEGACY_USAGE", "maybe", "1/true or 0/false"),
    ],
)
def test_settings_name_the_bad_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        Settings.from_env()


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        (None, settings.REQUESTS_PER_SECOND),
        ("", settings.REQUESTS_PER_SECOND),
        ("2.5", 2.5),
        ("0", None),
        ("unlimited", None),
    ],
)
def test_parse_request_rate(text, rate):
    assert parse_request_rate(text) == rate


@pytest.mark.parametrize(
    ("text", "on"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("off", False),
        ("1", True),
        ("TRUE", True),
        ("yes", True),
    ],
)
def test_parse_flag(text, on):
    assert parse_flag("X", text) is on


def test_rows_by_period_lists_days_then_rolls_up_to_months():
    days = [(dt.date(2025, 1, 30) + dt.timedelta(days=i), "acme", 10) for i in range(3)]
    assert rows_by_period(days) == (
        "day",
        [("2025-01-30", "acme", 10), ("2025-01-31", "acme", 10), ("2025-02-01", "acme", 10)],
    )
    assert rows_by_period(days, max_days=2) == (
        "month",
        [("2025-01", "acme", 20), ("2025-02", "acme", 10)],
    )


def test_arrow_schema_has_marker_and_merge_key():
    for schema in (families.BY_NAME["completions"].schema, schemas.COSTS):
        assert schema.field("bucket_date").type == pa.date32()
        assert schema.field("_deleted").type == pa.bool_()


def test_manifest_is_stale_when_missing_or_older_than_a_model(tmp_path):
    import os

    from assets.dbt import manifest_is_stale

    model = tmp_path / "models" / "a.sql"
    model.parent.mkdir()
    model.write_text("select 1")
    manifest = tmp_path / "target" / "manifest.json"
    assert manifest_is_stale(tmp_path, manifest)
    manifest.parent.mkdir()
    manifest.write_text("{}")
    os.utime(model, (1, 1))
    assert not manifest_is_stale(tmp_path, manifest)
    # dbt's own output and logs are newer than the manifest by nature, and are not sources.
    for folder in ("target/run-1", "logs"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "compiled.sql").write_text("select 1")
    assert not manifest_is_stale(tmp_path, manifest)
    os.utime(model, None)
    os.utime(manifest, (1, 1))
    assert manifest_is_stale(tmp_path, manifest)


def test_is_asset_check_for_tests_on_marts_sources_and_across_models():
    from assets.dbt import is_asset_check

    manifest = {
        "nodes": {
            "model.p.stg_a": {"config": {"schema": "staging"}},
            "model.p.cost_by_day": {"config": {"schema": "marts"}},
            "seed.p.factors": {"config": {"schema": "seeds"}},
        }
    }
    assert is_asset_check({"attached_node": "model.p.cost_by_day"}, manifest)
    assert is_asset_check({"attached_node": "source.p.raw.costs"}, manifest)
    assert is_asset_check({"attached_node": None}, manifest)  # a singular test
    assert not is_asset_check({"attached_node": "model.p.stg_a"}, manifest)
    assert not is_asset_check({"attached_node": "seed.p.factors"}, manifest)


def test_dbt_resource_knows_its_version_without_running_dbt(monkeypatch):
    from importlib.metadata import version
    from pathlib import Path

    import dagster_dbt.core.resource

    from assets.resources import DbtCli

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"ran {args}")

    # dagster-dbt's own way: `dbt --version` in a subprocess (which also asks PyPI).
    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", no_subprocess)
    resource = DbtCli(project_dir=str(Path(__file__).resolve().parents[1] / "dbt_models"))
    assert str(resource._cli_version) == version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_dagster_dbt_still_calls_the_two_private_members_the_dbt_resource_replaces():
    """`DbtCli` overrides two private members of dagster-dbt's `DbtCliResource` (no public
    setting skips them). If dagster-dbt renames them or stops calling them from `cli()`, the
    overrides silently stop saving their 4.4 s a run: this fails first."""
    import inspect
    from functools import cached_property

    from dagster_dbt import DbtCliResource

    from assets.resources import DbtCli

    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version"), cached_property)
    assert callable(inspect.getattr_static(DbtCliResource, "_initialize_dbt_core_adapter"))
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source
    assert "self._initialize_dbt_core_adapter(args)" in source
    assert {"_cli_version", "_initialize_dbt_core_adapter"} <= set(vars(DbtCli))


def test_runtime_setting_reads_dlt_runtime_variables(monkeypatch):
    monkeypatch.setenv("RUNTIME__REQUEST_TIMEOUT", "2")
    assert client.runtime_setting("request_timeout", 120) == 2
    monkeypatch.delenv("RUNTIME__REQUEST_TIMEOUT")
    assert client.runtime_setting("request_timeout", 120) == 120
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "many")
    with pytest.raises(ValueError, match="RUNTIME__REQUEST_MAX_ATTEMPTS"):
        client.runtime_setting("request_max_attempts", 8)


def test_a_repeated_cursor_is_refused():
    import requests as rq

    paginator = client.OnceCursorPaginator(
        cursor_path="next_page", cursor_param="page", has_more_path="has_more"
    )

    def page(cursor):
        response = rq.Response()
        response._content = orjson_dumps({"data": [], "has_more": True, "next_page": cursor})
        response.status_code = 200
        response.request = rq.Request("GET", "http://x/v1/organization/costs?a=1").prepare()
        return response

    paginator.update_state(page("p1"))
    paginator.update_state(page("p2"))
    with pytest.raises(errors.AdminApiError, match="twice"):
        paginator.update_state(page("p1"))


def orjson_dumps(value) -> bytes:
    import json

    return json.dumps(value).encode()


def test_run_target_starts_from_the_last_parse_and_clears_earlier_run_folders(tmp_path):
    from assets.dbt import PARTIAL_PARSE, keep_partial_parse, run_target

    first = run_target(tmp_path, "run-one-abcdef")
    assert first.is_dir() and not (first / PARTIAL_PARSE).exists()  # nothing parsed yet
    (first / PARTIAL_PARSE).write_bytes(b"parse 1")
    keep_partial_parse(first, tmp_path)
    assert not first.exists() and (tmp_path / PARTIAL_PARSE).read_bytes() == b"parse 1"

    failed = run_target(tmp_path, "run-two-abcdef")  # a failed run leaves its folder behind
    assert (failed / PARTIAL_PARSE).read_bytes() == b"parse 1"
    third = run_target(tmp_path, "run-three-abcd")
    assert not failed.exists() and list((tmp_path / "runs").iterdir()) == [third]

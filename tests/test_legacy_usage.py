"""The optional legacy `GET /v1/usage?date=` source: one paced request per day, replace-by-day,
every section, and the older field names."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import requests
from fixtures.dlt_pipelines import new_pipeline, query

from pipelines.openai_admin import legacy, openai_legacy_usage, schemas
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator

NOW = dt.datetime(2026, 3, 18, 15, 31, tzinfo=dt.UTC)
TODAY = NOW.date()


def _pipeline(tmp_path):
    return new_pipeline(tmp_path, "legacy")


@pytest.fixture
def sim():
    # The server allows 2 requests a second here (reference: 5 a minute) so the test is quick;
    # the client's own pacing must keep every request under it.
    config = SimulatorConfig(
        seed=7, now=NOW, history_days=30, legacy_requests_per_minute=120, legacy_burst=1
    )
    with start_simulator(config) as handle:
        yield handle


def _completions_by_day(sim, start, end):
    """Requests per day from the Usage API's completions endpoint: the same traffic."""
    out = {}
    with start_simulator(SimulatorConfig(seed=7, now=NOW, history_days=30)) as fresh:
        params = {
            "start_time": int(dt.datetime.combine(start, dt.time(), dt.UTC).timestamp()),
            "end_time": int(dt.datetime.combine(end, dt.time(), dt.UTC).timestamp()),
            "bucket_width": "1d",
            "limit": 31,
        }
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        url = f"{fresh.base_url}/organization/usage/completions"
        body = requests.get(url, params=params, headers=headers, timeout=30).json()
    for bucket in body["data"]:
        day = dt.datetime.fromtimestamp(bucket["start_time"], dt.UTC).date()
        out[day] = sum(r["num_model_requests"] for r in bucket["results"])
    return out


def test_one_paced_request_per_day_and_the_same_traffic_as_the_usage_api(sim, tmp_path):
    start, end = TODAY - dt.timedelta(days=3), TODAY + dt.timedelta(days=2)
    pipeline = _pipeline(tmp_path)
    pipeline.run(
        openai_legacy_usage(
            start, end, base_url=sim.base_url, api_key=ADMIN_KEY, now=NOW, min_interval_s=0.6
        )
    )
    calls = [r for r in sim.requests if r[1] == "/v1/usage"]
    # Four days up to today; nothing asked past now; never a 429 thanks to the client's pace:
    # the server allows one request per 0.5 s, so four unpaced requests would meet 429s. (The
    # pace itself is tested on a fake clock in test_source_coverage.py.)
    assert [r[3] for r in calls] == [200] * 4
    loaded = dict(
        query(
            pipeline,
            "select bucket_date, sum(n_requests) from raw.legacy_usage "
            "where section = 'data' group by 1",
        )
    )
    truth = _completions_by_day(sim, start, TODAY)
    assert {d: loaded[d] for d in truth} == truth
    sections = {r[0] for r in query(pipeline, "select distinct section from raw.legacy_usage")}
    assert {"data", "dalle_api_data", "whisper_api_data", "tts_api_data"} <= sections
    finals = dict(
        query(pipeline, "select bucket_date, bool_and(is_final) from raw.legacy_usage group by 1")
    )
    assert finals[TODAY] is False and finals[TODAY - dt.timedelta(days=2)] is True


def test_reloading_days_replaces_them(sim, tmp_path):
    pipeline = _pipeline(tmp_path)
    days = (TODAY - dt.timedelta(days=3), TODAY - dt.timedelta(days=1))

    def load():
        source = openai_legacy_usage(
            *days, base_url=sim.base_url, api_key=ADMIN_KEY, now=NOW, min_interval_s=0.6
        )
        pipeline.run(source)
        return query(pipeline, "select count(*), sum(n_requests) from raw.legacy_usage")[0]

    assert load() == load()


def test_legacy_rows_read_every_section_and_the_2023_names():
    body = {
        "object": "list",
        "data": [
            {
                "aggregation_timestamp": 1700000040,
                "snapshot_id": "gpt-4-0613",
                "n_requests": 2,
                "n_context": 100,  # 2023 name of n_context_tokens_total
                "n_generated": 7,
                "operation": "completion",
                "undocumented": {"nested": True},
            }
        ],
        "dalle_api_data": [{"timestamp": 1699920000, "num_requests": 3, "num_images": 6}],
        "a_future_section": [{"timestamp": 1699920000, "n_requests": 1}],
        "current_usage_usd": 0.0,
    }
    table = legacy.legacy_rows(
        body, schemas.LEGACY_USAGE, "acme", dt.date(2023, 11, 14), final=True
    )
    rows = {r["section"]: r for r in table.to_pylist()}
    assert set(rows) == {"data", "dalle_api_data", "a_future_section"}
    assert rows["data"]["n_context_tokens_total"] == 100
    assert rows["data"]["n_generated_tokens_total"] == 7
    assert rows["data"]["model"] == "gpt-4-0613" and rows["data"]["timestamp"] == 1700000040
    assert rows["dalle_api_data"]["n_requests"] == 3 and rows["dalle_api_data"]["num_images"] == 6
    assert rows["a_future_section"]["n_requests"] == 1
    assert table.schema == schemas.LEGACY_USAGE
    assert table.column("organization").to_pylist() == ["acme"] * 3
    assert table.column("bucket_date").type == pa.date32()


def test_legacy_rows_of_an_empty_day_is_an_empty_table():
    table = legacy.legacy_rows(
        {"object": "list", "data": []}, schemas.LEGACY_USAGE, "acme", dt.date(2023, 1, 1), True
    )
    assert table.num_rows == 0 and table.schema == schemas.LEGACY_USAGE

"""The hand-written baseline: OpenAI's usage-API cookbook approach, then pandas into DuckDB.

It follows the notebook "How to use the Usage API and Cost API to monitor your OpenAI usage"
(openai-cookbook, examples/completions_usage_api.ipynb): a `requests.get` loop that follows
`next_page` and keeps every bucket in a list, a list of one dict per result, one
`pd.DataFrame(records)`, then (our addition, as a user would write it) `CREATE TABLE ... AS
SELECT * FROM df` in DuckDB. It keeps the same columns the pipeline loads, so both do the same
work, and none of what the pipeline adds (retries, day replacement, schema, state).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import requests

GROUP_BY = ["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]
COLUMNS = [
    *GROUP_BY,
    "num_model_requests",
    "input_tokens",
    "output_tokens",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_uncached_tokens",
    "input_text_tokens",
    "output_text_tokens",
    "input_cached_text_tokens",
    "input_audio_tokens",
    "input_cached_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "input_cached_image_tokens",
    "output_image_tokens",
]


def get_data(url: str, headers: dict[str, str], params: dict[str, Any]) -> list[dict]:
    """Every bucket of every page, as the cookbook's `get_data` does it."""
    all_data: list[dict] = []
    page_cursor = None
    while True:
        if page_cursor:
            params["page"] = page_cursor
        response = requests.get(url, headers=headers, params=params, timeout=300)
        response.raise_for_status()
        data_json = response.json()
        all_data.extend(data_json.get("data", []))
        page_cursor = data_json.get("next_page")
        if not page_cursor:
            break
    return all_data


def load(base_url: str, api_key: str, start: int, end: int, width: str, db_path: str) -> int:
    """Fetch completions usage for `[start, end)` into table `completions_usage`; its rows."""
    params = {
        "start_time": start,
        "end_time": end,
        "bucket_width": width,
        "group_by": GROUP_BY,
        "limit": {"1d": 31, "1h": 168, "1m": 1440}[width],
    }
    headers = {"Authorization": f"Bearer {api_key}"}
    usage_data = get_data(f"{base_url}/organization/usage/completions", headers, params)
    records = []
    for bucket in usage_data:
        start_time, end_time = bucket.get("start_time"), bucket.get("end_time")
        for result in bucket.get("results", []):
            record = {"start_time": start_time, "end_time": end_time}
            record.update({name: result.get(name) for name in COLUMNS})
            records.append(record)
    df = pd.DataFrame(records)
    df["start_datetime"] = pd.to_datetime(df["start_time"], unit="s")
    with duckdb.connect(db_path) as con:
        con.execute("CREATE OR REPLACE TABLE completions_usage AS SELECT * FROM df")
        return con.execute("SELECT count(*) FROM completions_usage").fetchone()[0]

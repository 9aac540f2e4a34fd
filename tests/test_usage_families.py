"""The table of usage families derives everything the source and the warehouse rely on: the
raw tables' names, columns, column order and types, the group_by of each request, and which
families are optional. The literals below are the schemas as they were written out by hand
before the table existed: existing DuckDB files and the dbt staging models rely on them."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from pipelines.openai_admin import families, openai_usage, schemas, settings

# Copied from the hand-written schemas before the table of families replaced them: every raw
# usage table is the bucket columns, the family's own columns, then the load markers. Written as
# "column type" so that each name, its place and its Arrow type stay pinned here, apart from the
# code under test.
ARROW_TYPES = {
    "string": pa.string(),
    "date32": pa.date32(),
    "int64": pa.int64(),
    "bool": pa.bool_(),
}
BUCKET_COLUMNS = (
    "organization string, bucket_date date32, start_time int64, end_time int64, project_id string"
)
MARKER_COLUMNS = "is_final bool, _deleted bool"
OWN_COLUMNS = {
    "completions_usage": (
        "user_id string, api_key_id string, model string, batch bool, service_tier string, "
        "num_model_requests int64, input_tokens int64, output_tokens int64, "
        "input_cached_tokens int64, input_cache_write_tokens int64, "
        "input_uncached_tokens int64, input_text_tokens int64, output_text_tokens int64, "
        "input_cached_text_tokens int64, input_audio_tokens int64, "
        "input_cached_audio_tokens int64, output_audio_tokens int64, "
        "input_image_tokens int64, input_cached_image_tokens int64, output_image_tokens int64"
    ),
    "embeddings_usage": (
        "user_id string, api_key_id string, model string, num_model_requests int64, "
        "input_tokens int64"
    ),
    "moderations_usage": (
        "user_id string, api_key_id string, model string, num_model_requests int64, "
        "input_tokens int64"
    ),
    "images_usage": (
        "user_id string, api_key_id string, model string, size string, source string, "
        "num_model_requests int64, images int64"
    ),
    "audio_speeches_usage": (
        "user_id string, api_key_id string, model string, num_model_requests int64, "
        "characters int64"
    ),
    "audio_transcriptions_usage": (
        "user_id string, api_key_id string, model string, num_model_requests int64, seconds int64"
    ),
    "vector_stores_usage": "usage_bytes int64",
    "code_interpreter_sessions_usage": "num_sessions int64",
    "file_search_calls_usage": (
        "user_id string, api_key_id string, vector_store_id string, num_requests int64"
    ),
    "web_search_calls_usage": (
        "user_id string, api_key_id string, model string, context_level string, "
        "num_model_requests int64, num_requests int64"
    ),
}


def _columns(text: str) -> list[tuple[str, pa.DataType]]:
    pairs = [column.split() for column in text.split(",")]
    return [(name, ARROW_TYPES[type_name]) for name, type_name in pairs]


RAW_USAGE_COLUMNS: dict[str, list[tuple[str, pa.DataType]]] = {
    table: _columns(f"{BUCKET_COLUMNS}, {own}, {MARKER_COLUMNS}")
    for table, own in OWN_COLUMNS.items()
}
GROUP_BY = {
    "completions": ["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"],
    "embeddings": ["project_id", "user_id", "api_key_id", "model"],
    "moderations": ["project_id", "user_id", "api_key_id", "model"],
    "images": ["project_id", "user_id", "api_key_id", "model", "size", "source"],
    "audio_speeches": ["project_id", "user_id", "api_key_id", "model"],
    "audio_transcriptions": ["project_id", "user_id", "api_key_id", "model"],
    "vector_stores": ["project_id"],
    "code_interpreter_sessions": ["project_id"],
    "file_search_calls": ["project_id", "user_id", "api_key_id", "vector_store_id"],
    "web_search_calls": ["project_id", "user_id", "api_key_id", "model", "context_level"],
}


@pytest.mark.parametrize("family", families.FAMILIES, ids=lambda f: f.name)
def test_each_family_schema_is_the_raw_table_as_it_was(family):
    assert family.table in RAW_USAGE_COLUMNS
    assert family.schema == pa.schema(RAW_USAGE_COLUMNS[family.table])


def test_the_families_are_the_ten_raw_tables_in_load_order():
    assert [family.table for family in families.FAMILIES] == list(RAW_USAGE_COLUMNS)


def test_group_by_is_every_dimension_of_each_family():
    assert settings.USAGE_GROUP_BY == GROUP_BY


def test_the_newer_families_are_the_optional_usage_endpoints():
    usage = {e for e in settings.OPTIONAL_ENDPOINTS if e.startswith("organization/usage/")}
    assert usage == {"organization/usage/file_search_calls", "organization/usage/web_search_calls"}


def test_the_usage_source_has_one_resource_per_family_with_its_columns():
    source = openai_usage(dt.date(2025, 1, 1), dt.date(2025, 1, 2), api_key="sk-admin-test")
    for family in families.FAMILIES:
        resource = source.resources[family.table]
        assert list(resource.columns) == family.schema.names
    assert set(source.resources) == {
        *(family.table for family in families.FAMILIES),
        "costs",
        "costs_by_api_key",
    }


def test_an_older_field_name_is_read_under_the_current_one():
    adapt = families.BY_NAME["code_interpreter_sessions"].adapt
    assert adapt({"sessions": 3}) == {"sessions": 3, "num_sessions": 3}
    assert adapt({"sessions": 3, "num_sessions": 4})["num_sessions"] == 4
    assert families.BY_NAME["completions"].adapt is None
    assert set(families.RENAMED_FIELDS) == {"sessions"}


def test_costs_keep_the_shared_bucket_columns():
    assert schemas.COSTS.names[:4] == ["organization", "bucket_date", "start_time", "end_time"]
    assert schemas.COSTS.names[-2:] == ["is_final", "_deleted"]

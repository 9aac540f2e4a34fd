"""Arrow schemas of the raw usage and cost tables: the columns dlt creates in schema `raw`."""

import pyarrow as pa

# Bookkeeping shared by every bucketed table: the organization (configured name) and the UTC
# day, which together are the merge key a reload replaces, the bucket's own bounds as the API
# sent them, and the hard-delete marker.
_BUCKET = [
    ("organization", pa.string()),
    ("bucket_date", pa.date32()),
    ("start_time", pa.int64()),
    ("end_time", pa.int64()),
]
# Whether the bucket's UTC day had closed (plus a grace period) when it was pulled: rows of the
# open day are partial and are replaced by the next runs.
_MARKER = [("is_final", pa.bool_()), ("_deleted", pa.bool_())]

COMPLETIONS_USAGE = pa.schema(
    _BUCKET
    + [
        ("project_id", pa.string()),
        ("user_id", pa.string()),
        ("api_key_id", pa.string()),
        ("model", pa.string()),
        ("batch", pa.bool_()),
        ("service_tier", pa.string()),
        ("num_model_requests", pa.int64()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("input_cached_tokens", pa.int64()),
        ("input_cache_write_tokens", pa.int64()),
        ("input_uncached_tokens", pa.int64()),
        ("input_text_tokens", pa.int64()),
        ("output_text_tokens", pa.int64()),
        ("input_cached_text_tokens", pa.int64()),
        ("input_audio_tokens", pa.int64()),
        ("input_cached_audio_tokens", pa.int64()),
        ("output_audio_tokens", pa.int64()),
        ("input_image_tokens", pa.int64()),
        ("input_cached_image_tokens", pa.int64()),
        ("output_image_tokens", pa.int64()),
    ]
    + _MARKER
)

COSTS = pa.schema(
    _BUCKET
    + [
        ("project_id", pa.string()),
        ("line_item", pa.string()),
        ("api_key_id", pa.string()),
        # Unrounded amounts: decimal, never float, so sums reconcile to the invoice.
        ("amount_value", pa.decimal128(38, 18)),
        ("amount_currency", pa.string()),
        ("quantity", pa.float64()),
        ("quantity_unit", pa.string()),
        # Not in the spec, but present in every real costs result.
        ("organization_id", pa.string()),
    ]
    + _MARKER
)


_KEY_DIMS = [("project_id", pa.string()), ("user_id", pa.string()), ("api_key_id", pa.string())]
_FOUR_DIMS = [*_KEY_DIMS, ("model", pa.string())]


def _usage(columns: list[tuple[str, pa.DataType]]) -> pa.Schema:
    return pa.schema(_BUCKET + columns + _MARKER)


# One schema per usage family (its result schema in the spec): its group_by dimensions, then its
# counters.
EMBEDDINGS_USAGE = _usage(
    [*_FOUR_DIMS, ("num_model_requests", pa.int64()), ("input_tokens", pa.int64())]
)
MODERATIONS_USAGE = EMBEDDINGS_USAGE
IMAGES_USAGE = _usage(
    [
        *_FOUR_DIMS,
        ("size", pa.string()),
        ("source", pa.string()),
        ("num_model_requests", pa.int64()),
        ("images", pa.int64()),
    ]
)
AUDIO_SPEECHES_USAGE = _usage(
    [*_FOUR_DIMS, ("num_model_requests", pa.int64()), ("characters", pa.int64())]
)
AUDIO_TRANSCRIPTIONS_USAGE = _usage(
    [*_FOUR_DIMS, ("num_model_requests", pa.int64()), ("seconds", pa.int64())]
)
VECTOR_STORES_USAGE = _usage([("project_id", pa.string()), ("usage_bytes", pa.int64())])
CODE_INTERPRETER_SESSIONS_USAGE = _usage(
    [("project_id", pa.string()), ("num_sessions", pa.int64())]
)
FILE_SEARCH_CALLS_USAGE = _usage(
    [*_KEY_DIMS, ("vector_store_id", pa.string()), ("num_requests", pa.int64())]
)
WEB_SEARCH_CALLS_USAGE = _usage(
    [
        *_FOUR_DIMS,
        ("context_level", pa.string()),
        ("num_model_requests", pa.int64()),
        ("num_requests", pa.int64()),
    ]
)

# Legacy `GET /v1/usage?date=`: one row per day, section (`data`, `dalle_api_data`, ...) and item.
LEGACY_USAGE = pa.schema(
    [
        ("organization", pa.string()),
        ("bucket_date", pa.date32()),
        ("section", pa.string()),
        ("timestamp", pa.int64()),
        ("organization_id", pa.string()),
        ("project_id", pa.string()),
        ("project_name", pa.string()),
        ("api_key_id", pa.string()),
        ("api_key_name", pa.string()),
        ("api_key_type", pa.string()),
        ("user_id", pa.string()),
        ("email", pa.string()),
        ("operation", pa.string()),
        ("model", pa.string()),
        ("image_size", pa.string()),
        ("n_requests", pa.int64()),
        ("n_context_tokens_total", pa.int64()),
        ("n_generated_tokens_total", pa.int64()),
        ("n_cached_context_tokens_total", pa.int64()),
        ("num_images", pa.int64()),
        ("num_seconds", pa.int64()),
        ("num_characters", pa.int64()),
        ("is_final", pa.bool_()),
        ("_deleted", pa.bool_()),
    ]
)

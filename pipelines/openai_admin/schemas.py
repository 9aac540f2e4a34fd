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
_MARKER = [("_deleted", pa.bool_())]

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

"""Arrow schemas of the raw cost and legacy usage tables, and the bookkeeping columns every
bucketed table shares: the columns dlt creates in schema `raw`. The usage families' schemas are
derived from their table in `families.py`."""

import pyarrow as pa

# Bookkeeping shared by every bucketed table: the organization (configured name) and the UTC
# day, which together are the merge key a reload replaces, the bucket's own bounds as the API
# sent them, and the hard-delete marker.
BUCKET_COLUMNS = [
    ("organization", pa.string()),
    ("bucket_date", pa.date32()),
    ("start_time", pa.int64()),
    ("end_time", pa.int64()),
]
# Whether the bucket's UTC day had closed (plus a grace period) when it was pulled: rows of the
# open day are partial and are replaced by the next runs.
MARKER_COLUMNS = [("is_final", pa.bool_()), ("_deleted", pa.bool_())]


def bucketed(columns: list[tuple[str, pa.DataType]]) -> pa.Schema:
    """The schema of a bucketed table whose results have `columns`."""
    return pa.schema(BUCKET_COLUMNS + columns + MARKER_COLUMNS)


COSTS = bucketed(
    [
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

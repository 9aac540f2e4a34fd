"""Usage and cost pages as Arrow tables: Arrow's JSON reader for pages that fit a schema,
buckets flattened to one row per result, and the markers that make a reload replace whole days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from .families import RENAMED_FIELDS
from .schemas import BUCKET_COLUMNS, MARKER_COLUMNS
from .tables import as_json

# The columns every bucketed table has besides the API's result fields.
BUCKET_FIELDS = frozenset(name for name, _ in [*BUCKET_COLUMNS, *MARKER_COLUMNS])


@dataclass(frozen=True)
class ArrowBuckets:
    """A page's buckets as Arrow's JSON reader parsed them: `start_time`, `end_time` and the
    results (`results`, or `result` in specs before 2026-05) as lists of structs."""

    buckets: pa.StructArray

    def __len__(self) -> int:
        return len(self.buckets)


def page_type(schema: pa.Schema) -> pa.Schema:
    """The Arrow type of a usage page whose results fill `schema` (the reader's explicit schema).

    Fields it does not name (`object`, new API fields) are read with the types the reader
    infers (see `read_bucket_page`).
    """
    results = pa.list_(pa.struct([f for f in schema if f.name not in BUCKET_FIELDS]))
    bucket = pa.struct(
        [
            ("start_time", pa.int64()),
            ("end_time", pa.int64()),
            ("results", results),
            ("result", results),
        ]
    )
    return pa.schema(
        [("has_more", pa.bool_()), ("next_page", pa.string()), ("data", pa.list_(bucket))]
    )


def read_bucket_page(content: bytes, schema: pa.Schema) -> dict[str, Any] | None:
    """A usage page parsed by Arrow's JSON reader straight into `schema`'s types, or None when
    the body does not fit them (invalid JSON, or a value of another type).

    Parsing to Python objects and converting those to Arrow took 6.7 s of CPU for a year of
    completions at `1h` (549 MB); Arrow's reader does both in 1.9 s. Bodies it refuses go to
    the general parse (`parse_json_object`), which says what is wrong or converts what Arrow's
    strict reader does not (e.g. `1.0` for an integer).
    """
    options = pa_json.ParseOptions(
        explicit_schema=page_type(schema),
        # Fields nobody declared are read too (a new counter, say), to be kept and reported.
        unexpected_field_behavior="infer",
        newlines_in_values=True,  # the API may pretty-print its JSON
    )
    try:
        table = pa_json.read_json(
            pa.BufferReader(content),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(content) + 1),
            parse_options=options,
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows != 1:
        return None
    return {
        "has_more": table.column("has_more")[0].as_py(),
        "next_page": table.column("next_page")[0].as_py(),
        "data": ArrowBuckets(pc.list_flatten(table.column("data").combine_chunks())),
    }


def bucket_results(bucket: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A bucket's results; specs before 2026-05 called the field `result`."""
    results = bucket.get("results")
    if results is None:
        results = bucket.get("result")
    return results or []


def buckets_to_arrow(
    buckets: Iterable[Mapping[str, Any]] | ArrowBuckets,
    schema: pa.Schema,
    organization: str,
    adapt: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
    final_before: int | None = None,
) -> pa.Table:
    """Flatten buckets into one Arrow table of `schema`, one row per result.

    `is_final` is true for buckets whose UTC day ended at or before `final_before` (Unix
    seconds: now minus the grace period), false for the open day, null if not given.

    Columns are filled by name from each result, with the bucket's times copied in; missing
    optional counters become null. Result fields the schema does not know (new API fields) are
    kept as further columns after the schema's, with the type Arrow infers (JSON text if their
    values do not share one): a new field must neither break a load nor vanish. `adapt` maps an
    endpoint's result shape onto the schema's names. Building columns directly keeps dlt on its
    fast Arrow path.
    """
    if isinstance(buckets, ArrowBuckets):
        return _arrow_buckets_to_table(buckets, schema, organization, final_before)
    result_fields = [field for field in schema if field.name not in BUCKET_FIELDS]
    results: list[Mapping[str, Any]] = []
    starts: list[int] = []
    ends: list[int] = []
    for bucket in buckets:
        rows = bucket_results(bucket)
        if adapt is not None:
            rows = [adapt(result) for result in rows]
        results += rows
        starts += [int(bucket["start_time"])] * len(rows)
        ends += [int(bucket["end_time"])] * len(rows)
    if any(field.name == "amount_value" for field in result_fields):
        results = [{**r, "amount_value": _decimal(r.get("amount_value"))} for r in results]
    # pyarrow converts dicts to a struct column in C++, by field name: unknown keys are
    # skipped and missing ones become null, as the per-field Python loop did, 3x faster.
    struct = pa.array(results, type=pa.struct(result_fields))
    known = {*schema.names, *_NOT_KEPT}
    undeclared = sorted({name for result in results for name in result} - known)
    if undeclared:
        extra = [_inferred([r.get(name) for r in results]) for name in undeclared]
        struct = pa.StructArray.from_arrays(
            [struct.field(f.name) for f in result_fields] + extra,
            names=[f.name for f in result_fields] + undeclared,
        )
    return _results_table(
        struct,
        pa.array(starts, type=pa.int64()),
        pa.array(ends, type=pa.int64()),
        schema,
        organization,
        final_before,
    )


# Result fields never kept as columns: the `object` type tag, and the fields an `adapt` function
# maps onto the schema's names (`amount` of costs, a usage family's older field names).
_NOT_KEPT = frozenset({"object", "amount", *RENAMED_FIELDS})


def _inferred(values: list[Any]) -> pa.Array:
    """Values of an undeclared field as Arrow infers them, or as JSON text when it cannot."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([as_json(v) for v in values], type=pa.string())


def _arrow_buckets_to_table(
    page: ArrowBuckets, schema: pa.Schema, organization: str, final_before: int | None
) -> pa.Table:
    buckets = page.buckets
    results, legacy = buckets.field("results"), buckets.field("result")
    if results.type != legacy.type:
        # Undeclared fields under one of the names: both lists take the fields of both.
        fields = {f.name: f for f in [*results.type.value_type, *legacy.type.value_type]}
        results, legacy = _with_fields(results, fields), _with_fields(legacy, fields)
    results = pc.coalesce(results, legacy)
    bucket_of_row = pc.list_parent_indices(results)
    return _results_table(
        pc.list_flatten(results),
        pc.take(buckets.field("start_time"), bucket_of_row),
        pc.take(buckets.field("end_time"), bucket_of_row),
        schema,
        organization,
        final_before,
    )


def _with_fields(lists: pa.ListArray, fields: dict[str, pa.Field]) -> pa.ListArray:
    """Lists of structs with exactly `fields`, in that order (null where a struct had none)."""
    values = lists.flatten()
    names = set(values.type.names)
    struct = pa.StructArray.from_arrays(
        [
            values.field(name) if name in names else pa.nulls(len(values), type=f.type)
            for name, f in fields.items()
        ],
        fields=list(fields.values()),
    )
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = pa.array([0, *lengths.cumsum()], type=pa.int32())
    return pa.ListArray.from_arrays(offsets, struct, mask=lists.is_null())


def _results_table(
    struct: pa.StructArray,
    start: pa.Array,
    end: pa.Array,
    schema: pa.Schema,
    organization: str,
    final_before: int | None,
) -> pa.Table:
    """The table of `schema` from the results (a struct of its result fields, and maybe of
    fields it does not declare, which follow its columns) and their times."""
    n = len(struct)
    day = pc.divide(start, 86400)  # integer division: bucket starts are positive
    if final_before is None:
        final = pa.nulls(n, type=pa.bool_())
    else:
        final = pc.less_equal(pc.multiply(pc.add(day, 1), 86400), final_before)
    columns = {
        "organization": pa.array([organization] * n, type=pa.string()),
        "bucket_date": day.cast(pa.int32()).cast(pa.date32()),
        "start_time": start,
        "end_time": end,
        "is_final": final,
        "_deleted": pa.nulls(n, type=pa.bool_()),
        **{field.name: struct.field(field.name) for field in struct.type},
    }
    table = pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)
    for field in struct.type:
        if field.name in _NOT_KEPT or field.name in schema.names:
            continue
        table = table.append_column(field.name, struct.field(field.name))
    return table


def costs_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """Lift `amount.value`/`amount.currency` to top-level fields."""
    amount = result.get("amount") or {}
    return {
        **result,
        "amount_value": amount.get("value"),
        "amount_currency": amount.get("currency"),
    }


_AMOUNT_QUANTUM = Decimal(1).scaleb(-18)


def _decimal(value: Any) -> Decimal | None:
    # Costs are unrounded floats: keep them as decimals (repr round-trips the JSON text), to
    # 1e-18 USD, far below any invoice's precision, so sums reconcile exactly.
    return None if value is None else Decimal(repr(value)).quantize(_AMOUNT_QUANTUM)


def deletion_markers(days: Sequence[dt.date], schema: pa.Schema, organization: str) -> pa.Table:
    """One marker row per day of the window, flagged `_deleted`.

    The tables merge with dlt's delete-insert strategy on (`organization`, `bucket_date`): every
    stored row of a day that has a marker (or a fresh row) is deleted, markers themselves are not
    inserted. So a reload replaces whole days, including groups or buckets that have since
    vanished, and never touches another organization's rows.
    """
    n = len(days)
    arrays = []
    for field in schema:
        if field.name == "organization":
            arrays.append(pa.array([organization] * n, type=pa.string()))
        elif field.name == "bucket_date":
            # Days as int32 offsets: converting date objects makes pyarrow import pandas (1 s).
            epoch = dt.date(1970, 1, 1)
            offsets = [(day - epoch).days for day in days]
            arrays.append(pa.array(offsets, type=pa.int32()).cast(pa.date32()))
        elif field.name == "_deleted":
            arrays.append(pa.array([True] * n, type=pa.bool_()))
        else:
            arrays.append(pa.nulls(n, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)

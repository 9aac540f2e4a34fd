"""How the raw tables are declared to dlt: write dispositions, merge keys and column types, and
tables created with their columns even when the API lists nothing."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns
from dlt.common.schema import Schema

ROW_VERSION = "_row_version"


def as_json(value: Any) -> str | None:
    """Nested lists kept as JSON text (the raw tables are flat)."""
    return None if value is None else json.dumps(value, sort_keys=True)


def bucketed_hints(schema: pa.Schema) -> dict[str, Any]:
    """Hints of a bucketed table: reloads replace whole days (delete-insert on the day, with the
    marker column as hard delete), and the Arrow schema's columns are declared, so a table the
    API had nothing for is created with them all."""
    columns = py_arrow_to_table_schema_columns(schema)
    columns["_deleted"] = {**columns["_deleted"], "hard_delete": True}
    return {
        "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
        "merge_key": ["organization", "bucket_date"],
        "columns": columns,
    }


# Directory history: dlt's scd2 keeps every version of a row with `_dlt_valid_from` and
# `_dlt_valid_to` (NULL while current); a row the API stops listing is retired, not deleted, so
# past spend keeps the name it had. The merge key limits retiring to the organization loaded.
# So a listing that empties retires nothing: dlt retires within the organizations the load
# holds rows of, and an empty load holds none. Its last rows stay current until it lists
# something again (which retires the rest).
# The version hash leaves out counters that move on every use (`last_used_at`), which would
# otherwise make a new version per run: those columns hold their value as of the version's start.
HISTORY = {
    "write_disposition": {
        "disposition": "merge",
        "strategy": "scd2",
        "row_version_column_name": ROW_VERSION,
    },
    "merge_key": "organization",
}
SPEND_HISTORY = {**HISTORY, "write_disposition": {"disposition": "merge", "strategy": "scd2"}}


class _DeclaredHintsNotice(logging.Filter):
    """Drop dlt's notice that declared hints differ from the Arrow schema.

    The merge key and hard-delete hints are declared on the resource on purpose and Arrow has no
    way to carry them, so dlt warns on every page; the notice says nothing a user can act on.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


_HINTS_NOTICE = _DeclaredHintsNotice()


def quiet_declared_hints_notice() -> None:
    logging.getLogger("dlt").addFilter(_HINTS_NOTICE)  # adding the same filter twice is a no-op


def materialized(
    arrow_schema: pa.Schema | None = None,
) -> Callable[[Callable[..., Iterator[Any]]], Callable[..., Iterator[Any]]]:
    """Make a resource function first yield what creates its table with its declared columns,
    so the table exists even when the API lists nothing: dlt creates no table for a resource
    that yields no rows, and dbt would find none. The marker holds no rows: with merge, it
    deletes or retires nothing.

    Row resources yield dlt's `materialize_table_schema()`. A resource of Arrow tables passes
    its `arrow_schema` and yields an empty table of it instead: dlt's marker takes the row path,
    which creates `_dlt_load_id` and `_dlt_id` as NOT NULL columns that Arrow loads (which carry
    neither) then fail to fill.
    """

    def decorate(resource_function: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        @functools.wraps(resource_function)
        def with_table(*args: Any, **kwargs: Any) -> Iterator[Any]:
            if arrow_schema is None:
                yield dlt.mark.materialize_table_schema()
            else:
                yield arrow_schema.empty_table()
            yield from resource_function(*args, **kwargs)

        return with_table

    return decorate


def keep_declared_types(schema: Schema, resources: Iterable[Any]) -> None:
    """Give `schema` the declared type of every column dlt's write-disposition hints drop.

    dlt's scd2 hints replace the declaration of the row version column with one without a type.
    The type then only ever came from data: a table first loaded empty would fail dlt's
    normalize step ("column did not receive any data"). Here each resource's table, as dlt
    computes it, takes back the declared types before the first load.
    """
    for resource in resources:
        table = resource.compute_table_schema()
        declared = resource.columns if isinstance(resource.columns, Mapping) else {}
        for name, column in table["columns"].items():
            if "data_type" not in column and "data_type" in declared.get(name, {}):
                column["data_type"] = declared[name]["data_type"]
        schema.update_table(table)

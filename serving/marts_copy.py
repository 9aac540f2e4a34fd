"""A Postgres warehouse's schema copied into an in-memory DuckDB database, for publishing.

Publishing writes Parquet and CSV with DuckDB's COPY (`serving/publish.py`). For a Postgres
warehouse the marts are read over psycopg2 into Arrow tables typed from Postgres' catalog, then
into DuckDB tables of the same names, so the same statements write the same files. (DuckDB's
`postgres` extension would read them directly, but it is downloaded on first use and the
product runs offline.) Marts are aggregates, small enough to hold in memory.
"""

from __future__ import annotations

import contextlib
import decimal
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from warehouse.connection import (
    PostgresConnection,
    base_tables,
    connect_postgres,
    quote_identifier,
)
from warehouse.location import PostgresUrl

# An unconstrained `numeric` in the marts is a sum of the raw decimals (DuckDB types the same sum
# DECIMAL(38,18)): it has their 18 places. Longer values are rounded to them, not refused.
DEFAULT_DECIMAL = (38, 18)


_SIMPLE_TYPES = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "double precision": pa.float64(),
    "real": pa.float32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "text": pa.string(),
    "character varying": pa.string(),
    "character": pa.string(),
    "timestamp without time zone": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
}


def arrow_type(data_type: str, precision: int | None, scale: int | None) -> pa.DataType:
    """The Arrow type for a column of Postgres type `data_type` (information_schema's name).

    Types outside the marts' vocabulary are carried as text rather than refused.
    """
    if data_type == "numeric":
        if precision is None:
            return pa.decimal128(*DEFAULT_DECIMAL)
        return pa.decimal128(precision, scale or 0)
    return _SIMPLE_TYPES.get(data_type, pa.string())


def _columns(con: PostgresConnection, schema: str, table: str) -> list[tuple[str, pa.DataType]]:
    rows = con.execute(
        "select column_name, data_type, numeric_precision, numeric_scale"
        " from information_schema.columns where table_schema = ? and table_name = ?"
        " order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [(name, arrow_type(kind, precision, scale)) for name, kind, precision, scale in rows]


def read_table(con: PostgresConnection, schema: str, table: str) -> pa.Table:
    """One Postgres table as an Arrow table with its catalog's types."""
    columns = _columns(con, schema, table)
    name = f"{quote_identifier(schema)}.{quote_identifier(table)}"  # from the catalog, quoted
    rows = con.execute(f"select * from {name}").fetchall()
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    arrays = [
        pa.array([_convert(v, kind) for v in column], type=kind)
        for column, (_, kind) in zip(values, columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=pa.schema(columns))


def _convert(value: object, kind: pa.DataType) -> object:
    """A value psycopg2 returned, as Arrow takes it for `kind`."""
    if value is None:
        return None
    if kind == pa.string():
        return str(value)
    if isinstance(value, decimal.Decimal) and pa.types.is_decimal(kind):
        return value.quantize(decimal.Decimal(1).scaleb(-kind.scale), decimal.ROUND_HALF_EVEN)
    return value


@contextlib.contextmanager
def copy_schema(url: PostgresUrl, schema: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection holding a copy of the base tables of `schema`."""
    target = duckdb.connect()
    try:
        target.execute(f"create schema {quote_identifier(schema)}")
        with connect_postgres(url) as source:
            for table in base_tables(source, schema):
                incoming = read_table(source, schema, table)
                target.register("incoming", incoming)
                name = f"{quote_identifier(schema)}.{quote_identifier(table)}"
                target.execute(f"create table {name} as select * from incoming")
                target.unregister("incoming")
        yield target
    finally:
        target.close()

"""One way to query the working warehouse, whichever it is (`warehouse/location.py`).

On DuckDB, `connect()` is `duckdb.connect()` on the working file, unchanged. On Postgres it is a
psycopg2 connection behind the few DuckDB methods the readers use (`execute(sql, params)` with
`?` placeholders, then `fetchall()`, `fetchone()`, `df()`, `description`), so the same constant
SQL with bound parameters runs on both. The SQL itself is written for both (no `group by all`,
`any_value`, `double` or DuckDB-only functions).

Postgres errors never carry the password: a failure to connect is raised again as
`WarehouseConnectionError` with the masked URL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from warehouse.location import PostgresUrl, Warehouse, mask

if TYPE_CHECKING:
    import pandas as pd


class WarehouseConnectionError(ConnectionError):
    """The Postgres warehouse cannot be reached; the message names it without the password."""


def placeholders(sql: str) -> str:
    """DuckDB's `?` placeholders as psycopg2's `%s` (a literal `%` doubled). The SQL given to the
    readers is constant text whose only `?` are placeholders."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresResult:
    """The rows of one statement, read like a DuckDB result."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Sequence[Sequence[Any]] | None:
        return self._cursor.description

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall()

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone()

    def df(self) -> pd.DataFrame:
        """A DataFrame typed as DuckDB's `df()` types it: dates as datetime64, decimals as
        floats (what the report's frame functions expect)."""
        # Imported here: every run process loads the definitions, which need no pandas.
        import pandas as pd

        names = [d[0] for d in self.description or ()]
        frame = pd.DataFrame.from_records(self.fetchall(), columns=names)
        for name in frame.columns:
            values = frame[name].dropna()
            if values.empty:
                continue
            first = values.iloc[0]
            if isinstance(first, dt.date) and not isinstance(first, dt.datetime):
                frame[name] = pd.to_datetime(frame[name])
            elif isinstance(first, decimal.Decimal):
                frame[name] = frame[name].astype("float64")
        return frame


class PostgresConnection:
    """A psycopg2 connection used through DuckDB's `execute` interface."""

    def __init__(self, raw: Any, url: PostgresUrl) -> None:
        self.raw = raw
        self.url = url

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PostgresResult:
        cursor = self.raw.cursor()
        if params:
            cursor.execute(placeholders(sql), list(params))
        else:
            cursor.execute(sql)
        return PostgresResult(cursor)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(placeholders(sql), [list(r) for r in rows])

    def commit(self) -> None:
        self.raw.commit()

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> PostgresConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_postgres(url: PostgresUrl, read_only: bool = True) -> PostgresConnection:
    """A connection to the Postgres warehouse (read-only sessions for readers)."""
    import psycopg2

    try:
        raw = psycopg2.connect(url.secret_url(), connect_timeout=30)
    except psycopg2.Error as exc:
        reason = mask(" ".join(str(exc).split()), url)
        raise WarehouseConnectionError(
            f"Cannot connect to the warehouse at {url.masked()} (check WAREHOUSE_URL): {reason}"
        ) from None
    # Autocommit, as DuckDB: each statement on its own unless the caller says `begin`.
    raw.set_session(readonly=read_only, autocommit=True)
    return PostgresConnection(raw, url)


Connection = duckdb.DuckDBPyConnection | PostgresConnection


@contextlib.contextmanager
def connect(warehouse: Warehouse, read_only: bool = True) -> Iterator[Connection]:
    """Open the working warehouse and close it when the block ends."""
    if isinstance(warehouse, PostgresUrl):
        with connect_postgres(warehouse, read_only) as con:
            yield con
    else:
        with duckdb.connect(str(warehouse), read_only=read_only) as con:
            yield con


def quote_identifier(name: str) -> str:
    """`name` as an SQL identifier, quoted (the same on DuckDB and Postgres)."""
    return '"' + name.replace('"', '""') + '"'


def base_tables(con: Connection, schema: str) -> list[str]:
    """The base tables (not views) of `schema`, by name."""
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
        [schema],
    ).fetchall()
    return [name for (name,) in rows]


def exists(warehouse: Warehouse) -> bool:
    """Whether there is anything to read: the DuckDB file exists (a server is always there)."""
    return isinstance(warehouse, PostgresUrl) or Path(warehouse).exists()


def is_error(exc: BaseException) -> bool:
    """Whether `exc` is an error of the warehouse's database (DuckDB's or Postgres')."""
    if isinstance(exc, duckdb.Error | WarehouseConnectionError):
        return True
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - installed with dlt's postgres extra
        return False
    return isinstance(exc, psycopg2.Error)

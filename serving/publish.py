"""Publishing for BI tools: every mart as Parquet and CSV, plus a serving DuckDB file of views.

BI tools never open the working file (DuckDB allows one writer, and a reader blocks it). After
every successful run `publish()` writes, into the serving folder:

    parquet/<mart>.parquet   each mart, written to a temporary file and swapped in with
                             os.replace, so a reader sees the old or the new file, never half
    csv/<mart>.csv           the same, for spreadsheet users
    focus/<mart>.parquet     the FOCUS export (`focus_costs`, docs/focus.md) in its own folder,
    focus/<mart>.csv         for FOCUS-aware tools; its CSV writes date/times as FOCUS does
                             (ISO 8601 in UTC, `2025-01-31T00:00:00Z`)
    openai_usage.duckdb      views only (`select * from read_parquet(...)`), in storage version
                             v1.4.0 so DuckDB 1.4 drivers (JDBC, ODBC, duckdb_engine) open it
    manifest.json            what was published, when, with row counts

A Postgres warehouse (`WAREHOUSE_URL`) is published the same way: its marts are read into an
in-memory DuckDB database first (`serving/marts_copy.py`), and the same COPY statements write
the same files from there.

Why views over Parquet rather than a snapshot DuckDB file swapped in: a dashboard that keeps
the serving file open then sees new data on its next query (the view reads the replaced Parquet
file), and the pipeline never has to touch, lock or rename a file a reader holds, which
Windows refuses. The serving DuckDB file is rewritten only when the set of marts changes.

Relocatable views: DuckDB resolves a relative `read_parquet` path against the reader's working
directory, not the database file. Each view therefore computes its folder at query time:
the variable `openai_usage_serving_dir` when the reader sets it, else the folder of the opened
database file (DuckDB's default `temp_directory` is `<database file>.tmp`), else the folder it
was published to. So the serving folder works from any working directory and after being
copied to another machine or a file share, when the serving file is opened as the database
(as every BI connector does). A session that ATTACHes the copy from an in-memory database sets
the variable first (`SET VARIABLE openai_usage_serving_dir = '/path/to/serving'`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from serving import atomic
from warehouse.connection import Connection, base_tables, connect, quote_identifier
from warehouse.location import PostgresUrl, Warehouse

SERVING_DB_NAME = "openai_usage.duckdb"
PARQUET_DIR = "parquet"
CSV_DIR = "csv"
FOCUS_DIR = "focus"
# Marts in the FinOps FOCUS format: published into FOCUS_DIR instead of parquet/ and csv/.
FOCUS_MARTS = frozenset({"focus_costs"})
# FOCUS date/times are ISO 8601 in UTC with a Z (publish() writes in time zone UTC).
_FOCUS_CSV_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MANIFEST_NAME = "manifest.json"
SERVING_DIR_VARIABLE = "openai_usage_serving_dir"
# DuckDB 2.0 writes storage v2.0.0+ by default, which DuckDB 1.x drivers cannot read.
STORAGE_VERSION = "v1.4.0"
MARTS_SCHEMA = "marts"
# Bumped when the view SQL changes, so an existing serving file is rebuilt.
_VIEW_FORMAT = 1


@dataclass(frozen=True)
class Published:
    serving_dir: Path
    serving_db: Path
    marts: dict[str, int]  # mart -> row count
    serving_db_rebuilt: bool


def mart_names(con: Connection) -> list[str]:
    """The tables of schema `marts` (views and other schemas are not published)."""
    return base_tables(con, MARTS_SCHEMA)


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _atomic_copy(con: duckdb.DuckDBPyConnection, query: str, target: Path, options: str) -> None:
    """COPY `query` to a temporary file beside `target`, then swap it in (`serving/atomic.py`)."""
    with atomic.replacing(target) as tmp:
        con.execute(f"copy ({query}) to {_quote_literal(str(tmp))} ({options})")


def mart_files(mart: str) -> tuple[str, str]:
    """The Parquet and CSV paths of `mart`, relative to the serving folder."""
    if mart in FOCUS_MARTS:
        return f"{FOCUS_DIR}/{mart}.parquet", f"{FOCUS_DIR}/{mart}.csv"
    return f"{PARQUET_DIR}/{mart}.parquet", f"{CSV_DIR}/{mart}.csv"


def csv_options(mart: str) -> str:
    """COPY options of the CSV of `mart`."""
    options = "format csv, header true"
    if mart in FOCUS_MARTS:
        options += f", timestampformat {_quote_literal(_FOCUS_CSV_TIMESTAMP_FORMAT)}"
    return options


def export_mart(con: duckdb.DuckDBPyConnection, mart: str, serving_dir: Path) -> int:
    """Write one mart to Parquet and CSV (each swapped in atomically); return its row count."""
    query = f"select * from {MARTS_SCHEMA}.{quote_identifier(mart)}"
    parquet_file, csv_file = mart_files(mart)
    # Parquet v1 with snappy: the most widely readable flavour (Power BI, Excel, Tableau, Spark).
    _atomic_copy(
        con,
        query,
        serving_dir / parquet_file,
        "format parquet, compression snappy, parquet_version v1",
    )
    _atomic_copy(con, query, serving_dir / csv_file, csv_options(mart))
    return con.execute(f"select count(*) from ({query})").fetchone()[0]


def parquet_location_sql(mart: str, published_dir: Path) -> str:
    """SQL for the Parquet file of `mart`, resolved at query time (see the module docstring)."""
    folder = (
        f"coalesce(getvariable({_quote_literal(SERVING_DIR_VARIABLE)}),"
        " nullif(parse_dirpath(current_setting('temp_directory')), ''),"
        f" {_quote_literal(published_dir.as_posix())})"
    )
    return f"{folder} || '/{mart_files(mart)[0]}'"


def view_sql(mart: str, published_dir: Path) -> str:
    return (
        f"create or replace view main.{quote_identifier(mart)} as select * from"
        f" read_parquet({parquet_location_sql(mart, published_dir)})"
    )


def build_serving_db(target: Path, marts: Iterable[str], serving_dir: Path) -> None:
    """Write a serving DuckDB file of views (storage v1.4.0) and swap it in atomically.

    The Parquet files must exist: DuckDB binds a view when it is created.
    """
    with atomic.replacing(target) as tmp:
        con = duckdb.connect()
        try:
            con.execute(f"set variable {SERVING_DIR_VARIABLE} = {_quote_literal(str(serving_dir))}")
            con.execute(
                f"attach {_quote_literal(str(tmp))} as serving"
                f" (storage_version {_quote_literal(STORAGE_VERSION)})"
            )
            con.execute("use serving")
            for mart in marts:
                con.execute(view_sql(mart, serving_dir))
            con.execute("use memory")
            con.execute("detach serving")
        finally:
            # Closed before the swap: the file must be complete and free when it is renamed.
            con.close()
            Path(f"{tmp}.wal").unlink(missing_ok=True)


def _read_manifest(serving_dir: Path) -> dict:
    try:
        return json.loads((serving_dir / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return {}


def _write_manifest(serving_dir: Path, manifest: dict) -> None:
    atomic.write_text(
        serving_dir / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    )


def _remove_stale(serving_dir: Path, marts: list[str]) -> None:
    """Delete the files of marts that are gone or moved (only files this module writes)."""
    current = {serving_dir / file for mart in marts for file in mart_files(mart)}
    for folder in (PARQUET_DIR, CSV_DIR, FOCUS_DIR):
        for suffix in (".parquet", ".csv"):
            for path in (serving_dir / folder).glob(f"*{suffix}"):
                if path not in current:
                    path.unlink(missing_ok=True)


@contextlib.contextmanager
def _marts_source(working: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection holding schema `marts`: the working file opened read-only, or an
    in-memory copy of a Postgres warehouse's marts."""
    if isinstance(working, PostgresUrl):
        from serving.marts_copy import copy_schema

        with copy_schema(working, MARTS_SCHEMA) as con:
            yield con
    else:
        with connect(working) as con:
            yield con


def publish(working_db: Warehouse, serving_dir: Path) -> Published:
    """Publish every mart of the working warehouse into `serving_dir` (see the module
    docstring).

    Opens the working file read-only and closes it before returning. Never opens the serving
    DuckDB file in place, so readers holding it never block a run.
    """
    serving_dir = Path(serving_dir).resolve()
    serving_dir.mkdir(parents=True, exist_ok=True)
    with _marts_source(working_db) as con:
        # Timestamps with a time zone are written as UTC, whatever this machine's zone.
        con.execute("set TimeZone = 'UTC'")
        marts = mart_names(con)
        counts = {mart: export_mart(con, mart, serving_dir) for mart in marts}
    serving_db = serving_dir / SERVING_DB_NAME
    previous = _read_manifest(serving_dir)
    wanted = {
        "marts": marts,
        "view_format": _VIEW_FORMAT,
        "published_to": serving_dir.as_posix(),
        "storage_version": STORAGE_VERSION,
    }
    rebuild = not serving_db.exists() or any(previous.get(k) != v for k, v in wanted.items())
    if rebuild:
        build_serving_db(serving_db, marts, serving_dir)
    _remove_stale(serving_dir, marts)
    _write_manifest(
        serving_dir,
        {
            **wanted,
            "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "row_counts": counts,
            "serving_db": SERVING_DB_NAME,
        },
    )
    return Published(serving_dir, serving_db, counts, rebuild)

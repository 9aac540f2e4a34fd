"""The dlt destination of the working warehouse, shared by the pipeline and the benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse.location import PostgresUrl, Warehouse

# DuckDB's default memory limit is 80% of RAM, and a load of a year of hourly usage let it grow
# the process to 0.55 GB. Capped, it spills to disk instead: peak RSS 0.40 GB, same speed
# (BENCHMARKS.md).
LOAD_MEMORY_LIMIT = "256MB"


def duckdb_destination(path: Path) -> Any:
    """dlt's DuckDB destination for `path`, with the load's memory capped."""
    import dlt
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    credentials = DuckDbCredentials(str(path), global_config={"memory_limit": LOAD_MEMORY_LIMIT})
    return dlt.destinations.duckdb(credentials)


def postgres_destination(url: PostgresUrl) -> Any:
    """dlt's Postgres destination for the database of `url`."""
    import dlt
    from dlt.destinations.impl.postgres.configuration import PostgresCredentials

    return dlt.destinations.postgres(PostgresCredentials(url.secret_url()))


def destination(warehouse: Warehouse) -> Any:
    """dlt's destination for the working warehouse."""
    if isinstance(warehouse, PostgresUrl):
        return postgres_destination(warehouse)
    return duckdb_destination(warehouse)

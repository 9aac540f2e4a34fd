"""Shared fixtures. Every test works in its own temporary warehouse and Dagster home."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Point every location variable at a temporary folder; never at the developer's files."""
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse" / "openai_usage.duckdb"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "warehouse").mkdir()
    for name in ("SERVING_DIR", "USAGE_BUCKET_WIDTH", "USAGE_START_DATE", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # The DuckDB file unless a test asks for Postgres, whatever the developer's shell says.
    for name in ("WAREHOUSE_URL", "DAGSTER_POSTGRES_URL", "WAREHOUSE_DBT_TARGET"):
        monkeypatch.delenv(name, raising=False)
    # No client-side pacing against the local simulator, whatever the developer's environment
    # says; the pacing itself is tested at the source level with explicit rates.
    monkeypatch.setenv("OPENAI_REQUESTS_PER_SECOND", "0")
    return tmp_path


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL cluster for this test session (scripts/postgres_server.py).

    Missing server binaries fail the tests that need it, with how to install them: a Postgres
    warehouse that was never tested must not pass as one that was.
    """
    from scripts.postgres_server import PostgresMissing, find_bin_dir, postgres_server

    try:
        find_bin_dir()
    except PostgresMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server):
    """A new database with its own login role and password, on the session's server."""
    return postgres_server.create_database()

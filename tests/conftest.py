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
    # No client-side pacing against the local simulator, whatever the developer's environment
    # says; the pacing itself is tested at the source level with explicit rates.
    monkeypatch.setenv("OPENAI_REQUESTS_PER_SECOND", "0")
    return tmp_path

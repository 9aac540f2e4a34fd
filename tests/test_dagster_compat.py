"""The Dagster internals in assets/dagster_compat.py: still there, and behaving as run retention
(assets/retention.py) expects, on a real SQLite instance. A Dagster upgrade that moves or
changes any of them fails here rather than in a pruning run."""

from __future__ import annotations

import os

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.dagster_compat import (
    AssetCheckExecutionsTable,
    AssetEventTagsTable,
    SqlEventLogStorageTable,
    forget_run_event_file,
    run_status_event_types,
    sql_event_log,
)

# The columns retention reads or filters on, table by table.
USED_COLUMNS = {
    SqlEventLogStorageTable: {"id", "run_id", "dagster_event_type"},
    AssetEventTagsTable: {"event_id"},
    AssetCheckExecutionsTable: {
        "id",
        "run_id",
        "asset_key",
        "check_name",
        "evaluation_event_storage_id",
    },
}


@pytest.mark.parametrize("table", list(USED_COLUMNS), ids=lambda table: table.name)
def test_the_event_log_tables_have_the_columns_retention_uses(table: sa.Table):
    assert USED_COLUMNS[table] <= set(table.c.keys())


def test_run_status_event_types_are_the_run_status_events_only():
    statuses = set(run_status_event_types())
    for event_type in (
        dg.DagsterEventType.RUN_START,
        dg.DagsterEventType.RUN_SUCCESS,
        dg.DagsterEventType.RUN_FAILURE,
        dg.DagsterEventType.RUN_CANCELED,
    ):
        assert event_type.value in statuses
    for event_type in (
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
        dg.DagsterEventType.STEP_SUCCESS,
    ):
        assert event_type.value not in statuses


@dg.asset
def thing() -> int:
    return 1


@dg.asset_check(asset=thing)
def thing_is_there() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A local instance with the default (SQLite) storage in a fresh DAGSTER_HOME."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        yield instance


def _run(instance: dg.DagsterInstance) -> str:
    result = dg.materialize([thing, thing_is_there], instance=instance)
    assert result.success
    return result.run_id


def test_sqlite_storage_holds_a_run_where_retention_looks_for_it(instance):
    storage = sql_event_log(instance)
    assert storage is not None
    run_id = _run(instance)
    events = SqlEventLogStorageTable
    checks = AssetCheckExecutionsTable
    with storage.index_connection() as conn:
        types = {
            row[0]
            for row in conn.execute(
                sa.select(events.c.dagster_event_type).where(events.c.run_id == run_id)
            )
        }
        check_rows = conn.execute(
            sa.select(checks.c.id, checks.c.evaluation_event_storage_id).where(
                checks.c.run_id == run_id
            )
        ).fetchall()
    assert dg.DagsterEventType.ASSET_MATERIALIZATION.value in types
    assert dg.DagsterEventType.RUN_SUCCESS.value in types
    assert types & set(run_status_event_types())
    assert len(check_rows) == 1 and check_rows[0][1] is not None
    assert os.path.exists(instance.event_log_storage.path_for_shard(run_id))


def test_forget_run_event_file_removes_it_and_the_run_still_reads(instance):
    run_id = _run(instance)
    path = instance.event_log_storage.path_for_shard(run_id)
    instance.delete_run(run_id)
    assert os.path.exists(path)  # delete_run leaves the emptied file behind
    forget_run_event_file(instance, run_id)
    assert not os.path.exists(path)
    assert instance.all_logs(run_id) == []

"""A backfill killed half-way must not keep the `duckdb` pool slot from every later run."""

from __future__ import annotations

import socket
import subprocess
import sys

import dagster as dg

from scripts.backfill import HOST_TAG, PID_TAG, release_dead_runs


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _started_run(instance, pid: int, host: str, claim: bool = False) -> dg.DagsterRun:
    run = dg.DagsterRun(
        job_name="refresh_all",
        status=dg.DagsterRunStatus.STARTED,
        tags={PID_TAG: str(pid), HOST_TAG: host},
    )
    instance.add_run(run)
    if claim:
        instance.event_log_storage.claim_concurrency_slot("duckdb", run.run_id, "openai_usage")
    return run


def test_a_killed_run_is_failed_and_its_pool_slot_freed():
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots("duckdb", 1)
        dead = _started_run(instance, _dead_pid(), socket.gethostname(), claim=True)
        alive = _started_run(instance, subprocess.os.getpid(), socket.gethostname())
        elsewhere = _started_run(instance, _dead_pid(), "another-host")

        storage = instance.event_log_storage
        assert storage.get_concurrency_info("duckdb").active_run_ids == {dead.run_id}

        assert release_dead_runs(instance) == [dead.run_id]

        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(elsewhere.run_id).status == dg.DagsterRunStatus.STARTED
        assert storage.get_concurrency_info("duckdb").active_run_ids == set()

"""Reliability, CI subset: one case per group of `make reliability`.

Each case runs the real `python -m scripts.backfill` against a simulator subprocess (through the
fault proxy where it injects faults) and compares every mart with an undisturbed reference run.
The whole suite, with every case, is `make reliability`; its last results are RELIABILITY.md.

The crash case kills one run during extract with SIGKILL; the re-run must free the dead run's
`duckdb` pool slot (RELIABILITY.md, bug 1) and converge on the reference.
"""

from __future__ import annotations

import pytest

from reliability import cases
from reliability.cases import Suite
from scripts.sim_process import simulator_process

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """One simulator and one reference run shared by the module's cases."""
    with simulator_process(3) as (sim_url, _):
        yield Suite(tmp_path_factory.mktemp("reliability"), sim_url, quick=True)


def _passed(result: cases.CaseResult) -> None:
    assert result.outcome == "pass", f"{result.group} / {result.name}: {result.detail}"


def test_api_fault_5xx_burst_is_retried_and_marts_equal_reference(suite):
    fault = next(f for f in cases.api_faults() if f.name.startswith("5xx"))
    _passed(cases.run_api_fault(suite, fault))


def test_a_run_killed_during_extract_then_rerun_equals_reference(suite):
    [result] = cases.crash_case(suite, kills=1, verify_every=1)
    _passed(result)
    assert result.facts["kills"][0].startswith("extract@"), result.facts


def test_scheduled_run_and_backfill_overlapping_are_serialized(suite):
    _passed(cases.overlap_same_home(suite))


def _start_after_end() -> cases.BadInput:
    return next(b for b in cases.bad_inputs() if b.name == "START after END")


def test_start_after_end_is_one_clear_error_and_nothing_is_written(suite):
    _passed(cases.run_bad_input(suite, _start_after_end()))


def test_admin_key_appears_nowhere_after_the_runs(suite):
    """Scans everything the suite wrote. In any order of the tests that is at least the
    reference backfill and a refused run (made here), plus what earlier cases wrote."""
    _passed(cases.run_bad_input(suite, _start_after_end()))
    _passed(cases.secrets_scan(suite))

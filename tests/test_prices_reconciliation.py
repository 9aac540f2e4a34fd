"""The real pipeline on the in-process simulator, several runs in a row, with a BI reader open.

- Estimated cost (genai-prices + reviewed overrides, batch and service-tier factors, cached
  input counted once) agrees with the simulator's own independent bill within 1% per
  model-day for every model the simulator prices.
- After each of two runs the marts are published to SERVING_DIR; a reader process that keeps the
  serving DuckDB file open across the runs never blocks one and sees each run's data on its
  next query.
- The Dagster asset checks (freshness, drift, unknown models, sum invariants) ran and passed.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap

import dagster as dg
import duckdb
import pytest
from fixtures.duckdb_files import V1_4_STORAGE_NUMBER, storage_version_number
from fixtures.simulated_api import use_simulator

from assets.schedules import partition_range_tags, refresh_job
from serving import publish
from simulator import SimulatorConfig, billing, start_simulator
from warehouse import paths

TODAY = dt.datetime.now(dt.UTC).date()
MAX_DRIFT_PCT = 1.0

READER = textwrap.dedent(
    """
    import duckdb, sys
    con = duckdb.connect(sys.argv[1], read_only=True)
    print("ready", flush=True)
    for line in sys.stdin:
        first, last = con.execute(
            "select min(usage_date), max(usage_date) from cost_by_model_daily"
        ).fetchone()
        print(f"{first} {last}", flush=True)
    """
)


@pytest.fixture
def sim_env(monkeypatch):
    with start_simulator(SimulatorConfig(seed=11)) as sim:
        use_simulator(monkeypatch, sim.base_url)
        # the freshness check is judged on the last run, which loads yesterday
        monkeypatch.setenv("FRESHNESS_HOUR_UTC", "0")
        yield sim


def _run(defs: dg.Definitions, start: dt.date, end: dt.date, instance) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def(refresh_job.name).execute_in_process(
        instance=instance,
        tags=partition_range_tags(start.isoformat(), end.isoformat()),
        raise_on_error=False,
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def _ask(reader: subprocess.Popen) -> list[str]:
    reader.stdin.write("query\n")
    reader.stdin.flush()
    return reader.stdout.readline().split()


def test_runs_publish_for_an_open_reader_and_estimates_reconcile(sim_env):
    from assets.definitions import defs as load_defs

    defs = load_defs()
    day = dt.timedelta(days=1)
    # two runs keep the test affordable (dbt build dominates); the publish tests repeat the
    # open-reader check over more runs without dbt
    runs = [(TODAY - 4 * day, TODAY - 3 * day), (TODAY - 2 * day, TODAY - day)]
    serving_db = paths.serving_dir() / publish.SERVING_DB_NAME
    reader = None
    with dg.instance_for_test() as instance:
        try:
            for number, (start, end) in enumerate(runs):
                result = _run(defs, start, end, instance)
                if reader is None:
                    reader = subprocess.Popen(
                        [sys.executable, "-c", READER, str(serving_db)],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                    assert reader.stdout.readline().strip() == "ready"
                # the reader, connected since the first run, sees this run's days
                first_loaded = runs[0][0]
                assert _ask(reader) == [first_loaded.isoformat(), end.isoformat()], number
        finally:
            if reader is not None:
                reader.stdin.close()
                reader.wait(timeout=30)
        assert reader.returncode == 0, reader.stderr.read()

        checks = {
            evaluation.check_name: evaluation.passed
            for evaluation in result.get_asset_check_evaluations()
        }
    for name in (
        "costs_are_fresh",
        "reconciliation_within_threshold",
        "all_models_priced",
        # the dbt tests of the sums, shown as asset checks of their marts
        "assert_marts_billed_cost_matches_raw_costs",
        "assert_marts_usage_matches_raw_completions",
    ):
        assert checks.get(name) is True, (name, checks.get(name))

    # every mart was published as Parquet and CSV next to the serving file
    assert storage_version_number(serving_db) == V1_4_STORAGE_NUMBER
    with duckdb.connect(str(paths.warehouse_path()), read_only=True) as con:
        marts = publish.mart_names(con)
        rows = con.execute(
            "select usage_date, model, cast(billed_cost_usd as double), estimated_cost_usd,"
            " unpriced_requests from marts.cost_by_model_daily where requests > 0"
        ).fetchall()
    for mart in marts:
        for relative in publish.mart_files(mart):
            assert (paths.serving_dir() / relative).is_file(), (mart, relative)

    priced = [row for row in rows if row[1] in billing.PRICE_HISTORY]
    assert {row[1] for row in priced} == {row[1] for row in rows}  # no model left unpriced
    assert len({row[1] for row in priced}) >= 5 and len({row[0] for row in priced}) == 4
    drifts = {}
    for usage_date, model, billed, estimated, unpriced in priced:
        assert unpriced == 0 and estimated is not None, (usage_date, model)
        drifts[(usage_date, model)] = 100 * abs(estimated - billed) / billed
    worst = max(drifts, key=drifts.get)
    print(f"max drift per model-day: {drifts[worst]:.2e}% ({worst}); {len(drifts)} model-days")
    assert drifts[worst] <= MAX_DRIFT_PCT, (worst, drifts[worst])

"""The FOCUS export, judged by the FinOps Foundation's own validator (`focus-validator`).

The real pipeline runs twice on the simulator, into one warehouse: first over days before the
organization existed (no spend at all), then over recent days. After each run the published
`SERVING_DIR/focus/focus_costs.parquet` (and, with rows, `.csv`) must pass every rule of the
validator's FOCUS 1.0 set except the five it checks under pre-release column names, which are
checked here on the final names; and `BilledCost` must sum to what the Costs API returned.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from fixtures.focus_validator import (
    OVERRIDDEN_RULES,
    RULE_COUNT,
    Validation,
    ValidatorUnavailable,
    validate,
)
from fixtures.simulated_api import use_simulator

from assets.schedules import partition_range_tags, refresh_job
from serving import publish
from simulator import SimulatorConfig, start_simulator

TODAY = dt.datetime.now(dt.UTC).date()
# The simulated organization exists for this many days before today.
HISTORY_DAYS = 30
NO_SPEND_RANGE = (TODAY - dt.timedelta(days=50), TODAY - dt.timedelta(days=48))
SPEND_RANGE = (TODAY - dt.timedelta(days=4), TODAY - dt.timedelta(days=2))
FOCUS_FILES = ("focus_costs.parquet", "focus_costs.csv")


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, days: tuple[dt.date, dt.date]):
    result = defs.resolve_job_def(refresh_job.name).execute_in_process(
        instance=instance,
        tags=partition_range_tags(days[0].isoformat(), days[1].isoformat()),
        raise_on_error=False,
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]


def _raw_costs_total(warehouse: Path, days: tuple[dt.date, dt.date]) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (total,) = con.execute(
            "select coalesce(sum(amount_value), 0) from raw.costs"
            " where bucket_date between ? and ?",
            list(days),
        ).fetchone()
    return float(total)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Both runs' published FOCUS files, the warehouse, and the serving folder."""
    root = tmp_path_factory.mktemp("focus")
    warehouse = root / "warehouse" / "openai_usage.duckdb"
    serving = root / "serving"
    warehouse.parent.mkdir()
    with (
        pytest.MonkeyPatch.context() as env,
        start_simulator(SimulatorConfig(seed=11, history_days=HISTORY_DAYS)) as sim,
        dg.instance_for_test() as instance,
    ):
        env.setenv("WAREHOUSE_PATH", str(warehouse))
        env.setenv("SERVING_DIR", str(serving))
        use_simulator(env, sim.base_url)
        env.setenv("OPENAI_REQUESTS_PER_SECOND", "0")
        env.delenv("USAGE_BUCKET_WIDTH", raising=False)
        from assets.definitions import defs as load_defs

        defs = load_defs()
        _run(defs, instance, NO_SPEND_RANGE)
        # the next run replaces the published files: keep this run's
        no_spend = root / "no_spend"
        shutil.copytree(serving / publish.FOCUS_DIR, no_spend)
        no_spend_total = _raw_costs_total(warehouse, NO_SPEND_RANGE)
        _run(defs, instance, SPEND_RANGE)
    return {
        "root": root,
        "warehouse": warehouse,
        "serving": serving,
        "no_spend": no_spend,
        "no_spend_total": no_spend_total,
        "spend": serving / publish.FOCUS_DIR,
        "spend_total": _raw_costs_total(warehouse, SPEND_RANGE),
    }


def _validate(data_file: Path, work_dir: Path, overrides: bool = True) -> Validation:
    try:
        return validate(data_file, work_dir, overrides=overrides)
    except ValidatorUnavailable as exc:
        pytest.fail(f"focus-validator could not run, so the FOCUS export is unchecked: {exc}")


def _assert_passes_every_rule(result: Validation) -> None:
    assert result.failed == {}
    assert result.errored == {}
    assert result.skipped == OVERRIDDEN_RULES
    assert len(result.passed) == RULE_COUNT - len(OVERRIDDEN_RULES) == 128


def _focus_rows(parquet: Path, sql: str) -> list[tuple]:
    """Rows of `sql`, which reads the published Parquet file as `focus`."""
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"create view focus as select * from read_parquet('{parquet}')")
        return con.execute(sql).fetchall()


def _focus_columns(parquet: Path) -> list[str]:
    return [name for (name, *_) in _focus_rows(parquet, "describe focus")]


@pytest.mark.parametrize("name", FOCUS_FILES)
def test_the_export_of_a_range_with_spend_passes_focus_validator(exports, name, tmp_path):
    data_file = exports["spend"] / name
    (rows,) = _focus_rows(exports["spend"] / "focus_costs.parquet", "select count(*) from focus")
    assert rows[0] > 50  # a real export, not a header
    _assert_passes_every_rule(_validate(data_file, tmp_path))


def test_the_export_of_a_range_without_spend_is_a_valid_file_with_the_header(exports, tmp_path):
    parquet, csv_file = (exports["no_spend"] / name for name in FOCUS_FILES)
    assert exports["no_spend_total"] == 0
    # Parquet keeps every column's type without rows, so the validator judges all its rules.
    _assert_passes_every_rule(_validate(parquet, tmp_path))
    with csv_file.open(newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines == [_focus_columns(parquet)]
    assert len(lines[0]) > 50


def test_the_validator_fails_the_final_names_without_the_five_overrides(exports, tmp_path):
    # Without the overrides the validator reads pre-release column names: exactly the five
    # overridden rules fail on a file with the final names, and nothing else does.
    result = _validate(exports["spend"] / "focus_costs.parquet", tmp_path, overrides=False)
    assert set(result.failed) == OVERRIDDEN_RULES
    assert result.errored == {} and not result.skipped


@pytest.mark.parametrize("run", ["no_spend", "spend"])
def test_the_five_overridden_rules_hold_on_the_final_column_names(exports, run):
    parquet = exports[run] / "focus_costs.parquet"
    columns = set(_focus_columns(parquet))
    assert {"ProviderName", "PublisherName", "InvoiceIssuerName", "ResourceId"} <= columns
    assert not {"Provider", "Publisher", "InvoiceIssuer", "ResourceID", "ChargeType"} & columns
    # *_Required above; the NotNull rules of the final names, and SkuPriceId_Nullable as FOCUS
    # 1.0 words it (on ChargeCategory and ChargeClass, not the pre-release ChargeType)
    (violations,) = _focus_rows(
        parquet,
        'select count(*) filter (where "ProviderName" is null or "PublisherName" is null'
        ' or "InvoiceIssuerName" is null),'
        ' count(*) filter (where "SkuPriceId" is null'
        " and \"ChargeCategory\" in ('Usage', 'Purchase')"
        " and \"ChargeClass\" is distinct from 'Correction'),"
        ' count(*) filter (where "ResourceId" is not null)'
        " from focus",
    )
    assert violations[:2] == (0, 0)
    if run == "spend":
        assert violations[2] > 0  # costs are allocated to API keys


def test_billed_cost_sums_to_the_costs_api_total_per_day_and_line_item(exports):
    parquet = exports["spend"] / "focus_costs.parquet"
    (total,) = _focus_rows(parquet, 'select sum("BilledCost") from focus')
    assert exports["spend_total"] > 0
    assert total[0] == pytest.approx(exports["spend_total"], abs=1e-6)
    # every line item of the Costs API is one charge, or split over keys without loss
    with duckdb.connect(str(exports["warehouse"]), read_only=True) as con:
        raw = con.execute(
            "select cast(start_time as bigint), coalesce(project_id, ''), line_item,"
            " cast(amount_value as double) from raw.costs where bucket_date between ? and ?",
            list(SPEND_RANGE),
        ).fetchall()
    split = _focus_rows(
        parquet,
        'select cast(epoch("ChargePeriodStart") as bigint), coalesce("SubAccountId", \'\'),'
        ' "ChargeDescription", sum("BilledCost") from focus group by 1, 2, 3',
    )
    expected = {tuple(charge): amount for *charge, amount in raw}
    got = {tuple(charge): billed for *charge, billed in split}
    assert got.keys() == expected.keys()
    for charge, amount in expected.items():
        assert got[charge] == pytest.approx(amount, abs=1e-9), charge


def test_the_csv_writes_focus_date_times_and_decimals(exports):
    with (exports["spend"] / "focus_costs.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    utc = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
    periods = ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd")
    for column in periods:
        assert all(utc.match(row[column]) for row in rows), column
    # the billing period is the charge's calendar month
    for row in rows:
        assert row["BillingPeriodStart"] == row["ChargePeriodStart"][:8] + "01T00:00:00Z", row
    # the validator reads a whole number without a decimal point as not decimal
    for column in ("BilledCost", "ListCost", "PricingQuantity", "ConsumedQuantity"):
        assert all("." in row[column] or "e" in row[column] for row in rows if row[column]), column


def test_the_focus_export_is_in_the_serving_database(exports):
    serving_db = exports["serving"] / publish.SERVING_DB_NAME
    with duckdb.connect(str(serving_db), read_only=True) as con:
        in_view = con.execute('select count(*), sum("BilledCost") from focus_costs').fetchone()
    (in_file,) = _focus_rows(
        exports["spend"] / "focus_costs.parquet", 'select count(*), sum("BilledCost") from focus'
    )
    assert in_view[0] == in_file[0] > 0
    assert in_view[1] == pytest.approx(in_file[1])
    # published once, in the FOCUS folder only
    assert not list((exports["serving"] / publish.PARQUET_DIR).glob("focus_costs.*"))
    assert not list((exports["serving"] / publish.CSV_DIR).glob("focus_costs.*"))

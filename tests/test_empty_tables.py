"""Empty is normal: each raw table, emptied in turn, exists with its declared columns after a load,
and `dbt build` of everything that reads it passes.

One warehouse of the simulator's rich organization is loaded and built by dbt once; each case
copies it, drops one raw table, and reloads that table's resource from the simulator with its
endpoint listing nothing (`SimulatorConfig.empty`), or with the per-key cost grouping refused
(an older API). dbt then rebuilds every model downstream of that source and runs their tests;
the cases share one warehouse path, so dbt parses the project once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import dlt
import duckdb
import pytest

from pipelines.model_prices import SCHEMA as PRICES_SCHEMA
from pipelines.model_prices import model_prices
from pipelines.openai_admin import families, openai_directory, openai_usage, schemas, settings
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator

NOW = dt.datetime(2026, 3, 18, 15, 31, tzinfo=dt.UTC)
START, END = NOW.date() - dt.timedelta(days=2), NOW.date()
DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_models"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
HISTORY = ["_dlt_valid_from", "_dlt_valid_to"]

# Raw table -> (source, endpoint pattern that lists nothing, the columns the table must have).
DIRECTORY = {
    "users": "organization/users",
    "projects": "organization/projects",
    "project_api_keys": "organization/projects/*/api_keys",
    "project_service_accounts": "organization/projects/*/service_accounts",
    "project_users": "organization/projects/*/users",
    "admin_api_keys": "organization/admin_api_keys",
    "invites": "organization/invites",
}
FAMILY_SCHEMAS = {family.name: family.schema for family in families.FAMILIES}
CASES = [
    *((table, "directory", pattern) for table, pattern in DIRECTORY.items()),
    *(
        (f"{family}_usage", "usage", settings.USAGE_PATH.format(family=family))
        for family in settings.USAGE_GROUP_BY
    ),
    ("costs", "usage", settings.COSTS_PATH),
    ("costs_by_api_key", "usage", None),  # the API refuses group_by=api_key_id (400)
]


def _pipeline(path: Path, work: Path) -> dlt.Pipeline:
    name = f"empty_{uuid.uuid4().hex[:8]}"
    return dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(path)),
        dataset_name="raw",
        pipelines_dir=str(work / "dlt" / name),
    )


def _sources(kind: str, base_url: str):
    if kind == "directory":
        return openai_directory(base_url=base_url, api_key=ADMIN_KEY)
    return openai_usage(START, END, "1d", base_url=base_url, api_key=ADMIN_KEY, now=NOW)


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _columns(path: Path, schema: str, table: str) -> list[str]:
    return [
        name
        for (name,) in _query(
            path,
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        )
    ]


def _declared(table: str) -> list[str]:
    """The columns the source declares for `table`."""
    if table in DIRECTORY:
        source = openai_directory(api_key="")
        resource = source.resources[table]
        return [*resource.columns, *HISTORY]
    if table.startswith("costs"):
        return schemas.COSTS.names
    return FAMILY_SCHEMAS[table.removesuffix("_usage")].names


@pytest.fixture(scope="module")
def sim():
    with start_simulator(SimulatorConfig(seed=7, now=NOW, history_days=60)) as handle:
        yield handle


@pytest.fixture(scope="module")
def dbt_work(tmp_path_factory) -> Path:
    """The cases' warehouse path and dbt's target folder, shared so dbt parses once."""
    return tmp_path_factory.mktemp("empty_dbt")


@pytest.fixture(scope="module")
def base(sim, dbt_work) -> Path:
    """Everything loaded from the rich organization and built by dbt: each case starts from a
    copy."""
    warehouse = dbt_work / "warehouse.duckdb"
    pipeline = _pipeline(warehouse, dbt_work)
    pipeline.run(_sources("directory", sim.base_url))
    pipeline.run(_sources("usage", sim.base_url))
    models = _query(warehouse, "select distinct model, bucket_date from raw.completions_usage")
    pipeline.run(model_prices([(model, day) for model, day in models if model]))
    result = _dbt_build("fqn:*", warehouse, dbt_work)
    assert result.returncode == 0, result.stdout[-4000:]
    path = dbt_work / "base.duckdb"
    shutil.copyfile(warehouse, path)
    return path


def _dbt_build(selector: str, warehouse: Path, work: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [str(DBT_EXECUTABLE), "build", "--select", selector]
    command += ["--exclude-resource-type", "unit_test"]
    command += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(("table", "kind", "pattern"), CASES, ids=[c[0] for c in CASES])
def test_an_empty_listing_loads_an_empty_table_and_dbt_builds_on_it(
    sim, base, dbt_work, table, kind, pattern
):
    warehouse = dbt_work / "warehouse.duckdb"
    shutil.copyfile(base, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"drop table raw.{table}")  # names from CASES, not input
    assert table not in {t for (t,) in _query(warehouse, "show tables from raw")}

    sim.config.empty = [pattern] if pattern else []
    sim.config.costs_api_key_grouping = pattern is not None
    try:
        source = _sources(kind, sim.base_url).with_resources(table)
        _pipeline(warehouse, dbt_work).run(source)
    finally:
        sim.config.empty, sim.config.costs_api_key_grouping = [], True

    assert _query(warehouse, f"select count(*) from raw.{table}") == [(0,)]
    columns = _columns(warehouse, "raw", table)
    assert set(_declared(table)) <= set(columns), set(_declared(table)) - set(columns)

    # The models that read the table, and everything built on them, with their tests.
    result = _dbt_build(f"source:openai.{table}+", warehouse, dbt_work)
    assert result.returncode == 0, result.stdout[-4000:]
    run_results = json.loads((dbt_work / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in run_results["results"]}
    assert statuses and not {"error", "fail"} & set(statuses.values()), statuses
    staging = [
        uid.rsplit(".", 1)[1]
        for uid in statuses
        if uid.startswith("model.") and ".stg_openai__" in uid
    ]
    assert staging, statuses
    # The staging view over the emptied table is among them, and empty.
    manifest = json.loads((dbt_work / "target" / "manifest.json").read_text())
    readers = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and f"source.openai_usage_warehouse.openai.{table}" in node["depends_on"]["nodes"]
    ]
    assert readers and set(readers) <= set(staging)
    for model in readers:
        assert _query(warehouse, f"select count(*) from staging.{model}") == [(0,)], model


def test_usage_and_cost_tables_are_created_with_the_arrow_schema_columns(sim, tmp_path):
    """With nothing to load, each bucketed table has exactly its Arrow schema's columns, in order
    (what a load with rows creates too, see test_source_coverage)."""
    path = tmp_path / "fresh.duckdb"
    sim.config.empty = ["organization/usage", "organization/costs"]
    try:
        _pipeline(path, tmp_path).run(_sources("usage", sim.base_url))
    finally:
        sim.config.empty = []
    for family, schema in FAMILY_SCHEMAS.items():
        assert _columns(path, "raw", f"{family}_usage") == schema.names, family
    assert _columns(path, "raw", "costs") == schemas.COSTS.names
    assert _columns(path, "raw", "costs_by_api_key") == schemas.COSTS.names
    with duckdb.connect(str(path), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'raw' and table_name = 'costs'"
            ).fetchall()
        )
    assert types["amount_value"] == "DECIMAL(38,18)" and types["bucket_date"] == "DATE"


def test_model_prices_with_no_model_days_is_an_empty_table_with_every_column(tmp_path):
    path = tmp_path / "prices.duckdb"
    pipeline = _pipeline(path, tmp_path)
    pipeline.run(model_prices([("gpt-4o-2024-08-06", dt.date(2025, 1, 10))]))
    assert _query(path, "select count(*) from raw.model_prices") == [(1,)]
    pipeline.run(model_prices([]))  # replace: no usage, no prices
    assert _query(path, "select count(*) from raw.model_prices") == [(0,)]
    assert set(PRICES_SCHEMA.names) <= set(_columns(path, "raw", "model_prices"))


def test_a_listing_that_empties_keeps_its_last_rows_current(sim, tmp_path):
    """dlt's scd2 retires rows only within the organizations a load holds rows of (the merge
    key), and an empty load holds none: rows of a listing that became empty stay current. A
    listing that shrinks retires what it no longer lists."""
    path = tmp_path / "history.duckdb"
    pipeline = _pipeline(path, tmp_path)
    directory = lambda: openai_directory(base_url=sim.base_url, api_key=ADMIN_KEY)  # noqa: E731
    pipeline.run(directory().with_resources("invites"))
    listed = _query(path, "select count(*) from raw.invites where _dlt_valid_to is null")[0][0]
    assert listed == len(sim.org.invites) > 1

    sim.config.empty = ["organization/invites"]
    try:
        pipeline.run(directory().with_resources("invites"))
    finally:
        sim.config.empty = []
    current = _query(path, "select count(*) from raw.invites where _dlt_valid_to is null")
    assert current == [(listed,)]  # nothing retired from an empty load

    kept = sim.org.invites
    sim.org.invites = kept[:1]
    try:
        pipeline.run(directory().with_resources("invites"))
    finally:
        sim.org.invites = kept
    current = _query(path, "select id from raw.invites where _dlt_valid_to is null")
    assert current == [(kept[0].id,)]  # the others are retired once the listing has a row

"""A Postgres warehouse and Dagster storage in Postgres, on a real server (tests/conftest.py).

`python -m scripts.backfill` (what `make backfill` runs) loads the same simulated organization
into the DuckDB file and, with `WAREHOUSE_URL` and `DAGSTER_POSTGRES_URL` set, into Postgres:
the marts agree row for row, a re-run leaves identical marts, a restated day is reloaded the same
way on both, the runs are recorded in Postgres (no SQLite storage in DAGSTER_HOME), the serving
files are published from the Postgres marts, and neither password appears anywhere a person or
a log reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pytest

from assets import retention
from reliability import harness
from scripts.instance import storage_url
from serving import publish
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator
from warehouse.connection import base_tables, connect_postgres
from warehouse.location import parse_postgres_url

REPO_ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.datetime.now(dt.UTC).date()
START = TODAY - dt.timedelta(days=5)
END = TODAY - dt.timedelta(days=1)
RESTATED_DAYS = 3  # today and the two days before: the range's last two days change
TOKEN_COLUMNS = ("requests", "input_tokens", "cached_input_tokens", "output_tokens")
BILLED_MARTS = (
    "cost_by_model_daily",
    "cost_by_project_daily",
    "cost_by_api_key_daily",
    "cost_by_user_daily",
    "cost_by_line_item_daily",
    "cost_reconciliation_daily",
)
TOKEN_MARTS = ("cost_by_model_daily", "cost_by_project_daily", "cost_by_api_key_daily",
               "cost_by_user_daily")  # fmt: skip
# When a load first saw a configuration row: the DuckDB and Postgres runs load at different
# moments, so these differ between the two warehouses by design and are left out of comparisons.
LOAD_TIME_COLUMNS = {"openai_spend_limits": ("limit_seen_since",)}

# Five backfills set up the module's first test: about 6.5 min on an idle 2-core machine, more
# beside the rest of the suite.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


def _backfill(env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.backfill", "--start", str(START), "--end", str(END)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result


def _normalised(value: object) -> object:
    """Decimals as exact text with trailing zeros dropped; floats stay floats (compared with a
    tolerance: Postgres and DuckDB add doubles in different orders)."""
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    return value


def _json(value: str) -> object:
    """A JSON text column's value (FOCUS' allocation details), or the text itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _same(x: object, y: object) -> bool:
    """Equal, floats within a tolerance, also inside JSON text: a ratio written into JSON is
    computed from the same doubles summed in another order."""
    if isinstance(x, float) and isinstance(y, float):
        return harness.numbers_close(x, y)
    if isinstance(x, str) and isinstance(y, str) and x != y:
        x, y = _json(x), _json(y)
        if isinstance(x, str) or isinstance(y, str):
            return x == y
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True))
    return x == y


def _same_row(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))


def _key(row: tuple) -> tuple:
    """Rows sorted by everything but their floats, so both sides line up."""
    return tuple(repr(v) for v in row if not isinstance(v, float))


def _compared(mart: str, names: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    """`rows` normalised and sorted, without the mart's load-time columns."""
    kept = [i for i, name in enumerate(names) if name not in LOAD_TIME_COLUMNS.get(mart, ())]
    return (
        [names[i] for i in kept],
        sorted((tuple(_normalised(row[i]) for i in kept) for row in rows), key=_key),
    )


def _mart_rows(cursor, mart: str) -> tuple[list[str], list[tuple]]:
    cursor.execute(f'select * from marts."{mart}"')  # names from the catalog
    return _compared(mart, [d[0] for d in cursor.description], cursor.fetchall())


def _duckdb_marts(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        marts = publish.mart_names(con)
        return {mart: _mart_rows(con.cursor(), mart) for mart in marts}


def _postgres_marts(url: str) -> dict[str, tuple[list[str], list[tuple]]]:
    with connect_postgres(parse_postgres_url(url)) as con, con.raw.cursor() as cursor:
        return {mart: _mart_rows(cursor, mart) for mart in base_tables(con, "marts")}


def _backfill_env(sim_url: str, root: Path, **settings: str) -> dict[str, str]:
    """The environment of one `make backfill` against the simulator, its state under `root`;
    `settings` adds WAREHOUSE_URL / DAGSTER_POSTGRES_URL (unset unless given)."""
    env = {
        **os.environ,
        "OPENAI_BASE_URL": sim_url,
        "OPENAI_ADMIN_KEY": ADMIN_KEY,
        "OPENAI_REQUESTS_PER_SECOND": "0",
        "USAGE_START_DATE": str(TODAY - dt.timedelta(days=30)),
        "WAREHOUSE_PATH": str(root / "openai_usage.duckdb"),
        "DAGSTER_HOME": str(root / "home"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for name in ("WAREHOUSE_URL", "DAGSTER_POSTGRES_URL", "SERVING_DIR"):
        env.pop(name, None)
    return {**env, **settings}


def _assert_marts_equal(postgres: dict, duck: dict) -> None:
    assert sorted(postgres) == sorted(duck)
    for mart, (names, rows) in duck.items():
        pg_names, pg_rows = postgres[mart]
        assert pg_names == names, mart
        assert len(pg_rows) == len(rows), mart
        different = [(a, b) for a, b in zip(pg_rows, rows, strict=True) if not _same_row(a, b)]
        assert not different, (mart, different[:3])


def _column_total(marts: dict, mart: str, column: str) -> decimal.Decimal:
    names, rows = marts[mart]
    index = names.index(column)
    return sum((decimal.Decimal(str(row[index])) for row in rows), decimal.Decimal(0))


def _event_log_text(url: str) -> str:
    """Everything Dagster stored about the runs (run storage, event log, schedules)."""
    with contextlib.closing(psycopg2.connect(url)) as con, con.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = 'public'"
        )
        tables = [name for (name,) in cursor.fetchall()]
        parts = []
        for table in tables:
            cursor.execute(f'select * from public."{table}"')  # names from the catalog
            parts.extend(repr(row) for row in cursor.fetchall())
        return "\n".join(parts)


@pytest.fixture(scope="module")
def runs(postgres_server, tmp_path_factory):
    """Backfills of one simulated organization: DuckDB once, Postgres twice (a re-run), then
    both again after the simulator restated the last days."""
    root = tmp_path_factory.mktemp("postgres_warehouse")
    warehouse = postgres_server.create_database("warehouse")
    dagster = postgres_server.create_database("dagster")
    found: dict[str, object] = {"warehouse": warehouse, "dagster": dagster, "root": root}
    with start_simulator(SimulatorConfig(seed=11, history_days=60)) as sim:
        duck_env = _backfill_env(sim.base_url, root / "duck")
        # Event batches as `make` sets them: dagster-postgres inserts a step's per-day
        # materializations in one statement.
        pg_env = _backfill_env(
            sim.base_url,
            root / "pg",
            WAREHOUSE_URL=warehouse.url,
            DAGSTER_POSTGRES_URL=dagster.url,
            DAGSTER_EVENT_BATCH_SIZE="1000",
        )
        outputs = []

        def backfill(env: dict[str, str]) -> None:
            result = _backfill(env)
            outputs.append(result.stdout + result.stderr)
            assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-4000:])

        backfill(duck_env)
        found["duck"] = _duckdb_marts(root / "duck" / "openai_usage.duckdb")
        found["duck_parquet"] = _parquet_rows(root / "duck" / "serving")
        backfill(pg_env)
        found["postgres"] = _postgres_marts(warehouse.url)
        found["postgres_parquet"] = _parquet_rows(root / "pg" / "serving")
        backfill(pg_env)
        found["postgres_rerun"] = _postgres_marts(warehouse.url)

        sim.restate(days=RESTATED_DAYS, seed=3)
        backfill(pg_env)
        found["postgres_restated"] = _postgres_marts(warehouse.url)
        backfill(duck_env)
        found["duck_restated"] = _duckdb_marts(root / "duck" / "openai_usage.duckdb")
    found["output"] = "\n".join(outputs)
    return found


def _parquet_rows(serving: Path) -> dict[str, list[tuple]]:
    found = {}
    with duckdb.connect() as con:
        for path in sorted((serving / publish.PARQUET_DIR).glob("*.parquet")):
            cursor = con.execute("select * from read_parquet(?)", [str(path)])
            names = [d[0] for d in cursor.description]
            found[path.stem] = _compared(path.stem, names, cursor.fetchall())[1]
    return found


def test_postgres_marts_equal_the_duckdb_marts_row_for_row(runs):
    duck, postgres = runs["duck"], runs["postgres"]
    assert len(duck) >= 16
    assert sum(len(rows) for _, rows in duck.values()) > 500
    _assert_marts_equal(postgres, duck)
    for mart in BILLED_MARTS:
        total = _column_total(duck, mart, "billed_cost_usd")
        assert total > 0, mart
        assert round(_column_total(postgres, mart, "billed_cost_usd"), 2) == round(total, 2), mart
    for mart in TOKEN_MARTS:
        for column in TOKEN_COLUMNS:
            assert _column_total(postgres, mart, column) == _column_total(duck, mart, column)


def test_a_rerun_leaves_identical_marts(runs):
    _assert_marts_equal(runs["postgres_rerun"], runs["postgres"])


def test_restated_days_are_reloaded_as_on_duckdb(runs):
    restated = runs["postgres_restated"]
    _assert_marts_equal(restated, runs["duck_restated"])
    # The restatement changed the numbers: the reload did not keep the old rows.
    before = runs["postgres"]["cost_by_model_daily"][1]
    assert restated["cost_by_model_daily"][1] != before


def test_serving_files_are_published_from_the_postgres_marts(runs):
    postgres, duck = runs["postgres_parquet"], runs["duck_parquet"]
    assert sorted(postgres) == sorted(duck) and len(duck) >= 16
    for mart, rows in duck.items():
        pg_rows = postgres[mart]
        assert len(pg_rows) == len(rows), mart
        assert all(_same_row(a, b) for a, b in zip(pg_rows, rows, strict=True)), mart
    serving = runs["root"] / "pg" / "serving"
    assert (serving / "report.html").stat().st_size > 10_000
    assert (serving / publish.CSV_DIR / "cost_by_model_daily.csv").exists()
    with duckdb.connect(str(serving / publish.SERVING_DB_NAME), read_only=True) as con:
        count = con.execute("select count(*) from cost_by_model_daily").fetchone()[0]
    assert count == len(runs["postgres"]["cost_by_model_daily"][1])


def test_runs_are_recorded_in_postgres_not_in_sqlite(runs):
    with contextlib.closing(psycopg2.connect(runs["dagster"].url)) as con, con.cursor() as cur:
        cur.execute("select status, count(*) from runs group by status")
        statuses = dict(cur.fetchall())
        cur.execute(
            "select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION'"
        )
        materializations = cur.fetchone()[0]
    assert statuses == {"SUCCESS": 3}
    assert materializations > 30
    home = runs["root"] / "pg" / "home"
    assert "DAGSTER_POSTGRES_URL" in (home / "dagster.yaml").read_text()
    assert not [p for p in home.rglob("*.db")], "SQLite storage under DAGSTER_HOME"
    # The DuckDB runs kept SQLite storage in their own home.
    assert list((runs["root"] / "duck" / "home").rglob("runs.db"))


def _run_event_types(url: str, run_id: str) -> dict[str, int]:
    with contextlib.closing(psycopg2.connect(url)) as con, con.cursor() as cursor:
        cursor.execute(
            "select dagster_event_type, count(*) from event_logs where run_id = %s group by 1",
            (run_id,),
        )
        return dict(cursor.fetchall())


def test_retention_trims_a_run_in_postgres_storage_to_its_latest_materializations(
    runs, monkeypatch
):
    """The trim of assets/retention.py on Postgres, where one table holds every event. Only the
    trimmed run's step events go, so the other tests of this module read the same either way."""
    # As the entry points resolve it (scripts/instance.py), for dagster-postgres' driver.
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", storage_url(runs["dagster"].url))
    mart = dg.AssetKey(["marts", "cost_by_model_daily"])
    with dg.DagsterInstance.from_config(str(runs["root"] / "pg" / "home")) as instance:
        held = retention.latest_materializations(instance)
        # The restated backfill loaded every day last: it holds every latest materialization.
        (holder,) = held
        partitions = instance.get_materialized_partitions(mart)
        before = _run_event_types(runs["dagster"].url, holder)
        retention.trim_run(instance, holder, held[holder])
        after = _run_event_types(runs["dagster"].url, holder)
        assert after["ASSET_MATERIALIZATION"] == before["ASSET_MATERIALIZATION"]
        assert "STEP_START" in before and "STEP_START" not in after
        assert sum(after.values()) < sum(before.values())
        assert instance.get_materialized_partitions(mart) == partitions
        assert retention.latest_materializations(instance) == held
        assert retention.TRIMMED_TAG in instance.get_run_by_id(holder).tags


def test_batched_event_writes_record_every_day_of_the_range(runs, monkeypatch):
    """With the events written in batches, each day of the range is still its own materialized
    partition of every asset, raw tables and marts alike."""
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", storage_url(runs["dagster"].url))
    days = {str(START + dt.timedelta(days=n)) for n in range((END - START).days + 1)}
    with dg.DagsterInstance.from_config(str(runs["root"] / "pg" / "home")) as instance:
        for key in (["raw", "completions_usage"], ["marts", "cost_by_model_daily"], ["report"]):
            assert instance.get_materialized_partitions(dg.AssetKey(key)) == days, key


def test_no_password_reaches_logs_metadata_or_run_storage(runs):
    warehouse, dagster = runs["warehouse"], runs["dagster"]
    stored = _event_log_text(dagster.url)
    assert "cost_by_model_daily" in stored  # the runs' events are there to search
    # Every file the Postgres runs left: Dagster's home (compute logs), dlt's and dbt's state,
    # the serving folder, binary files included.
    homes = [runs["root"] / "pg"]
    files = b"\n".join(p.read_bytes() for home in homes for p in home.rglob("*") if p.is_file())
    for password in (warehouse.password, dagster.password):
        assert password not in runs["output"]
        assert password not in stored
        assert password.encode() not in files


def test_a_wrong_password_fails_with_a_clear_error_and_no_password(postgres_server, tmp_path):
    database = postgres_server.create_database("wrong")
    wrong = "not-" + database.password
    with start_simulator(SimulatorConfig(seed=11, history_days=60)) as sim:
        wrong_url = database.url.replace(database.password, wrong)
        env = _backfill_env(sim.base_url, tmp_path, WAREHOUSE_URL=wrong_url)
        result = _backfill(env)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "password authentication failed" in output
    assert wrong not in output and database.password not in output

"""Publishing for BI tools (`serving/publish.py`) on a small hand-made working file.

The serving folder must work for DuckDB 1.4 drivers (storage version), from any working
directory, after being copied elsewhere, and while a reader holds the serving file open.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from fixtures.duckdb_files import V1_4_STORAGE_NUMBER, storage_version_number

from serving import publish


def _write_working(path: Path, day_count: int, amount: float = 1.0) -> None:
    """A working file with two marts whose contents depend on `day_count` and `amount`."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.cost_by_model_daily as"
            " select date '2025-01-01' + cast(i as integer) as usage_date, 'gpt-4o' as model,"
            f" cast({amount} as decimal(38, 18)) as billed_cost_usd, 'default' as organization"
            f" from range({day_count}) as t(i)"
        )
        con.execute(
            "create or replace table marts.dim_users as"
            " select 'default' as organization, 'user-1' as user_id, 'Ann' as user_name"
        )
        # a view in marts is not a mart table: it is not published
        con.execute("create or replace view marts.not_a_table as select 1 as x")


@pytest.fixture
def published(tmp_path):
    working = tmp_path / "warehouse" / "openai_usage.duckdb"
    serving = tmp_path / "serving"
    _write_working(working, day_count=3)
    result = publish.publish(working, serving)
    return {"working": working, "serving": serving, "result": result}


def _query_in_subprocess(database: Path, sql: str, cwd: Path) -> list:
    """Open `database` read-only in a fresh process with `cwd` as working directory."""
    script = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "print(json.dumps(con.execute(sys.argv[2]).fetchall(), default=str))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(database), sql],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_mart_table_is_published_as_parquet_csv_and_a_view(published):
    serving, result = published["serving"], published["result"]
    assert result.marts == {"cost_by_model_daily": 3, "dim_users": 1}
    for mart in result.marts:
        assert (serving / "parquet" / f"{mart}.parquet").is_file()
        assert (serving / "csv" / f"{mart}.csv").is_file()
    with (serving / "csv" / "cost_by_model_daily.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["usage_date"] for r in rows] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert not list(serving.rglob("*.tmp"))
    manifest = json.loads((serving / "manifest.json").read_text())
    assert manifest["marts"] == ["cost_by_model_daily", "dim_users"]
    assert manifest["storage_version"] == "v1.4.0"
    with duckdb.connect(str(result.serving_db), read_only=True) as con:
        views = con.execute(
            "select table_name, table_type from information_schema.tables order by 1"
        ).fetchall()
    assert views == [("cost_by_model_daily", "VIEW"), ("dim_users", "VIEW")]


def test_serving_file_is_in_a_storage_version_duckdb_1_4_reads(published):
    serving_db = published["result"].serving_db
    # DuckDB 2.0 would write 999 (v2.0.0+), which 1.x drivers reject; v1.4.0 is 67.
    assert storage_version_number(serving_db) == V1_4_STORAGE_NUMBER
    with duckdb.connect() as con:
        con.execute(f"attach '{serving_db}' as s (read_only)")
        options = con.execute(
            "select options from duckdb_databases() where database_name = 's'"
        ).fetchone()[0]
    assert options.get("storage_version") in (None, "v1.4.0")


def test_serving_file_works_from_any_working_directory(published, tmp_path):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    serving_db = published["result"].serving_db
    for cwd in (elsewhere, Path("/"), published["serving"]):
        assert _query_in_subprocess(
            serving_db, "select count(*) from cost_by_model_daily", cwd
        ) == [[3]]
    # a relative path to the file works too
    relative = Path("..") / ".." / "serving" / "openai_usage.duckdb"
    assert _query_in_subprocess(relative, "select user_name from dim_users", elsewhere) == [["Ann"]]


def test_a_copied_serving_folder_reads_its_own_files(published, tmp_path):
    share = tmp_path / "file_share" / "bi"
    shutil.copytree(published["serving"], share)
    # change the original after copying: the copy must keep showing its own data
    _write_working(published["working"], day_count=5)
    publish.publish(published["working"], published["serving"])
    copy_db = share / "openai_usage.duckdb"
    assert _query_in_subprocess(copy_db, "select count(*) from cost_by_model_daily", tmp_path) == [
        [3]
    ]
    # and it still works once the original folder is gone
    shutil.rmtree(published["serving"])
    assert _query_in_subprocess(copy_db, "select count(*) from cost_by_model_daily", share) == [[3]]


def test_an_attached_copy_is_pointed_at_its_folder_with_the_variable(published, tmp_path):
    share = tmp_path / "share"
    shutil.copytree(published["serving"], share)
    shutil.rmtree(published["serving"])
    with duckdb.connect() as con:
        con.execute(f"set variable {publish.SERVING_DIR_VARIABLE} = '{share}'")
        con.execute(f"attach '{share / 'openai_usage.duckdb'}' as bi (read_only)")
        assert con.execute("select count(*) from bi.cost_by_model_daily").fetchone() == (3,)


def test_republishing_keeps_the_serving_file_and_drops_vanished_marts(published):
    working, serving = published["working"], published["serving"]
    inode = published["result"].serving_db.stat().st_ino
    again = publish.publish(working, serving)
    assert not again.serving_db_rebuilt
    assert again.serving_db.stat().st_ino == inode
    with duckdb.connect(str(working)) as con:
        con.execute("drop table marts.dim_users")
    third = publish.publish(working, serving)
    assert third.serving_db_rebuilt
    assert not (serving / "parquet" / "dim_users.parquet").exists()
    assert not (serving / "csv" / "dim_users.csv").exists()


def test_the_focus_export_has_its_own_folder_and_focus_date_times(tmp_path, monkeypatch):
    # a machine whose local time zone is not UTC: the export is still written in UTC
    monkeypatch.setenv("TZ", "America/New_York")
    working, serving = tmp_path / "working.duckdb", tmp_path / "serving"
    with duckdb.connect(str(working)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.focus_costs as select"
            " timestamptz '2025-01-31 00:00:00+00' as \"ChargePeriodStart\","
            ' cast(2 as double) as "BilledCost", \'key_1\' as "ResourceId"'
        )
        con.execute("create table marts.dim_users as select 'user-1' as user_id")
    result = publish.publish(working, serving)
    assert result.marts == {"dim_users": 1, "focus_costs": 1}
    assert (serving / "focus" / "focus_costs.csv").read_text() == (
        "ChargePeriodStart,BilledCost,ResourceId\n2025-01-31T00:00:00Z,2.0,key_1\n"
    )
    assert sorted(p.name for p in (serving / "focus").iterdir()) == [
        "focus_costs.csv",
        "focus_costs.parquet",
    ]
    # the other marts keep their folders and CSV format; the FOCUS one is not copied there
    assert not (serving / "parquet" / "focus_costs.parquet").exists()
    assert not (serving / "csv" / "focus_costs.csv").exists()
    assert (serving / "csv" / "dim_users.csv").read_text() == "user_id\nuser-1\n"
    rows = _query_in_subprocess(
        result.serving_db,
        'select cast(epoch("ChargePeriodStart") as bigint), "BilledCost" from focus_costs',
        tmp_path,
    )
    assert rows == [[1738281600, 2.0]]
    # a FOCUS mart that disappears takes its files with it
    with duckdb.connect(str(working)) as con:
        con.execute("drop table marts.focus_costs")
    publish.publish(working, serving)
    assert list((serving / "focus").iterdir()) == []


READER = textwrap.dedent(
    """
    import duckdb, sys
    con = duckdb.connect(sys.argv[1], read_only=True)
    print("ready", flush=True)
    for line in sys.stdin:
        rows = con.execute("select count(*), sum(billed_cost_usd) from cost_by_model_daily")
        count, total = rows.fetchone()
        print(f"{count} {float(total)}", flush=True)
    """
)


def test_an_open_reader_never_blocks_publishing_and_sees_each_new_run(published):
    working, serving = published["working"], published["serving"]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published["result"].serving_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "ready"
        for run, days in enumerate((4, 6, 2), start=1):
            # the "pipeline": the working file is written, then published, while the reader
            # keeps its connection to the serving file open
            _write_working(working, day_count=days, amount=float(run))
            publish.publish(working, serving)
            reader.stdin.write("query\n")
            reader.stdin.flush()
            assert reader.stdout.readline().split() == [str(days), str(float(days * run))]
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert reader.returncode == 0, reader.stderr.read()

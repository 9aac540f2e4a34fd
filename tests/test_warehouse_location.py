"""Choosing the warehouse and Dagster's storage by configuration: the small pure decisions
(`warehouse/location.py`, `warehouse/connection.py`, `serving/marts_copy.py`,
`scripts/instance.py`), and a Postgres reader on a real server."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest

from assets.budgets import write_budgets
from assets.settings import ConfigError, Settings
from scripts.instance import (
    POSTGRES_STORAGE,
    URL_VARIABLE,
    InstanceConfigError,
    instance_config,
    prepare_home,
    storage_url,
)
from serving.marts_copy import arrow_type, copy_schema
from warehouse import paths, queries
from warehouse.connection import WarehouseConnectionError, connect, placeholders
from warehouse.location import (
    PostgresUrl,
    WarehouseUrlError,
    dbt_environment,
    mask_password_of,
    parse_postgres_url,
)

SECRET = "s3cr:et@p/w"  # needs percent-encoding in a URL
URL = "postgresql://usage:s3cr%3Aet%40p%2Fw@db.internal:6543/openai_usage?sslmode=require"


def test_parse_postgres_url_decodes_every_part():
    url = parse_postgres_url(URL)
    assert (url.host, url.port, url.dbname, url.user) == (
        "db.internal",
        6543,
        "openai_usage",
        "usage",
    )
    assert url.password == SECRET
    assert url.options == (("sslmode", "require"),)
    assert parse_postgres_url(url.secret_url()) == url  # round trip, encoded again


def test_the_password_is_in_no_repr_or_masked_form():
    url = parse_postgres_url(URL)
    assert SECRET not in repr(url)
    assert url.masked() == "postgresql://usage:***@db.internal:6543/openai_usage?sslmode=require"
    assert parse_postgres_url("postgres://u@h/d").port == 5432


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("md:openai_usage", "scheme 'md' is not supported"),
        ("mysql://u:p@h/d", "scheme 'mysql' is not supported"),
        ("postgresql://u:hunter2@h:5432/", "has no dbname"),
        ("postgresql://:hunter2@h/d", "has no user"),
        ("postgresql://u:hunter2@h:notaport/d", "is not a URL"),
        ("postgresql://u:hunter2@h/d?search_path=x", "search_path are not supported"),
    ],
)
def test_unusable_urls_are_refused_without_the_password(text, expected):
    with pytest.raises(WarehouseUrlError) as caught:
        parse_postgres_url(text)
    assert expected in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_settings_report_a_bad_url_as_a_config_error(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://u:hunter2@h/")
    with pytest.raises(ConfigError, match="has no dbname") as caught:
        Settings.from_env()
    assert "hunter2" not in str(caught.value)


def test_dbt_gets_the_postgres_target_and_a_secret_password_variable():
    env = dbt_environment(parse_postgres_url(URL))
    assert env["WAREHOUSE_DBT_TARGET"] == "postgres"
    assert env["DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD"] == SECRET  # dbt scrubs DBT_ENV_SECRET_*
    assert SECRET not in [v for k, v in env.items() if not k.startswith("DBT_ENV_SECRET_")]
    assert env["WAREHOUSE_PG_SSLMODE"] == "require"
    duckdb_env = dbt_environment(None)
    assert duckdb_env["WAREHOUSE_DBT_TARGET"] == "duckdb"
    assert duckdb_env["DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD"] is None  # unset


def test_unset_url_keeps_the_duckdb_file_and_its_state_folders(monkeypatch, tmp_path):
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    assert paths.warehouse() == paths.warehouse_path()
    assert paths.dlt_pipelines_dir() == tmp_path / "warehouse" / ".dlt" / "openai_usage"
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://u:p@db.example:5433/usage.v2")
    state = "postgres_db_example_5433_usage_v2"
    assert isinstance(paths.warehouse(), PostgresUrl)
    assert paths.dlt_pipelines_dir() == tmp_path / "warehouse" / ".dlt" / state
    assert paths.dbt_state_dir() == tmp_path / "warehouse" / ".dbt" / state
    assert paths.run_lock_path().name == f".{state}.run.lock"


def test_mask_password_of_hides_raw_and_encoded_forms():
    text = f"failed for {SECRET} and s3cr%3Aet%40p%2Fw"
    assert mask_password_of(URL, text) == "failed for *** and ***"
    assert mask_password_of(None, text) == text


def test_placeholders_become_psycopg2_parameters():
    assert placeholders("select 1 where a like 'ft:%' and b = ?") == (
        "select 1 where a like 'ft:%%' and b = %s"
    )


@pytest.mark.parametrize(
    ("data_type", "precision", "scale", "expected"),
    [
        ("bigint", 64, 0, pa.int64()),
        ("double precision", 53, None, pa.float64()),
        ("numeric", 38, 18, pa.decimal128(38, 18)),
        ("numeric", None, None, pa.decimal128(38, 18)),
        ("character varying", None, None, pa.string()),
        ("date", None, None, pa.date32()),
        ("timestamp without time zone", None, None, pa.timestamp("us")),
        ("boolean", None, None, pa.bool_()),
        ("jsonb", None, None, pa.string()),
    ],
)
def test_arrow_type_of_postgres_columns(data_type, precision, scale, expected):
    assert arrow_type(data_type, precision, scale) == expected


def test_storage_url_is_a_postgres_url_opened_with_psycopg2():
    assert storage_url(None) is None
    assert storage_url("  ") is None
    expected = "postgresql+psycopg2://u:p%40ss@h:5432/d?sslmode=require"
    assert storage_url("postgresql://u:p%40ss@h:5432/d?sslmode=require") == expected
    assert storage_url("postgres://u:p%40ss@h:5432/d?sslmode=require") == expected
    assert storage_url(expected) == expected
    with pytest.raises(InstanceConfigError, match=URL_VARIABLE) as caught:
        storage_url("sqlite:///home/hunter2.db")
    assert "hunter2" not in str(caught.value)


def test_instance_config_keeps_the_shared_settings_in_both_variants():
    settings = "concurrency:\n  pools:\n    default_limit: 1\n"
    assert instance_config(False, settings) == settings
    postgres = instance_config(True, settings)
    assert postgres.startswith(settings) and postgres.endswith(POSTGRES_STORAGE)
    assert "env: DAGSTER_POSTGRES_URL" in postgres  # never the URL itself


def test_prepare_home_switches_storage_with_the_variable(tmp_path):
    template = tmp_path / "template" / "dagster.yaml"
    template.parent.mkdir()
    template.write_text("telemetry:\n  enabled: false\n")
    home = tmp_path / "home"
    prepare_home(home, postgres=True, template=template)
    assert (home / "dagster.yaml").read_text() == instance_config(True, template.read_text())
    prepare_home(home, postgres=False, template=template)
    assert (home / "dagster.yaml").read_text() == template.read_text()


def test_prepare_home_keeps_a_hand_edited_file_and_says_what_postgres_needs(tmp_path):
    template = tmp_path / "template" / "dagster.yaml"
    template.parent.mkdir()
    template.write_text("telemetry:\n  enabled: false\n")
    home = tmp_path / "home"
    home.mkdir()
    edited = "run_queue:\n  max_concurrent_runs: 2\n"
    (home / "dagster.yaml").write_text(edited)
    prepare_home(home, postgres=False, template=template)
    assert (home / "dagster.yaml").read_text() == edited
    with pytest.raises(InstanceConfigError, match="edited by hand"):
        prepare_home(home, postgres=True, template=template)
    # The tracked settings file itself is never turned into the Postgres variant.
    with pytest.raises(InstanceConfigError, match="another folder"):
        prepare_home(template.parent, postgres=True, template=template)
    assert template.read_text() == "telemetry:\n  enabled: false\n"


def test_a_postgres_reader_reads_and_writes_like_duckdb(postgres_database):
    url = parse_postgres_url(postgres_database.url)
    assert queries.model_days(url) == []  # no raw table yet
    write_budgets(url, [("b", None, "organization", None, "monthly", 100.0, 80.0, "billed", 3)])
    write_budgets(url, [("c", "acme", "project", "p1", "daily", 5.5, 50.0, "estimated", 7)])
    with connect(url) as con:
        rows = con.execute("select budget_name, limit_usd from raw.budgets").fetchall()
        assert rows == [("c", 5.5)]  # replaced, not appended
        con.execute("select 1").fetchall()
    with connect(url, read_only=False) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.t as select date '2025-03-01' as usage_date,"
            " cast(1.25 as numeric(38, 18)) as billed, cast(7 as bigint) as n, 'x' as label"
        )
        frame = con.execute("select * from marts.t where n = ?", [7]).df()
    assert str(frame["usage_date"].dtype).startswith("datetime64")
    assert frame["billed"].tolist() == [1.25]
    with copy_schema(url, "marts") as copy:
        assert copy.execute("select * from marts.t").fetchall() == [
            (dt.date(2025, 3, 1), decimal.Decimal("1.250000000000000000"), 7, "x")
        ]


def test_an_unreachable_postgres_names_it_without_the_password(postgres_server):
    url = PostgresUrl(
        host=postgres_server.host,
        port=postgres_server.port,
        dbname="postgres",
        user="nobody",
        password="hunter2-secret",
    )
    with pytest.raises(WarehouseConnectionError) as caught, connect(url):
        pass
    message = str(caught.value)
    assert url.masked() in message and "check WAREHOUSE_URL" in message
    assert "hunter2-secret" not in message

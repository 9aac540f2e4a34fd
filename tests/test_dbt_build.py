"""`dbt build` of dbt_models/ on a hand-made raw schema: models, data tests and unit tests pass,
the marts honour the BI contract (docs/architecture.md), and a few numbers match values worked
out by hand.

dbt runs once per module, in a subprocess (dbt keeps global state and the DuckDB file must be free
afterwards, as in production), with its own target and log paths so parallel runs don't collide.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from fixtures.dbt_cli import DBT_PROJECT_DIR, run_dbt
from fixtures.raw_fixture import (
    DAY_1,
    DAY_2,
    DAY_3,
    FINE_TUNED,
    GPT_4O,
    GPT_4O_MINI,
    build_raw_fixture,
)

from serving.report import data, page, render, shaping

METRIC_COLUMNS = [
    "requests",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "billed_cost_usd",
    "estimated_cost_usd",
]
CONTRACT_COLUMNS = {
    "cost_by_model_daily": ["usage_date", "model", *METRIC_COLUMNS],
    "cost_by_project_daily": ["usage_date", "project_id", "project_name", *METRIC_COLUMNS],
}


def _dbt(command: list[str], warehouse: Path, work_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return run_dbt(command, work_dir, env)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the raw fixture and run `dbt build` on it once for the whole module."""
    work_dir = tmp_path_factory.mktemp("dbt_build")
    warehouse = work_dir / "openai_usage.duckdb"
    expected = build_raw_fixture(warehouse)
    result = _dbt(["build"], warehouse, work_dir)
    return {"warehouse": warehouse, "work_dir": work_dir, "expected": expected, "result": result}


def _one(con, sql: str, params: list | None = None) -> tuple:
    rows = con.execute(sql, params or []).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def _mart_columns(con, mart: str) -> list[str]:
    """The columns of `marts.<mart>`, in order."""
    rows = con.execute(
        "select column_name from information_schema.columns"
        " where table_schema = 'marts' and table_name = ? order by ordinal_position",
        [mart],
    ).fetchall()
    return [name for (name,) in rows]


def test_dbt_build_passes_models_data_tests_and_unit_tests(built):
    result = built["result"]
    assert result.returncode == 0, result.stdout[-5000:]
    run_results = json.loads((built["work_dir"] / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in run_results["results"]}
    # warn-severity tests (relationships) must pass too on this consistent fixture
    assert set(statuses.values()) <= {"success", "pass"}, statuses
    unit_tests = [uid for uid in statuses if uid.startswith("unit_test.")]
    assert len(unit_tests) >= 4, unit_tests
    # the BI contract's invariants ran as data tests
    assert "test.openai_usage_warehouse.assert_marts_billed_cost_matches_raw_costs" in statuses
    assert "test.openai_usage_warehouse.assert_marts_usage_matches_raw_completions" in statuses


def test_dbt_released_the_warehouse_file(built):
    # A read-write open from another process only succeeds when no process holds the file.
    probe = [
        sys.executable,
        "-c",
        "import duckdb, sys; duckdb.connect(sys.argv[1]).close()",
        str(built["warehouse"]),
    ]
    # the probe is sensitive: while this process holds the file, it is refused...
    with duckdb.connect(str(built["warehouse"]), read_only=True):
        held = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)
    assert held.returncode != 0
    assert "lock" in held.stderr
    # ...and after `dbt build` has returned, nothing holds it
    free = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)
    assert free.returncode == 0, free.stderr


def test_every_model_and_column_is_documented(built):
    manifest = json.loads((built["work_dir"] / "target" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert set(CONTRACT_COLUMNS) <= {model["name"] for model in models}
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        for model in models:
            columns = connection.execute(
                "select column_name from information_schema.columns"
                " where table_schema = ? and table_name = ?",
                [model["schema"], model["alias"]],
            ).fetchall()
            documented = {
                name for name, column in model["columns"].items() if column["description"].strip()
            }
            assert model["description"].strip(), model["name"]
            assert columns, model["name"]
            undocumented = {name for (name,) in columns} - documented
            assert not undocumented, (model["name"], undocumented)


def test_profile_reads_warehouse_path_and_does_not_keep_the_file_open():
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    output = profile["openai_usage_warehouse"]["outputs"]["duckdb"]
    assert "env_var('WAREHOUSE_PATH'" in output["path"]
    assert output["keep_open"] is False


@pytest.mark.parametrize("mart", sorted(CONTRACT_COLUMNS))
def test_design_marts_exist_in_schema_marts_with_contract_columns(built, mart):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        columns = _mart_columns(connection, mart)
        table_type = _one(
            connection,
            "select table_type from information_schema.tables"
            " where table_schema = 'marts' and table_name = ?",
            [mart],
        )[0]
    assert table_type == "BASE TABLE"
    assert columns[: len(CONTRACT_COLUMNS[mart])] == CONTRACT_COLUMNS[mart]


def test_marts_and_raw_totals_agree(built):
    expected = built["expected"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        for mart in CONTRACT_COLUMNS:
            totals = _one(
                connection,
                "select sum(billed_cost_usd), sum(requests), sum(input_tokens),"
                " sum(cached_input_tokens), sum(output_tokens), sum(estimated_cost_usd)"
                f" from marts.{mart}",
            )
            billed, requests, input_tokens, cached, output_tokens, estimated = totals
            assert Decimal(billed) == expected["billed_cost_usd"], mart
            assert (requests, input_tokens, cached, output_tokens) == (
                expected["requests"],
                expected["input_tokens"],
                expected["cached_input_tokens"],
                expected["output_tokens"],
            ), mart
            assert estimated == pytest.approx(expected["estimated_cost_usd"], rel=1e-12), mart


def test_focus_costs_bill_the_costs_total_split_by_key_like_the_key_mart(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        (total,) = _one(connection, 'select sum("BilledCost") from marts.focus_costs')
        focus_by_key = dict(
            connection.execute(
                'select coalesce("ResourceId", \'\'), sum("BilledCost")'
                " from marts.focus_costs group by 1"
            ).fetchall()
        )
        # the key mart names cost without a key with its pseudo keys
        mart_by_key = dict(
            connection.execute(
                "select case when api_key_id like '(%' then '' else api_key_id end,"
                " sum(billed_cost_usd) from marts.cost_by_api_key_daily group by 1"
            ).fetchall()
        )
    assert total == pytest.approx(float(built["expected"]["billed_cost_usd"]), abs=1e-9)
    assert len(focus_by_key) > 2
    assert focus_by_key.keys() == mart_by_key.keys()
    for key, billed in mart_by_key.items():
        assert focus_by_key[key] == pytest.approx(billed, abs=1e-9), key


def test_batch_cached_usage_is_discounted_and_cached_tokens_counted_once(built):
    expected = built["expected"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        (row_cost,) = _one(
            connection,
            "select estimated_cost_usd from intermediate.int_completion_usages__priced"
            " where is_batch and cached_input_tokens > 0",
        )
        (day_cost,) = _one(
            connection,
            "select estimated_cost_usd from marts.cost_by_model_daily"
            " where usage_date = ? and model = ?",
            [DAY_1, GPT_4O],
        )
    assert row_cost == pytest.approx(expected["batch_cached_row_cost_usd"], rel=1e-12)
    assert day_cost == pytest.approx(expected["gpt_4o_day_1_estimated_cost_usd"], rel=1e-12)
    assert day_cost == pytest.approx(0.00725 + 0.00625, rel=1e-12)


def test_hourly_buckets_add_up_to_one_daily_row(built):
    expected = built["expected"]["gpt_4o_mini_day_2"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        row = _one(
            connection,
            "select requests, input_tokens, cached_input_tokens, output_tokens,"
            " estimated_cost_usd, billed_cost_usd from marts.cost_by_model_daily"
            " where usage_date = ? and model = ?",
            [DAY_2, GPT_4O_MINI],
        )
    assert row[:4] == (
        expected["requests"],
        expected["input_tokens"],
        expected["cached_input_tokens"],
        expected["output_tokens"],
    )
    assert row[4] == pytest.approx(expected["estimated_cost_usd"], rel=1e-12)
    # the "evals | ..." line item is billed to the same model
    assert row[5] == Decimal("0.00056")


def test_unpriced_model_has_null_estimate_and_is_listed(built):
    expected = built["expected"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        rows = connection.execute(
            "select usage_date, estimated_cost_usd, unpriced_requests, requests"
            " from marts.cost_by_model_daily where model = ? order by usage_date",
            [FINE_TUNED],
        ).fetchall()
        listed = {
            model: (first_date, last_date, requests)
            for model, first_date, last_date, requests in connection.execute(
                "select model, first_date, last_date, requests from marts.models_without_price"
            ).fetchall()
        }
    assert [(day, cost) for day, cost, *_ in rows] == [(DAY_1, None), (DAY_2, None)]
    assert all(unpriced == requests > 0 for *_, unpriced, requests in rows)
    assert listed == {
        model: (values["first_date"], values["last_date"], values["requests"])
        for model, values in expected["models_without_price"].items()
    }


def test_partly_priced_project_day_sums_the_priced_part(built):
    expected = built["expected"]["alpha_day_1"]
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        name, estimated, unpriced = _one(
            connection,
            "select project_name, estimated_cost_usd, unpriced_requests"
            " from marts.cost_by_project_daily where usage_date = ? and project_id = ?",
            [DAY_1, "proj_alpha"],
        )
    assert name == "Alpha"
    assert estimated == pytest.approx(expected["estimated_cost_usd"], rel=1e-12)
    assert unpriced == expected["unpriced_requests"]


def test_null_dimensions_and_products_without_usage_get_stable_rows(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        no_project = connection.execute(
            "select usage_date, project_name, requests, billed_cost_usd"
            " from marts.cost_by_project_daily where project_id = '(no project)'"
            " order by usage_date"
        ).fetchall()
        unknown_model_days = connection.execute(
            "select usage_date from marts.cost_by_model_daily"
            " where model = '(unknown model)' order by usage_date"
        ).fetchall()
        products = connection.execute(
            "select usage_date, model, requests, input_tokens, output_tokens, billed_cost_usd,"
            " estimated_cost_usd from marts.cost_by_model_daily"
            " where model in ('assistants api | file search', 'web search tool calls')"
            " order by usage_date, model"
        ).fetchall()
        costs_only_day = _one(
            connection,
            "select requests, billed_cost_usd from marts.cost_by_project_daily"
            " where usage_date = ?",
            [DAY_3],
        )
    assert no_project == [
        (DAY_1, "(no project)", 7, Decimal("0.00315")),
        (DAY_2, "(no project)", 0, Decimal("0.5")),
    ]
    assert unknown_model_days == [(DAY_1,), (DAY_2,)]
    assert products == [
        (DAY_1, "assistants api | file search", 0, 0, 0, Decimal("0.1"), None),
        (DAY_2, "web search tool calls", 0, 0, 0, Decimal("0.025"), None),
        (DAY_3, "web search tool calls", 0, 0, 0, Decimal("0.01"), None),
    ]
    assert costs_only_day == (0, Decimal("0.01"))


NEW_MARTS = {
    "usage_daily": ["organization", "usage_date", "family", "project_id", "user_id", "api_key_id"],
    "cost_by_api_key_daily": ["organization", "usage_date", "api_key_id"],
    "cost_by_user_daily": ["organization", "usage_date", "user_id"],
    "cost_by_line_item_daily": ["organization", "usage_date", "project_id", "line_item"],
    "cost_by_project_monthly": ["organization", "month_start", "project_id"],
    "cost_by_model_monthly": ["organization", "month_start", "model"],
    "cost_reconciliation_daily": ["organization", "usage_date", "project_id", "model"],
    "dim_projects": ["organization", "project_id"],
    "dim_api_keys": ["organization", "api_key_id"],
    "dim_users": ["organization", "user_id"],
    "dim_models": ["model"],
}
BILLED_MARTS = [
    "cost_by_model_daily",
    "cost_by_project_daily",
    "cost_by_api_key_daily",
    "cost_by_user_daily",
    "cost_by_line_item_daily",
    "cost_reconciliation_daily",
    "cost_by_project_monthly",
    "cost_by_model_monthly",
]


@pytest.mark.parametrize("mart", sorted(NEW_MARTS))
def test_new_marts_exist_with_their_grain_first(built, mart):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        columns = _mart_columns(connection, mart)
        rows = connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]
    assert columns[: len(NEW_MARTS[mart])] == NEW_MARTS[mart]
    assert rows > 0


def test_organization_is_carried_into_every_mart(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        for mart in [*CONTRACT_COLUMNS, *(m for m in NEW_MARTS if m != "dim_models")]:
            orgs = connection.execute(f"select distinct organization from marts.{mart}").fetchall()
            assert orgs == [("default",)], mart


def test_directory_staging_keeps_the_latest_version_and_flags_what_is_gone(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        accounts = connection.execute(
            "select service_account_id, service_account_name, is_deleted"
            " from staging.stg_openai__project_service_accounts order by 1"
        ).fetchall()
        members = connection.execute(
            "select project_id, project_role from staging.stg_openai__project_users order by 1"
        ).fetchall()
        invites = connection.execute(
            "select invite_id, invite_status, accepted_at is not null"
            " from staging.stg_openai__invites order by 1"
        ).fetchall()
        admin = connection.execute(
            "select admin_api_key_name, owner_name, is_deleted"
            " from staging.stg_openai__admin_api_keys"
        ).fetchall()
        legacy = connection.execute("select count(*) from staging.stg_openai__legacy_usages")
        legacy_rows = legacy.fetchall()[0][0]
    # Renamed: the current name; deleted: its last name, flagged.
    assert accounts == [("svc_acct_1", "ci-agent", False), ("svc_acct_2", "old-bot", True)]
    # One membership per project, with the role of its latest version.
    assert members == [("proj_alpha", "owner"), ("proj_beta", "member")]
    assert invites == [("invite-1", "accepted", True), ("invite-2", "pending", False)]
    assert admin == [("etl", "Ada", False)]
    assert legacy_rows == 0  # the optional legacy table is absent: an empty view, not an error


@pytest.mark.parametrize("mart", BILLED_MARTS)
def test_every_billed_mart_sums_to_the_raw_costs_total(built, mart):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        (total,) = _one(connection, f"select sum(billed_cost_usd) from marts.{mart}")
    assert float(total) == pytest.approx(float(built["expected"]["billed_cost_usd"]), abs=1e-9)


def test_api_key_mart_allocates_project_model_line_items_by_priced_share(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        rows = {
            (day, key): (name, owner, project, billed)
            for day, key, name, owner, project, billed in connection.execute(
                "select usage_date, api_key_id, api_key_name, owner_name, project_name,"
                " billed_cost_usd from marts.cost_by_api_key_daily"
            ).fetchall()
        }
    # key_alpha is the only key with gpt-4o usage in proj_alpha on day 1: it takes the three
    # gpt-4o line items whole; its fine-tuned request has no matching line item.
    assert rows[(DAY_1, "key_alpha")][:3] == ("alpha app", "Ann", "Alpha")
    assert rows[(DAY_1, "key_alpha")][3] == pytest.approx(0.005000000000000001 + 0.00075 + 0.009)
    # the fine-tuned snapshot's `ft-...` line item is matched to its `ft:...:acme::...` usage
    assert rows[(DAY_1, "key_beta")][3] == pytest.approx(0.012345678901234567)
    # file search on day 1 and the NULL line item on day 2 cannot be allocated: kept, labelled
    assert rows[(DAY_1, "(unallocated)")][3] == pytest.approx(0.1)
    assert rows[(DAY_2, "(unallocated)")][3] == pytest.approx(0.5 + 0.025)


def test_reconciliation_reports_drift_and_unpriced_volume(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        gpt_4o = _one(
            connection,
            "select billed_cost_usd, estimated_cost_usd, drift_usd, drift_pct, is_fully_priced"
            " from marts.cost_reconciliation_daily"
            " where usage_date = ? and project_id = 'proj_alpha' and model = ?",
            [DAY_1, GPT_4O],
        )
        fine_tuned = _one(
            connection,
            "select unpriced_requests, unpriced_input_tokens, estimated_cost_usd, drift_pct"
            " from marts.cost_reconciliation_daily"
            " where usage_date = ? and project_id = 'proj_beta' and model = ?",
            [DAY_1, "ft-gpt-4o-2024-08-06"],
        )
    billed, estimated, drift, drift_pct, fully = gpt_4o
    assert float(billed) == pytest.approx(0.01475)
    assert estimated == pytest.approx(0.00725 + 0.00625)
    assert drift == pytest.approx(estimated - float(billed))
    assert drift_pct == pytest.approx(100 * (estimated - float(billed)) / float(billed))
    assert fully is True
    assert fine_tuned == (3, 300, None, None)


def test_dim_models_snapshot_family_and_modality(built):
    with duckdb.connect(str(built["warehouse"]), read_only=True) as connection:
        models = {
            row[0]: row[1:]
            for row in connection.execute(
                "select model, model_family, snapshot_date, is_fine_tuned, modality, has_price"
                " from marts.dim_models"
            ).fetchall()
        }
    assert models[GPT_4O] == ("gpt-4o", DAY_1.replace(2024, 8, 6), False, "text", True)
    assert models[GPT_4O_MINI][0] == "gpt-4o-mini"
    assert models[FINE_TUNED][:3] == ("gpt-4o", DAY_1.replace(2024, 8, 6), True)
    assert models[FINE_TUNED][4] is False
    assert models["web search tool calls"][3] == "tool"


def test_price_overrides_and_tier_factors_are_reviewed_seeds():
    import csv

    seeds = DBT_PROJECT_DIR / "seeds"
    with (seeds / "model_price_overrides.csv").open() as handle:
        overrides = list(csv.DictReader(handle))
    assert overrides
    for row in overrides:
        assert row["source_url"].startswith("https://"), row
        assert row["notes"].strip(), row
    with (seeds / "service_tier_price_factors.csv").open() as handle:
        factors = {
            row["service_tier"]: float(row["price_factor"]) for row in csv.DictReader(handle)
        }
    assert factors == {"default": 1.0, "flex": 0.5, "priority": 2.0}


def test_the_reports_projected_month_is_the_monthly_marts(built, tmp_path):
    """One month-end projection: the report's headline shows the monthly marts' own."""
    warehouse = built["warehouse"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (expected,) = _one(
            con,
            "select cast(sum(projected_billed_cost_usd) as double)"
            " from marts.cost_by_project_monthly where month_start = ?",
            [DAY_3.replace(day=1)],
        )
    loaded = data.read_report_data(warehouse, DAY_1, DAY_3)
    projected = shaping.projected_month(loaded.projected_month.frame)
    head = shaping.headline(loaded.headline_daily.frame, DAY_1, DAY_3, projected)
    assert expected > 0 and head.projected_month == pytest.approx(expected)
    # the month is in progress on this fixture, so the projection runs past the month to date
    assert head.projected_month > head.month_to_date > 0
    out = tmp_path / "report.html"
    render.render_report(warehouse, out, DAY_1, DAY_3, today=DAY_3)
    card = out.read_text().split("Projected month total", 1)[1].split("</div></div>", 1)[0]
    assert page.money(expected) in card

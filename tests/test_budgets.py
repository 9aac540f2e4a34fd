"""budgets.yaml validation (errors name the line) and the raw budgets table.

Budget states on a fixture are covered by the dbt unit test
`test_budget_status_states_and_month_end_projection` (models/budgets/_budgets__models.yml), run
here through `dbt test` on an empty warehouse.
"""

from __future__ import annotations

import os

import duckdb
import pytest
from fixtures.dbt_cli import run_dbt

from assets.budgets import table_columns, write_budgets
from assets.budgets_config import COLUMNS, BudgetConfigError, load_budgets, parse_budgets

GOOD = """\
budgets:
  - name: support-monthly
    scope: project
    project: Support Copilot
    period: monthly
    limit_usd: 500
  - name: agent-daily
    scope: api_key
    api_key: key_abc
    period: daily
    limit_usd: 20.5
    warn_percent: 50
    basis: estimated
  - name: org
    scope: organization
    organization: acme
    period: monthly
    limit_usd: 1000
"""


def test_a_valid_file_parses_with_defaults():
    budgets = parse_budgets(GOOD)
    assert [b.budget_name for b in budgets] == ["support-monthly", "agent-daily", "org"]
    first, second, org = budgets
    assert (first.scope_type, first.scope_match, first.basis, first.warn_percent) == (
        "project",
        "Support Copilot",
        "billed",
        80.0,
    )
    assert first.source_line == 2 and second.source_line == 7
    assert (second.basis, second.warn_percent, second.limit_usd) == ("estimated", 50.0, 20.5)
    assert (org.scope_match, org.organization) == ("acme", "acme")


def test_absent_or_empty_file_means_no_budgets(tmp_path):
    assert load_budgets(tmp_path / "missing.yaml") == []
    assert parse_budgets("") == []
    assert parse_budgets("budgets:\n") == []


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("budgets:\n  - name: a\n    scope: team\n", 3, "`scope: team` is not one of"),
        (
            "budgets:\n  - name: a\n    scope: project\n    project: p\n    period: weekly\n",
            5,
            "`period: weekly`",
        ),
        (
            "budgets:\n  - name: a\n    scope: model\n    model: m\n    period: daily\n"
            "    limit_usd: ten\n",
            6,
            "`limit_usd` must be a number",
        ),
        (
            "budgets:\n  - name: a\n    scope: model\n    model: m\n    period: daily\n"
            "    limit_usd: 0\n",
            6,
            "must be above 0",
        ),
        (
            "budgets:\n  - name: a\n    scope: model\n    model: m\n    period: daily\n"
            "    limit_usd: 5\n    warn_percent: 120\n",
            7,
            "`warn_percent` must be in (0, 100]",
        ),
        (
            "budgets:\n  - name: a\n    scope: project\n    period: daily\n    limit_usd: 5\n",
            2,
            "add `project: <id or name>`",
        ),  # fmt: skip
        (
            "budgets:\n  - name: a\n    scope: project\n    api_key: k\n    period: daily\n"
            "    limit_usd: 5\n",
            4,
            "`api_key:` does not apply",
        ),
        ("budgets:\n  - name: a\n    limit: 5\n", 3, "unknown field 'limit'"),
        ("budget:\n  - name: a\n", 1, "unknown top-level key 'budget'"),
        ("budgets:\n  - [a\n", 3, "not valid YAML"),
        ("budgets:\n  name: a\n", 2, "must be a list"),
        (
            GOOD + "  - name: org\n    scope: organization\n    period: daily\n    limit_usd: 1\n",
            19,
            "already used on line 14",
        ),  # fmt: skip
    ],
)
def test_bad_files_name_the_line_and_the_fix(text, line, words):
    with pytest.raises(BudgetConfigError) as err:
        parse_budgets(text, "conf/budgets.yaml")
    message = str(err.value)
    assert message.startswith(f"conf/budgets.yaml:{line}: "), message
    assert words in message


def test_a_budget_row_has_the_columns_the_dbt_source_declares():
    # raw.budgets is declared once (the dbt source); the parser's rows must fit it.
    assert [name for name, _ in table_columns()] == list(COLUMNS)


def test_write_budgets_replaces_the_table(tmp_path):
    path = str(tmp_path / "w.duckdb")
    write_budgets(path, [b.row() for b in parse_budgets(GOOD)])
    write_budgets(path, [parse_budgets(GOOD)[0].row()])
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute("select budget_name, limit_usd, source_line from raw.budgets").fetchall()
    assert rows == [("support-monthly", 500.0, 2)]


def test_budget_status_and_anomaly_unit_tests_pass(tmp_path):
    """dbt unit tests of the state, projection, spike and hard-limit SQL (no data needed)."""
    env = {**os.environ, "WAREHOUSE_PATH": str(tmp_path / "unit.duckdb")}
    result = run_dbt(
        [
            "test",
            "--select",
            "budget_status,test_type:unit spend_anomalies,test_type:unit "
            "openai_spend_limits,test_type:unit",
        ],
        tmp_path,
        env,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ERROR=0" in result.stdout and "FAIL=" not in result.stdout.replace("FAIL=0", "")
    # dbt's on-run-start hook created the empty raw.budgets from the same declaration as the asset
    with duckdb.connect(str(tmp_path / "unit.duckdb"), read_only=True) as con:
        created = con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'budgets' order by ordinal_position"
        ).fetchall()
    write_budgets(str(tmp_path / "asset.duckdb"), [])
    with duckdb.connect(str(tmp_path / "asset.duckdb"), read_only=True) as con:
        written = con.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'raw' and table_name = 'budgets' order by ordinal_position"
        ).fetchall()
    assert created == written
    assert [name for name, _ in created] == list(COLUMNS)

"""The spend report's figure data, checked against the marts of a small DuckDB built here."""

from __future__ import annotations

import datetime as dt
import stat

import duckdb
import pandas as pd
import pytest

from assets.metadata import table_facts
from warehouse import report

START, END = dt.date(2025, 3, 1), dt.date(2025, 3, 10)
TODAY = dt.date(2025, 3, 11)

_MARTS = """
create schema marts;
create schema intermediate;
create schema staging;
create table marts.cost_by_model_daily (
    usage_date date, model varchar, requests bigint, input_tokens bigint,
    cached_input_tokens bigint, output_tokens bigint, billed_cost_usd decimal(38, 18),
    estimated_cost_usd double, unpriced_requests bigint);
create table marts.cost_by_project_daily (
    usage_date date, project_id varchar, project_name varchar, requests bigint,
    input_tokens bigint, cached_input_tokens bigint, output_tokens bigint,
    billed_cost_usd decimal(38, 18), estimated_cost_usd double, unpriced_requests bigint);
"""
_FALLBACKS = """
create table intermediate.int_costs__line_items_parsed (
    usage_date date, line_item varchar, amount decimal(38, 18));
create table intermediate.int_completion_usages__priced (
    usage_date date, model varchar, project_id varchar, api_key_id varchar,
    requests bigint, estimated_cost_usd double);
create table staging.stg_openai__projects (project_id varchar, project_name varchar);
create table staging.stg_openai__api_keys (
    api_key_id varchar, api_key_name varchar, owner_name varchar);
"""


_DAYS = "generate_series(date '2025-02-01', ?::date, interval 1 day) as days(d)"


def build_warehouse(path, n_models: int = 3, n_projects: int = 2, fallbacks: bool = True):
    """Marts (and the views the report falls back to) with simple, predictable numbers.

    Every day from Feb 1 to END: model i bills (i + 1) USD and project j bills (j + 1) USD, so
    the range and the previous period of the same length hold the same totals.
    """
    with duckdb.connect(str(path)) as con:
        con.execute(_MARTS)
        con.execute(
            "insert into marts.cost_by_model_daily select d::date, printf('model-%02d', i), "
            "10 * (i + 1), 1000, 250, 400, i + 1, (i + 1) * 0.9, 0 "
            f"from {_DAYS}, range(?) as m(i)",
            [END, n_models],
        )
        con.execute(
            "insert into marts.cost_by_project_daily select d::date, printf('proj_%02d', j), "
            "printf('Project %02d', j), 1, 10, 0, 5, j + 1, j + 0.5, 0 "
            f"from {_DAYS}, range(?) as p(j)",
            [END, n_projects],
        )
        if not fallbacks:
            return path
        con.execute(_FALLBACKS)
        con.execute(
            "insert into staging.stg_openai__projects values "
            "('proj_00', 'Project 00'), ('proj_01', 'Project 01')"
        )
        con.execute(
            "insert into staging.stg_openai__api_keys values "
            "('key_aaaaaa1', 'agent', 'ann'), ('key_bbbbbb2', 'agent', 'bob'), "
            "('key_cccccc3', 'etl', 'cy')"
        )
        con.execute(
            "insert into intermediate.int_costs__line_items_parsed select d::date, item, amount "
            f"from {_DAYS}, (values ('gpt-x, input', 1.5), ('gpt-x, output', 2.5), "
            "('file search', 0)) as items(item, amount)",
            [END],
        )
        con.execute(
            "insert into intermediate.int_completion_usages__priced "
            "select d::date, model, project, key, requests, cost "
            f"from {_DAYS}, (values ('gpt-x', 'proj_00', 'key_aaaaaa1', 5, 3.0), "
            "('gpt-y', 'proj_01', 'key_bbbbbb2', 7, 1.0), ('gpt-x', null, 'key_cccccc3', 1, 0.5), "
            "('gpt-x', 'proj_00', null, 2, null)) as u(model, project, key, requests, cost)",
            [END],
        )
    return path


@pytest.fixture
def warehouse(tmp_path):
    return build_warehouse(tmp_path / "w.duckdb")


def read(path):
    return report.read_report_data(path, START, END, TODAY)


def test_cost_by_model_sums_to_the_mart_every_day(warehouse):
    data = read(warehouse)
    wide = report.cost_by_model_over_time(data.model_daily.frame, START, END)
    assert list(wide.columns) == ["model-02", "model-01", "model-00"]  # largest first
    assert len(wide) == 10 and wide.index[0].date() == START
    with duckdb.connect(str(warehouse), read_only=True) as con:
        by_day = dict(
            con.execute(
                "select usage_date, sum(billed_cost_usd)::double from marts.cost_by_model_daily "
                "where usage_date between ? and ? group by 1",
                [START, END],
            ).fetchall()
        )
    for day, total in wide.sum(axis=1).items():
        assert total == pytest.approx(by_day[day.date()])


def test_fifty_projects_become_the_top_ten_and_other_with_the_same_total(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", n_projects=50, fallbacks=False)
    data = read(path)
    wide = report.cost_by_project_over_time(data.project_daily.frame, START, END)
    assert list(wide.columns[:3]) == ["Project 49", "Project 48", "Project 47"]
    assert len(wide.columns) == report.TOP_N + 1 and wide.columns[-1] == report.OTHER
    expected = sum(range(1, 51)) * 10  # every project, every day of the range
    assert wide.to_numpy().sum() == pytest.approx(expected)
    assert wide[report.OTHER].iloc[0] == pytest.approx(sum(range(1, 41)))
    share = report.project_share(data.project_daily.frame)
    assert share.sum() == pytest.approx(expected) and share.index[-1] == report.OTHER


def test_one_project_is_shown_alone(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", n_models=1, n_projects=1, fallbacks=False)
    data = read(path)
    wide = report.cost_by_project_over_time(data.project_daily.frame, START, END)
    assert list(wide.columns) == ["Project 00"]
    assert list(report.project_share(data.project_daily.frame).index) == ["Project 00"]


def test_eleven_labels_are_never_grouped_into_a_single_other(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", n_models=11, fallbacks=False)
    wide = report.cost_by_model_over_time(read(path).model_daily.frame, START, END)
    assert report.OTHER not in wide.columns and len(wide.columns) == 11


def test_token_mix_splits_input_into_cached_and_uncached(warehouse):
    mix = report.token_mix(read(warehouse).model_daily.frame, START, END)
    day = mix.iloc[0]
    assert day["cached_input_tokens"] == 3 * 250
    assert day["uncached_input_tokens"] == 3 * 750
    assert day["output_tokens"] == 3 * 400
    assert day["cached_share"] == pytest.approx(0.25)


def test_headline_figures(warehouse):
    data = read(warehouse)
    head = report.headline(data.headline_daily.frame, START, END, TODAY)
    assert head.billed == pytest.approx(6 * 10)  # 1 + 2 + 3 USD a day, 10 days
    assert head.estimated == pytest.approx(6 * 0.9 * 10)
    assert head.previous_billed == pytest.approx(60)
    assert head.change_pct == pytest.approx(0)
    assert head.month_label == "March 2025" and head.month_to_date == pytest.approx(60)
    # 10 closed days in March + 21 days at the 7-day run rate of 6 USD a day
    assert head.run_rate == pytest.approx(6)
    assert head.projected_month == pytest.approx(6 * 31)


def test_projection_ignores_todays_partial_day(warehouse):
    data = report.read_report_data(warehouse, START, END, today=END)
    head = report.headline(data.headline_daily.frame, START, END, END)
    assert head.month_to_date == pytest.approx(60)
    assert head.projected_month == pytest.approx(6 * 31)  # 9 closed days + 22 at 6 USD


def test_change_is_unknown_without_a_previous_period(warehouse):
    start = dt.date(2025, 2, 1)
    data = report.read_report_data(warehouse, start, END, TODAY)
    head = report.headline(data.headline_daily.frame, start, END, TODAY)
    assert head.previous_billed == 0 and head.change_pct is None


def test_requests_matrix_from_the_fallback_views(warehouse):
    data = read(warehouse)
    assert data.usage_by_model_project.source == "intermediate.int_completion_usages__priced"
    matrix = report.requests_matrix(data.usage_by_model_project.frame)
    assert matrix.loc["gpt-x", "Project 00"] == 7 * 10
    assert matrix.loc["gpt-y", "Project 01"] == 7 * 10
    assert matrix.loc["gpt-x", "(no project)"] == 10
    assert int(matrix.to_numpy().sum()) == 15 * 10


def test_line_items_prefer_the_mart_when_it_exists(warehouse):
    data = read(warehouse)
    assert data.line_items.source == "intermediate.int_costs__line_items_parsed"
    items = report.line_item_costs(data.line_items.frame)
    assert items.to_dict() == {"gpt-x, output": 25.0, "gpt-x, input": 15.0, "file search": 0.0}
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table marts.cost_by_line_item_daily as "
            "select ?::date as usage_date, 'mart line' as line_item, 9.0 as billed_cost_usd",
            [START],
        )
    data = read(warehouse)
    assert data.line_items.source == "marts.cost_by_line_item_daily"
    assert report.line_item_costs(data.line_items.frame).to_dict() == {"mart line": 9.0}


def test_top_api_keys_have_unique_labels_and_a_trend(warehouse):
    data = read(warehouse)
    table, trend = report.top_api_keys(data.api_keys_daily.frame, START, END)
    assert list(table["label"]) == ["agent (aaaaa1)", "agent (bbbbb2)", "etl", "(no key)"]
    assert list(table["estimated_cost_usd"]) == pytest.approx([30.0, 10.0, 5.0, 0.0])
    assert list(table["requests"]) == [50, 70, 10, 20]
    assert table.loc[2, "project"] is None or table.loc[2, "project"] != table.loc[2, "project"]
    assert list(trend.columns) == list(table["label"])
    assert trend["agent (aaaaa1)"].sum() == pytest.approx(30.0)


def test_estimated_vs_billed_per_day(warehouse):
    frame = report.estimated_vs_billed(read(warehouse).daily_totals.frame, START, END)
    assert frame["billed_cost_usd"].sum() == pytest.approx(60)
    assert frame["estimated_cost_usd"].sum() == pytest.approx(54)


def test_sections_without_their_mart_say_so_and_the_page_still_renders(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", fallbacks=False)
    out = tmp_path / "serving" / "report.html"
    result = report.render_report(path, out, START, END, TODAY)
    page = out.read_text()
    assert "Not available yet: `marts.cost_by_api_key_daily`" in page
    assert "Not available yet: `marts.budget_status`" in page
    assert {"Top API keys (agents)", "Budget status", "Cost by line item"} <= set(result.skipped)
    assert result.charts == 5 and page.count('class="plotly-graph-div"') == 5
    assert "https://" not in page.split("<script", 1)[0]  # nothing fetched by the head


def test_report_is_replaced_atomically_and_readable_by_others(warehouse, tmp_path):
    out = tmp_path / "serving" / "report.html"
    out.parent.mkdir()
    out.write_text("old")
    report.render_report(warehouse, out, START, END, TODAY)
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_missing_warehouse_names_the_command_to_run(tmp_path, capsys):
    with pytest.raises(report.ReportError, match="make demo"):
        report.render_report(tmp_path / "none.duckdb", tmp_path / "r.html")
    assert report.main(["--start", "2025-03-01"]) == 2
    assert "make demo" in capsys.readouterr().err


def test_table_facts_count_rows_and_preview_the_newest_as_markdown(warehouse):
    tables = [("marts", "cost_by_model_daily"), ("marts", "absent")]
    counts, previews = table_facts(warehouse, tables, tables, limit=2)
    assert list(counts) == [("marts", "cost_by_model_daily")]
    assert counts[("marts", "cost_by_model_daily")] > 2
    assert list(previews) == [("marts", "cost_by_model_daily")]
    lines = previews[("marts", "cost_by_model_daily")].splitlines()
    assert lines[0].startswith("| usage_date | model |") and len(lines) == 4
    assert "| 2025-03-10 | model-02 |" in lines[2]


_SPEND_MARTS = """
create table marts.openai_spend_limits (
    organization varchar, scope_type varchar, project_id varchar, scope_name varchar,
    limit_usd decimal(18, 2), currency varchar, limit_interval varchar,
    enforcement_status varchar, spent_usd double, percent_used double);
create table marts.openai_spend_alerts (
    organization varchar, alert_id varchar, scope_type varchar, project_id varchar,
    scope_name varchar, threshold_usd decimal(18, 2), alert_interval varchar,
    recipient_count bigint, spent_usd double, is_crossed boolean);
"""
# (organization, scope_type, project_id, scope_name, limit USD, status, spent USD)
_LIMITS = [
    ("default", "project", "proj_a", "Alpha", 1000, "enforcing", 250.0),
    ("default", "organization", None, "default", 7500, "enforcing", 3000.0),
    ("default", "project", "proj_b", "Beta", 500, "inactive", 450.0),
    ("default", "project", "proj_c", "Gamma", 300, "enforcing", None),  # not monthly
]


def _with_spend_marts(path, limits=_LIMITS, alerts=True):
    with duckdb.connect(str(path)) as con:
        con.execute(_SPEND_MARTS)
        if limits:
            con.executemany(
                "insert into marts.openai_spend_limits values (?, ?, ?, ?, ?, 'USD', 'month', ?, ?,"
                " 100.0 * ? / ?)",
                [(*row[:4], row[4], row[5], row[6], row[6], row[4]) for row in limits],
            )
        if alerts:
            con.execute(
                "insert into marts.openai_spend_alerts values "
                "('default', 'alert_1', 'organization', null, 'default', 3750, 'month', 2,"
                " 3000.0, false), "
                "('default', 'alert_2', 'project', 'proj_b', 'Beta', 400, 'month', 1, 450.0, true)"
            )
    return path


def test_spend_limits_table_puts_the_organization_first_then_the_most_used(warehouse):
    data = read(_with_spend_marts(warehouse))
    table = report.spend_limits_table(data.spend_limits.frame)
    assert list(table["Scope"]) == ["default (organization)", "Beta", "Alpha", "Gamma"]
    by_scope = table.set_index("Scope")
    for _, _, _, name, limit, status, spent in _LIMITS:
        label = f"{name} (organization)" if name == "default" else name
        assert by_scope.loc[label, "Limit USD"] == limit
        assert by_scope.loc[label, "Enforcement"] == status
        if spent is None:
            assert pd.isna(by_scope.loc[label, "Used %"])
        else:
            assert by_scope.loc[label, "Used %"] == pytest.approx(100 * spent / limit)
    alerts = report.spend_alerts_table(data.spend_alerts.frame)
    assert list(alerts["Scope"]) == ["default (organization)", "Beta"]
    assert list(alerts["Crossed"]) == ["no", "yes"]


def test_several_organizations_are_named_in_the_scope(warehouse):
    limits = [*_LIMITS[:2], ("labs", "organization", None, "labs", 100, "enforcing", 5.0)]
    data = read(_with_spend_marts(warehouse, limits, alerts=False))
    table = report.spend_limits_table(data.spend_limits.frame)
    assert list(table["Scope"]) == [
        "default / (organization)",
        "default / Alpha",
        "labs / (organization)",
    ]


def test_the_budget_section_shows_openais_limits_and_alerts(warehouse, tmp_path):
    out = tmp_path / "serving" / "report.html"
    report.render_report(_with_spend_marts(warehouse), out, START, END, TODAY)
    page = out.read_text()
    section = page.split("<h2>OpenAI spend limits and alerts</h2>", 1)[1].split("</section>")[0]
    assert page.index("<h2>Budget status</h2>") < page.index("<h2>OpenAI spend limits")
    assert "<td>default (organization)</td><td>7,500.00</td><td>month</td>" in section
    assert "<td>Beta</td><td>500.00</td><td>month</td><td>inactive</td><td>450.00</td>" in section
    assert "<td>90.0</td>" in section  # Beta: 450 of 500 USD
    assert "<td>3,750.00</td>" in section and "<td>yes</td>" in section
    assert "Source: marts.openai_spend_limits, marts.openai_spend_alerts" in section


def test_the_section_says_when_openai_has_no_limits_or_the_marts_are_missing(warehouse, tmp_path):
    out = tmp_path / "serving" / "report.html"
    result = report.render_report(warehouse, out, START, END, TODAY)
    assert "Not available yet: `marts.openai_spend_limits`" in out.read_text()
    assert "OpenAI spend limits and alerts" in result.skipped
    report.render_report(_with_spend_marts(warehouse, [], alerts=False), out, START, END, TODAY)
    assert "No hard limit or alert is set in OpenAI" in out.read_text()


def test_a_range_without_spend_says_so_first(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", n_models=0, n_projects=0, fallbacks=False)
    data = read(path)
    assert report.spend_notice(data) == (
        f"No spend yet from {START} to {END}: the Costs API billed nothing and no usage was "
        "reported in this range. The charts fill in once the organization uses the API."
    )
    result = report.render_report(path, tmp_path / "report.html", START, END, TODAY)
    assert result.notice == report.spend_notice(data)
    page = (tmp_path / "report.html").read_text()
    assert f'<p class="note" id="spend-notice">No spend yet from {START} to {END}' in page


def test_usage_the_costs_api_did_not_bill_is_named_as_such(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", fallbacks=False)
    with duckdb.connect(str(path)) as con:
        con.execute("update marts.cost_by_model_daily set billed_cost_usd = 0")
    notice = report.spend_notice(read(path))
    assert notice.startswith(f"No billed spend from {START} to {END}: usage was reported")


def test_a_range_with_spend_has_no_notice(warehouse, tmp_path):
    assert report.spend_notice(read(warehouse)) is None
    result = report.render_report(warehouse, tmp_path / "report.html", START, END, TODAY)
    assert result.notice is None and "spend-notice" not in (tmp_path / "report.html").read_text()

"""The spend report's figure data, checked against the marts of a small DuckDB built here."""

from __future__ import annotations

import datetime as dt
import stat

import duckdb
import pandas as pd
import pytest

from assets.metadata import table_facts
from serving.report import data, page, render, shaping
from serving.report.__main__ import main

START, END = dt.date(2025, 3, 1), dt.date(2025, 3, 10)
TODAY = dt.date(2025, 3, 11)

_MARTS = """
create schema marts;
create table marts.cost_by_model_daily (
    usage_date date, model varchar, requests bigint, input_tokens bigint,
    cached_input_tokens bigint, output_tokens bigint, billed_cost_usd decimal(38, 18),
    estimated_cost_usd double, unpriced_requests bigint);
create table marts.cost_by_project_daily (
    usage_date date, project_id varchar, project_name varchar, requests bigint,
    input_tokens bigint, cached_input_tokens bigint, output_tokens bigint,
    billed_cost_usd decimal(38, 18), estimated_cost_usd double, unpriced_requests bigint);
create table marts.cost_by_project_monthly (
    organization varchar, month_start date, project_id varchar,
    projected_billed_cost_usd double);
insert into marts.cost_by_project_monthly values
    ('org_a', date '2025-03-01', 'proj_00', 100.5), ('org_b', date '2025-03-01', 'proj_01', 85.5),
    ('org_a', date '2025-02-01', 'proj_00', 999.0);
"""
# The month-end projection those rows give March: what the headline must show.
MARCH_PROJECTION = 186.0
_SECTION_MARTS = """
create table marts.usage_daily (
    usage_date date, model varchar, project_id varchar, requests bigint);
create table marts.dim_projects (project_id varchar, project_name varchar);
create table marts.cost_by_line_item_daily (
    usage_date date, line_item varchar, billed_cost_usd decimal(38, 18));
create table marts.cost_by_api_key_daily (
    usage_date date, api_key_id varchar, api_key_name varchar, owner_name varchar,
    project_name varchar, requests bigint, estimated_cost_usd double);
"""


_DAYS = "generate_series(date '2025-02-01', ?::date, interval 1 day) as days(d)"


def build_warehouse(path, n_models: int = 3, n_projects: int = 2, sections: bool = True):
    """Marts with simple, predictable numbers; `sections=False` leaves out the marts of the
    requests, line item and API key sections.

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
        con.execute(
            "create table marts.cost_reconciliation_daily as select usage_date,"
            " sum(billed_cost_usd) as billed_cost_usd, sum(estimated_cost_usd) as"
            " estimated_cost_usd from marts.cost_by_model_daily group by usage_date"
        )
        if not sections:
            return path
        con.execute(_SECTION_MARTS)
        con.execute(
            "insert into marts.dim_projects values "
            "('proj_00', 'Project 00'), ('proj_01', 'Project 01')"
        )
        con.execute(
            "insert into marts.cost_by_line_item_daily select d::date, item, amount "
            f"from {_DAYS}, (values ('gpt-x, input', 1.5), ('gpt-x, output', 2.5), "
            "('file search', 0)) as items(item, amount)",
            [END],
        )
        con.execute(
            "insert into marts.usage_daily select d::date, model, project, requests "
            f"from {_DAYS}, (values ('gpt-x', 'proj_00', 5), ('gpt-y', 'proj_01', 7), "
            "('gpt-x', null, 1), ('gpt-x', 'proj_00', 2)) as u(model, project, requests)",
            [END],
        )
        con.execute(
            "insert into marts.cost_by_api_key_daily select d::date, key, name, owner, project,"
            f" requests, cost from {_DAYS}, (values"
            " ('key_aaaaaa1', 'agent', 'ann', 'Project 00', 5, 3.0),"
            " ('key_bbbbbb2', 'agent', 'bob', 'Project 01', 7, 1.0),"
            " ('key_cccccc3', 'etl', 'cy', null, 1, 0.5),"
            " ('(no key)', null, null, 'Project 00', 2, null))"
            " as k(key, name, owner, project, requests, cost)",
            [END],
        )
    return path


@pytest.fixture
def warehouse(tmp_path):
    return build_warehouse(tmp_path / "w.duckdb")


def read(path):
    return data.read_report_data(path, START, END)


def test_cost_by_model_sums_to_the_mart_every_day(warehouse):
    loaded = read(warehouse)
    wide = shaping.cost_by_model_over_time(loaded.model_daily.frame, START, END)
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
    path = build_warehouse(tmp_path / "w.duckdb", n_projects=50, sections=False)
    loaded = read(path)
    wide = shaping.cost_by_project_over_time(loaded.project_daily.frame, START, END)
    assert list(wide.columns[:3]) == ["Project 49", "Project 48", "Project 47"]
    assert len(wide.columns) == shaping.TOP_N + 1 and wide.columns[-1] == shaping.OTHER
    expected = sum(range(1, 51)) * 10  # every project, every day of the range
    assert wide.to_numpy().sum() == pytest.approx(expected)
    assert wide[shaping.OTHER].iloc[0] == pytest.approx(sum(range(1, 41)))
    share = shaping.project_share(loaded.project_daily.frame)
    assert share.sum() == pytest.approx(expected) and share.index[-1] == shaping.OTHER


def test_one_project_is_shown_alone(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", n_models=1, n_projects=1, sections=False)
    loaded = read(path)
    wide = shaping.cost_by_project_over_time(loaded.project_daily.frame, START, END)
    assert list(wide.columns) == ["Project 00"]
    assert list(shaping.project_share(loaded.project_daily.frame).index) == ["Project 00"]


def test_eleven_labels_are_never_grouped_into_a_single_other(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", n_models=11, sections=False)
    wide = shaping.cost_by_model_over_time(read(path).model_daily.frame, START, END)
    assert shaping.OTHER not in wide.columns and len(wide.columns) == 11


def test_token_mix_splits_input_into_cached_and_uncached(warehouse):
    mix = shaping.token_mix(read(warehouse).model_daily.frame, START, END)
    day = mix.iloc[0]
    assert day["cached_input_tokens"] == 3 * 250
    assert day["uncached_input_tokens"] == 3 * 750
    assert day["output_tokens"] == 3 * 400
    assert day["cached_share"] == pytest.approx(0.25)


def _headline(loaded: data.ReportData, start: dt.date = START) -> shaping.Headline:
    projected = shaping.projected_month(loaded.projected_month.frame)
    return shaping.headline(loaded.headline_daily.frame, start, END, projected)


def test_headline_figures(warehouse):
    head = _headline(read(warehouse))
    assert head.billed == pytest.approx(6 * 10)  # 1 + 2 + 3 USD a day, 10 days
    assert head.estimated == pytest.approx(6 * 0.9 * 10)
    assert head.previous_billed == pytest.approx(60)
    assert head.change_pct == pytest.approx(0)
    assert head.month_label == "March 2025" and head.month_to_date == pytest.approx(60)
    # the monthly marts' projection for March, every organization and project
    assert head.projected_month == pytest.approx(MARCH_PROJECTION)


def test_the_projection_is_the_monthly_marts_and_named_as_such(warehouse, tmp_path):
    out = tmp_path / "report.html"
    render.render_report(warehouse, out, START, END, TODAY)
    card = out.read_text().split("Projected month total", 1)[1].split("</div></div>", 1)[0]
    assert page.money(MARCH_PROJECTION) in card
    assert "linear month-to-date projection from the marts" in card


def test_without_the_monthly_mart_the_projection_is_unknown(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        con.execute("drop table marts.cost_by_project_monthly")
    assert _headline(read(warehouse)).projected_month is None
    out = tmp_path / "report.html"
    render.render_report(warehouse, out, START, END, TODAY)
    card = out.read_text().split("Projected month total", 1)[1].split("</div></div>", 1)[0]
    assert "n/a" in card


def test_a_month_the_marts_do_not_project_has_no_projection(warehouse):
    april = data.read_report_data(warehouse, START, dt.date(2025, 4, 30))
    assert shaping.projected_month(april.projected_month.frame) is None
    assert shaping.projected_month(None) is None
    assert shaping.projected_month(pd.DataFrame({"projected_billed_cost_usd": [12.5]})) == 12.5


def test_change_is_unknown_without_a_previous_period(warehouse):
    start = dt.date(2025, 2, 1)
    head = _headline(data.read_report_data(warehouse, start, END), start)
    assert head.previous_billed == 0 and head.change_pct is None


def test_requests_matrix_by_model_and_project(warehouse):
    loaded = read(warehouse)
    assert loaded.usage_by_model_project.source == "marts.usage_daily"
    matrix = shaping.requests_matrix(loaded.usage_by_model_project.frame)
    assert matrix.loc["gpt-x", "Project 00"] == 7 * 10
    assert matrix.loc["gpt-y", "Project 01"] == 7 * 10
    assert matrix.loc["gpt-x", "(no project)"] == 10
    assert int(matrix.to_numpy().sum()) == 15 * 10


def test_line_items_sum_over_the_range(warehouse):
    loaded = read(warehouse)
    assert loaded.line_items.source == "marts.cost_by_line_item_daily"
    items = shaping.line_item_costs(loaded.line_items.frame)
    assert items.to_dict() == {"gpt-x, output": 25.0, "gpt-x, input": 15.0, "file search": 0.0}


def test_top_api_keys_have_unique_labels_and_a_trend(warehouse):
    loaded = read(warehouse)
    table, trend = shaping.top_api_keys(loaded.api_keys_daily.frame, START, END)
    assert list(table["label"]) == ["agent (aaaaa1)", "agent (bbbbb2)", "etl", "(no key)"]
    assert list(table["estimated_cost_usd"]) == pytest.approx([30.0, 10.0, 5.0, 0.0])
    assert list(table["requests"]) == [50, 70, 10, 20]
    assert table.loc[2, "project"] is None or table.loc[2, "project"] != table.loc[2, "project"]
    assert list(trend.columns) == list(table["label"])
    assert trend["agent (aaaaa1)"].sum() == pytest.approx(30.0)


def test_estimated_vs_billed_per_day(warehouse):
    frame = shaping.estimated_vs_billed(read(warehouse).daily_totals.frame, START, END)
    assert frame["billed_cost_usd"].sum() == pytest.approx(60)
    assert frame["estimated_cost_usd"].sum() == pytest.approx(54)


def test_sections_without_their_mart_say_so_and_the_page_still_renders(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", sections=False)
    out = tmp_path / "serving" / "report.html"
    result = render.render_report(path, out, START, END, TODAY)
    html_page = out.read_text()
    assert "Not available yet: `marts.cost_by_api_key_daily`" in html_page
    assert "Not available yet: `marts.budget_status`" in html_page
    assert {"Top API keys (agents)", "Budget status", "Cost by line item"} <= set(result.skipped)
    assert result.charts == 5 and html_page.count('class="plotly-graph-div"') == 5
    assert "https://" not in html_page.split("<script", 1)[0]  # nothing fetched by the head


def test_report_is_replaced_atomically_and_readable_by_others(warehouse, tmp_path):
    out = tmp_path / "serving" / "report.html"
    out.parent.mkdir()
    out.write_text("old")
    render.render_report(warehouse, out, START, END, TODAY)
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_missing_warehouse_names_the_command_to_run(tmp_path, capsys):
    with pytest.raises(render.ReportError, match="make demo"):
        render.render_report(tmp_path / "none.duckdb", tmp_path / "r.html")
    assert main(["--start", "2025-03-01"]) == 2
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
    loaded = read(_with_spend_marts(warehouse))
    table = shaping.spend_limits_table(loaded.spend_limits.frame)
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
    alerts = shaping.spend_alerts_table(loaded.spend_alerts.frame)
    assert list(alerts["Scope"]) == ["default (organization)", "Beta"]
    assert list(alerts["Crossed"]) == ["no", "yes"]


def test_several_organizations_are_named_in_the_scope(warehouse):
    limits = [*_LIMITS[:2], ("labs", "organization", None, "labs", 100, "enforcing", 5.0)]
    loaded = read(_with_spend_marts(warehouse, limits, alerts=False))
    table = shaping.spend_limits_table(loaded.spend_limits.frame)
    assert list(table["Scope"]) == [
        "default / (organization)",
        "default / Alpha",
        "labs / (organization)",
    ]


def test_the_budget_section_shows_openais_limits_and_alerts(warehouse, tmp_path):
    out = tmp_path / "serving" / "report.html"
    render.render_report(_with_spend_marts(warehouse), out, START, END, TODAY)
    html_page = out.read_text()
    section = html_page.split("<h2>OpenAI spend limits and alerts</h2>", 1)[1].split("</section>")[
        0
    ]
    assert html_page.index("<h2>Budget status</h2>") < html_page.index("<h2>OpenAI spend limits")
    assert "<td>default (organization)</td><td>7,500.00</td><td>month</td>" in section
    assert "<td>Beta</td><td>500.00</td><td>month</td><td>inactive</td><td>450.00</td>" in section
    assert "<td>90.0</td>" in section  # Beta: 450 of 500 USD
    assert "<td>3,750.00</td>" in section and "<td>yes</td>" in section
    assert "Source: marts.openai_spend_limits, marts.openai_spend_alerts" in section


def test_the_section_says_when_openai_has_no_limits_or_the_marts_are_missing(warehouse, tmp_path):
    out = tmp_path / "serving" / "report.html"
    result = render.render_report(warehouse, out, START, END, TODAY)
    assert "Not available yet: `marts.openai_spend_limits`" in out.read_text()
    assert "OpenAI spend limits and alerts" in result.skipped
    render.render_report(_with_spend_marts(warehouse, [], alerts=False), out, START, END, TODAY)
    assert "No hard limit or alert is set in OpenAI" in out.read_text()


def test_a_range_without_spend_says_so_first(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", n_models=0, n_projects=0, sections=False)
    loaded = read(path)
    assert page.spend_notice(loaded) == (
        f"No spend yet from {START} to {END}: the Costs API billed nothing and no usage was "
        "reported in this range. The charts fill in once the organization uses the API."
    )
    result = render.render_report(path, tmp_path / "report.html", START, END, TODAY)
    assert result.notice == page.spend_notice(loaded)
    html_page = (tmp_path / "report.html").read_text()
    assert f'<p class="note" id="spend-notice">No spend yet from {START} to {END}' in html_page


def test_usage_the_costs_api_did_not_bill_is_named_as_such(tmp_path):
    path = build_warehouse(tmp_path / "w.duckdb", sections=False)
    with duckdb.connect(str(path)) as con:
        con.execute("update marts.cost_by_model_daily set billed_cost_usd = 0")
    notice = page.spend_notice(read(path))
    assert notice.startswith(f"No billed spend from {START} to {END}: usage was reported")


def test_a_range_with_spend_has_no_notice(warehouse, tmp_path):
    assert page.spend_notice(read(warehouse)) is None
    result = render.render_report(warehouse, tmp_path / "report.html", START, END, TODAY)
    assert result.notice is None and "spend-notice" not in (tmp_path / "report.html").read_text()


def test_drawable_gives_the_frame_or_the_note_that_replaces_the_charts():
    absent = data.Loaded(None, "marts.cost_by_user_daily")
    empty = data.Loaded(pd.DataFrame({"requests": []}), "marts.usage_daily")
    idle = data.Loaded(pd.DataFrame({"requests": [0, 0]}), "marts.usage_daily")
    busy = data.Loaded(pd.DataFrame({"requests": [0, 3]}), "marts.usage_daily")

    section = page.Section("t", "")
    assert page.drawable(section, absent) is None
    assert section.note.startswith("Not available yet: `marts.cost_by_user_daily`")
    assert section.note.endswith("(built by dbt).") and section.source is None

    section = page.Section("t", "")
    assert page.drawable(section, absent, later=None) is None
    assert section.note == "No data in this date range."

    section = page.Section("t", "")
    assert page.drawable(section, empty) is None
    assert section.note == "No data in this date range."
    assert section.source == "marts.usage_daily"

    def some_requests(frame):
        return frame["requests"].sum() > 0

    section = page.Section("t", "")
    assert page.drawable(section, idle, has_rows=some_requests) is None
    assert section.note == "No data in this date range."

    section = page.Section("t", "")
    assert page.drawable(section, busy, has_rows=some_requests) is busy.frame
    assert section.note is None and section.source == "marts.usage_daily"

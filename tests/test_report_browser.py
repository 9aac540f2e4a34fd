"""The spend report in a real browser: built by the Dagster job, opened from `file://` offline.

Uses Debian's Chromium at /usr/bin/chromium through Playwright (never a downloaded browser).
The test fails, not skips, when Chromium is missing: `.ci/run` installs it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from assets.schedules import partition_range_tags, refresh_job
from simulator import ADMIN_KEY, SimulatorConfig, start_simulator

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DAYS = 3

_CHARTS_JS = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    id: el.id,
    traces: (el.data || []).length,
    points: (el.calcdata || []).reduce((n, trace) => n + trace.length, 0),
    drawn: el.querySelectorAll('g.trace, g.slice, g.hm').length,
}))
"""


def _materializations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetMaterialization]:
    events = result.get_asset_materialization_events()
    return {
        e.event_specific_data.materialization.asset_key.to_user_string(): (
            e.event_specific_data.materialization
        )
        for e in events
    }


@pytest.fixture
def built_report(monkeypatch, tmp_path):
    """Run the whole job for a few days on the simulator; return its materializations."""
    today = dt.datetime.now(dt.UTC).date()
    with start_simulator(SimulatorConfig(seed=11)) as sim:
        monkeypatch.setenv("OPENAI_BASE_URL", sim.base_url)
        monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
        monkeypatch.setenv("USAGE_START_DATE", (today - dt.timedelta(days=60)).isoformat())
        from assets.definitions import defs

        job = defs().resolve_job_def(refresh_job.name)
        first = (today - dt.timedelta(days=DAYS - 1)).isoformat()
        with dg.instance_for_test() as instance:
            result = job.execute_in_process(
                instance=instance,
                tags=partition_range_tags(first, today.isoformat()),
                raise_on_error=False,
            )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return _materializations(result)


def test_report_renders_offline_in_chromium(built_report, tmp_path):
    # Dagster side: the report links to its file; marts carry row counts and top rows.
    report_meta = built_report["report"].metadata
    path = Path(report_meta["path"].value)
    assert path == tmp_path / "warehouse" / "serving" / "report.html" and path.exists()
    assert report_meta["url"].value == path.as_uri()
    mart = built_report["marts/cost_by_model_daily"].metadata
    assert mart["dagster/row_count"].value > 0
    assert mart["top_rows"].value.startswith("| usage_date | model |")

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function(
                "[...document.querySelectorAll('.js-plotly-plot')]"
                ".every(el => el.querySelector('.main-svg'))"
            )
            charts = page.evaluate(_CHARTS_JS)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()

    assert errors == []
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    ids = {chart["id"] for chart in charts}
    assert {"chart-cost-by-model", "chart-cost-by-project", "chart-tokens"} <= ids
    assert len(charts) >= 7, charts  # every section but budgets has data in a simulated run
    for chart in charts:
        assert chart["traces"] > 0 and chart["points"] > 0 and chart["drawn"] > 0, chart

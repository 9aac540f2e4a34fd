"""Smoke test of the benchmark harness (`make bench`): a few days, one repetition."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from bench import requests_min

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_minimum_requests_and_bound():
    """A year at 1h is 8760 buckets: 53 pages of 168; costs 365 days: 3 pages of 180."""
    start, end = 1_700_006_400, 1_700_006_400 + 365 * 86400  # a UTC midnight
    hourly = {"start_time": (str(start),), "end_time": (str(end),), "bucket_width": ("1h",)}
    path = "/v1/organization/usage/completions"
    assert requests_min.bucket_count(hourly, now=end + 1, daily=False) == 8760
    assert requests_min.max_limit(path, "1h") == 168
    daily = {"start_time": (str(start),), "end_time": (str(end),)}
    assert requests_min.bucket_count(daily, now=end, daily=True) == 365
    # 60 requests, 10 at once then 1 a second: 50 s plus one latency; the chain is shorter.
    assert requests_min.wall_bound(60, 53, 0.15, 1.0, 10) == 50.15
    assert requests_min.wall_bound(5, 5, 0.15, None, 10) == 0.75


def test_bench_harness_smoke(tmp_path):
    """`python -m bench --quick --only requests`: JSON shape, and no request beyond the minimum."""
    out = tmp_path / "quick.json"
    env = {**os.environ, "BENCH_QUICK": "1", "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "requests", "--out", str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert {"machine", "config", "scenarios", "targets", "total_wall_s"} <= results.keys()
    assert results["config"]["quick"] is True
    requests = results["scenarios"]["requests"]
    assert "error" not in requests, requests.get("error")
    for width in ("1d", "1h"):
        summary = requests[width]
        assert summary["totals"]["minimum"] > 0
        assert summary["ratio_issued"]["max"] == 1.0, summary["endpoints"]
        assert {"usage/completions", "costs"} <= {
            p.split("organization/")[-1] for p in summary["endpoints"]
        }
    assert out.with_suffix(".md").read_text().startswith("### 2. Requests")
    # The chart of what ran: well-formed SVG with a bar per width's fetch and bound.
    chart = ElementTree.parse(tmp_path / "quick-requests.svg").getroot()
    bars = [e for e in chart.iter("{http://www.w3.org/2000/svg}rect") if e.get("class") == "bar"]
    assert len(bars) == 4 and all(float(bar.get("width")) > 0 for bar in bars)

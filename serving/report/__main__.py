"""The report command: `python -m serving.report [--start DAY] [--end DAY] [--out FILE]`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from serving.report.render import ReportError, render_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the spend report (report.html).")
    parser.add_argument("--start", help="first UTC day, YYYY-MM-DD (default: 29 days before end)")
    parser.add_argument("--end", help="last UTC day, YYYY-MM-DD (default: today)")
    parser.add_argument("--out", type=Path, help="output file (default: SERVING_DIR/report.html)")
    args = parser.parse_args(argv)
    try:
        start = dt.date.fromisoformat(args.start) if args.start else None
        end = dt.date.fromisoformat(args.end) if args.end else None
    except ValueError:
        print("error: START and END must be dates as YYYY-MM-DD.", file=sys.stderr)
        return 2
    try:
        result = render_report(out=args.out, start=start, end=end)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Spend report {result.start}..{result.end}: {result.path}")
    if result.notice:
        print(f"  {result.notice}")
    for title in result.skipped:
        print(f"  skipped (no data or mart not built yet): {title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

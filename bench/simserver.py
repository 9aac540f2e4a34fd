"""`python -m bench.simserver`: the simulator in its own process, its request log on stdin/out.

Like `python -m simulator`, it prints `SIMULATOR_READY <url>` once it serves. Then each line on
stdin is a command answered by one JSON line: `requests` (the log since the last reset) or
`reset` (forget the log; the rate limiter keeps its state, so rate-limited repetitions each
start a fresh server). It stops on EOF of stdin or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import sys

from simulator import SimulatorConfig, start_simulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.simserver")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--groups-per-hour", type=int, default=100)
    parser.add_argument("--history-days", type=int, default=400)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument("--burst", type=int, default=10)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until stdin closes; answer log commands meanwhile."""
    args = _parse_args(argv)
    config = SimulatorConfig(
        seed=args.seed,
        groups_per_hour_target=args.groups_per_hour,
        history_days=args.history_days,
        latency_ms=args.latency_ms,
        rate_limit_rps=args.rate_limit,
        burst=args.burst,
    )
    with start_simulator(config) as handle:
        print(f"SIMULATOR_READY {handle.base_url}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "requests":
                answer = [r._asdict() for r in handle.requests]
            elif command == "reset":
                handle.reset_requests()
                answer = {"ok": True}
            else:
                answer = {"error": f"unknown command {command!r}"}
            print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

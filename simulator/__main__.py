"""Command line: ``python -m simulator --port P --seed S [--profile fresh] [...]``.

Prints exactly one line, ``SIMULATOR_READY http://127.0.0.1:<port>/v1``, once it accepts
connections, then serves until SIGTERM or SIGINT and exits 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from simulator.config import SimulatorConfig
from simulator.profiles import PROFILES
from simulator.server import start_simulator
from simulator.spend import SPEND_CONTROLS


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="Local OpenAI Administration API simulator."
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic organization")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second")
    parser.add_argument("--burst", type=int, default=10, help="token bucket size")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay before each answer")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of 500/503 answers")
    parser.add_argument("--history-days", type=int, default=400, help="age of the organization")
    parser.add_argument(
        "--groups-per-hour",
        type=int,
        default=None,
        help="benchmark profile: this many usage groups active in every hour",
    )
    parser.add_argument(
        "--spend-controls",
        choices=SPEND_CONTROLS,
        default="some",
        help="spend alerts and limits: some, none, or refused with 403/404",
    )
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="rich",
        help="shape of the organization: rich (default), fresh (nothing used yet) or sparse",
    )
    parser.add_argument(
        "--refuse",
        action="append",
        default=[],
        metavar="PATH=STATUS",
        help="answer STATUS (403, 404, ...) on PATH and below, e.g. organization/invites=403;"
        " repeatable",
    )
    parser.add_argument(
        "--empty",
        action="append",
        default=[],
        metavar="PATH",
        help="list nothing on PATH and below, e.g. organization/projects/*/users; repeatable",
    )
    return parser.parse_args(argv)


def parse_refusals(values: list[str]) -> dict[str, int]:
    """`PATH=STATUS` arguments as the `refuse` setting."""
    refuse = {}
    for value in values:
        path, _, status = value.rpartition("=")
        if not path or not status.isdigit():
            raise SystemExit(
                f"--refuse {value!r}: expected PATH=STATUS, e.g. organization/invites=403"
            )
        refuse[path] = int(status)
    return refuse


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGTERM/SIGINT."""
    args = _parse_args(argv)
    config = SimulatorConfig(
        seed=args.seed,
        rate_limit_rps=args.rate_limit,
        burst=args.burst,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        history_days=args.history_days,
        groups_per_hour_target=args.groups_per_hour,
        spend_controls=args.spend_controls,
        profile=args.profile,
        refuse=parse_refusals(args.refuse),
        empty=args.empty,
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    handle = start_simulator(config, port=args.port)
    print(f"SIMULATOR_READY {handle.base_url}", flush=True)
    try:
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

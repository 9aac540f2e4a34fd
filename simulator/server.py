"""HTTP layer: routing, auth, fault injection and the in-process handle."""

from __future__ import annotations

import fnmatch
import json
import math
import random
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from simulator import incidents, legacy, listings, reports, spend
from simulator.config import ADMIN_PREFIX, KEY_PREFIX, SimulatorConfig
from simulator.org import Organization
from simulator.params import ApiError, Query
from simulator.ratelimit import TokenBucket


class RequestRecord(NamedTuple):
    """One request the simulator received; ``status`` is None while it is being answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None


LEGACY_USAGE_PATH = "/usage"

Route = Callable[[Organization, Query, int, SimulatorConfig, tuple[str, ...]], dict]

# Path pattern (relative to /v1) -> handler.
ROUTES: list[tuple[re.Pattern[str], Route]] = [
    (
        re.compile(r"/organization/usage/completions"),
        lambda org, q, now, cfg, _: reports.usage_completions(org, q, now, cfg.limit_over_max),
    ),
    (
        re.compile(
            r"/organization/usage/(embeddings|moderations|images|audio_speeches|"
            r"audio_transcriptions|vector_stores|code_interpreter_sessions|file_search_calls|"
            r"web_search_calls)"
        ),
        lambda org, q, now, cfg, m: reports.usage_family(
            org, m[0], q, now, cfg.limit_over_max, cfg.legacy_result_names
        ),
    ),
    (
        re.compile(r"/organization/costs"),
        lambda org, q, now, cfg, _: reports.costs(
            org, q, now, cfg.limit_over_max, cfg.costs_api_key_grouping
        ),
    ),
    (
        re.compile(r"/organization/users"),
        lambda org, q, now, cfg, _: listings.list_users(org, q, now),
    ),
    (
        re.compile(r"/organization/projects"),
        lambda org, q, now, cfg, _: listings.list_projects(org, q, now),
    ),
    (
        re.compile(r"/organization/projects/([^/]+)/api_keys"),
        lambda org, q, now, cfg, m: listings.list_project_api_keys(org, m[0], q, now),
    ),
    (
        re.compile(r"/organization/projects/([^/]+)/service_accounts"),
        lambda org, q, now, cfg, m: listings.list_project_service_accounts(org, m[0], q, now),
    ),
    (
        re.compile(r"/organization/projects/([^/]+)/users"),
        lambda org, q, now, cfg, m: listings.list_project_users(org, m[0], q, now),
    ),
    (
        re.compile(r"/organization/admin_api_keys"),
        lambda org, q, now, cfg, _: listings.list_admin_api_keys(org, q, now),
    ),
    (
        re.compile(r"/organization/invites"),
        lambda org, q, now, cfg, _: listings.list_invites(org, q, now),
    ),
    (
        re.compile(r"/organization/spend_alerts"),
        lambda org, q, now, cfg, _: spend.list_alerts(org, None, q, cfg.spend_controls),
    ),
    (
        re.compile(r"/organization/projects/([^/]+)/spend_alerts"),
        lambda org, q, now, cfg, m: spend.list_alerts(org, m[0], q, cfg.spend_controls),
    ),
    (
        re.compile(r"/organization/spend_limit"),
        lambda org, q, now, cfg, _: spend.get_limit(
            org, None, cfg.spend_controls, cfg.spend_limit_unset
        ),
    ),
    (
        re.compile(r"/organization/projects/([^/]+)/spend_limit"),
        lambda org, q, now, cfg, m: spend.get_limit(
            org, m[0], cfg.spend_controls, cfg.spend_limit_unset
        ),
    ),
    (
        re.compile(LEGACY_USAGE_PATH),
        lambda org, q, now, cfg, _: legacy.legacy_usage(org, q, now),
    ),
]


def _route(path: str) -> tuple[Route, tuple[str, ...]] | None:
    """The handler for a ``/v1/...`` path and its captured path parameters."""
    if not path.startswith("/v1/"):
        return None
    for pattern, handler in ROUTES:
        match = pattern.fullmatch(path[3:])
        if match:
            return handler, match.groups()
    return None


def matches(pattern: str, path: str) -> bool:
    """Whether a ``/v1/...`` path is ``pattern`` (relative to /v1, ``*`` for any text, e.g.
    ``organization/projects/*/users``) or lies below it."""
    relative = path.removeprefix("/v1").strip("/")
    pattern = pattern.strip("/")
    return fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(relative, pattern + "/*")


def refused_status(refuse: dict[str, int], path: str) -> int | None:
    """The status ``refuse`` sets for a ``/v1/...`` path (the first pattern that matches)."""
    found = (status for pattern, status in list(refuse.items()) if matches(pattern, path))
    return next(found, None)


def emptied(body: dict) -> dict:
    """A body as an organization with nothing at its endpoint would get it: a list without items,
    a usage or costs page of buckets without results, a legacy usage day of empty sections."""
    if body.get("object") == "page":
        return {**body, "data": [{**b, "results": []} for b in body["data"]]}
    if body.get("object") == "list" and "has_more" in body:
        return {**body, "data": [], "first_id": None, "last_id": None, "has_more": False}
    return {k: [] if isinstance(v, list) else v for k, v in body.items()}


_SERVER_ERRORS = {
    500: "The server had an error while processing your request. Sorry about that!",
    502: "Bad gateway.",
    503: "The server is overloaded or not ready yet.",
    504: "Gateway timeout.",
}


def _unauthorized(missing: bool) -> ApiError:
    # Never echo the key back: logs of the client under test must stay free of secrets.
    if missing:
        message = (
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    else:
        message = (
            "Incorrect API key provided. You can find your API key at "
            "https://platform.openai.com/account/api-keys."
        )
    return ApiError(401, message, param=None, code="invalid_api_key")


def _forbidden() -> ApiError:
    # Third-party clients report this scope for project keys on usage and costs. What
    # the organization lists say is unknown; one message for all keeps client checks simple.
    return ApiError(
        403,
        "You have insufficient permissions for this operation. Missing scopes: api.usage.read. "
        "The Administration API (usage, costs, organization) only accepts admin API keys "
        "(sk-admin-...), which organization owners create; project keys cannot be given "
        "these scopes.",
        param=None,
        code=None,
    )


def _rate_limited(retry_after: int | None) -> ApiError:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return ApiError(
        429,
        "Rate limit reached for requests to the Administration API. Please try again in "
        f"{retry_after or 1}s.",
        type_="requests",
        code="rate_limit_exceeded",
        headers=headers,
    )


def _not_found(method: str, path: str) -> ApiError:
    return ApiError(404, f"Invalid URL ({method} {path})", param=None, code=None)


class SimulatorState:
    """Everything a request handler needs, shared across server threads."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.org = self._build_org(config.seed)
        incidents.install(self.org, config)  # optional runaway-key day (primary org only)
        # Further organizations, each reachable only with its own admin key.
        self.orgs = {key: self._build_org(seed) for key, seed in config.organizations.items()}
        self.limiter = TokenBucket(config.rate_limit_rps, config.burst)
        self.legacy_limiter = TokenBucket(None, 1)
        self._lock = threading.Lock()
        self._records: list[list] = []
        # Fault injection must be reproducible, so it draws from its own seeded generator.
        self._fault_rng = random.Random(f"faults/{config.seed}")
        self._request_seq = 0
        # Injected latency waits through this, so tests can record the delay instead of timing it.
        self.sleep: Callable[[float], None] = time.sleep

    def _build_org(self, seed: int) -> Organization:
        cfg = self.config
        return Organization(
            seed, cfg.now_ts(), cfg.history_days, cfg.groups_per_hour_target, cfg.profile
        )

    def org_for(self, key: str | None) -> Organization:
        """The organization an admin key belongs to (the primary one for unknown keys)."""
        return self.orgs.get(key or "", self.org)

    # -- request log ------------------------------------------------------------------------

    def log_start(self, method: str, path: str, query: Query) -> tuple[list, str]:
        """Record an arriving request; returns its mutable record and its request id."""
        with self._lock:
            record = [method, path, query, None]
            self._records.append(record)
            self._request_seq += 1
            return record, f"req_{self._request_seq:032x}"

    def log_status(self, record: list, status: int) -> None:
        with self._lock:
            record[3] = status  # still fine if the log was reset meanwhile

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return [RequestRecord(*r) for r in self._records]

    def reset_records(self) -> None:
        with self._lock:
            self._records.clear()

    # -- request processing -----------------------------------------------------------------

    def _injected(self) -> ApiError | None:
        """Faults that hit before auth: ``fail_next``, then the rate limit."""
        cfg = self.config
        with self._lock:
            status = cfg.fail_next.pop(0) if cfg.fail_next else None
        if status is not None and status >= 400:  # a code below 400 means "serve normally"
            return self._error_for_status(status)
        self.limiter.configure(cfg.rate_limit_rps, cfg.burst)
        wait = self.limiter.acquire()
        if wait > 0:
            seconds = max(1, cfg.retry_after_s, math.ceil(min(wait, 3600.0)))
            return _rate_limited(seconds if cfg.retry_after_header else None)
        return None

    def _random_server_error(self) -> ApiError | None:
        if self.config.error_rate <= 0:
            return None
        with self._lock:
            hit = self._fault_rng.random() < self.config.error_rate
            status = self._fault_rng.choice((500, 503))
        return self._error_for_status(status) if hit else None

    def _error_for_status(self, status: int) -> ApiError:
        cfg = self.config
        if status == 429:
            return _rate_limited(max(1, cfg.retry_after_s) if cfg.retry_after_header else None)
        if status == 401:
            return _unauthorized(missing=False)
        if status == 403:
            return _forbidden()
        if status == 404:
            return ApiError(404, "Not found (injected by the simulator's configuration).")
        if status >= 500:
            message = _SERVER_ERRORS.get(status, "The server had an error.")
            return ApiError(status, message, type_="server_error")
        return ApiError(status, f"Injected failure with status {status}.")

    def dispatch(self, method: str, path: str, query: Query, authorization: str | None) -> dict:
        """The JSON body for a request, or raise :class:`ApiError`."""
        injected = self._injected()
        if injected is not None:
            raise injected

        token = None
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        if not token or not token.startswith(KEY_PREFIX):
            raise _unauthorized(missing=not authorization)
        is_legacy = path == "/v1" + LEGACY_USAGE_PATH
        # The legacy endpoint answered project keys too.
        if not token.startswith(ADMIN_PREFIX) and not is_legacy:
            raise _forbidden()
        if is_legacy:
            self._legacy_pace()

        injected = self._random_server_error()
        if injected is not None:
            raise injected
        refused = refused_status(self.config.refuse, path)
        if refused is not None:
            raise self._error_for_status(refused)
        route = _route(path)
        if route is None:
            raise _not_found(method, path)
        if method != "GET":
            raise ApiError(405, f"Method {method} is not supported by the simulator for {path}.")
        handler, groups = route
        body = handler(self.org_for(token), query, self.config.now_ts(), self.config, groups)
        if any(matches(pattern, path) for pattern in list(self.config.empty)):
            return emptied(body)
        return body

    def _legacy_pace(self) -> None:
        cfg = self.config
        per_minute = cfg.legacy_requests_per_minute
        self.legacy_limiter.configure(
            None if per_minute is None else per_minute / 60, cfg.legacy_burst
        )
        wait = self.legacy_limiter.acquire()
        if wait > 0:
            seconds = max(1, math.ceil(min(wait, 3600.0)))
            raise _rate_limited(seconds)


class _Handler(BaseHTTPRequestHandler):
    """Answers every method through :meth:`SimulatorState.dispatch`."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its load balancer

    def version_string(self) -> str:
        """The ``Server`` header."""
        return "openai-admin-simulator"

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def do_PATCH(self) -> None:
        self._answer("PATCH")

    def log_message(self, format: str, *args) -> None:
        """Silence per-request logging; ``handle.requests`` is the log."""

    def _answer(self, method: str) -> None:
        state: SimulatorState = self.server.state  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # drain the body so the connection stays usable
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        record, request_id = state.log_start(method, split.path, query)
        latency = state.config.latency_ms
        if latency > 0:
            state.sleep(latency / 1000)
        headers: dict[str, str] = {}
        try:
            body = state.dispatch(method, split.path, query, self.headers.get("Authorization"))
            status = 200
        except ApiError as error:
            status, body, headers = error.status, error.body(), error.headers
        except Exception:  # a simulator bug must still produce a well-formed 500
            traceback.print_exc(file=sys.stderr)
            error = ApiError(500, _SERVER_ERRORS[500], type_="server_error")
            status, body = 500, error.body()
        payload = json.dumps(body, separators=(",", ":")).encode()
        state.log_status(record, status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class SimulatorHandle:
    """A running simulator: its URL, config, organization and request log."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self._state: SimulatorState = server.state  # type: ignore[attr-defined]
        self.port: int = server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    @property
    def config(self) -> SimulatorConfig:
        """The live config; request-time fields may be changed while running."""
        return self._state.config

    @property
    def org(self) -> Organization:
        """The synthetic organization, for ground truth in tests."""
        return self._state.org

    def org_for(self, admin_key: str) -> Organization:
        """The organization served under ``admin_key`` (see ``SimulatorConfig.organizations``)."""
        return self._state.org_for(admin_key)

    def wait_with(self, sleep: Callable[[float], None]) -> None:
        """Replace how injected latency waits, so a test can record the delay it asks for."""
        self._state.sleep = sleep

    def restate(self, days: int, seed: int = 1, admin_key: str | None = None) -> list[int]:
        """Revise the last ``days`` UTC days (today included) of one organization: numbers
        change, a group vanishes, a new group appears, in usage and costs alike. Returns the
        revised day indexes (days since the epoch)."""
        return self._state.org_for(admin_key).restate(days, seed, self.config.now_ts())

    def change_spend_controls(self, seed: int = 0, admin_key: str | None = None) -> dict:
        """Raise the organization limit, flip a project limit's enforcement, remove one alert
        and add another (see ``simulator.spend.change_controls``). Returns what changed."""
        return spend.change_controls(self._state.org_for(admin_key).spend, seed)

    def evolve_directory(self, seed: int = 0, admin_key: str | None = None) -> dict[str, str]:
        """Rename, archive and delete some projects, keys and users of one organization."""
        return self._state.org_for(admin_key).evolve_directory(self.config.now_ts(), seed)

    @property
    def requests(self) -> list[RequestRecord]:
        """Snapshot of ``(method, path, query_dict, status)`` of every request, in order."""
        return self._state.records()

    def reset_requests(self) -> None:
        """Forget the requests received so far."""
        self._state.reset_records()

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_simulator(config: SimulatorConfig | None = None, port: int = 0) -> SimulatorHandle:
    """Serve the simulator on ``127.0.0.1:port`` (0 = a free port) from a background thread."""
    state = SimulatorState(config or SimulatorConfig())
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True  # open keep-alive connections must not block shutdown
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"simulator-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return SimulatorHandle(server, thread)

"""A fault-injecting HTTP proxy on 127.0.0.1, in front of the simulator.

The pipeline points `OPENAI_BASE_URL` at the proxy; the proxy forwards each GET to the simulator
and, while a rule of its fault plan still has uses left, damages the exchange instead: 429 with or
without `Retry-After`, 5xx, a reset connection, a stall past the client's timeout, a truncated or
malformed body, a repeated `next_page` cursor, schema drift, or empty `results`.

Every rule applies a bounded number of times (`count`), so a run always ends. The proxy never
logs request headers: the bearer key passes through it untouched and unrecorded.
"""

from __future__ import annotations

import io
import json
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

# Fields of usage/cost results that the API may leave out (none of them is a key or a count the
# marts are built from), dropped by the `drift` fault.
OPTIONAL_FIELDS = ("input_audio_tokens", "output_audio_tokens", "input_image_tokens", "quantity")

KINDS = (
    "429",
    "429-no-retry-after",
    "5xx",
    "reset",
    "stall",
    "truncate",
    "malformed",
    "repeat-cursor",
    "drift",
    "empty",
)


@dataclass
class FaultRule:
    """One fault: `kind` on requests whose path contains `path`, `count` times after `after`."""

    kind: str
    path: str = "organization/"
    count: int = 1
    after: int = 0
    status: int = 503
    stall_s: float = 5.0
    seen: int = 0
    applied: int = 0
    # Stalls only: how often the client hung up before the stall ended (its timeout worked).
    client_timeouts: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}: use one of {', '.join(KINDS)}")

    def take(self, path: str) -> bool:
        """True when this request is one the rule damages (and counts it as used)."""
        if self.path not in path or self.applied >= self.count:
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        self.applied += 1
        return True


@dataclass
class FaultPlan:
    """The rules of one case; the first rule that takes a request decides its fate."""

    rules: list[FaultRule] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self, path: str) -> FaultRule | None:
        with self.lock:
            self.requests += 1
            for rule in self.rules:
                if rule.take(path):
                    return rule
        return None

    def summary(self) -> dict[str, int]:
        """How often each rule fired (a case whose faults never fired proves nothing)."""
        fired = {f"{i}:{r.kind}@{r.path}": r.applied for i, r in enumerate(self.rules)}
        for rule in self.rules:
            if rule.kind == "stall":
                fired["client_timeouts"] = rule.client_timeouts
        return fired


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silent: nothing about requests (headers included) is written anywhere."""

    def do_GET(self) -> None:
        rule = self.server.plan.pick(self.path)
        if rule is not None and rule.kind in _BEFORE_UPSTREAM:
            _BEFORE_UPSTREAM[rule.kind](self, rule)
            return
        upstream = self._forward()
        if rule is None:
            self._send(upstream.status_code, upstream.content, upstream.headers)
        else:
            _AFTER_UPSTREAM[rule.kind](self, rule, upstream)

    def _forward(self) -> requests.Response:
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization",)}
        return requests.get(self.server.upstream + self.path, headers=headers, timeout=60)

    def _send(self, status: int, body: bytes, headers: Any = None, length: int | None = None):
        self.send_response(status)
        content_type = (headers or {}).get("Content-Type", "application/json")
        self.send_header("Content-Type", content_type)
        if headers and "Retry-After" in headers:
            self.send_header("Retry-After", headers["Retry-After"])
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def reset(self) -> None:
        """Close the socket with RST (SO_LINGER 0): what a dropped connection looks like."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        # The handler's own cleanup must not write to the closed socket.
        self.wfile = io.BytesIO()


def _error_body(status: int, message: str) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": "proxy_fault", "code": status}}
    ).encode()


def _rate_limit(handler: _Handler, rule: FaultRule) -> None:
    headers = {"Retry-After": "1"} if rule.kind == "429" else {}
    handler._send(429, _error_body(429, "Rate limit reached (injected)"), headers)


def _server_error(handler: _Handler, rule: FaultRule) -> None:
    handler._send(rule.status, _error_body(rule.status, "Server error (injected)"))


def _reset(handler: _Handler, rule: FaultRule) -> None:
    handler.reset()


def _stall(handler: _Handler, rule: FaultRule) -> None:
    """Answer nothing for `stall_s` (bounded), noting whether the client hung up first."""
    deadline = time.monotonic() + rule.stall_s
    while time.monotonic() < deadline:
        readable, _, _ = select.select([handler.connection], [], [], 0.1)
        if readable and not _peek(handler.connection):
            rule.client_timeouts += 1
            break
    handler.reset()


def _peek(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1, socket.MSG_PEEK)
    except OSError:
        return b""


def _truncate(handler: _Handler, rule: FaultRule, upstream: requests.Response) -> None:
    body = upstream.content
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
    handler.reset()


def _malformed(handler: _Handler, rule: FaultRule, upstream: requests.Response) -> None:
    # A complete answer (consistent length) whose JSON is cut: a proxy or server bug, not the net.
    body = upstream.content
    handler._send(200, body[: len(body) // 2] + b"\x00garbage")


def _rewrite(handler: _Handler, upstream: requests.Response, change: Any) -> None:
    if upstream.status_code != 200:
        handler._send(upstream.status_code, upstream.content, upstream.headers)
        return
    page = upstream.json()
    change(page)
    handler._send(200, json.dumps(page).encode())


def _repeat_cursor(handler: _Handler, rule: FaultRule, upstream: requests.Response) -> None:
    """Answer a `page=X` request with `next_page=X` again: the client is sent back to page X."""
    cursor = parse_qs(urlsplit(handler.path).query).get("page", [None])[0]

    def change(page: dict[str, Any]) -> None:
        if cursor is not None:
            page["has_more"], page["next_page"] = True, cursor

    _rewrite(handler, upstream, change)


def _drift(handler: _Handler, rule: FaultRule, upstream: requests.Response) -> None:
    def change(page: dict[str, Any]) -> None:
        page["new_top_level_field"] = {"added": "2026-11"}
        for bucket in page.get("data", []):
            bucket["new_bucket_field"] = [1, 2, 3]
            for result in bucket.get("results") or bucket.get("result") or []:
                result["new_result_field"] = "drift"
                result["new_nested_field"] = {"a": None}
                for name in OPTIONAL_FIELDS:
                    result.pop(name, None)

    _rewrite(handler, upstream, change)


def _empty(handler: _Handler, rule: FaultRule, upstream: requests.Response) -> None:
    def change(page: dict[str, Any]) -> None:
        for bucket in page.get("data", []):
            bucket["results"] = []

    _rewrite(handler, upstream, change)


_BEFORE_UPSTREAM = {
    "429": _rate_limit,
    "429-no-retry-after": _rate_limit,
    "5xx": _server_error,
    "reset": _reset,
    "stall": _stall,
}
_AFTER_UPSTREAM = {
    "truncate": _truncate,
    "malformed": _malformed,
    "repeat-cursor": _repeat_cursor,
    "drift": _drift,
    "empty": _empty,
}


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients hanging up on injected faults are the point, not an error."""

    def __init__(self, upstream: str, plan: FaultPlan) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream.rstrip("/")
        self.plan = plan


class FaultProxy:
    """`with FaultProxy(sim_root, plan) as proxy:` then use `proxy.base_url` as the API root.

    `upstream` is the simulator's root including `/v1`; the proxy keeps the same path layout.
    """

    def __init__(self, upstream: str, plan: FaultPlan | None = None) -> None:
        split = urlsplit(upstream)
        if split.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError("the fault proxy forwards to loopback only")
        self.plan = plan or FaultPlan()
        self._server = _ProxyServer(f"{split.scheme}://{split.netloc}", self.plan)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}{split.path}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

"""Record usage pages from the simulator once, then serve them again from disk.

`record` fetches every page of one query with a plain requests loop and writes each body as it
came (`page_0000.json`, ...) plus `index.json` (cursor -> file). DuckDB's `read_json` baseline
reads those files; `serve` answers the same requests from them, so a client measured against
the replayer pays for HTTP and its own work only, not for the simulator computing the pages.

`python -m bench.replay serve DIR` prints `SIMULATOR_READY <url>` like the simulator.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

FIRST = ""  # index key of the page asked for without a cursor


def record(base_url: str, api_key: str, path: str, params: dict[str, Any], out: Path) -> dict:
    """Fetch every page of `path` with `params` into `out`; returns pages, bytes and rows."""
    out.mkdir(parents=True, exist_ok=True)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"
    index: dict[str, str] = {}
    cursor, total_bytes, rows = FIRST, 0, 0
    while True:
        query = {**params, **({"page": cursor} if cursor else {})}
        response = session.get(f"{base_url}/{path}", params=query, timeout=300)
        response.raise_for_status()
        name = f"page_{len(index):04d}.json"
        (out / name).write_bytes(response.content)
        index[cursor] = name
        total_bytes += len(response.content)
        body = response.json()
        rows += sum(len(bucket["results"]) for bucket in body["data"])
        if not body.get("has_more"):
            break
        cursor = body["next_page"]
    (out / "index.json").write_text(json.dumps({"path": "/v1/" + path, "pages": index}))
    return {"pages": len(index), "bytes": total_bytes, "rows": rows}


class _Replay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the simulator

    def log_message(self, format: str, *args: Any) -> None:
        """No per-request logging."""

    def do_GET(self) -> None:
        server: Any = self.server
        split = urlsplit(self.path)
        cursor = parse_qs(split.query).get("page", [FIRST])[-1]
        name = server.pages.get(cursor) if split.path == server.path else None
        if name is None:
            payload, status = b'{"error":{"message":"not recorded","type":"x"}}', 404
        else:
            payload, status = (server.root / name).read_bytes(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def serve(root: Path) -> None:
    """Serve the pages recorded in `root` on a free port until terminated."""
    index = json.loads((root / "index.json").read_text())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    server.daemon_threads = True
    server.root, server.path, server.pages = root, index["path"], index["pages"]  # type: ignore[attr-defined]
    print(f"SIMULATOR_READY http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        sys.exit("usage: python -m bench.replay serve DIR")
    serve(Path(sys.argv[2]))

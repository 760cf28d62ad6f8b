"""A local HTTP server for fake AUR endpoints: shared by tests/arch and benchmarks/bench_search."""

from __future__ import annotations

import http.server
import threading


def reply(handler: http.server.BaseHTTPRequestHandler, body: bytes, ctype: str, *,
          status: int = 200, headers: dict[str, str] | None = None) -> None:
    """Answer `status` (200) with `body` and any extra headers."""
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def start(handler: type[http.server.BaseHTTPRequestHandler],
          ) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve on 127.0.0.1 (a free port) in a daemon thread; returns the server and its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"

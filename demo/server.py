"""The bundled sample site, served on 127.0.0.1 the way real speech sites serve such pages.

Charset headers are served as real sites get them wrong: correct for some pages, missing for a
GB2312 government page, *wrong* for a Big5 mirror. ``/calendar`` is an endless link trap.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SITE = Path(__file__).resolve().parent / "site"
DEMO_SOURCE = Path(__file__).resolve().parent / "source.toml"  # sources/demo.toml links here
# Content-Type per path prefix; the first match wins.
CONTENT_TYPES = (("/wenmi/", "text/html; charset=gbk"), ("/gov/", "text/html"),
                 ("/tw/", "text/html; charset=utf-8"), ("/", "text/html; charset=utf-8"))


class Handler(BaseHTTPRequestHandler):
    server_version = "demo-site/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        if parts.path == "/calendar":
            day = parse_qs(parts.query).get("d", ["2026-11-01"])[0]
            nxt = date.fromisoformat(day) + timedelta(days=1)
            html = f'<html><body><p>{day}</p><a href="/calendar?d={nxt}">后一天</a></body></html>'
            return self._send(200, html.encode(), "text/html; charset=utf-8")
        path = parts.path + ("index.html" if parts.path.endswith("/") else "")
        file = (SITE / path.lstrip("/")).resolve()
        if SITE not in file.parents or not file.is_file():
            return self._send(404, b"<html><body>404 Not Found</body></html>", "text/html; charset=utf-8")
        body = file.read_bytes()
        if file.suffix == ".xml":
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
            body = body.replace(b"{base}", f"http://{host}".encode())
            return self._send(200, body, "application/xml")
        if file.suffix == ".txt":
            return self._send(200, body, "text/plain")
        content_type = next(ct for prefix, ct in CONTENT_TYPES if parts.path.startswith(prefix))
        self._send(200, body, content_type)


class LocalServer:
    """Serve ``handler`` on a free port of 127.0.0.1 for as long as the ``with`` block runs."""

    handler: type[BaseHTTPRequestHandler]

    def __enter__(self) -> LocalServer:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class DemoSite(LocalServer):
    """The sample site, served for as long as the ``with`` block runs."""

    handler = Handler

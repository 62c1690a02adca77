"""A speech site on 127.0.0.1 that tests change between crawls: articles added, edited, redesigned.

It serves ETag and Last-Modified and answers conditional requests with 304, as real servers do,
logs every request with its headers, and can be slow (``delay``) so a crawl can be killed mid-run.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from demo.server import LocalServer
from tests.dedup.labelled import bases


@dataclass
class Page:
    body: bytes
    last_modified: str = field(default_factory=lambda: formatdate(time.time(), usegmt=True))
    content_type: str = "text/html; charset=utf-8"

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest() + '"'


def article_html(title: str, text: str, layout: str = "article") -> bytes:
    """An article page; ``layout="app"`` is a redesign that renders the text with JavaScript instead."""
    if layout == "app":
        return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><div id='app'></div>"
                "<script src='/bundle.js'></script></body></html>").encode()
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n") if p.strip())
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><div class='crumbs'>首页 > 讲话</div>"
            f"<div class='article'><h1>{title}</h1>{paras}</div><div class='footer'>版权所有</div></body></html>").encode()


class ChangingSite(LocalServer):
    """``with ChangingSite(n) as site``: n articles listed on /index.html, served until the block ends."""

    def __init__(self, articles: int = 3, delay: float = 0.0) -> None:
        self.texts = bases()
        self.delay = delay
        self.hold_after: int | None = None  # article requests past this many wait until release()
        self.gate = threading.Event()
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        for n in range(articles):
            self.add_article(n)

    # --- changing the site ------------------------------------------------------------------------
    def add_article(self, n: int, layout: str = "article") -> str:
        path = f"/a/{n}.html"
        self.set(path, article_html(f"讲话第{n}篇", self.texts[n % len(self.texts)], layout))
        self._relist()
        return path

    def edit_article(self, n: int, new_sentence: str) -> None:
        text = self.texts[n % len(self.texts)]
        self.set(f"/a/{n}.html", article_html(f"讲话第{n}篇", text + "\n" + new_sentence))

    def set(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        with self.lock:
            self.pages[path] = Page(body, content_type=content_type)
        if path.startswith("/a/"):
            self._relist()

    def _relist(self) -> None:
        links = "".join(f'<li><a href="{p}">{p}</a></li>' for p in sorted(self.pages) if p.startswith("/a/"))
        with self.lock:
            self.pages["/index.html"] = Page(f"<html><body><ul>{links}</ul></body></html>".encode())

    def hold(self, after: int) -> None:
        """Serve ``after`` more article requests, then hold the rest until ``release``: a crawl is
        caught mid-run however fast the machine is."""
        self.gate.clear()
        self.hold_after = len(self.article_requests()) + after

    def release(self) -> None:
        self.hold_after = None
        self.gate.set()

    def article_requests(self) -> list[tuple[str, dict[str, str]]]:
        return [(p, h) for p, h in self.requests if p.startswith("/a/")]

    def source_file(self, folder: Path, **extra: object) -> Path:
        lines = ['name = "changing"', f'base_url = "{self.url}"', 'start_urls = ["/index.html"]',
                 'list_patterns = ["/index\\\\.html$"]', 'article_patterns = ["/a/\\\\d+\\\\.html$"]',
                 'site = "变化网"']
        lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
        lines += ["[politeness]", "delay = 0", "concurrency = 1", "[selectors]", 'title = "h1"',
                  'body = "div.article"']
        path = folder / "changing.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # --- serving -----------------------------------------------------------------------------------
    def __enter__(self) -> ChangingSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                if self.path == "/robots.txt":
                    return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                with site.lock:
                    page = site.pages.get(self.path)
                if page is None:
                    return self._send(404, b"<html><body>not found</body></html>")
                if self.path.startswith("/a/") and site.hold_after is not None \
                        and len(site.article_requests()) > site.hold_after:
                    site.gate.wait(timeout=120)
                if self.path.startswith("/a/") and site.delay:
                    time.sleep(site.delay)
                if self.headers.get("If-None-Match") == page.etag:
                    self.send_response(304)
                    self.send_header("ETag", page.etag)
                    self.end_headers()
                    return None
                return self._send(200, page.body, page.content_type,
                                  extra={"ETag": page.etag, "Last-Modified": page.last_modified})

            def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
                      extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.handler = Handler
        super().__enter__()
        return self

"""A speech site on 127.0.0.1 that does everything wrong at once, for one crawl to survive.

Good speeches hide behind faults a crawler must get through: charsets missing or lying (GBK,
Big5), markup with NUL bytes and unclosed tags, 10,000 nested divs, a 503 storm, 429 with
Retry-After, a redirect chain. Around them, faults a crawler must not be hurt by: a redirect loop,
a 5 MB page of random characters, a 60 MB page, a gzip bomb, a stalled response, a reset
connection, a body shorter than its Content-Length, a page of 20,000 links, a PDF and a JPEG at
article addresses, a 70,000-character link, session-id links, endless calendar and pagination, and
a section robots.txt forbids. ``tests/test_faults.py`` crawls it; ``bench/memory.py`` reports the
crawl's peak memory.
"""

from __future__ import annotations

import gzip
import html
import io
import random
import socket
import struct
import time
from collections import Counter

from cleaners.chars import to_traditional
from tests.sites import Site, article, links, page, speech

GOOD = {  # path: (how it is served, charset of its bytes)
    "/a/plain.html": ("plain", "utf-8"), "/a/gbk-bare.html": ("no charset anywhere", "gbk"),
    "/a/big5-bare.html": ("no charset anywhere", "big5hkscs"), "/a/big5-lying.html": ("declares gbk", "big5hkscs"),
    "/a/nul.html": ("NUL bytes, unclosed tags", "utf-8"), "/a/deep.html": ("10,000 nested divs", "utf-8"),
    "/a/storm.html": ("503 twice first", "utf-8"), "/a/busy.html": ("429 with Retry-After first", "utf-8"),
    "/a/moved.html": ("end of a redirect chain", "utf-8"),
}
BAD = ("/junk.html", "/huge.html", "/bomb.html", "/stall.html", "/reset.html", "/short.html", "/loop/a",
       "/r/1", "/links.html", "/a/report.html", "/a/photo.html", "/calendar", "/list")


def _encodable(text: str, charset: str) -> str:
    return "".join(ch for ch in text if ch.encode(charset, errors="ignore"))


def _random_text(chars: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(chars))


def _bomb(decompressed: int) -> bytes:
    """gzip of ``decompressed`` zero bytes, written in chunks so building it stays small."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        block = bytes(1 << 20)
        for _ in range(decompressed >> 20):
            gz.write(block)
    return out.getvalue()


class FaultSite(Site):
    name = "faults"
    robots = "User-agent: *\nDisallow: /private/\n"

    def build(self) -> None:
        self.texts: dict[str, list[str]] = {}
        self.hits: Counter[str] = Counter()
        titles = {}
        for n, (path, (how, charset)) in enumerate(GOOD.items()):
            title, paras = speech(n)  # whole texts, in their order: each page one speech
            if charset.startswith("big5"):  # a Taiwan or Hong Kong mirror: traditional script, in what Big5 can say
                title, paras = (_encodable(to_traditional(t), charset) for t in (title, "\n".join(paras)))
                paras = paras.split("\n")
            self.texts[path], titles[path] = paras, title
            head = "" if how == "no charset anywhere" else ("gbk" if how == "declares gbk" else charset)
            markup = page(title, article(title, paras, "<a href='/'>首页</a>"), charset=head)
            if how == "no charset anywhere":
                markup = markup.replace('<meta http-equiv="Content-Type" content="text/html; charset=">', "")
            if how == "NUL bytes, unclosed tags":
                markup = markup.replace("</p>", "\x00").replace("<div class='content'>", "<div class='content'><b><i>")
            if how == "10,000 nested divs":
                markup = markup.replace("<div class='article'>", "<div>" * 10_000 + "<div class='article'>")
            self.pages[path] = markup.encode(charset, errors="strict")
        self.articles = set(GOOD)
        long_link = "/x/" + "a" * 70_000 + ".html"
        listing = links([(p if "moved" not in p else "/r/1", titles[p]) for p in GOOD] + [
            ("/a/report.html", "年度工作报告全文下载"), ("/a/photo.html", "会议现场图片集锦欣赏"),
            (f"{next(iter(GOOD))}?sid=abc123", "在全县组织工作会议上的讲话"), ("/private/secret.html", "内部讲话稿请勿外传"),
        ])
        faults = " ".join(f"<a href='{p}'>{p}</a>" for p in BAD if p != "/r/1") + f" <a href='{long_link}'>长链接</a>"
        self.add("/", page("故障站", listing + faults + " <a href='/calendar?d=2026-11-01'>日历</a> <a href='/list?page=2'>下一页</a>"))
        self.pages["/junk.html"] = page("资料", f"<p>{_random_text(1_700_000)}</p>").encode("utf-8")
        self.pages["/links.html"] = page("索引", " ".join(f"<a href='/x/{i}.html'>第{i}篇</a>" for i in range(20_000))).encode()
        self.pages["/private/secret.html"] = page("内部", article("内部讲话", speech(200)[1])).encode()
        self.bomb = _bomb(64 << 20)  # eight times the largest page a crawl takes

    def dynamic(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, str] | None:
        with self.lock:
            self.hits[path] += 1
            hits = self.hits[path]
        if path == "/a/storm.html" and hits <= 2:
            return 503, b"<html><body>Service Unavailable</body></html>", "text/html"
        if path == "/a/report.html":
            return 200, b"%PDF-1.4\n" + bytes(range(256)) * 40, "application/pdf"
        if path == "/a/photo.html":
            return 200, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40, "image/jpeg"
        if path == "/calendar":
            day = query.get("d", ["2026-11-01"])[0]
            return 200, page("日历", f"<a href='/calendar?d={day}x'>后一天</a>").encode(), "text/html"
        if path == "/list":
            n = int(query.get("page", ["2"])[0])
            body = links([(p, speech(i)[0]) for i, p in enumerate(GOOD)]) + f"<a href='/list?page={n + 1}'>下一页</a>"
            return 200, page("列表", body).encode(), "text/html; charset=utf-8"
        return None

    def __enter__(self) -> FaultSite:
        super().__enter__()
        site, plain = self, self.handler

        class Faulty(plain):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                special = {"/a/busy.html": self._busy, "/a/moved.html": None, "/r/1": self._chain, "/r/2": self._chain,
                           "/r/3": self._chain, "/loop/a": self._loop, "/loop/b": self._loop, "/huge.html": self._huge,
                           "/bomb.html": self._bomb, "/stall.html": self._stall, "/reset.html": self._reset,
                           "/short.html": self._short}
                if special.get(path) is None:
                    return super().do_GET()
                with site.lock:
                    site.requests.append(self.path)
                    site.hits[path] += 1
                return special[path](path, site.hits[path])

            def _head(self, status: int, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()

            def _busy(self, path: str, hits: int) -> None:
                if hits == 1:
                    return self._head(429, {"Retry-After": "1", "Content-Length": "0"})
                return super().do_GET()

            def _chain(self, path: str, hits: int) -> None:
                target = {"/r/1": "/r/2", "/r/2": "/r/3", "/r/3": "/a/moved.html"}[path]
                self._head(301, {"Location": target, "Content-Length": "0"})

            def _loop(self, path: str, hits: int) -> None:
                self._head(302, {"Location": "/loop/b" if path == "/loop/a" else "/loop/a", "Content-Length": "0"})

            def _huge(self, path: str, hits: int) -> None:
                size = 60 << 20
                self._head(200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(size)})
                chunk = ("<p>" + "讲话" * 1000 + "</p>").encode()
                try:
                    sent = 0
                    while sent < size:
                        self.wfile.write(chunk[: size - sent])
                        sent += len(chunk)
                except OSError:
                    pass  # the crawler gave up on it, as it should

            def _bomb(self, path: str, hits: int) -> None:
                self._head(200, {"Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": str(len(site.bomb))})
                try:
                    self.wfile.write(site.bomb)
                except OSError:
                    pass

            def _stall(self, path: str, hits: int) -> None:
                self._head(200, {"Content-Type": "text/html", "Content-Length": "100000"})
                self.wfile.write(b"<html><body><p>")
                time.sleep(4)

            def _reset(self, path: str, hits: int) -> None:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()

            def _short(self, path: str, hits: int) -> None:
                self._head(200, {"Content-Type": "text/html", "Content-Length": "50000"})
                self.wfile.write(page("短", "<p>" + html.escape("内容不全") + "</p>").encode())
                self.close_connection = True

        self.httpd.RequestHandlerClass = Faulty
        return self

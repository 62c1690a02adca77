"""A family of speech sites on 127.0.0.1 for discovery tests and ``bench/discover.py``.

Each is built the way a kind of real site is, with the traps such sites set: a 范文 site with
sections, paginated lists, tag pages and a two-page article; a document site whose documents are
reachable only through the sitemap robots.txt names; a news site whose feed lists more than its
pages do, with an endless calendar and an archive by date; a GBK site of ``show.asp?id=N`` pages
with no charset in its headers; a site whose links carry session ids and tokens, repeat path
segments without end, and lead into a section robots.txt forbids.

Every site knows its speech pages (``articles``), the hand-written patterns an archivist would
give it, and logs each request it answers.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from demo.server import Handler, LocalServer
from tests.dedup.labelled import bases

TITLES = ("在全县组织工作会议上的讲话", "在乡村振兴工作推进会上的发言", "在安全生产工作会议上的讲话", "年度党建工作述职报告",
          "在干部作风建设大会上的讲话", "在全市教育工作会议上的讲话", "在经济工作务虚会上的发言", "在开学典礼上的致辞",
          "在廉政建设警示教育大会上的讲话", "在防汛抗旱工作会议上的讲话", "在招商引资推进会上的讲话", "在老干部座谈会上的讲话")


def speech(n: int) -> tuple[str, list[str]]:
    """The title and paragraphs of the ``n``-th speech: every ``n`` gives a text of its own."""
    texts = bases()
    paras = [p for p in texts[n % len(texts)].split("\n") if p.strip()]
    shift = n // len(texts) % max(1, len(paras))
    return f"{TITLES[n % len(TITLES)]}（{n + 1}）", paras[shift:] + paras[:shift]


def page(title: str, body: str, charset: str = "utf-8", head: str = "") -> str:
    return (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{html.escape(title)}</title>{head}</head><body>{body}</body></html>")


def links(items: list[tuple[str, str]], cls: str = "list") -> str:
    return f"<ul class='{cls}'>" + "".join(f"<li><a href='{u}'>{html.escape(t)}</a></li>" for u, t in items) + "</ul>"


def article(title: str, paras: list[str], before: str = "", after: str = "") -> str:
    text = "".join(f"<p>{html.escape(p)}</p>" for p in paras)
    return f"{before}<div class='article'><h1>{html.escape(title)}</h1><div class='content'>{text}</div></div>{after}"


class Site(LocalServer):
    """A site of fixed pages (and a few endless ones, answered by ``dynamic``), served while the
    ``with`` block runs; ``requests`` logs each path asked for."""

    name = "site"
    charset = "utf-8"
    robots = "User-agent: *\nAllow: /\n"
    content_type = "text/html; charset=utf-8"

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.articles: set[str] = set()  # paths of the speech pages (every page of a long one)
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def build(self) -> None:
        """Fill ``pages`` and ``articles``; the server's address is known by now."""
        raise NotImplementedError

    def dynamic(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, str] | None:
        return None

    def patterns(self) -> dict[str, list[str]]:
        """What an archivist would write in the source file by hand."""
        raise NotImplementedError

    def add(self, path: str, markup: str) -> None:
        self.pages[path] = markup.encode(self.charset)

    def source_file(self, folder: Path, hand_written: bool = False) -> Path:
        """The minimal source file (name and start URL), or one with hand-written patterns."""
        lines = [f'name = "{self.name}"', f'start_urls = ["{self.url}/"]', "[politeness]", "delay = 0", "concurrency = 8"]
        if hand_written:
            lines[2:2] = [f"{k} = [" + ", ".join(f"'{p}'" for p in v) + "]" for k, v in self.patterns().items()]
        path = folder / f"{self.name}{'-hand' if hand_written else ''}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def fetched(self, predicate: Callable[[str], bool]) -> int:
        with self.lock:
            return sum(1 for p in self.requests if predicate(p))

    def __enter__(self) -> Site:
        site = self

        class Serve(Handler):  # the demo site's quiet logging and replies; these pages instead of its files
            def do_GET(self) -> None:  # noqa: N802
                with site.lock:
                    site.requests.append(self.path)
                parts = urlsplit(self.path)
                if parts.path == "/robots.txt":
                    return self._send(200, site.robots.replace("{base}", site.url).encode(), "text/plain")
                answer = site.dynamic(parts.path, parse_qs(parts.query))
                if answer is None:
                    body = site.pages.get(self.path)
                    kind = "application/xml" if self.path.endswith(".xml") else site.content_type
                    answer = (200, body, kind) if body is not None else (404, b"<html><body>404</body></html>", "text/html")
                return self._send(*answer)

        self.handler = Serve
        super().__enter__()
        self.build()
        return self


class FanwenSite(Site):
    """Sections with paginated lists (page numbers, 下一页, 尾页), dated article paths, a two-page
    speech, tag pages that list what the sections list, and member pages."""

    name = "fanwen"

    def build(self) -> None:
        nav = ("<div class='nav'><a href='/'>首页</a> <a href='/jianghua/'>领导讲话</a> <a href='/zongjie/'>工作总结</a> "
               "<a href='/about.html'>关于本站</a> <a href='/contact.html'>联系我们</a> <a href='/member/login.php'>登录</a> "
               "<a href='/member/reg.php'>注册</a></div>")
        tags = ["lingdao", "dangjian", "xiangcun", "anquan"]
        speeches = [(f"/jianghua/2024/{3 + n // 9:02d}{10 + n % 17:02d}/{4100 + 7 * n}.html", n) for n in range(22)]
        speeches += [(f"/zongjie/{900 + n}.html", 22 + n) for n in range(6)]
        titles = {p: speech(n)[0] for p, n in speeches}
        for i, (path, n) in enumerate(speeches):
            title, paras = speech(n)
            related = links([(p, titles[p]) for p, _ in speeches[i + 1:i + 4]], "related")
            tagline = "<div class='tags'>" + " ".join(f"<a href='/tag/{t}.html'>{t}</a>" for t in tags[i % 2::2]) + "</div>"
            crumbs = f"<div class='crumbs'><a href='/'>首页</a> &gt; <a href='/{path.split('/')[1]}/'>栏目</a></div>"
            if i == 0:  # a speech in two pages
                second = path.replace(".html", "_2.html")
                half = len(paras) // 2
                self.add(path, page(title, nav + article(title, paras[:half], crumbs, f"<a href='{second}'>下一页</a>" + tagline + related)))
                self.add(second, page(title, nav + article(title, paras[half:], crumbs, f"<a href='{path}'>上一页</a>" + related)))
                self.articles |= {path, second}
            else:
                self.add(path, page(title, nav + article(title, paras, crumbs, tagline + related)))
                self.articles.add(path)
        section = [(p, titles[p]) for p, _ in speeches[:22]]
        pages = [section[k:k + 8] for k in range(0, len(section), 8)]
        names = ["/jianghua/"] + [f"/jianghua/list_{k + 1}.html" for k in range(1, len(pages))]
        for k, items in enumerate(pages):
            numbers = " ".join(f"<a href='{u}'>{j + 1}</a>" for j, u in enumerate(names))
            nxt = f"<a href='{names[k + 1]}'>下一页</a>" if k + 1 < len(pages) else ""
            self.add(names[k], page("领导讲话", nav + links(items) + f"<div class='pages'>{numbers} {nxt} <a href='{names[-1]}'>尾页</a></div>"))
        self.add("/zongjie/", page("工作总结", nav + links([(p, titles[p]) for p, _ in speeches[22:]])))
        for k, t in enumerate(tags):
            self.add(f"/tag/{t}.html", page(t, nav + links([(p, titles[p]) for p, _ in speeches[k::4]])))
        self.add("/", page("范文网", nav + links([(p, titles[p]) for p, _ in speeches[:5]], "latest")))
        self.add("/about.html", page("关于本站", nav + "<p>本站收集整理各类范文，仅供学习参考。</p>"))
        self.add("/contact.html", page("联系我们", nav + "<p>邮箱：admin@example.com</p>"))

    def patterns(self) -> dict[str, list[str]]:
        return {"list_patterns": [r"/$", r"/list_\d+\.html$"], "article_patterns": [r"/(jianghua/\d+/\d+|zongjie)/\d+\.html$"]}


class DocumentSite(Site):
    """A document site: documents under hashed names, listed only in the sitemap that robots.txt
    names (an index of two sitemaps); the pages link search results and an admin area robots forbid."""

    name = "docsite"
    robots = "User-agent: *\nDisallow: /admin/\nSitemap: {base}/sitemap_index.xml\n"

    def build(self) -> None:
        docs = [f"/doc/{hashlib.md5(str(n).encode()).hexdigest()[:16]}.html" for n in range(18)]
        for i, path in enumerate(docs):
            title, paras = speech(40 + i)
            meta = "<ul class='doc-meta'><li>上传者：文库用户</li><li>页数：3页</li><li>下载积分：2</li></ul>"
            side = (f"<div class='side'><a href='/search?q={html.escape(title[:4])}'>搜索相关</a> "
                    f"<a href='/admin/edit?doc={i}'>编辑</a> <a href='{docs[(i + 1) % len(docs)]}'>{speech(41 + i)[0]}</a></div>")
            self.add(path, page(title, article(title, paras, meta, side)))
            self.articles.add(path)
        half = len(docs) // 2
        for k, chunk in enumerate((docs[:half], docs[half:])):
            urls = "".join(f"<url><loc>{self.url}{p}</loc><lastmod>2026-11-0{k + 1}</lastmod></url>" for p in chunk)
            self.add(f"/sitemap-{k}.xml", f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')
        index = "".join(f"<sitemap><loc>{self.url}/sitemap-{k}.xml</loc></sitemap>" for k in range(2))
        self.add("/sitemap_index.xml", f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{index}</sitemapindex>')
        self.add("/", page("文档网", "<form action='/search'><input name='q'></form><a href='/search?q=讲话'>热门搜索</a>"
                           f"<a href='/admin/'>后台</a> <a href='{docs[0]}'>{speech(40)[0]}</a>"))

    def patterns(self) -> dict[str, list[str]]:
        return {"list_patterns": [r"/$"], "article_patterns": [r"/doc/\w+\.html$"], "sitemaps": [f"{self.url}/sitemap_index.xml"]}


class NewsSite(Site):
    """A news-like site: its front page shows three stories, its RSS feed (announced in the page
    head) lists all of them; a calendar of days and an archive by date go on without end."""

    name = "news"

    def build(self) -> None:
        stories = [f"/news/content_{52000 + 3 * n}.htm" for n in range(15)]
        feed = "".join(f"<item><title>{speech(60 + n)[0]}</title><link>{self.url}{p}</link></item>" for n, p in enumerate(stories))
        self.add("/rss.xml", f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{feed}</channel></rss>')
        head = '<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">'
        self.latest = links([(p, speech(60 + n)[0]) for n, p in enumerate(stories[:3])])
        days = "<a href='/news/calendar?date=2026-11-01'>日历</a> <a href='/archive/2026/11/01/'>往期</a>"
        for n, path in enumerate(stories):
            title, paras = speech(60 + n)
            self.add(path, page(title, article(title, paras, "<div class='top'><a href='/'>新闻首页</a></div>", days), head=head))
            self.articles.add(path)
        self.add("/", page("新闻网", days + self.latest, head=head))

    def dynamic(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, str] | None:
        if path == "/news/calendar":
            day = date.fromisoformat(query.get("date", ["2026-11-01"])[0]) + timedelta(days=1)
            return 200, page("日历", f"<a href='/news/calendar?date={day}'>后一天</a>" + self.latest).encode(), self.content_type
        found = re.fullmatch(r"/archive/(\d{4})/(\d\d)/(\d\d)/", path)
        if found:
            day = date(*map(int, found.groups())) + timedelta(days=1)
            return 200, page("往期", f"<a href='/archive/{day:%Y/%m/%d}/'>后一天</a>" + self.latest).encode(), self.content_type
        return None

    def patterns(self) -> dict[str, list[str]]:
        return {"list_patterns": [r"/$"], "article_patterns": [r"/news/content_\d+\.htm$"], "feeds": [f"{self.url}/rss.xml"]}


class GbkSite(Site):
    """An old ASP site in GBK that names its charset only in a meta tag: ``list.asp?page=N`` lists,
    ``show.asp?id=N`` speeches."""

    name = "gbk"
    charset = "gbk"
    content_type = "text/html"

    def build(self) -> None:
        ids = [100 + 5 * n for n in range(12)]
        titles = {i: speech(80 + n)[0] for n, i in enumerate(ids)}
        for n, i in enumerate(ids):
            title, paras = speech(80 + n)
            self.add(f"/show.asp?id={i}", page(title, article(title, paras, "<a href='/'>返回首页</a>"), charset="gbk"))
            self.articles.add(f"/show.asp?id={i}")
        pages = [ids[k:k + 5] for k in range(0, len(ids), 5)]
        for k, chunk in enumerate(pages):
            numbers = " ".join(f"<a href='/list.asp?page={j + 1}'>{j + 1}</a>" for j in range(len(pages)))
            self.add(f"/list.asp?page={k + 1}", page("文章列表", links([(f"/show.asp?id={i}", titles[i]) for i in chunk]) + numbers, "gbk"))
        self.add("/", page("公文写作", "<a href='/list.asp?page=1'>文章列表</a>", "gbk"))

    def patterns(self) -> dict[str, list[str]]:
        return {"list_patterns": [r"/$", r"/list\.asp\?page=\d+$"], "article_patterns": [r"/show\.asp\?id=\d+$"]}


class TrapSite(Site):
    """Links with session ids and tokens, a relative link that nests a segment deeper on every
    page, and speeches in a section robots.txt forbids."""

    name = "traps"
    robots = "User-agent: *\nDisallow: /private/\n"

    def build(self) -> None:
        paths = [f"/a/{n}.html" for n in range(10)]
        for n, path in enumerate(paths):
            title, paras = speech(100 + n)
            variants = (f"<a href='{path}?sid=s{n}x'>本页</a> <a href='{path};jsessionid=J{n}A'>分享</a> "
                        f"<a href='{path}?token=t{n}{n}'>收藏</a> <a href='{path}?s=abc'>打印</a>")
            self.add(path, page(title, article(title, paras, "<a href='/'>首页</a>", variants)))
            self.articles.add(path)
        hidden = [(f"/private/{n}.html", speech(120 + n)[0]) for n in range(3)]
        for p, title in hidden:
            self.add(p, page(title, article(title, speech(120)[1])))
        listing = links([(f"{p}?token=home{k}", speech(100 + k)[0]) for k, p in enumerate(paths)] + hidden)
        self.add("/", page("站点", listing + "<a href='more/'>更多</a>"))

    def dynamic(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, str] | None:
        if path.startswith("/more/"):  # each page links "more/" relative to itself: /more/more/more/…
            return 200, page("更多", "<a href='more/'>更多</a> <a href='/'>首页</a>").encode(), self.content_type
        return None

    def patterns(self) -> dict[str, list[str]]:
        return {"list_patterns": [r"/$"], "article_patterns": [r"/a/\d+\.html"]}


FAMILY: tuple[type[Site], ...] = (FanwenSite, DocumentSite, NewsSite, GbkSite, TrapSite)

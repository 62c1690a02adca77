"""The web UI over an archive of hostile pages, in a real browser with scripts on: on every page
kind nothing the pages brought executes, and the browser asks no host but the archive's own."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from archive.storage.db import open_archive, sessions
from archive.storage.models import Speech
from tests.test_archive import PARAS, archive_html
from tests.test_web import serving

HOSTILE = {  # field: what a hostile site put there
    "title": '<script>window.pwned="title"</script>【范文三】<img src=http://evil.test/t.png onerror="window.pwned=\'img\'">',
    "site": '<svg onload="window.pwned=\'site\'">恶意网</svg>',
    "speaker": '<iframe src="http://evil.test/frame"></iframe>',
    "url": "javascript:window.pwned='url'//a.html",
    "occasion": '"><script>window.pwned="occasion"</script>',
}
RAW = ('<html><head><meta http-equiv="refresh" content="0;url=http://evil.test/refresh">'
       '<base href="http://evil.test/"><link rel="stylesheet" href="http://evil.test/s.css">'
       '<style>@import url(http://evil.test/i.css); body { background: url(http://evil.test/bg.png) }</style>'
       '<title>讲话</title></head><body><div class="c">'
       + "".join(f"<p>{p}</p>" for p in ["同志们:", *PARAS]) +
       '<img src="http://evil.test/i.png"><img src="relative.png"><iframe src="http://evil.test/f"></iframe>'
       '<form action="http://evil.test/post"><input name="q"></form><svg onload="window.pwned=\'svg\'"></svg>'
       '<a href="javascript:window.pwned=\'link\'">链接</a><object data="http://evil.test/o.swf"></object>'
       '<video src="http://evil.test/v.mp4" autoplay></video><script src="http://evil.test/x.js"></script>'
       "</div></body></html>")


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'archive.sqlite3'}"
    engine = open_archive(url, writer=True)
    with sessions(engine)() as session:
        archive_html(session, "http://evil.test/a.html", RAW, site="恶意网")
        for speech in session.scalars(select(Speech)):
            for field, value in HOSTILE.items():
                setattr(speech, field, value)
        session.commit()
    engine.dispose()
    with serving(url) as base:
        yield base


PAGES = ["/", "/?q=" + quote("驻村"), "/speech/1", "/capture/1/raw",
         "/concordance?q=" + quote("驻村"), "/runs", "/api/docs", "/api/search?q=" + quote("驻村"), "/api/speech/1"]


@pytest.mark.parametrize("path", PAGES)
def test_no_hostile_content_runs_or_reaches_out(hostile_server: str, browser, path: str) -> None:  # noqa: ANN001
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    own = urlsplit(hostile_server).netloc

    def watch(route) -> None:  # noqa: ANN001 - Playwright's Route
        if urlsplit(route.request.url).netloc != own:
            outside.append(route.request.url)
            return route.abort()
        return route.continue_()

    page.route("**/*", watch)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(hostile_server + path)
    page.wait_for_load_state("networkidle")
    for link in page.locator("a[href^='javascript:']").all():
        pytest.fail(f"a javascript: link is live on {path}: {link.get_attribute('href')}")
    pwned = [page.evaluate("typeof window.pwned")] + [f.evaluate("typeof window.pwned") for f in page.frames[1:]]
    context.close()
    assert pwned == ["undefined"] * len(pwned) and not dialogs, (path, pwned)
    assert outside == [], f"{path} made the browser ask {outside}"


def test_hostile_fields_are_shown_as_text(hostile_server: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    page.goto(hostile_server + "/speech/1")
    shown = page.inner_text("body")
    assert "【范文三】" in shown and "<script>" in shown and "恶意网" in shown
    page.goto(hostile_server + "/?q=" + quote("驻村"))
    listed = page.inner_text("ol.hits")
    assert "【范文三】" in listed and "<script>" in listed and page.locator("mark").all_inner_texts()[0] == "驻村"
    page.close()

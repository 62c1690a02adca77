"""Charset detection, canonical URLs and source files — the crawler's pure parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.encoding import decode_html
from crawler.sources import SourceError, load_source, parse_source
from crawler.urls import canonical, is_continuation

TEXT = "<html><head>{meta}</head><body><p>同志们:今天召开全县农村基层组织建设工作会议,县委领导同志出席会议并讲话。</p></body></html>"


@pytest.mark.parametrize("enc,header,meta,expected", [
    ("utf-8", None, "", "utf-8"),
    ("gb18030", None, '<meta charset="gb2312">', "gb18030"),          # GB2312 declared in the page only
    ("gb18030", None, "", "gb18030"),                                   # nothing declared at all
    ("gb18030", "utf-8", "", "gb18030"),                                # header wrong
    ("big5hkscs", None, "", "big5hkscs"),                               # Big5, nothing declared
    ("big5hkscs", "utf-8", '<meta charset="utf-8">', "big5hkscs"),      # Big5, header and meta both wrong
    ("big5hkscs", "gbk", "", "big5hkscs"),                              # Big5 sent as GBK
    ("utf-8", "gbk", "", "utf-8"),                                      # UTF-8 sent as GBK
])
def test_decoding_survives_missing_and_wrong_charsets(enc: str, header: str | None, meta: str, expected: str) -> None:
    source_text = TEXT.format(meta=meta)
    if enc == "big5hkscs":
        from cleaners.chars import to_traditional
        source_text = to_traditional(source_text)
    text, used = decode_html(source_text.encode(enc), header)
    assert used == expected
    assert text == source_text


def test_bom_and_undecodable_bytes() -> None:
    assert decode_html("\ufeff讲话".encode("utf-8"))[0] == "讲话"
    text, _ = decode_html(b"\xff\xfe\xfa" * 3 + "讲话".encode("gb18030"))
    assert text  # never raises; undecodable bytes are replaced, the raw page is kept in the archive


@pytest.mark.parametrize("url,expected", [
    ("HTTP://Example.CN:80/a/1.html?utm_source=weibo&id=3&from=timeline#top", "http://example.cn/a/1.html?id=3"),
    ("https://example.cn/a?b=2&a=1", "https://example.cn/a?a=1&b=2"),
    ("http://127.0.0.1:8000/x.html?spm=a.b.c", "http://127.0.0.1:8000/x.html"),
    ("http://x.cn/a/0.html?token=9f8e7d", "http://x.cn/a/0.html"),
    ("http://x.cn/a/0.html;jsessionid=0A1B2C3D?id=2", "http://x.cn/a/0.html?id=2"),
    ("http://x.cn/a/0.html?s=ab12cd&PHPSESSID=x&page=2", "http://x.cn/a/0.html?page=2"),
])
def test_canonical_urls(url: str, expected: str) -> None:
    assert canonical(url) == expected


def test_a_source_drops_the_parameters_it_names() -> None:
    assert canonical("http://x.cn/a/0.html?CID=77&id=2&from_app=ios", drop={"cid", "from_app"}) == "http://x.cn/a/0.html?id=2"
    source = parse_source({"name": "x", "start_urls": ["http://x.cn/"], "drop_params": ["CID"]}, Path("x.toml"))
    assert source.drop_params == ("cid",)


@pytest.mark.parametrize("first,link,same", [
    ("http://x.cn/gov/liu-2007.html", "http://x.cn/gov/liu-2007_2.html", True),
    ("http://x.cn/a/123.html", "http://x.cn/a/123_3.html", True),
    ("http://x.cn/a/show.php?id=5", "http://x.cn/a/show.php?id=5&page=2", True),
    ("http://x.cn/a/123.html", "http://x.cn/a/124.html", False),
    ("http://x.cn/a/123.html", "http://x.cn/a/123.html", False),
])
def test_continuation_pages(first: str, link: str, same: bool) -> None:
    assert is_continuation(first, link) is same


def test_demo_source_loads_and_rebases() -> None:
    src = load_source("demo").with_base_url("http://127.0.0.1:9999")
    assert src.start_urls == ("http://127.0.0.1:9999/",)
    assert src.allowed_domains == ("127.0.0.1",)
    assert src.rules_for("http://127.0.0.1:9999/gov/x.html").body_selector == "div#zoom"
    assert src.rules_for("http://127.0.0.1:9999/doc/x.html").body_selector is None


@pytest.mark.parametrize("data,message", [
    ({"start_urls": ["http://x.cn/"]}, "missing required field 'name'"),
    ({"name": "x", "start_urls": ["/list"]}, "is not absolute"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "article_patterns": ["(unclosed"]}, "bad regular expression"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "colour": "red"}, "unknown field"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "max_pages": "lots"},
     r"sources/x.toml: max_pages: expected an integer, got 'lots'"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "max_pages": 0}, r"max_pages: expected an integer of 1 or more"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "politeness": {"delay": "slow"}},
     r"politeness.delay: expected a number of seconds, got 'slow'"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "politeness": {"concurrency": 2.5}},
     r"politeness.concurrency: expected an integer, got 2.5"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "revisit_days": -1}, r"revisit_days: expected a number of days of 0"),
    ({"name": "x", "start_urls": "http://x.cn/"}, r"sources/x.toml: start_urls: expected a list of strings, got 'http"),
    ({"name": "x y/z", "start_urls": ["http://x.cn/"]}, r"sources/x.toml: name: expected letters, digits"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "schedule": "every day"}, r"sources/x.toml: schedule: .*crontab line"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "schedule": "61 3 * * *"}, r"sources/x.toml: schedule: .*crontab line"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "encoding": "gbk2"}, r"sources/x.toml: encoding: unknown charset 'gbk2'"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "politeness": 2}, r"sources/x.toml: politeness: expected a table"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "sections": [{"selectors": {}}]}, r"sections: expected \[\[sections\]\]"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "sections": [{"match": "(bad"}]}, r"sections.match: bad regular"),
    ({"name": "x", "start_urls": ["http://x.cn/"], "drop_params": "cid"}, r"drop_params: expected a list of strings"),
])
def test_bad_source_files_say_what_is_wrong(data: dict, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_source(data, Path("sources/x.toml"))


def test_unknown_source_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="known sources: .*demo"):
        load_source("nosuchsite")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid TOML"):
        load_source(str(broken))


def test_no_spider_callback_is_a_generator_that_returns_a_value() -> None:
    """Scrapy's own check of this runs off (settings.WARN_ON_GENERATOR_RETURN_VALUE: it parsed the
    callback's source for every page): a generator's ``return x`` would silently drop ``x``."""
    import inspect

    import scrapy
    from scrapy.utils.misc import is_generator_with_return_value

    import settings
    from crawler.spiders.speeches import SpeechSpider

    class Returns(scrapy.Spider):
        def parse(self, response):  # noqa: ANN001, ANN201
            yield response
            return 1

    assert is_generator_with_return_value(Returns.parse)  # the check itself sees one
    assert settings.WARN_ON_GENERATOR_RETURN_VALUE is False
    callbacks = [f for _, f in inspect.getmembers(SpeechSpider, inspect.isfunction) if inspect.isgeneratorfunction(f)]
    assert len(callbacks) >= 4  # parse_listing, parse_sitemap, parse_feed, parse_article, …
    assert not [f.__name__ for f in callbacks if is_generator_with_return_value(f)]


def test_disabled_scrapy_components_are_left_out_of_its_base_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrapy imports each component a setting names before it finds it disabled: the disabled
    remote control and cookies middleware are taken out of its base lists, the rest kept; enabled
    again, they are back."""
    from scrapy.settings import default_settings

    import settings
    from crawler.run import crawl_settings

    left_out = {("EXTENSIONS", "REMOTE_CONTROL_ENABLED"): "scrapy.extensions.remote_control.RemoteControl",
                ("DOWNLOADER_MIDDLEWARES", "COOKIES_ENABLED"): "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"}
    source, db = load_source("demo"), f"sqlite:///{tmp_path / 'a.db'}"
    s = crawl_settings(source, db)
    for (name, _), path in left_out.items():
        assert path not in s.getwithbase(name)
        assert set(s.getdict(name + "_BASE")) == set(getattr(default_settings, name + "_BASE")) - {path}
    for _, enabled in left_out:
        monkeypatch.setattr(settings, enabled, True)
    s = crawl_settings(source, db)
    for (name, _), path in left_out.items():
        assert path in s.getwithbase(name)

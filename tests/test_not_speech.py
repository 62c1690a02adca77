"""Not everything a site serves at an article URL is a speech: binaries are kept raw and never
cleaned, text that is not running prose gives no speech, and both are reported with a reason."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.storage.db import open_archive, sessions
from archive.storage.models import Capture, Speech
from cleaners import clean_page
from cleaners.content import not_html
from cleaners.metadata import has_mojibake
from cleaners.prose import not_prose
from tests.changing_site import ChangingSite, article_html
from tests.conftest import run_cli
from tests.noise.compose import speech_pool

SPEECH = "\n".join(speech_pool()[0])
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n" + bytes(range(256)) * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(random.Random(1).randrange(256) for _ in range(20000))


def random_text(n: int, seed: int = 3) -> str:
    r = random.Random(seed)
    return "".join(chr(r.randint(0x4E00, 0x9FA5)) for _ in range(n))


@pytest.mark.parametrize("body,content_type,what", [
    (PDF, "application/pdf", "a PDF document"), (PDF, "text/html", "a PDF document"),
    (JPEG, "text/html; charset=utf-8", "a JPEG image"), (b"PK\x03\x04" + bytes(300), None, "a ZIP archive or Office document"),
    (b"<html>" + bytes(2000), "text/html", "binary data"), (b"{}", "application/json", "served as application/json"),
])
def test_binaries_are_told_by_their_bytes_or_their_type(body: bytes, content_type: str | None, what: str) -> None:
    assert not_html(body, content_type) == what


@pytest.mark.parametrize("body", ["<html><body><p>讲话</p></body></html>".encode(), "讲话".encode("utf-16"),
                                  b"<?xml version='1.0'?><html/>"])
def test_pages_are_not_binaries(body: bytes) -> None:
    assert not_html(body, "text/html") is None


@pytest.mark.parametrize("text,reason", [
    (random_text(3000), "rarely used"),
    ("我们要加强学习。" * 400, "repeated"),
    ("abc def ghi jkl " * 200 + "中文", "not Chinese"),
    ("学习" * 10 + "工作" * 200, "no sentences"),
])
def test_text_that_is_not_prose_says_why(text: str, reason: str) -> None:
    assert reason in (not_prose(text, 200_000) or "")


def test_a_speech_is_prose_and_too_long_is_not() -> None:
    assert not_prose(SPEECH, 200_000) is None
    assert "longer than 1000" in not_prose(SPEECH, 1000)


def test_a_page_of_random_characters_gives_no_speech_and_is_flagged() -> None:
    paras = "".join(f"<p>{random_text(500, seed)}</p>" for seed in range(40))
    result = clean_page([f"<html><body><div class='content'>{paras}</div></body></html>"], "http://x.test/a.html")
    assert result.speeches == [] and result.needs_review and "rarely used" in result.rejected[0]
    assert any(r.reason == "junk.not_prose" for r in result.removals)


@pytest.mark.parametrize("text", [
    "县委和?p政府的要求,?^我们要认真落实。", "全县党員領導干部?h要认真学习",
    SPEECH.encode("utf-8").decode("gb18030", "replace"), SPEECH.encode("utf-8").decode("latin-1"),
    "会议锟斤拷开得很好", "同志们" + "\ufffd" + "今天",
])
def test_every_form_of_a_wrong_charset_flags_the_copy(text: str) -> None:
    assert has_mojibake(text)


@pytest.mark.parametrize("text", [SPEECH, "为什么?A股市场要这样发展", "会议决定:A类项目优先。"])
def test_clean_text_is_not_mojibake(text: str) -> None:
    assert not has_mojibake(text)


def test_a_crawl_keeps_binaries_and_junk_raw_reports_them_and_stores_no_speech_from_them(
        cli: list[str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with ChangingSite(articles=2) as site:
        site.set("/a/90.html", PDF, "application/pdf")
        site.set("/a/91.html", JPEG, "text/html; charset=utf-8")  # a lying header
        junk = "\n".join(random_text(400, seed) for seed in range(30))
        site.set("/a/92.html", article_html("资料", junk))
        result = run_cli(cli, "--db", db, "crawl", str(site.source_file(tmp_path)))
        assert result.returncode == 0, result.stderr
    engine = open_archive(db)
    with sessions(engine)() as session:
        notes = {c.canonical_url.rsplit("/", 1)[1]: c.note for c in session.scalars(select(Capture))}
        speeches = session.scalars(select(Speech)).all()
    engine.dispose()
    assert notes["90.html"] == "not_html: a PDF document" and notes["91.html"] == "not_html: a JPEG image"
    assert notes["92.html"].startswith("not_prose: characters rarely used")
    assert notes["0.html"] is None and notes["1.html"] is None
    assert sorted(s.url.rsplit("/", 1)[1] for s in speeches) == ["0.html", "1.html"]
    runs = run_cli(cli, "--db", db, "runs").stdout.splitlines()
    assert runs[0].split()[-1] == "no-speech" and runs[1].split()[-1] == "3"
    stats = run_cli(cli, "--db", db, "stats").stdout
    assert "pages_not_html       2" in stats and "pages_not_prose      1" in stats


def test_cleaning_a_saved_pdf_says_what_it_is(cli: list[str], tmp_path: Path) -> None:
    path = tmp_path / "speech.html"
    path.write_bytes(PDF)
    result = run_cli(cli, "clean", str(path))
    assert result.returncode == 2 and "is not an HTML page: it is a PDF document" in result.stderr

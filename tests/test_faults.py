"""One crawl of a site that does everything wrong (``tests/fault_site.py``): it ends in bounded
time and requests, archives every good speech once and intact, stores no speech from junk or
non-HTML, stays under the memory ceiling, and the run says what went wrong."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from archive.storage.db import open_archive, sessions
from archive.storage.models import Capture, Speech
from bench.memory import crawl_measured
from crawler.discover import BUDGET
from tests.conftest import crawl_runs, run_cli
from tests.fault_site import GOOD, FaultSite

CEILING_MB = 400


def test_one_crawl_of_the_fault_site(tmp_path: Path, cli) -> None:  # noqa: ANN001
    db_url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    with FaultSite() as site:
        source = site.source_file(tmp_path)
        result, seconds, peak = crawl_measured(db_url, source, {"SPEECH_ARCHIVE_DOWNLOAD_TIMEOUT": "1"})
        requests = list(site.requests)
    assert result.returncode == 0, result.stderr[-3000:]
    assert seconds < 120 and len(requests) < 120, (seconds, len(requests))
    assert peak < CEILING_MB, f"peak RSS {peak} MB"
    assert not [r for r in requests if r.startswith("/private/")]  # robots.txt obeyed
    # endless calendar and pagination: the page linked, then a shape's budget (the calendar's days are
    # not dates, so only the budget stops them); 20,000 links of a shape that leads nowhere
    assert sum(r.startswith("/calendar") for r in requests) <= 1 + BUDGET
    assert sum(r.startswith("/list") for r in requests) <= 1 + BUDGET and sum(r.startswith("/x/") for r in requests) <= BUDGET

    engine = open_archive(db_url)
    with sessions(engine)() as session:
        speeches = session.scalars(select(Speech)).all()
        captured = [c.canonical_url.split(site.url, 1)[-1] for c in session.scalars(select(Capture))]
    engine.dispose()
    by_page = {s.url.split(site.url, 1)[-1]: s for s in speeches}
    assert set(by_page) == set(GOOD) and len(speeches) == len(GOOD), sorted(by_page)
    assert sorted(captured) == sorted(GOOD)  # each once: no session-id copy, nothing from the junk
    for path, paras in site.texts.items():
        text = by_page[path].text
        assert all(p.replace(" ", "") in text.replace(" ", "") for p in paras[1:]), (path, GOOD[path], text[:200])
        assert "\x00" not in text and "\ufffd" not in text

    [run] = crawl_runs(db_url)
    shown = run_cli(cli, "--db", db_url, "runs", "--run", str(run.id))
    assert shown.returncode == 0, shown.stderr
    for fault in ("HTTP 503", "HTTP 429", "timed out", "connection lost", "too large", "redirect loop",
                  "robots.txt forbade", "address too long", "not HTML", "trap"):
        assert fault in shown.stdout, (fault, shown.stdout)
    assert json.loads(run_cli(cli, "--db", db_url, "stats", "--json").stdout)["speeches"] == len(GOOD)

"""Discovery on the local site family: what a crawl with only a name and a start URL finds, beside
a crawl of the same site with hand-written patterns.

    python -m bench.discover

For each site and each kind of source file it prints coverage (speech pages archived of those the
site has), requests per speech page (everything the server answered, robots.txt included), trap
fetches (pages of calendars, archives by date, session-id copies, nested paths, search, member
and robots-forbidden pages) and the crawl's time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from archive.storage.db import open_archive, sessions
from archive.storage.models import Capture
from tests.sites import FAMILY, Site

# requests a well-behaved crawl makes no more than a few of: traps, and pages robots.txt forbids
TRAPS = ("/news/calendar", "/archive/", "/more/more/", "sid=", "jsessionid", "token=", "?s=", "/search", "/member/")
FORBIDDEN = ("/admin/", "/private/")


@dataclass
class Outcome:
    site: str
    source: str
    archived: int
    articles: int
    requests: int
    trap_fetches: int
    forbidden: int
    seconds: float

    @property
    def coverage(self) -> float:
        return self.archived / self.articles

    @property
    def per_article(self) -> float:
        return self.requests / self.articles


def archived_paths(db_url: str, site: Site) -> set[str]:
    """The site's paths the archive holds a capture of."""
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        urls = session.scalars(select(Capture.canonical_url)).all()
    engine.dispose()
    prefix = site.url
    return {u[len(prefix):] for u in urls if u.startswith(prefix)}


def crawl(site: Site, folder: Path, hand_written: bool) -> Outcome:
    """One crawl of ``site`` into a fresh SQLite archive, measured from the server's log."""
    db_url = f"sqlite:///{folder / f'{site.name}-{hand_written}.sqlite3'}"
    source = site.source_file(folder, hand_written)
    site.requests.clear()
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cli", "--db", db_url, "crawl", str(source)], capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parent.parent)
    seconds = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"crawl of {site.name} failed: {result.stderr}")
    got = archived_paths(db_url, site) & site.articles
    return Outcome(site.name, "hand-written" if hand_written else "name + start URL", len(got), len(site.articles),
                   len(site.requests), site.fetched(lambda p: any(t in p for t in TRAPS)),
                   site.fetched(lambda p: p.startswith(FORBIDDEN)), seconds)


def measure() -> list[Outcome]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in FAMILY:
            with kind() as site:
                for hand_written in (False, True):
                    out.append(crawl(site, Path(tmp), hand_written))
    return out


def main() -> None:
    print(f"{'site':<8} {'source file':<18} {'coverage':>14} {'req/article':>11} {'trap fetches':>12} {'forbidden':>9} {'s':>6}")
    for o in measure():
        found = f"{o.archived}/{o.articles} {o.coverage:.0%}"
        print(f"{o.site:<8} {o.source:<18} {found:>14} {o.per_article:>11.2f} {o.trap_fetches:>12} {o.forbidden:>9} {o.seconds:>6.1f}")


if __name__ == "__main__":
    main()

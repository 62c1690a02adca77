"""Incremental recrawls: which archived article pages to fetch again, and how to ask cheaply.

A speech, once published, rarely changes, so an article page already in the archive is not
fetched again unless its source says it may change (``revisit_days``) or the site's sitemap dates
it after our capture. List pages, sitemaps and feeds are always fetched: they are where new
articles appear. A page fetched again carries the validators of our last capture
(``If-None-Match`` / ``If-Modified-Since``), so an unchanged page costs a 304 and no body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from archive.storage.db import open_archive, sessions
from archive.storage.models import Capture, Source


@dataclass(frozen=True)
class Archived:
    """What the archive knows of one article URL: when it was last captured and its validators."""

    fetched_at: datetime  # naive UTC
    etag: str | None = None
    last_modified: str | None = None

    def validators(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def _header(headers: dict, name: str) -> str | None:
    return next((v for k, v in (headers or {}).items() if k.lower() == name.lower()), None)


def archived_pages(db_url: str | None, source_name: str) -> dict[str, Archived]:
    """Every page of the source captured with a usable response, newest capture per canonical URL."""
    engine = open_archive(db_url)
    try:
        with sessions(engine)() as session:
            rows = session.execute(
                select(Capture.canonical_url, Capture.fetched_at, Capture.headers)
                .join(Source, Source.id == Capture.source_id)
                .where(Source.name == source_name, Capture.root_id.is_(None), Capture.http_status < 400)
                .order_by(Capture.fetched_at).execution_options(yield_per=5000))
            return {url: Archived(_naive(at), _header(h, "ETag"), _header(h, "Last-Modified")) for url, at, h in rows}
    finally:
        engine.dispose()


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def parse_lastmod(value: str | None) -> datetime | None:
    """A sitemap ``<lastmod>`` (W3C datetime: a date, or a date and time with a zone) as naive UTC."""
    if not value:
        return None
    try:
        return _naive(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def due(known: Archived, revisit_days: float | None, lastmod: datetime | None = None,
        now: datetime | None = None) -> bool:
    """Should an archived article be fetched again?"""
    if lastmod is not None and lastmod > known.fetched_at:
        return True  # the site says the page changed after we captured it
    if revisit_days is None:
        return False
    now = _naive(now or datetime.now(UTC))
    return now - known.fetched_at >= timedelta(days=revisit_days)

"""The archive's tables. Raw pages are kept (content-addressed blobs) so cleaning can be re-run."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, LargeBinary, String,
                        Text, UniqueConstraint, false)
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

import settings
from cleaners.chars import fold

_PLACEHOLDER_RUN = re.compile(r"[x×*○-]{2,}")  # after folding: XX, ××, **, ＊＊, ○○, the blank of 20--年


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A time as an aware one; a naive time is UTC here (SQLite hands back the archive's times without a zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def search_fold(text: str) -> str:
    """The form search compares, of a query term or a speech, with exactly the text's length: folded
    (simplified, half width, lower case) and, with ``search_placeholders`` on, every anonymising
    placeholder spelled ×× — template texts read "XX镇", "××镇" and "**镇" alike."""
    folded = fold(text)
    if int(settings.get("search_placeholders")):
        folded = _PLACEHOLDER_RUN.sub(lambda m: "×" * len(m.group()), folded)
    return folded


def search_text_of(title: str, text: str, speaker: str | None = None) -> str:
    """What search reads of a speech: its title, text and speaker (a name the cleaner moved out of
    the text is still found by a plain word), in ``search_fold`` form; the title comes first, so
    its hits are the first ``len(title)`` characters."""
    return search_fold(title + "\n" + text + (f"\n{speaker}" if speaker else ""))


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict: JSON, list: JSON}


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    config: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|finished|failed|interrupted
    pages: Mapped[int] = mapped_column(default=0)
    speeches_new: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    flagged: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    stats: Mapped[dict] = mapped_column(default=dict)
    source: Mapped[Source] = relationship()


class Blob(Base):
    """A raw response body, zlib-compressed, stored once per distinct content."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Capture(Base):
    """One fetched page. The later parts of an article split over pages point at the first part."""

    __tablename__ = "captures"
    __table_args__ = (Index("ix_captures_source_body", "source_id", "body_sha256"),  # one body under two URLs
                      Index("ix_captures_uncleaned", "source_id",  # cleaning owed after a crash
                            sqlite_where=sql("cleaned_at IS NULL AND root_id IS NULL"),
                            postgresql_where=sql("cleaned_at IS NULL AND root_id IS NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text, index=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    http_status: Mapped[int]
    headers: Mapped[dict] = mapped_column(default=dict)
    encoding: Mapped[str] = mapped_column(String(40))
    body_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"), index=True)
    part_index: Mapped[int] = mapped_column(default=0)
    # why the page gave no speech, when it gave none: "not_html: a PDF document", "not_prose: …"
    note: Mapped[str | None] = mapped_column(String(300), default=None)
    # when its cleaning outcome (speeches, a note, or nothing to clean) was stored; None: still owed
    cleaned_at: Mapped[datetime | None] = mapped_column(default=None)
    blob: Mapped[Blob] = relationship()
    source: Mapped[Source] = relationship()


class DupGroup(Base):
    __tablename__ = "dup_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_id: Mapped[int | None]  # a speech id; no FK, as speeches also point here
    size: Mapped[int] = mapped_column(default=0)
    # When every copy is incomplete: the fullest text their overlaps give, with per-paragraph provenance.
    reconstruction: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), default=None)  # None is SQL NULL
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Speech(Base):
    """One speech found on a captured page, as cleaned by ``cleaner_version``."""

    __tablename__ = "speeches"
    __table_args__ = (UniqueConstraint("capture_id", "index_in_page"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    index_in_page: Mapped[int] = mapped_column(default=0)
    site: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(Text, index=True)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    paragraphs: Mapped[list] = mapped_column(default=list)
    speaker: Mapped[str | None] = mapped_column(String(100), index=True)
    speech_date: Mapped[str | None] = mapped_column(String(10))
    publish_date: Mapped[str | None] = mapped_column(String(10))
    occasion: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(50))
    outline: Mapped[list] = mapped_column(default=list)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    stated_length: Mapped[int | None]
    gaps: Mapped[list] = mapped_column(default=list)
    mojibake: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # holds several speeches archived on their own (a compilation the splitter missed): it groups
    # only with copies of itself, never bridging the groups of the speeches it holds
    compilation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    script: Mapped[str] = mapped_column(String(20))
    cleaner_version: Mapped[str] = mapped_column(String(20))
    removals: Mapped[list] = mapped_column(default=list)
    search_text: Mapped[str] = mapped_column(Text)  # folded (simplified, half-width) text for search
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    shingle_count: Mapped[int] = mapped_column(default=0)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("dup_groups.id"), index=True)
    # the earlier version of this speech: same URL and place in the page, text changed on a recrawl
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("speeches.id"), index=True)
    captured_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    capture: Mapped[Capture] = relationship()
    group: Mapped[DupGroup | None] = relationship(foreign_keys=[group_id])


class Shingle(Base):
    """Sampled character-shingle hashes of a speech: the persistent near-duplicate index."""

    __tablename__ = "shingles"
    speech_id: Mapped[int] = mapped_column(ForeignKey("speeches.id", ondelete="CASCADE"), primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    __table_args__ = (Index("ix_shingles_hash", "hash"), {"sqlite_with_rowid": False})  # migration 0016



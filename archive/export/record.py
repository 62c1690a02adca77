"""The speech record: the one list of a speech's fields — names and types — that every output of a
speech is shaped from: the exports (JSONL, CSV, Parquet; docs/export-schema.json), the JSON API,
``search --json`` and ``clean --json``. An output shows the whole record or a named part of it;
what it adds beside (a snippet, a hit count, the capture) is not a field of a speech.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from archive.storage.models import Speech, as_utc
from cleaners import CleanResult
from cleaners import Speech as CleanedSpeech


@dataclass(frozen=True)
class Column:
    """One field; its type drives the Parquet schema and is checked against the JSON Schema."""

    name: str
    kind: str  # integer, string, boolean, or strings (a list of strings)
    nullable: bool = False


def _columns(spec: str) -> tuple[Column, ...]:
    """``name:kind`` words, ``?`` after the kind for a nullable column."""
    return tuple(Column(name, kind.rstrip("?"), kind.endswith("?"))
                 for name, kind in (word.split(":") for word in spec.split()))


COLUMNS = _columns("""
    id:integer group_id:integer? is_canonical:boolean previous_id:integer? title:string text:string
    paragraphs:strings speaker:string? speech_date:string? publish_date:string? occasion:string? region:string?
    site:string url:string captured_at:string updated_at:string cleaner_version:string
    truncated:boolean stated_length:integer? mojibake:boolean needs_review:boolean script:string
    text_simplified:string reconstructed_text:string?""")
SEGMENTED = Column("text_segmented", "string")  # only when asked for: segmenting costs time
FIELDS = tuple(c.name for c in COLUMNS)
DERIVED = frozenset({"is_canonical", "text_simplified", "reconstructed_text"})  # computed, not stored
STORED = tuple(name for name in FIELDS if name not in DERIVED)
# a speech in a list (search hits, a group's members)
SUMMARY = ("id", "group_id", "title", "site", "url", "speaker", "speech_date", "occasion", "captured_at")
# one speech shown whole, with its provenance
DETAIL = (*SUMMARY, "previous_id", "text", "paragraphs", "publish_date", "region", "truncated", "stated_length",
          "mojibake", "needs_review", "script", "cleaner_version")
# what a page's cleaning tells of a speech before it is archived (``clean --json``)
CLEANED = ("title", "text", "paragraphs", "speaker", "speech_date", "publish_date", "occasion", "region", "truncated",
           "stated_length", "mojibake", "needs_review", "script", "cleaner_version")
_TIMES = frozenset({"captured_at", "updated_at"})


def utc_iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z; SQLite hands back naive datetimes, which are UTC here."""
    if moment is None:
        return None
    return as_utc(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


def of_speech(speech: Speech, names: tuple[str, ...] = SUMMARY) -> dict:
    """The named stored fields of an archived speech, in the record's shapes."""
    assert not DERIVED & set(names), "derived fields are computed by the export"
    return {name: utc_iso(getattr(speech, name)) if name in _TIMES else
            list(speech.paragraphs) if name == "paragraphs" else getattr(speech, name) for name in names}


def of_cleaned(result: CleanResult, speech: CleanedSpeech) -> dict:
    """A speech the cleaners found on a page, as the record it would be archived as."""
    values = {"title": speech.title, "text": speech.text, "paragraphs": speech.paragraphs,
              "speaker": speech.meta.speaker, "speech_date": speech.meta.speech_date,
              "publish_date": result.publish_date, "occasion": speech.meta.occasion, "region": result.region,
              "truncated": speech.truncated, "stated_length": speech.stated_length, "mojibake": speech.mojibake,
              "needs_review": result.needs_review, "script": speech.script, "cleaner_version": result.cleaner_version}
    return {name: values[name] for name in CLEANED}

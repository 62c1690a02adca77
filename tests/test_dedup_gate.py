"""The deduplication quality gate on SQLite and PostgreSQL. Floors are pinned; lowering one is a
reviewed change of this file."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import dedup, store
from archive.models import DupGroup, Speech
from cleaners.chars import fold, script_of
from tests.dedup.labelled import labelled_set, pairwise_scores

PRECISION_FLOOR = 0.995
RECALL_FLOOR = 0.98


def add_speech(session: Session, n: int, text: str, truncated: bool) -> Speech:
    source = store.ensure_source(session, "labelled", {})
    fetched = store.Fetched(url=f"http://d{n}.cn/", final_url=f"http://d{n}.cn/", canonical_url=f"http://d{n}.cn/",
                            status=200, headers={}, encoding="utf-8", body=text.encode(), fetched_at=dedup_now())
    capture = store.save_capture(session, source, None, fetched)
    speech = Speech(capture_id=capture.id, source_id=source.id, site=f"site{n % 7}", url=capture.canonical_url,
                    title=f"doc {n}", text=text, paragraphs=text.split("\n"), script=script_of(text),
                    cleaner_version="test", search_text=fold(text), text_hash="", truncated=truncated,
                    captured_at=fetched.fetched_at)
    session.add(speech)
    session.flush()
    dedup.assign_group(session, speech)
    return speech


def dedup_now():  # noqa: ANN201 - a timezone-aware datetime
    from datetime import UTC, datetime
    return datetime.now(UTC)


def test_pairwise_precision_and_recall(session: Session) -> None:
    docs = labelled_set()
    assert len({d.base for d in docs}) >= 12 and len(docs) >= 72
    ids = [add_speech(session, n, d.text, d.truncated).id for n, d in enumerate(docs)]
    session.commit()
    group_of = dict(session.execute(select(Speech.id, Speech.group_id)).all())
    precision, recall = pairwise_scores(docs, [group_of[i] for i in ids])
    assert precision >= PRECISION_FLOOR and recall >= RECALL_FLOOR, (precision, recall)


def test_canonical_follows_the_rules(session: Session) -> None:
    docs = labelled_set()[:6]  # one base, all its copies
    speeches = [add_speech(session, n, d.text, d.truncated) for n, d in enumerate(docs)]
    session.commit()
    [group] = session.scalars(select(DupGroup)).all()
    eligible = [s for s in speeches if not s.truncated and s.script == "simplified"]
    assert group.canonical_id == max(eligible, key=lambda s: len(s.text)).id and group.size == 6

"""Compilations without separators split into their speeches; single speeches never split.

The pages come from ``tests/noise/compilations.py`` (3–6 speeches run together, titled or not,
one- or multi-line salutations, closings or none). Rules are written against DEV_SEED; the floor is
measured on GATE_SEED. Pieces with no cue at all — no title, no salutation, the speech before them
closing on nothing — are the misses left (see the closing note of issue 16).
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from archive.dedup import grouping
from archive.storage.models import DupGroup, Shingle, Speech
from cleaners import CleanResult, clean_page
from tests.noise.compilations import Compilation, compilation, distinct
from tests.noise.compose import TEMPLATES, page_html, speech_pool
from tests.noise.grammar import GATE_SEED, Grammar
from tests.test_dedup_gate import add_speech

POOL = speech_pool()
SPLIT_FLOOR = 0.98  # held-out share of speeches archived exactly as their gold (measured 0.987)


def split_share(seed: int, pages: int) -> float:
    g = Grammar(seed)
    hit = total = 0
    for n in range(pages):
        c = compilation(g, POOL)
        html = page_html(c.paras, f"讲话稿范文{len(c.speeches)}篇", template=n % TEMPLATES)
        got = {s.text for s in clean_page([html], "http://site.test/fanwen/1.html").speeches}
        hit += sum(s in got for s in c.speeches)
        total += len(c.speeches)
    return hit / total


def test_held_out_compilations_split_into_their_speeches() -> None:
    assert split_share(GATE_SEED + 1, 200) >= SPLIT_FLOOR


@pytest.mark.parametrize("speech", distinct(POOL), ids=lambda s: s[0][:8])
def test_a_single_speech_is_never_split_at_its_own_headings(speech: list[str]) -> None:
    result = clean_page([page_html(speech, "讲话")], "http://site.test/a.html")
    assert len(result.speeches) == 1


@pytest.mark.parametrize("lines", [["尊敬的各位领导、", "各位来宾、", "同志们:"], ["尊敬的县委书记,", "各位领导,", "同志们、朋友们:"]])
def test_a_salutation_over_several_lines_opens_the_next_speech_whole(lines: list[str]) -> None:
    first, second = distinct(POOL)[0][1:6], distinct(POOL)[1][1:6]
    result = clean_page([page_html(["同志们:", *first, "谢谢大家!", *lines, *second], "讲话两篇")], "http://site.test/a.html")
    assert [s.paragraphs[:len(lines)] for s in result.speeches][1] == lines
    assert result.speeches[0].paragraphs[-1] == "谢谢大家!"


def missed_pages(count: int) -> list[tuple[Compilation, CleanResult]]:
    """Held-out compilation pages the splitter alone gets wrong, with what it made of them."""
    pages = []
    for seed in (GATE_SEED + 3, GATE_SEED + 7, GATE_SEED + 11):
        g = Grammar(seed)
        for n in range(300):
            c = compilation(g, POOL)
            result = clean_page([page_html(c.paras, f"讲话稿范文{len(c.speeches)}篇", template=n % TEMPLATES)],
                                f"http://site.test/fanwen/{n}.html")
            if not set(c.speeches) <= {s.text for s in result.speeches}:
                pages.append((c, result))
            if len(pages) == count:
                return pages
    raise AssertionError(f"only {len(pages)} pages the splitter gets wrong")


def current_texts(session: Session) -> set[tuple[int, str]]:
    """(page, text) of every speech no newer version replaced."""
    superseded = set(session.scalars(select(Speech.previous_id).where(Speech.previous_id.is_not(None))))
    return {(s.capture_id, s.text) for s in session.scalars(select(Speech)) if s.id not in superseded}


def test_cutting_at_copies_gives_the_same_speeches_as_they_arrive_and_in_rebuild(session: Session) -> None:
    """Pages whose speeches are each archived once more on their own: cut as the copies arrive,
    or all at once by ``dedup --rebuild``, the same speeches."""
    pages, seen = [], set()
    for c, result in missed_pages(12):
        bodies = {max(gold.split("\n"), key=len) for gold in c.speeches}
        if not bodies & seen:  # two pages quoting one speech at two lengths would make it ambiguous
            pages.append((c, result))
            seen |= bodies
    assert len(pages) >= 2
    for n, (c, result) in enumerate(pages):
        for k, s in enumerate(result.speeches):
            add_speech(session, 100 * n, s.text, False, index=k)
        for k, gold in enumerate(c.speeches):
            add_speech(session, 100 * n + 50 + k, gold, False)
    session.commit()
    incremental = current_texts(session)
    assert session.scalar(select(func.count()).select_from(Speech).where(Speech.index_in_page < 0)) >= 2
    session.execute(delete(Speech).where(Speech.index_in_page < 0))
    grouping.rebuild(session)
    session.commit()
    assert current_texts(session) == incremental


def test_held_out_compilations_are_cut_at_the_bounds_of_their_speeches_copies(session: Session) -> None:
    """Where the page gives no seam, the speeches' own copies do. On held-out compilations the
    splitter alone gets wrong (merged speeches, seams a line off), with every speech also archived
    on its own elsewhere, the page's current versions are exactly its gold speeches."""
    pages = missed_pages(8)
    alone = hit = total = 0
    for n, (c, result) in enumerate(pages):
        page = [add_speech(session, 100 * n, s.text, False, index=k) for k, s in enumerate(result.speeches)]
        for k, gold in enumerate(c.speeches):
            add_speech(session, 100 * n + 50 + k, gold, False)
        session.commit()
        made = session.scalars(select(Speech).where(Speech.previous_id.in_([s.id for s in page]))).all()
        superseded = {m.previous_id for m in made}
        texts = {s.text for s in [*page, *made] if s.id not in superseded}  # the page's current versions
        alone += sum(gold in {s.text for s in result.speeches} for gold in c.speeches)
        hit += sum(gold in texts for gold in c.speeches) - len(texts - set(c.speeches))
        total += len(c.speeches)
        session.execute(delete(Shingle))  # the next page's speeches are not copies of these
        session.execute(update(Speech).values(group_id=None))
        session.execute(delete(DupGroup))
    assert hit / total >= 0.98 > alone / total, (hit, alone, total)

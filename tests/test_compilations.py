"""Compilations without separators split into their speeches; single speeches never split.

The pages come from ``tests/noise/compilations.py`` (3–6 speeches run together, titled or not,
one- or multi-line salutations, closings or none). Rules are written against DEV_SEED; the floor is
measured on GATE_SEED. Pieces with no cue at all — no title, no salutation, the speech before them
closing on nothing — are the misses left (see the closing note of issue 16).
"""

from __future__ import annotations

import pytest

from cleaners import clean_page
from tests.noise.compilations import compilation, distinct
from tests.noise.compose import TEMPLATES, page_html, speech_pool
from tests.noise.grammar import GATE_SEED, Grammar

POOL = speech_pool()
SPLIT_FLOOR = 0.96  # held-out share of speeches archived exactly as their gold (measured 0.966)


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

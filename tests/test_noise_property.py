"""Property: noise of every kind, put anywhere into a clean speech, comes out exactly.

Hypothesis drives the grammar (``tests/noise``): names, domains, separators, brackets, templates,
numbers and the place of each insertion — mid-word, mid-sentence, beside punctuation and
brackets, between paragraphs. Cleaning must give back the speech character for character (a
removal that takes one character of the speech fails), and say the copy is incomplete exactly
when a paywall note withheld text.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaners import clean_page
from cleaners import text as T
from tests.noise.compose import TEMPLATES, compose, page_html, speech_pool
from tests.noise.grammar import LOOKALIKES, Grammar
from tests.noise.heldout import KINDS, traditional

POOL = speech_pool()
INLINE = ("source_tag", "obfuscated_source", "compiled_by", "content_from", "brand_domain")


def _clean(paras: list[str], template: int) -> tuple[list[str], bool]:
    result = clean_page([page_html(paras, "讲话", template=template)], "http://site.test/a/1.html")
    return [p for s in result.speeches for p in s.paragraphs], any(s.truncated for s in result.speeches)


def _stable_windows() -> list[list[str]]:
    """Runs of three to six paragraphs that clean to themselves on every template (a window that
    ends on a heading or starts on a sub-title is a different page, not a noise case)."""
    rng = random.Random(5)
    out = []
    for speech in POOL:
        for _ in range(4):
            a = rng.randrange(max(1, len(speech) - 3))
            window = speech[a:a + rng.randint(3, 6)]
            if all(_clean(window, t) == (window, False) for t in range(TEMPLATES)):
                out.append(window)
    return out


WINDOWS = _stable_windows()


def test_the_clean_windows_are_most_windows() -> None:
    """The property runs on windows that clean to themselves; they must be nearly all of them."""
    assert len(WINDOWS) >= 0.85 * 4 * len(POOL)


@settings(max_examples=1500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False), kind=st.sampled_from(INLINE), trad=st.booleans())
def test_a_watermark_anywhere_in_a_paragraph_is_cut_exactly(rnd: random.Random, kind: str, trad: bool) -> None:
    """The text step alone, many cases: one paragraph, one watermark at any place in it."""
    g = Grammar(rnd)
    paragraph = rnd.choice(rnd.choice(POOL))
    noise = getattr(g, kind)().text
    pos = rnd.randrange(1, max(2, len(paragraph)))
    noisy = paragraph[:pos] + noise + paragraph[pos:]
    if trad:
        noisy, paragraph = traditional(noisy), traditional(paragraph)
    out = T.remove_watermarks([noisy])
    assert out.paras == [paragraph.strip()], f"noise {noise!r} at {pos}"


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False), template=st.integers(0, TEMPLATES - 1))
def test_each_noise_kind_on_a_page_comes_out_exactly(kind: str, rnd: random.Random, template: int) -> None:
    window = rnd.choice(WINDOWS)
    composed = compose(Grammar(rnd), window, [kind])
    paras, truncated = _clean(composed.paras, template)
    assert paras == composed.expected, f"{kind}: {composed.paras}"
    assert truncated == composed.truncated


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False), template=st.integers(0, TEMPLATES - 1),
       kinds=st.lists(st.sampled_from(KINDS), min_size=2, max_size=6))
def test_noise_of_several_kinds_together_comes_out_exactly(rnd: random.Random, template: int,
                                                           kinds: list[str]) -> None:
    window = rnd.choice(WINDOWS)
    composed = compose(Grammar(rnd), window, kinds)
    paras, truncated = _clean(composed.paras, template)
    assert paras == composed.expected, f"{kinds}: {composed.paras}"
    assert truncated == composed.truncated


@pytest.mark.parametrize("sentence", LOOKALIKES)
@pytest.mark.parametrize("where", ["own paragraph", "inside a paragraph"])
def test_speech_that_looks_like_noise_is_never_touched(sentence: str, where: str) -> None:
    speech = POOL[0][:4]
    if where == "own paragraph":
        paras = [speech[0], speech[1], sentence, speech[2], speech[3]]
    else:
        paras = [speech[0], speech[1] + sentence, speech[2], speech[3]]
    result = clean_page([page_html(paras, "讲话")], "http://site.test/a/1.html")
    assert "".join(p for s in result.speeches for p in s.paragraphs) == "".join(paras)
    assert not any(s.truncated for s in result.speeches)

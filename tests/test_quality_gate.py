"""The cleaning quality gate. The floors are pinned: lowering one is a reviewed change of this file."""

from __future__ import annotations

import pytest

from cleaners import SiteRules, clean_page
from crawler.encoding import decode_html
from tests.eval.score import Case, cases, char_f1, residue

MEAN_F1_FLOOR = 0.99
PAGE_F1_FLOOR = 0.97
CASES = cases()


def clean(case: Case):  # noqa: ANN201 - CleanResult
    html, _ = decode_html(case.html, None)
    rules = SiteRules(**case.meta["rules"])
    return clean_page([html], case.meta["url"], rules)


@pytest.fixture(scope="module")
def results() -> dict[str, object]:
    return {c.name: clean(c) for c in CASES}


def predicted(result) -> str:  # noqa: ANN001
    return "\n".join(s.text for s in result.speeches)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_page_f1_floor(case: Case, results: dict) -> None:
    f1 = char_f1("\n".join(case.gold_texts), predicted(results[case.name]))
    assert f1 >= PAGE_F1_FLOOR, f"{case.name}: F1 {f1:.4f} < {PAGE_F1_FLOOR}"


def test_mean_f1_floor(results: dict) -> None:
    scores = [char_f1("\n".join(c.gold_texts), predicted(results[c.name])) for c in CASES]
    assert sum(scores) / len(scores) >= MEAN_F1_FLOOR


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_no_residual_noise(case: Case, results: dict) -> None:
    assert residue(case, predicted(results[case.name])) == []


@pytest.mark.parametrize("case", [c for c in CASES if len(c.gold_texts) > 1], ids=lambda c: c.name)
def test_compilations_split_into_exactly_the_gold_speeches(case: Case, results: dict) -> None:
    speeches = results[case.name].speeches
    assert len(speeches) == len(case.gold_texts)
    for gold, got in zip(case.gold_texts, speeches, strict=True):
        assert char_f1(gold, got.text) >= PAGE_F1_FLOOR, got.title


@pytest.mark.parametrize("case", [c for c in CASES if c.meta["flags"]], ids=lambda c: c.name)
def test_flags(case: Case, results: dict) -> None:
    [speech] = results[case.name].speeches
    flags = case.meta["flags"]
    assert speech.truncated == flags.get("truncated", False)
    assert speech.stated_length == flags.get("stated_length")
    assert speech.mojibake == flags.get("mojibake", False)

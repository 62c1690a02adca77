"""The cleaning quality gate. The floors are pinned: lowering one is a reviewed change of this file."""

from __future__ import annotations

import pytest

from cleaners import SiteRules, clean_page
from crawler.encoding import decode_html
from tests.eval.score import Case, cases, char_f1, residue
from tests.noise.grammar import GATE_SEED
from tests.noise.heldout import Report, build_pages, score_pages

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


# seeds/004 as a whole: where each report starts, as read by hand (line numbers, 1-based; a
# report's title line counts as its start). Two seams (109, 118) are topic shifts with no
# structural cue at all; the floor pins what is found today and forbids false seams.
SEED_004_SEAMS = {2, 17, 35, 43, 50, 89, 100, 109, 112, 118, 126, 160, 177, 186}
SEAMS_FOUND_FLOOR = 12


def test_whole_seed_004_compilation_seams() -> None:
    import html as html_lib
    from pathlib import Path

    seeds = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"{seeds} is absent: the founding documents live in the shared folder beside the checkout")
    lines = next(seeds.glob("004_*.txt")).read_text(encoding="utf-8").splitlines()
    page = "<html><body><div class='c'>" + "".join(f"<p>{html_lib.escape(x)}</p>" for x in lines) + "</div></body></html>"
    result = clean_page([page], "", SiteRules(body_selector="div.c"))
    first_line = {line.strip(): n + 1 for n, line in reversed(list(enumerate(lines)))}
    found = set()
    for speech in result.speeches:
        start = first_line[speech.paragraphs[0].strip()]
        title_line = first_line.get(speech.title.strip())
        found.add(title_line if title_line in SEED_004_SEAMS else start)
    assert found <= SEED_004_SEAMS, f"false seams at lines {sorted(found - SEED_004_SEAMS)}"
    assert len(found) >= SEAMS_FOUND_FLOOR, f"seams found {sorted(found)}"


# --- the held-out generated set ------------------------------------------------------------------
# Pages drawn from the noise grammar (tests/noise) with GATE_SEED: six site templates, both scripts,
# UTF-8/GBK/Big5 with and without a declared charset, one page in twenty holding no speech at all.
# Cleaning rules are written against DEV_SEED; this seed's pages are not looked at while writing.
HELD_OUT_PAGES = 400


@pytest.fixture(scope="module")
def held_out() -> Report:
    return score_pages(build_pages(GATE_SEED, HELD_OUT_PAGES))


def test_held_out_character_f1(held_out: Report) -> None:
    assert held_out.mean_f1 >= 0.99 and held_out.min_f1 >= 0.98, held_out.summary()


def test_held_out_no_character_of_a_speech_is_removed(held_out: Report) -> None:
    assert held_out.removed == 0, "\n".join([held_out.summary(), *held_out.failures[:10]])


def test_held_out_no_noise_is_left(held_out: Report) -> None:
    assert held_out.left == 0, "\n".join([held_out.summary(), *held_out.failures[:10]])


def test_held_out_truncated_copies_are_marked(held_out: Report) -> None:
    assert held_out.truncation_recall >= 0.95, held_out.summary()


def test_held_out_pages_that_hold_no_speech_store_none(held_out: Report) -> None:
    assert held_out.junk > 0 and held_out.junk_stored == 0, held_out.summary()

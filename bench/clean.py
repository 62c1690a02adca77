"""Cleaning benchmark: F1 against gold and pages/s, for our cleaners, trafilatura alone, and
readability-lxml and jusText, on the same evaluation pages in one run.

    python bench/clean.py [--repeat 5]

Needs the bench extras: pip install -e '.[bench]'. Speed is the best of --repeat passes, extractors
interleaved. Prints one row per extractor and mode:
"selectors" cleans pages with their source selectors where the page has them; "generic" cleans
every page without selectors.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lxml.html  # noqa: E402

from cleaners import SiteRules, clean_page  # noqa: E402
from cleaners.chars import clear_fold_cache  # noqa: E402
from crawler.encoding import decode_html  # noqa: E402
from tests.eval.score import Case, cases, char_f1  # noqa: E402


def ours(rules_from_page: bool) -> Callable[[Case, str], str]:
    def run(case: Case, html: str) -> str:
        clear_fold_cache()  # a crawl sees each page once: no credit for paragraphs folded in an earlier pass
        rules = SiteRules(**case.meta["rules"]) if rules_from_page else SiteRules()
        return "\n".join(s.text for s in clean_page([html], case.meta["url"], rules).speeches)
    return run


def trafilatura_alone(case: Case, html: str) -> str:
    import trafilatura
    return trafilatura.extract(html, url=case.meta["url"], favor_recall=True) or ""


def readability(case: Case, html: str) -> str:
    from readability import Document
    summary = Document(html).summary(html_partial=True)
    return "\n".join(t.strip() for t in lxml.html.fromstring(summary).itertext() if t.strip())


def justext_alone(case: Case, html: str) -> str:
    import justext
    paragraphs = justext.justext(html.encode("utf-8"), frozenset(), encoding="utf-8")  # no Chinese stoplist
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def measure(extractors: dict[str, tuple[Callable[[Case, str], str], list[tuple[Case, str]]]],
            repeat: int) -> list[tuple[str, float, float, float]]:
    """F1 once; speed as the best of ``repeat`` timed passes, the extractors interleaved so that
    warm-up and the machine's drift affect them alike."""
    best = {name: float("inf") for name in extractors}
    for _ in range(repeat):
        for name, (fn, pages) in extractors.items():
            started = time.perf_counter()
            for c, html in pages:
                fn(c, html)
            best[name] = min(best[name], time.perf_counter() - started)
    rows = []
    for name, (fn, pages) in extractors.items():
        scores = [char_f1("\n".join(c.gold_texts), fn(c, html)) for c, html in pages]
        rows.append((name, sum(scores) / len(scores), min(scores), len(pages) / best[name]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed passes over the pages (best one counts)")
    args = parser.parse_args()
    all_pages = [(c, decode_html(c.html)[0]) for c in cases()]
    with_selectors = [(c, h) for c, h in all_pages if c.meta["rules"]]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{len(all_pages)} evaluation pages ({len(with_selectors)} with source selectors)")
    extractors = {
        "ours (generic)": (ours(False), all_pages),
        "ours (selectors where given)": (ours(True), all_pages),
        "ours (selector pages only)": (ours(True), with_selectors),
        "trafilatura alone": (trafilatura_alone, all_pages),
        "trafilatura (selector pages only)": (trafilatura_alone, with_selectors),
        "readability-lxml": (readability, all_pages),
        "jusText (no Chinese stoplist exists)": (justext_alone, all_pages),
    }
    rows = measure(extractors, args.repeat)
    print(f"{'extractor':<36} {'mean F1':>8} {'min F1':>8} {'pages/s':>9}")
    for name, mean, low, rate in rows:
        print(f"{name:<36} {mean:>8.4f} {low:>8.4f} {rate:>9.1f}")


if __name__ == "__main__":
    main()

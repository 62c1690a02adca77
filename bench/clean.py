"""Cleaning benchmark: F1 against gold and pages/s, for our cleaners, trafilatura alone, and
readability-lxml and jusText, on the same pages in one run.

    python bench/clean.py [--repeat 5] [--generated 300]

Needs the bench extras: pip install -e '.[bench]'. Three page sets:
  eval       tests/eval: pages built by hand from the founding documents, with gold
  generated  the held-out generated set (tests/noise, GATE_SEED): six templates, both scripts,
             three encodings, noise from the grammar, with gold
  real       ../shared/realpages: fourteen real news and government pages, no gold (speed and
             characters out only; skipped where that folder is absent)
Speed is the best of --repeat passes, extractors interleaved. "selectors" cleans eval pages with
their source selectors where they have them; "generic" cleans every page without selectors.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402

from cleaners import SiteRules, clean_page  # noqa: E402
from cleaners.chars import clear_fold_cache  # noqa: E402
from cleaners.content import not_html  # noqa: E402
from crawler.encoding import decode_html  # noqa: E402
from tests.eval.score import cases, char_f1  # noqa: E402
from tests.noise.grammar import GATE_SEED  # noqa: E402
from tests.noise.heldout import build_pages  # noqa: E402


@dataclass(frozen=True)
class Page:
    url: str
    html: str
    gold: str | None  # None: no gold (real pages)
    rules: dict


def eval_pages() -> list[Page]:
    return [Page(c.meta["url"], decode_html(c.html)[0], "\n".join(c.gold_texts), c.meta["rules"]) for c in cases()]


def generated_pages(n: int) -> list[Page]:
    """The held-out set, binaries left out (no extractor is asked to read a PDF)."""
    return [Page(f"http://site.test/{p.name}.html", decode_html(p.body)[0], "\n".join(p.expected), {})
            for p in build_pages(GATE_SEED, n) if not not_html(p.body)]


def real_pages() -> list[Page]:
    folder = ROOT.parent / "shared" / "realpages"
    return [Page(f"http://{f.stem}.test/", decode_html(f.read_bytes())[0], None, {}) for f in sorted(folder.glob("*.html"))]


def ours(rules_from_page: bool) -> Callable[[Page], str]:
    def run(page: Page) -> str:
        clear_fold_cache()  # a crawl sees each page once: no credit for paragraphs folded in an earlier pass
        rules = SiteRules(**page.rules) if rules_from_page else SiteRules()
        return "\n".join(s.text for s in clean_page([page.html], page.url, rules).speeches)
    return run


def trafilatura_alone(page: Page) -> str:
    import trafilatura
    return trafilatura.extract(page.html, url=page.url, favor_recall=True) or ""


def readability(page: Page) -> str:
    from readability import Document
    summary = Document(page.html).summary(html_partial=True)
    return "\n".join(t.strip() for t in lxml.html.fromstring(summary).itertext() if t.strip())


def justext_alone(page: Page) -> str:
    import justext
    paragraphs = justext.justext(page.html.encode("utf-8"), frozenset(), encoding="utf-8")  # no Chinese stoplist
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


Row = tuple[str, float | None, float | None, float, float]


def measure(extractors: dict[str, tuple[Callable[[Page], str], list[Page]]], repeat: int) -> list[Row]:
    """F1 once (where there is gold); speed as the best of ``repeat`` timed passes, the extractors
    interleaved so that warm-up and the machine's drift affect them alike."""
    best = {name: float("inf") for name in extractors}
    for _ in range(repeat):
        for name, (fn, pages) in extractors.items():
            started = time.perf_counter()
            for page in pages:
                fn(page)
            best[name] = min(best[name], time.perf_counter() - started)
    rows = []
    for name, (fn, pages) in extractors.items():
        outs = [fn(p) for p in pages]
        scores = [char_f1(p.gold, out) for p, out in zip(pages, outs, strict=True) if p.gold is not None]
        chars = sum(len(o) for o in outs) / len(outs)
        rows.append((name, sum(scores) / len(scores) if scores else None, min(scores) if scores else None,
                     len(pages) / best[name], chars))
    return rows


def show(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"{'extractor':<36} {'mean F1':>8} {'min F1':>8} {'pages/s':>9} {'chars out':>10}")
    for name, mean, low, rate, chars in rows:
        f1 = f"{mean:>8.4f} {low:>8.4f}" if mean is not None else f"{'-':>8} {'-':>8}"
        print(f"{name:<36} {f1} {rate:>9.1f} {chars:>10.0f}")


def others(pages: list[Page]) -> dict[str, tuple[Callable[[Page], str], list[Page]]]:
    return {"trafilatura alone": (trafilatura_alone, pages), "readability-lxml": (readability, pages),
            "jusText (no Chinese stoplist exists)": (justext_alone, pages)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the pages (best one counts)")
    parser.add_argument("--generated", type=int, default=300, help="pages of the held-out generated set")
    args = parser.parse_args()
    evals, generated, real = eval_pages(), generated_pages(args.generated), real_pages()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{len(evals)} evaluation pages, {len(generated)} generated (seed {GATE_SEED}), {len(real)} real pages")
    show("eval (tests/eval)", measure({"ours (generic)": (ours(False), evals),
                                       "ours (selectors where given)": (ours(True), evals), **others(evals)},
                                      args.repeat))
    show(f"generated, held out (seed {GATE_SEED})",
         measure({"ours": (ours(False), generated), **others(generated)}, max(1, args.repeat // 2)))
    if real:
        show("real pages (../shared/realpages, no gold)",
             measure({"ours": (ours(False), real), **others(real)}, args.repeat))


if __name__ == "__main__":
    main()

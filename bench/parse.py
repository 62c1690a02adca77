"""Parsing benchmark: lxml (what the cleaners use) against beautifulsoup4 on the same pages.

    python bench/parse.py [--repeat 5]

Needs the bench extras (pip install -e '.[bench]'). For each parser: pages/s to build the tree and
read its text, how much of the pages' Chinese text it reads, and what each does with two hostile
pages the cleaners must read: a NUL byte before the text, and markup nested 5,000 levels deep.
``cleaners.dom.parse`` is lxml.html with the repairs the cleaners need for those two.
Pages: tests/eval (11), the held-out generated set (292) and ../shared/realpages (14, where present).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.html  # noqa: E402

from cleaners.dom import parse  # noqa: E402

from bench.clean import eval_pages, generated_pages, real_pages  # noqa: E402

_CJK = re.compile(r"[\u4e00-\u9fff]")


def with_lxml(html: str) -> str:
    return lxml.html.document_fromstring(html).text_content()


def with_ours(html: str) -> str:
    return parse(html).text_content()


def soup(parser: str) -> Callable[[str], str]:
    def run(html: str) -> str:
        from bs4 import BeautifulSoup
        return BeautifulSoup(html, parser).get_text()
    return run


PARSERS: dict[str, Callable[[str], str]] = {
    "cleaners.dom.parse": with_ours,
    "lxml.html": with_lxml,
    "bs4 + lxml": soup("lxml"),
    "bs4 + html.parser": soup("html.parser"),
}


def hostile() -> dict[str, str]:
    body = "<p>" + "全面推进乡村振兴,加强基层组织建设。" * 20 + "</p>"
    return {"NUL before the text": f"<html><body><div>\x00</div>{body}</body></html>",
            "nested 5,000 deep": "<html><body>" + "<div>" * 5000 + body + "</div>" * 5000 + "</body></html>"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sets = {"eval": [p.html for p in eval_pages()], "generated": [p.html for p in generated_pages(300)],
            "real": [p.html for p in real_pages()]}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          + ", ".join(f"{len(v)} {k} pages" for k, v in sets.items()))
    print(f"{'parser':<20} {'set':<10} {'pages/s':>8} {'CJK chars read':>15}")
    for name, pages in sets.items():
        if not pages:
            continue
        best = {p: float("inf") for p in PARSERS}
        for _ in range(args.repeat):  # interleaved, best of
            for label, run in PARSERS.items():
                started = time.perf_counter()
                for html in pages:
                    run(html)
                best[label] = min(best[label], time.perf_counter() - started)
        for label, run in PARSERS.items():
            chars = sum(len(_CJK.findall(run(html))) for html in pages)
            print(f"{label:<20} {name:<10} {len(pages) / best[label]:>8.0f} {chars:>15}")
    for what, html in hostile().items():
        expected = len(_CJK.findall(html))
        for label, run in PARSERS.items():
            try:
                got = f"{len(_CJK.findall(run(html)))} of {expected} CJK characters read"
            except RecursionError:
                got = "RecursionError"
            print(f"{what:<20} {label:<20} {got}")


if __name__ == "__main__":
    main()

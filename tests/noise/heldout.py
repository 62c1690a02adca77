"""The generated evaluation set: pages of every site template, both scripts and three encodings,
each carrying noise drawn from the grammar, with its gold text known character for character.

``build_pages(seed, n)`` makes the set; ``score_pages`` cleans each page as the crawler would
(bytes → charset → clean_page) and measures character F1, speech characters removed, noise
characters left, truncation recall and junk stored as speech. The quality gate runs it on
``GATE_SEED``; rules are written against ``DEV_SEED``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

import opencc

from cleaners import clean_page
from cleaners.content import not_html
from crawler.encoding import decode_html
from tests.eval.score import char_f1
from tests.noise.compose import TEMPLATES, TOPICS, compose, page_html, speech_pool
from tests.noise.grammar import Grammar

KINDS = ("source_tag", "obfuscated_source", "compiled_by", "content_from", "brand_domain", "brand_line", "jammer",
         "intro", "outro", "chrome_head", "chrome_tail", "related", "omitted", "truncated", "preview")
_S2T = opencc.OpenCC("s2t")


@lru_cache(maxsize=65536)
def _trad_char(ch: str) -> str:
    out = _S2T.convert(ch)
    return out if len(out) == 1 else ch


def traditional(text: str) -> str:
    """Character by character, so a word split by noise converts as the clean word does."""
    return "".join(_trad_char(c) for c in text)


@dataclass
class GatePage:
    name: str
    body: bytes
    expected: list[str]  # the speech's paragraphs; empty for a page that holds no speech
    truncated: bool = False
    kinds: list[str] = field(default_factory=list)


def _junk_page(g: Grammar, i: int) -> GatePage:
    """A page that is not a speech: random characters, one line over and over, or a binary body."""
    r = g.r
    kind = r.choice(("random", "repeat", "pdf", "jpeg"))
    if kind == "pdf":
        return GatePage(f"g{i:03d}_pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\n" * 50, [],
                        kinds=["junk.pdf"])
    if kind == "jpeg":
        return GatePage(f"g{i:03d}_jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(r.randrange(256) for _ in range(4000)),
                        [], kinds=["junk.jpeg"])
    if kind == "random":
        text = "".join(chr(r.randint(0x4E00, 0x9FA5)) for _ in range(r.randint(3000, 60000)))
        paras = [text[k:k + 500] for k in range(0, len(text), 500)]
    else:
        line = r.choice(TOPICS) + "。"
        paras = [line * 50] * 200
    return GatePage(f"g{i:03d}_{kind}", page_html(paras, "资料").encode("utf-8"), [], kinds=[f"junk.{kind}"])


def build_pages(seed: int, n: int = 300) -> list[GatePage]:
    """``n`` pages from ``seed``: one gold speech each with two to five noise kinds, one page in
    twenty a page that holds no speech at all."""
    g = Grammar(seed)
    pool = speech_pool()
    pages = []
    for i in range(n):
        if g.r.random() < 0.05:
            pages.append(_junk_page(g, i))
            continue
        speech = g.r.choice(pool)
        kinds = g.r.sample(KINDS, k=g.r.randint(2, 5))
        c = compose(g, speech, kinds)
        paras, expected = c.paras, c.expected
        trad = g.r.random() < 0.3
        if trad:
            paras, expected = [traditional(p) for p in paras], [traditional(p) for p in expected]
        encoding = g.r.choice(("utf-8", "utf-8", "utf-8", "big5hkscs" if trad else "gb18030"))
        declared = g.r.choice((encoding, encoding, "")) if encoding != "utf-8" else "utf-8"
        html = page_html(paras, g.r.choice(TOPICS), charset=declared or "x", template=g.r.randrange(TEMPLATES))
        if not declared:
            html = html.replace('<meta http-equiv="Content-Type" content="text/html; charset=x">', "")
        pages.append(GatePage(f"g{i:03d}_{encoding}_{'t' if trad else 's'}", html.encode(encoding, "xmlcharrefreplace"),
                              expected, c.truncated, c.kinds))
    return pages


@dataclass
class Report:
    pages: int = 0
    f1: list[float] = field(default_factory=list)
    removed: int = 0  # characters of the speech missing from the output
    left: int = 0  # characters of noise left in the output
    truncated: int = 0  # pages whose text is incomplete
    truncated_found: int = 0
    junk: int = 0
    junk_stored: int = 0  # pages that hold no speech but gave one
    failures: list[str] = field(default_factory=list)

    @property
    def mean_f1(self) -> float:
        return sum(self.f1) / len(self.f1) if self.f1 else 1.0

    @property
    def min_f1(self) -> float:
        return min(self.f1, default=1.0)

    @property
    def truncation_recall(self) -> float:
        return self.truncated_found / self.truncated if self.truncated else 1.0

    def summary(self) -> str:
        return (f"{self.pages} pages: F1 mean {self.mean_f1:.4f} min {self.min_f1:.4f}; speech characters removed "
                f"{self.removed}; noise characters left {self.left}; truncation recall {self.truncated_found}/"
                f"{self.truncated}; junk pages stored as speech {self.junk_stored}/{self.junk}")


def _differences(expected: str, got: str) -> tuple[list[str], list[str]]:
    """What of ``expected`` is missing from ``got``, and what ``got`` has that ``expected`` lacks."""
    missing, extra = [], []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, expected, got, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            missing.append(expected[i1:i2])
        if op in ("insert", "replace"):
            extra.append(got[j1:j2])
    return missing, extra


def score_pages(pages: list[GatePage]) -> Report:
    rep = Report()
    for page in pages:
        rep.pages += 1
        what = not_html(page.body)
        if what:
            speeches = []
        else:
            html, _ = decode_html(page.body, None)
            speeches = clean_page([html], f"http://site.test/{page.name}.html").speeches
        if not page.expected:
            rep.junk += 1
            rep.junk_stored += bool(speeches)
            if speeches:
                rep.failures.append(f"{page.name}: junk stored as {len(speeches)} speech(es)")
            continue
        got = "".join("".join(s.paragraphs) for s in speeches)
        want = "".join(page.expected)
        rep.f1.append(char_f1(want, got))
        missing, extra = _differences(want, got)
        rep.removed += sum(len(m) for m in missing)
        rep.left += sum(len(e) for e in extra)
        if page.truncated:
            rep.truncated += 1
            rep.truncated_found += any(s.truncated for s in speeches)
        if missing or extra or page.truncated != any(s.truncated for s in speeches):
            rep.failures.append(f"{page.name} {page.kinds}: missing {missing[:3]} extra {extra[:3]} truncated "
                                f"{any(s.truncated for s in speeches)} (want {page.truncated})")
    return rep

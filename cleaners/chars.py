"""Character-level normalisation shared by cleaning, deduplication and search.

``fold`` gives a length-preserving comparison form (simplified script, half-width ASCII,
lower case), so a pattern written once in simplified ASCII-punctuated form matches traditional
and full-width spellings too, and a match's offsets still point into the original text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

import opencc


@cache
def _opencc(config: str) -> opencc.OpenCC:
    """An OpenCC converter, built on first use: loading its tables costs 60 ms, which every
    command-line call would otherwise pay, even ``--help``."""
    return opencc.OpenCC(config)

# Zero-width and formatting characters used to break words for scrapers, plus C0/C1 controls.
INVISIBLE = re.compile(r"[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Full-width ASCII block (！ to ～) and the ideographic space map onto plain ASCII.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}
# Only digits and Latin letters are rewritten in stored text: Chinese punctuation stays as published.
_ALNUM_WIDTH = {cp: cp - 0xFEE0 for cp in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_ALNUM_WIDTH |= {0x3000: 0x20, 0xA0: 0x20}

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACED_RUN = re.compile(rf"(?:[{CJK}] ){{2,}}[{CJK}]")
# Pinyin a bad converter left in brackets after a character: 領(lǐng)導(dǎo). It needs a tone mark,
# so ordinary bracketed Latin text such as (VIP) or (GDP) is untouched.
_PINYIN = re.compile(rf"(?<=[{CJK}])[((][a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*[))]")


@lru_cache(maxsize=65536)
def _t2s_char(ch: str) -> str:
    out = _opencc("t2s").convert(ch)
    return out if len(out) == 1 else ch


def to_simplified(text: str) -> str:
    """Traditional → simplified with OpenCC phrase tables (may change length)."""
    return _opencc("t2s").convert(text)


def to_traditional(text: str) -> str:
    return _opencc("s2t").convert(text)


_WIDE = re.compile(r"[\uff01-\uff5e\u3000\u00a0]")
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
_CJK_ANY = re.compile(rf"[{CJK}]")


class _FoldCache(dict[str, str]):
    """``fold``'s results within a budget of characters, emptied when full. A budget of entries let
    whole speech texts pile up (20,000 of them: hundreds of MB over a long crawl)."""

    budget = 2_000_000  # characters folded: a page's paragraphs many times over, some 8 MB

    def __init__(self) -> None:
        super().__init__()
        self.chars = 0

    def put(self, pairs: Iterable[tuple[str, str]]) -> None:
        for text, folded in pairs:
            if self.chars + len(text) > self.budget:
                self.clear()
            self[text] = folded
            self.chars += len(text)

    def clear(self) -> None:
        super().clear()
        self.chars = 0


_FOLDED = _FoldCache()


_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))


@lru_cache(maxsize=2)
def _changed_by(converter: opencc.OpenCC) -> re.Pattern[str]:
    """Runs of the characters ``converter`` changes on its own (t2s: about 4,200). Listed once per
    process, in one call, a character a line (no phrase spans a line break): one call per character
    took 30 ms, which every cleaning process paid before its first page; this takes 4."""
    every = [c for lo, hi in _RANGES for c in map(chr, range(lo, hi))]
    alone = converter.convert("\n".join(every)).split("\n")
    if len(alone) != len(every):  # a converter that merged or split lines: ask character by character
        alone = [converter.convert(c) for c in every]
    return re.compile(f"[{''.join(c for c, out in zip(every, alone, strict=True) if out != c)}]+")


def _converted() -> re.Pattern[str]:
    return _changed_by(_opencc("t2s"))


def _fold_uncached(text: str) -> str:
    # most pages hold no traditional character: then OpenCC would return the text unchanged
    simp = _opencc("t2s").convert(text) if _converted().search(text) else text
    if len(simp) != len(text):
        simp = "".join(_t2s_char(c) for c in text)
    if _WIDE.search(simp):
        simp = simp.translate(_WIDTH)
    return simp.lower()


def fold(text: str) -> str:
    """Comparison form of ``text`` with exactly its length: simplified, half-width, lower case.

    Cached, because every cleaning step folds the same paragraphs again; ``prefold`` fills the
    cache for a whole page in one OpenCC call."""
    folded = _FOLDED.get(text)
    if folded is None:
        folded = _fold_uncached(text)
        _FOLDED.put([(text, folded)])
    return folded


def prefold(paras: list[str]) -> None:
    """Fold many paragraphs at once (one OpenCC call instead of one per paragraph)."""
    todo = [p for p in paras if p not in _FOLDED and "\n" not in p]
    if not todo:
        return
    converted = _converted()
    plain = [p for p in todo if not converted.search(p)]  # no traditional character: width and case only
    _FOLDED.put((p, _fold_uncached(p)) for p in plain)
    todo = [p for p in todo if p not in _FOLDED]
    if not todo:
        return
    folded = _fold_uncached("\n".join(todo)).split("\n")
    if len(folded) == len(todo):
        _FOLDED.put(zip(todo, folded, strict=True))


def clear_fold_cache() -> None:
    _FOLDED.clear()


_ALNUM_WIDE = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000\u00a0]")
_TONE = re.compile(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]")


def normalise_text(text: str) -> str:
    """Undo typographic tricks that hide or split words; keep everything a reader sees."""
    text = INVISIBLE.sub("", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _ALNUM_WIDE.search(text):
        text = text.translate(_ALNUM_WIDTH)
    if _TONE.search(text):
        text = _PINYIN.sub("", text)
    if " " in text or "\t" in text:
        # PDF-style letter spacing (江 西 省 地 方 标 准): only runs of three or more spaced characters.
        text = _SPACED_RUN.sub(lambda m: m.group(0).replace(" ", ""), text)
        text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def script_of(text: str) -> str:
    """'traditional' or 'simplified', by which script's own characters are more frequent."""
    sample = text[:600]
    if not _CJK_CHAR.search(sample):
        return "unknown"
    return "traditional" if count(_changed_by(_opencc("t2s")), sample) > count(_changed_by(_opencc("s2t")), sample) else "simplified"


_CJK_RUNS = re.compile(rf"[{CJK}]+")


def count(runs: re.Pattern[str], text: str) -> int:
    """Characters of ``text`` matched by ``runs`` (a pattern of runs, ``[…]+``): five times faster
    than a list of single-character matches."""
    return sum(map(len, runs.findall(text)))


def cjk_count(text: str) -> int:
    return count(_CJK_RUNS, text)


# The characters most used in written Chinese, in both scripts: they make up most of any real text
# and a small share of random characters or of a page decoded in the wrong charset.
_COMMON_SIMPLIFIED = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说"
                      "产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使"
                      "点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明"
                      "看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料"
                      "象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
                      "区强放决西被干做必战先回则任取据处府研讲话志县乡村镇委领导议织")


@cache
def _common_runs() -> re.Pattern[str]:
    common = set(_COMMON_SIMPLIFIED) | set(to_traditional(_COMMON_SIMPLIFIED))
    return re.compile("[" + "".join(sorted(common)) + "]+")


_HAN_RUNS = re.compile(r"[\u4e00-\u9fff]+")


def common_share(text: str) -> float:
    """Share of the text's Chinese characters that are among the commonest in writing."""
    han = count(_HAN_RUNS, text)
    return count(_common_runs(), text) / han if han else 0.0

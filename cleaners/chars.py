"""Character-level normalisation shared by cleaning, deduplication and search.

``fold`` gives a length-preserving comparison form (simplified script, half-width ASCII,
lower case), so a pattern written once in simplified ASCII-punctuated form matches traditional
and full-width spellings too, and a match's offsets still point into the original text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")

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
    out = _T2S.convert(ch)
    return out if len(out) == 1 else ch


def to_simplified(text: str) -> str:
    """Traditional → simplified with OpenCC phrase tables (may change length)."""
    return _T2S.convert(text)


def to_traditional(text: str) -> str:
    return _S2T.convert(text)


def fold(text: str) -> str:
    """Comparison form of ``text`` with exactly its length: simplified, half-width, lower case."""
    simp = _T2S.convert(text)
    if len(simp) != len(text):
        simp = "".join(_t2s_char(c) for c in text)
    return simp.translate(_WIDTH).lower()


def normalise_text(text: str) -> str:
    """Undo typographic tricks that hide or split words; keep everything a reader sees."""
    text = unicodedata.normalize("NFC", INVISIBLE.sub("", text))
    text = text.translate(_ALNUM_WIDTH)
    text = _PINYIN.sub("", text)
    # PDF-style letter spacing (江 西 省 地 方 标 准): only runs of three or more spaced characters.
    text = _SPACED_RUN.sub(lambda m: m.group(0).replace(" ", ""), text)
    return re.sub(r"[ \t]+", " ", text).strip()


def script_of(text: str) -> str:
    """'traditional' or 'simplified', by which conversion would change more characters."""
    sample = "".join(c for c in text[:4000] if "\u4e00" <= c <= "\u9fff")
    if not sample:
        return "unknown"
    trad = sum(1 for a, b in zip(sample, _T2S.convert(sample)) if a != b)
    simp = sum(1 for a, b in zip(sample, _S2T.convert(sample)) if a != b)
    return "traditional" if trad > simp else "simplified"


def cjk_count(text: str) -> int:
    return sum(1 for c in text if "\u3400" <= c <= "\u9fff")

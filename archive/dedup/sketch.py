"""Text sketches for near-duplicate detection: Broder's mod-m sample of character shingles.

A min-hash keeps the k smallest shingle hashes and estimates Jaccard resemblance, which is low for a
truncated copy of a long speech. Keeping every shingle whose hash is 0 mod m instead (Broder 1997,
"On the resemblance and containment of documents") samples both texts at the same rate, so the share
of the smaller sample found in the larger estimates containment too: a paywalled half, an excerpt or
a copy with its middle omitted still matches its full text. Hashes are computed for all windows at
once with numpy (a polynomial rolling hash, then a 64-bit mixer), stable across processes so they can
be stored in the archive.
"""

from __future__ import annotations

import numpy as np

SHINGLE = 8  # characters per shingle: longer than stock four-character phrases, shorter than a clause
SAMPLE_MOD = 8  # keep one shingle hash in eight (chosen on the labelled set, see bench/dedup.py --sweep)
MIN_SAMPLE = 8  # texts whose sample is smaller keep every shingle, so short texts still compare

_BASE = np.uint64(0x100000001B3)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the rolling hash's low bits, which the mod-m sample reads."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def shingle_hashes(form: str, size: int = SHINGLE) -> np.ndarray:
    """64-bit hashes (as int64) of every ``size``-character window of ``form``, in text order."""
    codes = np.frombuffer(form.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    windows = max(1, len(codes) - size + 1)
    codes = np.pad(codes, (0, max(0, size - len(codes))))
    h = np.zeros(windows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(size):
            h = h * _BASE + codes[k:k + windows] + np.uint64(1)
        return _mix(h).view(np.int64)


def _distinct(hashes: np.ndarray) -> np.ndarray:
    hashes = np.sort(hashes)
    return hashes[np.r_[True, hashes[1:] != hashes[:-1]]] if len(hashes) else hashes


def sampled_in_order(form: str, size: int = SHINGLE, mod: int = SAMPLE_MOD) -> np.ndarray:
    """The sketch's hashes where they occur in the text (repeats kept): where a text lies in another."""
    hashes = shingle_hashes(form, size)
    sampled = hashes[hashes % mod == 0]
    return sampled if len(_distinct(sampled)) >= MIN_SAMPLE else hashes


def sketch_of_form(form: str, size: int = SHINGLE, mod: int = SAMPLE_MOD) -> np.ndarray:
    hashes = shingle_hashes(form, size)
    sampled = _distinct(hashes[hashes % mod == 0])
    return sampled if len(sampled) >= MIN_SAMPLE else _distinct(hashes)

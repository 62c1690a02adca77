"""Speech metadata read from the text itself: speaker and date lines, occasion, outline, flags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cleaners import patterns as P
from cleaners.chars import fold
from cleaners.types import Gap, Para, Removal


@dataclass
class SpeechMeta:
    speaker: str | None = None
    speech_date: str | None = None
    occasion: str | None = None
    outline: list[dict[str, object]] = field(default_factory=list)


def occasion_of(title: str) -> str | None:
    """"在全市组织工作会议上的讲话" → "全市组织工作会议"."""
    m = P.OCCASION.search(fold(title))
    return title[m.start(1): m.end(1)] if m else None


def speaker_from_title(title: str) -> str | None:
    m = P.TITLE_SPEAKER.match(fold(title))
    return title[m.start(1): m.end(1)] if m else None


def take_header(paras: list[Para], title: str) -> tuple[list[Para], list[Removal], SpeechMeta]:
    """Move the title, speaker and date lines at the head of a speech into metadata."""
    meta = SpeechMeta(occasion=occasion_of(title), speaker=speaker_from_title(title))
    removals: list[Removal] = []
    title_key = re.sub(r"\s+", "", fold(title))
    body = list(paras)
    for i in range(min(4, len(body))):
        p = body[i]
        if not isinstance(p, str):
            continue
        folded = fold(p).strip()
        date = P.SPEECH_DATE.match(folded)
        if date:
            meta.speech_date = f"{date.group(1)}-{int(date.group(2)):02d}-{int(date.group(3)):02d}"
            removals.append(Removal("meta.speech_date", p))
            body[i] = ""
        elif title_key and re.sub(r"\s+", "", folded) == title_key:
            removals.append(Removal("chrome.title_repeat", p))
            body[i] = ""
        elif P.SPEAKER_LINE.match(folded) and _next_is_date(body, i):
            meta.speaker = re.sub(r"\s+", "", p)
            removals.append(Removal("meta.speaker", p))
            body[i] = ""
    body = [p for p in body if p != ""]
    meta.outline = outline(body)
    return body, removals, meta


def _next_is_date(paras: list[Para], i: int) -> bool:
    nxt = paras[i + 1] if i + 1 < len(paras) else None
    return isinstance(nxt, str) and bool(P.SPEECH_DATE.match(fold(nxt).strip()))


def outline(paras: list[Para]) -> list[dict[str, object]]:
    """Section headings: 一、… at level 1, (一)… at level 2."""
    heads = []
    for i, p in enumerate(paras):
        if isinstance(p, str):
            m = P.HEADING.match(fold(p).strip())
            if m:
                heads.append({"level": 1 if m.group(1) else 2, "para": i,
                              "text": p.strip()[: m.end(3)]})
    return heads


def gap_flags(paras: list[Para]) -> dict[str, object]:
    """Truncation facts from the Gaps a paywall left, with the paragraph each follows."""
    gaps = []
    stated = None
    n = 0
    for p in paras:
        if isinstance(p, Gap):
            gaps.append({"after_para": n, "kind": p.kind, "chars": p.chars})
            stated = stated or p.stated_total
        else:
            n += 1
    return {"truncated": bool(gaps), "stated_length": stated, "gaps": gaps}


def has_mojibake(text: str) -> bool:
    """Whether a wrong charset has damaged the text anywhere: replacement characters, "??"/"?^"
    where a double-byte character was lost, or the characters a misread pair turns into."""
    if not P.MOJIBAKE_ANY.search(text):
        return False
    if "\ufffd" in text or ("??" in text and P.MOJIBAKE.search(fold(text))):
        return True
    if "?" in text and (len(P.MOJIBAKE_PAIR.findall(text)) >= 2 or P.MOJIBAKE_LONE.search(text)):
        return True
    if len(P.MOJIBAKE_LATIN.findall(text)) >= 3:
        return True
    misread = len(P.MISREAD_CHARS.findall(text))
    return misread >= 3 and misread >= 0.005 * len(text) or any(run in text for run in P.MISREAD_RUNS)

"""Text-level cleaning steps: paragraphs in, paragraphs out, with a reason for every removal.

Each step is a pure function ``(paras) -> StepOut``. Matching runs on ``fold(paragraph)`` so one
pattern serves both scripts and both widths; cuts are made at the same offsets in the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from cleaners import patterns as P
from cleaners.chars import INVISIBLE, cjk_count, fold, normalise_text
from cleaners.types import Gap, Para, Removal, StepOut


def _cut(text: str, spans: Iterable[tuple[int, int]]) -> tuple[str, list[str]]:
    """Remove ``spans`` (start, end) from ``text``; return the rest and the removed pieces."""
    out, removed, pos = [], [], 0
    for start, end in sorted(spans):
        if start < pos:
            start = pos
        if end <= start:
            continue
        out.append(text[pos:start])
        removed.append(text[start:end])
        pos = end
    out.append(text[pos:])
    return "".join(out).strip(), removed


def _drop_lines(paras: list[Para], reason_of: Callable[[str], str | None]) -> StepOut:
    """Drop every paragraph for which ``reason_of(folded)`` names a reason."""
    kept: list[Para] = []
    removals: list[Removal] = []
    for p in paras:
        reason = reason_of(fold(p).strip()) if isinstance(p, str) else None
        if reason:
            removals.append(Removal(reason, p))
        else:
            kept.append(p)
    return StepOut(kept, removals)


def normalise(paras: list[Para]) -> StepOut:
    """Strip zero-width characters, fold full-width digits and letters, drop converter pinyin."""
    kept: list[Para] = []
    hidden = 0
    for p in paras:
        if isinstance(p, Gap):
            kept.append(p)
            continue
        hidden += len(INVISIBLE.findall(p))
        text = normalise_text(p)
        if text:
            kept.append(text)
    removals = [Removal("hidden.zero_width", f"{hidden} invisible characters")] if hidden else []
    return StepOut(kept, removals)


def remove_paywall(paras: list[Para]) -> StepOut:
    """Replace paywall notes with Gaps: an omitted middle, a truncated end, a preview limit."""
    kept: list[Para] = []
    removals: list[Removal] = []
    for i, p in enumerate(paras):
        if isinstance(p, Gap):
            kept.append(p)
            continue
        folded = fold(p)
        cut = P.TRUNCATED.search(folded) if P.TRUNCATED_HINT.search(folded) else None
        if cut:
            head = p[: cut.start()].strip()
            if head:
                kept.append(head)
            tail = [p[cut.start():], *(q for q in paras[i + 1:] if isinstance(q, str))]
            stated = P.STATED_LENGTH.search(fold(" ".join(tail)))
            kept.append(Gap("truncated", stated_total=int(stated.group(1)) if stated else None))
            removals.extend(Removal("paywall.truncated", t) for t in tail)
            return StepOut(kept, removals, {"truncated": True})
        if P.PREVIEW_LIMIT.match(folded.strip()):
            kept.append(Gap("truncated"))
            removals.append(Removal("paywall.preview_limit", p))
            continue
        if P.PREVIEW_WIDGET.match(folded.strip()):
            removals.append(Removal("paywall.preview_widget", p))
            continue
        pos = 0
        for m in (P.OMITTED.finditer(folded) if P.OMITTED_HINT.search(folded) else ()):
            head = p[pos: m.start()].strip()
            if head:
                kept.append(head)
            kept.append(Gap("omitted", chars=int(m.group(1))))
            removals.append(Removal("paywall.omitted", p[m.start(): m.end()]))
            pos = m.end()
        rest = p[pos:].strip()
        if rest:
            kept.append(rest)
    return StepOut(kept, removals)


def _is_obfuscated(fragment: str) -> bool:
    """A source phrase is a watermark only with evidence: an address, Latin, or wedged-in junk."""
    if P.DOMAIN_RE.search(fragment) or re.search(r"[a-z0-9]{3,}", fragment):
        return True
    return len(re.findall(rf"(?<=[{P.CJK}])[^\w\s,.:;!?(){P.CJK}]|(?<=[{P.CJK}])[/.;:,](?=[{P.CJK}])", fragment)) >= 2


def _source_phrases(folded: str) -> list[tuple[int, int]]:
    """Obfuscated "来源于 XX网" phrases, tried only around the places a source word occurs."""
    spans = []
    for hint in P.SOURCE_HINT.finditer(folded):
        m = P.OBFUSCATED_SOURCE.search(folded, max(0, hint.start() - 12), hint.end() + 80)
        if m and m.start() <= hint.start() and _is_obfuscated(m.group(0)):
            spans.append(m.span())
    return spans


def _is_jammer(fragment: str) -> bool:
    """Many tokens carry punctuation: not an English phrase or a list of numbers."""
    tokens = fragment.split()
    marked = sum(1 for t in tokens if re.search(r"[^a-z0-9]", t))
    return marked >= 3 and marked >= 0.3 * len(tokens)


def _brand_line(folded: str) -> bool:
    if len(folded) > 24 or folded[-1:] not in "网站汇库档家" or P.TOP_HEADING.match(folded) or re.search(r"[。!?;]", folded):
        return False
    if not P.BRAND_LINE.match(folded) or P.RELATED_HEAD.match(folded):
        return False
    return any(w in folded for w in P.BRAND_WORDS) or len(re.split(r"[,|\s]+", folded)) >= 2


def remove_watermarks(paras: list[Para]) -> StepOut:
    """Cut site watermarks: obfuscated source phrases, brand + address, brand-only lines."""
    kept: list[Para] = []
    removals: list[Removal] = []
    for p in paras:
        if isinstance(p, Gap):
            kept.append(p)
            continue
        folded = fold(p)
        if _brand_line(folded.strip()):
            removals.append(Removal("watermark.brand_line", p))
            continue
        spans = _source_phrases(folded)
        if P.DOMAIN_HINT.search(folded):
            spans += [m.span() for m in P.INLINE_DOMAIN.finditer(folded)]
        if folded.count(" ") >= 5:
            spans += [m.span() for m in P.JAMMER.finditer(folded) if _is_jammer(m.group(0))]
        if not spans:
            kept.append(p)
            continue
        text, removed = _cut(p, _merge(spans))
        removals.extend(Removal("watermark.inline", r) for r in removed)
        if cjk_count(text) >= 2:
            kept.append(text)
        elif text:
            removals.append(Removal("watermark.residue", text))
    return StepOut(kept, removals)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


_LEADING_BULLET = re.compile(r"^[-·•\s]+")
_SPACES = re.compile(r"\s+")


def _tool_row(folded: str) -> bool:
    tokens = [t for t in re.split(r"[\s|【】\[\]:,/]+", folded) if t]
    return len(tokens) >= 2 and sum(t in P.WIDGET_WORDS for t in tokens) >= 0.7 * len(tokens)


def _chrome_reason(folded: str) -> str | None:
    if not folded or P.ELLIPSIS_LINE.match(folded):
        return "chrome.ellipsis"
    if len(folded) > 160:
        return None
    if P.BREADCRUMB.match(folded) or (len(P.CRUMB_SEPARATORS.findall(folded)) >= 2 and len(folded) < 80
                                      and not P.SENTENCE_END.search(folded)):  # a crumb trail is no sentence
        return "chrome.breadcrumb"
    if P.PREV_NEXT.match(folded) or P.PAGER.match(folded):
        return "chrome.prev_next"
    if P.DOC_META.match(folded) or len(P.UPLOAD_FIELDS.findall(folded)) >= 2:
        return "chrome.doc_meta"
    if P.DATE_LINE.match(folded) or P.META_LABEL.match(folded) or (
            len(P.META_FIELDS.findall(folded)) >= 2 and len(folded) < 100):
        return "chrome.page_meta"
    if P.LANG_SWITCH.match(folded):
        return "chrome.widget"
    if _LEADING_BULLET.sub("", folded) in P.WIDGET_WORDS or _tool_row(folded) or P.COUNTER.match(folded):
        return "chrome.widget"
    if P.COPYRIGHT.match(folded):
        return "chrome.copyright"
    return None


def page_facts(paras: list[Para]) -> dict[str, object]:
    """Publish date and region that page chrome states, read before the chrome is dropped."""
    facts: dict[str, object] = {}
    for p in paras:
        if not isinstance(p, str):
            continue
        folded = fold(p).strip()
        m = P.DATE_LINE.match(folded) or re.search(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*发布于", folded)
        if m and "publish_date" not in facts:
            facts["publish_date"] = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        region = P.REGION.search(folded)
        if region and P.DOC_META.match(folded) and "region" not in facts:
            facts["region"] = p.strip()[region.start(1): region.end(1)]
    return facts


def remove_chrome(paras: list[Para]) -> StepOut:
    """Drop page chrome lines, lists of other documents, and a table of contents above the text."""
    kept: list[Para] = []
    removals: list[Removal] = []
    in_list = False
    i = 0
    while i < len(paras):
        p = paras[i]
        folded = fold(p).strip() if isinstance(p, str) else ""
        if folded and P.TOC_HEAD.match(folded):
            end = _toc_end(paras, i)
            removals.extend(Removal("chrome.toc", q) for q in paras[i:end] if isinstance(q, str))
            i = end
            continue
        if folded and (P.RELATED_HEAD.match(folded) or in_list and _list_item(folded)):
            in_list = True
            removals.append(Removal("chrome.related", p))
        else:
            in_list = False
            kept.append(p)
        i += 1
    out = _drop_lines(kept, _chrome_reason)
    out.removals[:0] = removals
    out.paras, edge = _edge_runs(out.paras)
    out.removals += edge
    out.facts = page_facts(paras)
    return out


def _menu_item(folded: str) -> bool:
    return len(folded) <= 8 and not re.search(r"[。!?,;:、]", folded)


def _edge_runs(paras: list[Para], run: int = 3) -> tuple[list[Para], list[Removal]]:
    """Menus left above the text and bullet lists left below it: runs of three or more items."""
    def items(seq: list[Para], is_item) -> int:  # noqa: ANN001 - predicate
        n = 0
        while n < len(seq) and isinstance(seq[n], str) and is_item(fold(seq[n]).strip()):
            n += 1
        return n if n >= run else 0

    head = items(paras, _menu_item)
    tail = items(paras[::-1], lambda f: _menu_item(f) or bool(re.match(r"^[-·•](\s|$)", f)))
    tail = min(tail, len(paras) - head)
    removals = [Removal("chrome.nav", p) for p in paras[:head] if isinstance(p, str)]
    removals += [Removal("chrome.related", p) for p in paras[len(paras) - tail:] if isinstance(p, str)]
    return paras[head: len(paras) - tail], removals


def _list_item(folded: str) -> bool:
    return len(folded) <= 80 and (bool(re.match(r"^[-·•*]", folded)) or bool(P.FILE_ITEM.search(folded))
                                  or not re.search(r"[。!?;]", folded))


def _toc_end(paras: list[Para], start: int) -> int:
    """Index just past a table of contents: numbered heading lines, up to an ellipsis line."""
    i = start + 1
    while i < len(paras) and isinstance(paras[i], str):
        folded = fold(paras[i]).strip()
        if P.ELLIPSIS_LINE.match(folded):
            return i + 1
        if len(folded) > 40 or not P.TOC_ENTRY.match(folded):
            break
        i += 1
    return i


def _voice_reason(folded: str) -> str | None:
    if len(folded) > 300:
        return None
    score = 2 * len(set(P.SITE_VOICE_STRONG_RE.findall(folded))) + len(set(P.SITE_VOICE_WEAK_RE.findall(folded)))
    labelled = bool(P.INTRO_LABEL.match(folded))
    if score >= 3 or (score >= 2 and (labelled or len(folded) < 60)) or (labelled and "本文" in folded):
        return "site.intro" if labelled or "小编" in folded else "site.disclaimer"
    if P.EDITOR_LINE.match(folded):
        return "site.editor"
    return None


def remove_site_voice(paras: list[Para]) -> StepOut:
    """Drop site intros, disclaimers and editor lines; cut photo credits and newspaper source lines."""
    out = _drop_lines(paras, _voice_reason)
    kept: list[Para] = []
    for p in out.paras:
        if isinstance(p, Gap):
            kept.append(p)
            continue
        folded = fold(p)
        if not P.CREDIT_HINT.search(folded):
            kept.append(p)
            continue
        spans = [m.span() for m in P.PHOTO_CREDIT.finditer(folded)]
        for m in P.PAPER_SOURCE.finditer(folded):
            spans.append(m.span())
            out.facts.setdefault("publish_date", f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}")
        text, removed = _cut(p, _merge(spans))
        out.removals.extend(Removal("site.credit", r) for r in removed)
        if text:
            kept.append(text)
    out.paras = kept
    return out


def remove_title_repeats(paras: list[Para], title: str) -> StepOut:
    """Drop lines that only repeat the page title (above the text, or below it as chrome)."""
    key = _SPACES.sub("", fold(title))
    if not key:
        return StepOut(paras)
    return _drop_lines(paras, lambda f: "chrome.title_repeat" if len(f) < 2 * len(key) and _SPACES.sub("", f) == key
                       else None)


def remove_repeated_blocks(paras: list[Para], min_chars: int = 12) -> StepOut:
    """Drop a run of paragraphs that repeats an earlier run word for word (a block pasted twice)."""
    seen: set[str] = set()
    kept: list[Para] = []
    removals: list[Removal] = []
    for p in paras:
        if isinstance(p, str) and len(p) >= min_chars:
            key = _SPACES.sub("", fold(p))
            if key in seen:
                removals.append(Removal("repeat.block", p))
                continue
            seen.add(key)
        kept.append(p)
    return StepOut(kept, removals)


def apply_source_rules(paras: list[Para], rules: list[re.Pattern[str]]) -> StepOut:
    """Cut spans matching a source file's own noise patterns (what is true of that site only)."""
    if not rules:
        return StepOut(paras)
    kept: list[Para] = []
    removals: list[Removal] = []
    for p in paras:
        if isinstance(p, Gap):
            kept.append(p)
            continue
        folded = fold(p)
        text, removed = _cut(p, _merge([m.span() for r in rules for m in r.finditer(folded)]))
        removals.extend(Removal("source.rule", r) for r in removed)
        if text:
            kept.append(text)
    return StepOut(kept, removals)

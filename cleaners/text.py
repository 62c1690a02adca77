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
from cleaners.watermarks import BRAND_SUFFIX, DOMAIN, merge_spans, watermark_spans


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


def _stated_preview(line: str) -> bool:
    """A line of its own that counts what is left or says only part is shown ("还剩39页未读")."""
    return len(line) <= 60 and bool(P.PREVIEW_LEFT.search(line) or P.PREVIEW_SHOWN.search(line)) and not re.search(
        r"[。;]", line[:-1]) and not (P.OMITTED_HINT.search(line) and _omitted_notes(line))


def _preview_note(line: str, at_end: bool) -> str | None:
    """"limit" for a short line of its own saying the page shows only part of the text, "widget" for
    a read-more link inside it. A lock word with a whole-text word ("免费下载完整版查看全文") or a
    read-more widget is a limit only where no sentence of text follows."""
    if len(line) > 60 or re.search(r"[。;]", line[:-1]) or P.OMITTED_HINT.search(line) and _omitted_notes(line):
        return None
    if _stated_preview(line):
        return "limit"
    widget = bool(P.PREVIEW_WIDGET.match(line)) and bool(re.search(r"更多|全文|剩余|余下|继续", line))
    locked = len(line) <= 30 and not line.endswith("。") and P.PREVIEW_LOCK.search(line) and P.PREVIEW_WHOLE.search(line)
    if at_end and (widget or locked):
        return "limit"
    return "widget" if widget else None


def _omitted_notes(folded: str) -> list[re.Match[str]]:
    """Omitted-middle notes, looked for only around their key words (省略, 隐藏…)."""
    notes: list[re.Match[str]] = []
    for word in P.OMITTED_HINT.finditer(folded):
        if notes and word.start() < notes[-1].end():
            continue
        m = P.OMITTED.search(folded, max(notes[-1].end() if notes else 0, word.start() - 110), word.end() + 80)
        if m and m.start() <= word.start() < m.end():
            notes.append(m)
    return notes


def _note_start(folded: str, start: int) -> int:
    """A note's leading "。。。" must not take the full stop of the sentence before it."""
    run = len(folded[start:]) - len(folded[start:].lstrip("。"))
    return start + run % 3 if run > 3 else start


def remove_paywall(paras: list[Para]) -> StepOut:
    """Replace paywall notes with Gaps: an omitted middle, a truncated end, a preview limit."""
    kept: list[Para] = []
    removals: list[Removal] = []
    last_text = next((i for i in range(len(paras) - 1, -1, -1) if isinstance(paras[i], str) and len(paras[i]) >= 10
                      and P.SENTENCE_END.search(fold(paras[i])) and not _site_voice(fold(paras[i]).strip())),
                     -1)  # past the last sentence of text: where a preview note stops it
    for i, p in enumerate(paras):
        if isinstance(p, Gap):
            kept.append(p)
            continue
        folded = fold(p)
        line = folded.strip()
        cut = P.TRUNCATED.search(folded) if P.TRUNCATED_HINT.search(folded) else None
        note = None if cut and p[:cut.start()].strip() and not _stated_preview(line) else _preview_note(
            line, at_end=i > last_text)
        if note == "widget":
            removals.append(Removal("paywall.preview_widget", p))
            continue
        if note == "limit":
            stated = P.STATED_LENGTH.search(line)
            kept.append(Gap("truncated", stated_total=int(stated.group(1)) if stated else None))
            removals.append(Removal("paywall.preview_limit", p))
            continue
        if cut:
            start = _note_start(folded, cut.start())
            head = p[:start].strip()
            if head:
                kept.append(head)
            tail = [p[start:], *(q for q in paras[i + 1:] if isinstance(q, str))]
            stated = P.STATED_LENGTH.search(fold(" ".join(tail)))
            kept.append(Gap("truncated", stated_total=int(stated.group(1)) if stated else None))
            removals.extend(Removal("paywall.truncated", t) for t in tail)
            return StepOut(kept, removals, {"truncated": True})
        if P.PAGE_MARKER.match(line):
            removals.append(Removal("chrome.page_marker", p))
            continue
        pos = 0
        for m in _omitted_notes(folded):
            start = _note_start(folded, m.start())
            head = p[pos:start].strip()
            if head:
                kept.append(head)
            kept.append(Gap("omitted", chars=int(m.group(1))))
            removals.append(Removal("paywall.omitted", p[start: m.end()]))
            pos = m.end()
        rest = p[pos:].strip()
        if rest:
            kept.append(rest)
    return StepOut(kept, removals)


_BRAND_TOKEN = re.compile(rf"^[{P.CJK}]{{1,8}}(?:{'|'.join(BRAND_SUFFIX)})$")


def _brand_line(folded: str) -> bool:
    """A line that only names sites: one to three brands or addresses ("稿子汇,范文学习文库")."""
    if len(folded) > 48 or re.search(r"[。!?;:]", folded) or P.TOP_HEADING.match(folded) or P.RELATED_HEAD.match(folded):
        return False
    tokens = [t for t in re.split(r"[,|\s、/]+", folded) if t]
    if not 1 <= len(tokens) <= 3:
        return False
    if not all(_BRAND_TOKEN.match(t) or DOMAIN.fullmatch(t) for t in tokens):
        return False
    return len(tokens) >= 2 or any(w in folded for w in P.BRAND_WORDS)


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
        spans = watermark_spans(folded)
        if not spans:
            kept.append(p)
            continue
        text, removed = _cut(p, spans)
        removals.extend(Removal("watermark.inline", r) for r in removed)
        if cjk_count(text) >= 2:
            kept.append(text)
        elif text:
            removals.append(Removal("watermark.residue", text))
    return StepOut(kept, removals)


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
        if not isinstance(p, str) or len(p) > 100:  # chrome lines are short; a paragraph of text states neither
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


_SENTENCE = re.compile(r"[^。!?]+(?:[。!?]+[”’\"')]*|$)")


def _site_voice(folded: str) -> bool:
    """One sentence in which the site speaks: it names itself and offers or invites, or does both,
    or names itself twice ("如发现本站有侵权内容,请联系删除,本站将立刻删除")."""
    if len(folded) > 240:
        return False
    named = P.SITE_SELF.findall(folded)
    labelled = bool(P.INTRO_LABEL.match(folded))
    offer, invite = P.SITE_OFFER.search(folded), P.SITE_INVITE.search(folded)
    return bool((named or labelled) and (offer or invite) or (offer and invite) or len(set(named)) >= 2)


def _voice_spans(p: str) -> list[tuple[int, int]]:
    """Sentences of a paragraph in which the site speaks (whole sentences: their ends are exact)."""
    folded = fold(p)
    if not (P.SITE_SELF.search(folded) or P.INTRO_LABEL.match(folded) or len(folded) <= 300 and P.SITE_OFFER.search(folded)):
        return []  # no sentence of it can be the site's (an unsigned offer stands in a short paragraph of its own)
    return [m.span() for m in _SENTENCE.finditer(folded) if _site_voice(m.group(0).strip())]


def _voice_reason(folded: str) -> str | None:
    if P.EDITOR_LINE.match(folded):
        return "site.editor"
    return None


def remove_site_voice(paras: list[Para]) -> StepOut:
    """Drop the site's own sentences (intros, disclaimers), editor lines; cut credits and source lines."""
    out = _drop_lines(paras, _voice_reason)
    kept: list[Para] = []
    for p in out.paras:
        if isinstance(p, Gap):
            kept.append(p)
            continue
        voice = _voice_spans(p)
        if voice:
            if P.INTRO_LABEL.match(fold(p).strip()):  # a labelled intro is the site's from its label on
                voice = [(0, len(p))]
            p, removed = _cut(p, voice)
            out.removals.extend(Removal("site.intro", r) for r in removed)
            if not p:
                continue
        folded = fold(p)
        if not P.CREDIT_HINT.search(folded):
            kept.append(p)
            continue
        spans = [m.span() for m in P.PHOTO_CREDIT.finditer(folded)] if P.PHOTO_HINT.search(folded) else []
        for m in (P.PAPER_SOURCE.finditer(folded) if "》" in folded and "日" in folded else ()):
            spans.append(m.span())
            out.facts.setdefault("publish_date", f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}")
        text, removed = _cut(p, merge_spans(spans))
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


SHORT_LINE = 30  # a salutation, heading, title or closing line is shorter


def remove_repeated_blocks(paras: list[Para], min_block: int = 40) -> StepOut:
    """Drop a block pasted twice: a paragraph of ``min_block`` characters or more, or a run of
    consecutive paragraphs of that much together with one longer than a short line, repeating an
    earlier one word for word. Short lines said again — a salutation, a slogan, a heading, or a
    closing, title and salutation where one speech of a compilation ends and the next begins, as
    the one before did — are speech each time."""
    keys = [_SPACES.sub("", fold(p)) if isinstance(p, str) else None for p in paras]
    first: dict[str, int] = {}
    drop: set[int] = set()
    for i, key in enumerate(keys):
        if key is None or i in drop:
            continue
        j = first.setdefault(key, i)
        if j == i:
            continue
        run = 0
        while i + run < len(keys) and j + run < i and keys[i + run] is not None and keys[i + run] == keys[j + run]:
            run += 1
        block = keys[i:i + run]
        if sum(map(len, block)) >= min_block and max(map(len, block)) >= min(min_block, SHORT_LINE):
            drop.update(range(i, i + run))
    removals = [Removal("repeat.block", paras[i]) for i in sorted(drop)]
    return StepOut([p for i, p in enumerate(paras) if i not in drop], removals)


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
        text, removed = _cut(p, merge_spans([m.span() for r in rules for m in r.finditer(folded)]))
        removals.extend(Removal("source.rule", r) for r in removed)
        if text:
            kept.append(text)
    return StepOut(kept, removals)

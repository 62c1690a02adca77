"""Watermarks inside the text, found as spans whose two ends are marks of the watermark itself.

A watermark is found by an anchor only noise carries — a source word ("来源", "本文由", "内容来自")
in a bracket or running on to a web address, or the address itself — and it ends where the noise
marks its end: its closing bracket, the end of the address, a fixed tail ("转载请保留"). A span is
never stretched over ordinary characters to reach a boundary it cannot see. The one place a
watermark's edge is not marked is a brand written straight before its address ("稿子汇
www.gaozihui.com"); there the brand is taken only when the address spells it (pinyin or initials)
or something other than speech text stands before it (the paragraph's start, a space, a bracket).
Otherwise the brand stays and only the address goes: noise left in is a flaw, a character of the
speech taken out is a misquotation.

Every function here works on ``chars.fold`` text, whose offsets are those of the original.
"""

from __future__ import annotations

import re
from functools import lru_cache


from cleaners.chars import CJK

Span = tuple[int, int]

_J = r"(?:[^\w\s]|_){0,3}"  # junk an obfuscator wedges between two characters


def _obf(word: str) -> str:
    return _J.join(re.escape(ch) for ch in word)


def _words(*words: str) -> str:
    return "|".join(_obf(w) for w in sorted(words, key=len, reverse=True))


# Words with which a site names where a text came from. Longest first, so 本文来源于 beats 来源.
SOURCE_WORD = re.compile(
    rf"(?:{_words('资料来源', '本文来源', '文章来源', '内容来源', '信息来源', '本文来自', '内容来自', '文章来自', '原文来自', '资料来自', '本文出自', '文章出自', '本文转自', '本文摘自', '本文由', '原文地址', '原文链接', '本文链接', '原文出处', '来源', '来自', '出处', '转自', '摘自', '稿源', '出自')})"
    rf"(?:{_J}于)?")
SOURCE_HINT = re.compile(r"来|出|转|摘|稿|本|原")
OPEN = "([【{〔〖<「『"
CLOSE = ")]】}〕〗>」』"
PAIRS = dict(zip(OPEN, CLOSE, strict=True))
_OPENS = re.compile(f"[{re.escape(OPEN)}]")


def _open_before(folded: str, start: int, floor: int = 0) -> int:
    """The opening bracket just before ``start`` (only junk between), or -1."""
    k = start - 1
    while k >= max(floor, start - 4):
        ch = folded[k]
        if ch in OPEN:
            return k
        if ch.isalnum() or ch.isspace() or ch > "\u2fff" and ch not in "。，、：；":
            return -1
        k -= 1
    return -1
_TLD = r"(?:com|cn|net|org|cc|info|top|vip|xyz|site|work|wang|club|me|tw|hk|biz|co|edu|gov|ink|fun|link|pub)"
# A web address, with separators an obfuscator sprinkles into its name and around its dots.
# An address ends where letters stop, or before a few letters glued to Chinese text ("wo村").
_TLD_END = rf"(?=[^a-z]|$|[a-z]{{1,4}}[{CJK}])"
_JJ = r"(?:[^\w\s]|_){0,2}"
_SCHEME = rf"h{_JJ}t{_JJ}t{_JJ}p{_JJ}(?:s{_JJ})?:?{_JJ}/{_JJ}/?{_JJ}"
# Junk never includes a dot, so each dot parses one way (the pattern stays linear on "a.a.a.a…").
_DJ = r"(?:[^\w\s.。，、]|_){0,2}"
_LABEL = rf"[a-z0-9](?:{_DJ}[a-z0-9-]){{0,40}}"
DOMAIN = re.compile(
    rf"(?:{_SCHEME})?{_LABEL}(?:(?:{_DJ}[.。]){{1,5}}{_DJ}{_LABEL}){{0,6}}"
    rf"\s?[.。]\s?{_TLD}(?:\.(?:cn|hk|tw))?{_TLD_END}"
    r"(?:/(?:[a-z0-9./?=&#_~+-]|%[0-9a-f]{2})*)?")
DOMAIN_HINT = re.compile(rf"[.。]\s?{_TLD}{_TLD_END}")
PUBLIC_BODY = re.compile(r"\.(?:gov|edu)(?:\.cn)?(?![a-z0-9])")  # a government or school site, named in speeches
# What a site appends to its address: "转载请保留", ",转载请注明出处", "请勿转载".
TAIL = re.compile(
    rf"\s?[,;]?\s?(?:{_obf('转载请')}{_J}(?:{_words('保留', '注明')})"
    rf"(?:{_J}(?:{_words('本文链接', '出处', '链接', '来源', '原文', '地址', '作者', '此标志')}))?|{_words('请勿转载', '版权所有', '禁止转载')})")
_SENTENCE_MARK = re.compile(r"[。!?]")
BRAND_SUFFIX = ("网", "汇", "吧", "之家", "大全", "宝典", "天下", "库", "站", "在线", "家园", "社区", "中心", "文档", "范文")
_BRAND_CHAR = re.compile(rf"[{CJK}a-z0-9]")
JAMMER = re.compile(r"(?:[!-~]{1,3}[ \t]+){5,}[!-~]{1,3}")


_EXTENSION = re.compile(rf"\.(?:shtml|html?|php\d?|aspx?|jspx?|cgi)(?![?#])(?=[^a-z]|$|[a-z]{{1,4}}(?:[{CJK}]|$))")


def _address_end(m: re.Match[str]) -> int:
    """End of an address: a path ends after its file extension (a page name never runs on into text)."""
    ext = _EXTENSION.search(m.group(0))
    return m.start() + ext.end() if ext else m.end()


def _domain_at(folded: str, start: int, end: int) -> re.Match[str] | None:
    """The first web address between ``start`` and ``end`` that is not a public body's."""
    for m in DOMAIN.finditer(folded, start, end):
        if not PUBLIC_BODY.search(m.group(0)):
            return m
    return None


_CLOSE_NEXT = re.compile(rf"\s?(?:[^\w\s{re.escape(OPEN + CLOSE)}]|_){{0,3}}[{re.escape(CLOSE)}]")


def _close_after(folded: str, pos: int) -> int:
    """``pos`` moved past a closing bracket (and junk before it) right after it, if there is one."""
    m = _CLOSE_NEXT.match(folded, pos)
    return m.end() if m else pos


def _fit_brackets(folded: str, start: int, bracket: int, end: int, closed: int) -> Span:
    """Whether the brackets on either side of a watermark are its own or the speech's.

    A watermark dropped into "(二)" leaves a bracket of the speech on one side; one that brings its
    own brackets has both. Of the spans with and without each bracket, the one that leaves the
    sentence's brackets balanced wins; on a tie, the wider (a stray bracket of noise left in is a
    flaw, a bracket of the speech taken out a misquotation, but balance says which is which)."""
    starts = [bracket, start] if bracket >= 0 else [start]
    ends = [closed, end] if closed > end else [end]
    sentence = _sentence_around(folded, starts[0], ends[0])
    return min(((s, e) for s in starts for e in ends), key=lambda se: (_imbalance(folded, sentence, *se), se[0] - se[1]))


def _tail(folded: str, pos: int) -> int:
    m = TAIL.match(folded, pos)
    return m.end() if m else pos


def source_spans(folded: str) -> list[Span]:
    """Source tags and phrases: 【来源:X】, (资/料来.源,于:X网 ]x.com, 本文由X整理,原文地址:http://…

    The start is the source word (with the bracket before it); the end is the bracket that closes
    the tag or the end of the address the phrase runs on to, brackets on either side judged by the
    balance they leave (``_fit_brackets``). A source word with neither — "来源于群众" — is speech."""
    spans: list[Span] = []
    if not (_OPENS.search(folded) or DOMAIN_HINT.search(folded)) or not SOURCE_HINT.search(folded):
        return spans  # a source word is a watermark only in a bracket or before an address
    pos = 0
    while True:
        m = SOURCE_WORD.search(folded, pos)
        if m is None:
            break
        opened = max(m.group(0).rfind(o) for o in OPEN)
        if opened > 0:  # a bracket opens inside the phrase ("资料【来源"): the tag begins there
            pos = m.start() + opened
            continue
        pos = m.end()
        start = m.start()
        bracket = _open_before(folded, start)
        opener = folded[bracket] if bracket >= 0 else None
        start = bracket if bracket >= 0 else start
        limit = min(len(folded), m.end() + 200)  # a tag's name is short, an obfuscated address long
        stop = _SENTENCE_MARK.search(folded, m.end(), limit)
        limit = stop.start() if stop else limit
        newline = folded.find("\n", m.end(), limit)
        limit = newline if newline >= 0 else limit
        domain = _domain_at(folded, m.end(), limit)
        own = folded.find(PAIRS[opener], m.end(), limit) if opener else -1
        if domain is not None and _runs_on(folded, m.end(), domain) and (own < 0 or domain.start() - own <= 14):
            plain = _tail(folded, _address_end(domain))
            start, end = _fit_brackets(folded, m.start(), bracket, plain, _close_after(folded, plain))
        elif opener and (ends := _tag_ends(folded, m, own, limit, domain is None)):
            sentence = _sentence_around(folded, start, max(ends))
            end = min(ends, key=lambda e: (_imbalance(folded, sentence, start, e), e != own + 1, e))
        else:
            continue
        spans.append((start, end))
        pos = end
    return spans


def _tag_ends(folded: str, word: re.Match[str], own: int, limit: int, unaddressed: bool) -> list[int]:
    """Where a bracketed tag may end: after its own closing bracket, or (brackets do not always
    pair on these pages) after another closing bracket within a name's length, with no bracket
    opened before it."""
    window = folded[word.end():min(limit, word.end() + 32)]
    ends = [own + 1] if own >= 0 else []
    if unaddressed:
        ends += [word.end() + i + 1 for i, ch in enumerate(window) if ch in CLOSE and word.end() + i != own
                 and not any(o in window[:i] for o in OPEN)]
    return [e for e in ends if _tag_body(folded[word.end():e - 1], word.group(0))]


def _sentence_around(folded: str, start: int, end: int) -> Span:
    """The sentence holding ``start:end`` (at most 300 characters either side)."""
    left = max(0, start - 300)
    marks = [m.end() for m in _SENTENCE_MARK.finditer(folded, left, start)]
    stop = _SENTENCE_MARK.search(folded, end, min(len(folded), end + 300))
    return (marks[-1] if marks else left), (stop.start() if stop else min(len(folded), end + 300))


def _imbalance(folded: str, sentence: Span, start: int, end: int) -> int:
    """Brackets left unpaired in ``sentence`` once ``start:end`` is cut out of it."""
    rest = folded[sentence[0]:start] + folded[end:sentence[1]]
    return sum(abs(rest.count(o) - rest.count(c)) for o, c in PAIRS.items() if o in rest or c in rest)


def _runs_on(folded: str, word_end: int, domain: re.Match[str]) -> bool:
    """Whether a source word's phrase runs on to this address: a short stretch with no bracket
    opened in it, and not a brand the address spells standing apart from the word (then the word
    is speech, and the brand and address a watermark of their own)."""
    between = folded[word_end:domain.start()]
    if len(between) > 45 or any(o in between for o in OPEN) or len(re.findall(rf"[{CJK}]", between)) > 20:
        return False
    brand = brand_start(folded, domain.start(), _label(domain.group(0)), word_end)
    return brand == domain.start() or len(re.findall(rf"[{CJK}]", folded[word_end:brand])) < 2


def _tag_body(body: str, word: str) -> bool:
    """What follows the source word inside a bracketed tag: a separator or 于, then a short name."""
    if any(o in body for o in OPEN):  # a bracket opened inside: the tag ended before it
        return False
    name = re.sub(r"(?:[^\w\s]|_)", "", body).strip()
    return 0 < len(name) <= 24 and (bool(re.match(r"\s?(?:[^\w\s]|_)", body)) or word.endswith("于")
                                    or name.endswith(BRAND_SUFFIX))


@lru_cache(maxsize=4096)
def _syllables(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each character's pinyin, and its initial, as a site's address spells a brand. pypinyin is
    imported here, on first need: its dictionary costs every command start a third of a second."""
    from pypinyin import Style, lazy_pinyin

    apart = list  # a run of letters or digits is kept one character to an item, aligned with the run
    return (tuple(lazy_pinyin(run, errors=apart)),
            tuple(lazy_pinyin(run, style=Style.FIRST_LETTER, errors=apart)))


def _spells(full: str, initials: str, label: str) -> bool:
    """Whether ``label`` (the address's name, letters only) is a brand's pinyin or initials."""
    for spelt in (full, initials):
        if spelt == label or (len(label) >= 4 and spelt.startswith(label)) or (len(spelt) >= 3 and label.startswith(spelt)):
            return True
    return False


def _spelt_from(run: str, label: str) -> int | None:
    """Where in ``run`` the longest brand that ``label`` spells begins, if any."""
    if len(label) < 3 or label in ("www", "http", "https"):  # the address's name is missing, not spelt
        return None
    pinyin, initials = _syllables(run)
    if len(pinyin) != len(run):  # a character pypinyin reads as several: no reliable spelling
        return None
    return next((k for k in range(len(run) - 1) if _spells("".join(pinyin[k:]), "".join(initials[k:]), label)), None)


def _label(address: str) -> str:
    """The name part of an address, letters only: "gaozihui" of "http://www.gao/zihui.com"."""
    bare = re.sub(rf"^{_SCHEME}", "", address)
    bare = re.sub(r"[^a-z0-9.。]", "", bare).replace("。", ".")
    bare = re.sub(r"^www\.", "", bare)
    return re.sub(r"[^a-z]", "", bare.split(".")[0])


def brand_start(folded: str, address_start: int, label: str, floor: int) -> int:
    """Where the brand written before an address begins; ``address_start`` when it cannot be told."""
    end = address_start
    while end > floor and folded[end - 1] in " \t:":
        end -= 1
    start = end
    while start > floor and _BRAND_CHAR.match(folded[start - 1]) and end - start < 14:
        start -= 1
    run = folded[start:end]
    spelt = _spelt_from(run, label)  # the longest brand the address spells
    if spelt is not None:
        return start + spelt
    if not run.endswith(BRAND_SUFFIX):
        return address_start
    marked = start == floor or folded[start - 1] in " \t" or folded[start - 1] in OPEN
    return start if marked and end - start <= 12 else address_start


def address_spans(folded: str, taken: list[Span]) -> list[Span]:
    """Web addresses outside source phrases, with the brand before them where it can be told."""
    spans: list[Span] = []
    if not DOMAIN_HINT.search(folded):
        return spans
    floor = 0
    for m in DOMAIN.finditer(folded):
        if PUBLIC_BODY.search(m.group(0)) or any(s <= m.start() < e for s, e in taken):
            continue
        start = brand_start(folded, m.start(), _label(m.group(0)), floor)
        end = _tail(folded, _address_end(m))
        bracket = start - 1 if start > floor and folded[start - 1] in OPEN else -1
        start, end = _fit_brackets(folded, start, bracket, end, _close_after(folded, end))
        spans.append((start, end))
        floor = end
    return spans


def jammer_spans(folded: str) -> list[Span]:
    """Forum jammer text: runs of short ASCII tokens, many of them odd punctuation or letter-digit
    mixes ("G- k; W% V6 |("); numbers and English words are not."""
    if folded.count(" ") < 5:
        return []
    spans = []
    for m in JAMMER.finditer(folded):
        tokens = m.group(0).split()
        marked = sum(1 for t in tokens if re.search(r"[^a-z0-9.,%+-]", t) or re.search(r"[a-z]", t) and re.search(r"[^a-z]", t))
        if marked >= 3 and marked >= 0.3 * len(tokens):
            spans.append(m.span())
    return spans


def watermark_spans(folded: str) -> list[Span]:
    """Every watermark span in a paragraph, merged and sorted."""
    spans = source_spans(folded)
    spans += address_spans(folded, spans)
    spans += jammer_spans(folded)
    return merge_spans(spans)


def merge_spans(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans as one, sorted."""
    merged: list[Span] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged

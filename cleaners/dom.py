"""DOM-level cleaning, before any text is extracted: what a browser hides and what is page furniture.

Hidden text is found three ways: inline styles, the page's own ``<style>`` rules (class, id and
tag selectors, as anti-scraping "jammer" pages use), and attributes such as ``hidden``.
"""

from __future__ import annotations

import itertools
import re

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

from cleaners.chars import count
from cleaners.types import Removal

_HIDDEN_DECL = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)"
    r"|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)|(?:left|top|text-indent)\s*:\s*-\d{3,}(?:px|em)"
    r"|(?:width|height)\s*:\s*0(?:px)?\s*;.*overflow\s*:\s*hidden", re.I | re.S)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_WHITE = {"#fff", "#ffffff", "white", "rgb(255,255,255)", "#fefefe"}
_ALWAYS_DROP = ("script", "style", "noscript", "iframe", "button", "select", "input", "textarea", "template", "svg",
                "canvas", "object", "embed")
_FURNITURE_TAGS = ("form", "nav", "footer", "aside")
# class/id tokens of page furniture: navigation, breadcrumbs, related lists, share and tool rows.
_CHROME_TOKENS = {"nav", "navbar", "menu", "breadcrumb", "breadcrumbs", "crumb", "crumbs", "position", "location",
                  "weizhi", "dqwz", "footer", "foot", "copyright", "related", "relate", "relation", "xiangguan",
                  "recommend", "tuijian", "share", "bdshare", "toolbar", "tools", "tool", "pager", "pagination",
                  "pages", "paging", "fenye", "prevnext", "prev", "next", "shangxia", "comment", "comments",
                  "sidebar", "side", "aside", "advert", "ads", "ad", "banner", "login", "hot", "rank",
                  "friendlink", "links", "download", "docinfo", "doc-info", "meta-bar"}
_NOT_TEXT = {"head", "title", "script", "style", "noscript", "template"}
BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
              "article", "blockquote", "pre", "dd", "dt", "dl", "header", "center", "hr"}
CELL_TAGS = {"td", "th"}  # a table row reads as one line, its cells apart


class PageError(ValueError):
    """The input is not an HTML page we can read."""


_CONTAINERS = re.compile(r"</?(?:div|span|font|section|article|center|main|blockquote)\b[^>]*>", re.I)
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SCRIPTS = re.compile(r"<(script|style|title)\b.*?</\1\s*>", re.I | re.S)


def parse(html: str) -> etree._Element:
    """The page's tree, whatever the markup does: control characters (NUL among them) are dropped
    first, and as libxml2 stops building a tree some hundreds of levels deep, a page nested deeper
    than that is parsed again with its container tags flattened."""
    if not html or not html.strip():
        raise PageError("empty page: no HTML to clean")
    if _CONTROLS.search(html):  # libxml2 stops reading at a NUL: the rest of the page would be lost
        html = _CONTROLS.sub("", html)
    try:
        root = lxml.html.document_fromstring(html)
        if html.count("<") > 2000 and _lost_text(root, html):
            root = lxml.html.document_fromstring(_CONTAINERS.sub("\n", html))
    except (etree.ParserError, ValueError) as exc:
        raise PageError(f"unreadable HTML: {exc}") from exc
    return root


def _lost_text(root: etree._Element, html: str) -> bool:
    """Whether the tree holds far less Chinese text than the markup does."""
    raw = count(_CJK_RUN, _SCRIPTS.sub("", html))
    return raw >= 50 and count(_CJK_RUN, root.text_content()) < 0.5 * raw


def _style_map(style: str) -> dict[str, str]:
    decls = {}
    for part in style.split(";"):
        if ":" in part:
            k, v = part.split(":", 1)
            decls[k.strip().lower()] = re.sub(r"\s+", "", v.strip().lower()).replace("!important", "")
    return decls


def _same_colour_as_background(style: str) -> bool:
    decls = _style_map(style)
    colour = decls.get("color")
    background = decls.get("background-color") or decls.get("background")
    if not colour:
        return False
    return colour == background or (colour in _WHITE and (background is None or background in _WHITE))


def hidden_selectors(root: etree._Element) -> list[str]:
    """Selectors the page's own stylesheets hide (``.jammer {display:none}``)."""
    selectors: list[str] = []
    for style in root.iter("style"):
        css = re.sub(r"/\*.*?\*/", "", style.text or "", flags=re.S)
        for sels, decls in _CSS_RULE.findall(css):
            if _HIDDEN_DECL.search(decls) or _same_colour_as_background(decls):
                selectors += [s.strip() for s in sels.split(",") if s.strip() and ":" not in s and "@" not in s]
    return selectors


def text_of(el: etree._Element) -> str:
    return re.sub(r"\s+", " ", el.text_content()).strip()


def _remove(el: etree._Element) -> None:
    """Remove an element but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def remove_hidden(root: etree._Element) -> list[Removal]:
    """Remove everything a reader cannot see: inline- and stylesheet-hidden elements."""
    doomed: dict[etree._Element, str] = {}
    for sel in hidden_selectors(root):
        try:
            matcher = CSSSelector(sel)
        except Exception:  # cssselect rejects selectors it cannot express; those hide nothing we can find
            continue
        for el in matcher(root):
            if el.tag not in ("html", "body"):
                doomed.setdefault(el, "hidden.stylesheet")
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        style = el.get("style") or ""
        if el.get("hidden") is not None or el.get("aria-hidden") == "true":
            doomed.setdefault(el, "hidden.attribute")
        elif style and (_HIDDEN_DECL.search(style) or _same_colour_as_background(style)):
            doomed.setdefault(el, "hidden.inline")
    removals = []
    for el, reason in doomed.items():
        text = text_of(el)
        if text:
            removals.append(Removal(reason, text))
        _remove(el)
    return removals


def _tokens(el: etree._Element) -> set[str]:
    raw = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    return set(t for t in re.split(r"[\s_-]+", raw) if t) | set(raw.split())


def remove_chrome_blocks(root: etree._Element, keep: etree._Element | None = None) -> list[Removal]:
    """Remove non-content tags and blocks whose class or id names page furniture.

    A block holding most of the page's text is never furniture, whatever its tag or class says:
    ASP.NET pages wrap everything in a <form>, some CMSs put the article in a "side" column.
    """
    removals = []
    total = len(root.text_content()) or 1
    top = root.getroottree().getroot()
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el is keep or el.getparent() is None:
            continue
        if el.getroottree().getroot() is not top:  # inside a block already removed
            continue
        if keep is not None and el in keep.iterancestors():
            continue
        reason = None
        if el.tag in _ALWAYS_DROP:
            reason = "chrome.tag"
        elif el.tag in ("html", "body", "head"):
            continue
        elif el.tag in _FURNITURE_TAGS:
            reason = "chrome.tag"
        elif (el.get("class") or el.get("id")) and _tokens(el) & _CHROME_TOKENS:
            reason = "chrome.block"
        if reason and reason != "chrome.tag" or el.tag in _FURNITURE_TAGS:
            if len(el.text_content()) > 0.4 * total:
                reason = None
        if reason:
            text = text_of(el) if el.tag not in ("script", "style") else ""
            total -= len(el.text_content())
            if text:
                removals.append(Removal(reason, text))
            _remove(el)
    for comment in root.xpath("//comment()"):
        _remove(comment)
    return removals


def lines(el: etree._Element) -> list[str]:
    """The element's text as a reader sees it: one entry per block or line break."""
    return lines_around(el, None)[0]


def lines_around(el: etree._Element, block: etree._Element | None) -> tuple[list[str], list[str]]:
    """The lines of ``block`` and the lines of ``el`` outside it, in one walk (``block`` None: all
    of ``el``'s lines, and none outside).

    An iterative walk (start and end events), so a page nested ten thousand levels deep reads
    like any other."""
    inside: list[str] = []
    outside: list[str] = []
    parts = outside if block is not None else inside
    skip = 0  # inside an element whose text is not page text (head, script, …)
    for event, node in etree.iterwalk(el, events=("start", "end")):
        if node is block:
            if event == "start":
                parts.append("\n")
                parts = inside
            else:
                parts.append("\n")
                parts = outside
                if node.tail and not skip:
                    parts.append(node.tail)
                continue
        tag = node.tag if isinstance(node.tag, str) else None
        if event == "start":
            if tag is None or tag in _NOT_TEXT:
                skip += tag is not None
                continue
            if skip:
                continue
            if tag in BLOCK_TAGS:
                parts.append("\n")
            elif tag in CELL_TAGS:
                parts.append(" ")
            parts.append(node.text or "")
            continue
        if tag in _NOT_TEXT:
            skip -= 1
        elif tag is not None and not skip and tag in BLOCK_TAGS:
            parts.append("\n")
        elif tag in CELL_TAGS and not skip:
            parts.append(" ")
        if node is not el and node.tail and not skip:
            parts.append(node.tail)
    return _split_lines(inside), _split_lines(outside)


def _split_lines(parts: list[str]) -> list[str]:
    return [ln.strip() for ln in re.split(r"\s*\n\s*", "".join(parts)) if ln.strip()]


def meta(root: etree._Element, *names: str) -> str | None:
    """The first non-empty <meta> content among ``names`` (name, property or itemprop)."""
    found: dict[str, str] = {}
    for el in root.iter("meta"):
        content = (el.get("content") or "").strip()
        for key in ("name", "property", "itemprop"):
            if el.get(key) and content:
                found.setdefault(el.get(key), content)
    return next((found[n] for n in names if n in found), None)


def page_title(root: etree._Element) -> str:
    """The page's own headline: h1, else og:title, else the <title> minus the site's suffix."""
    for h1 in root.iter("h1"):
        text = text_of(h1)
        if text:
            return text
    og = meta(root, "og:title", "title")
    if og:
        return og
    title = root.find(".//title")
    text = text_of(title) if title is not None else ""
    pieces = [p.strip() for p in re.split(r"\s[-_|–—]\s|_|\|", text) if p.strip()]
    return max(pieces, key=len) if pieces else ""


def link_targets(el: etree._Element) -> None:
    """Links inside body text keep their words and lose their targets (SEO links). lxml's
    ``strip_tags`` in one pass: dropping tags one by one joins text quadratically (20,000 sibling
    links took 20 s)."""
    etree.strip_tags(el, "a")


PARAGRAPH_TAGS = {"p", "div", "td", "section", "article", "li", "font", "span", "pre", "blockquote", "dd"}
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def _own_text(el: etree._Element) -> str:
    """Text directly inside ``el`` and inside its inline children, not in nested blocks or links."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag not in BLOCK_TAGS | CELL_TAGS and child.tag != "a":
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return "".join(parts)


def _ancestors(el: etree._Element, limit: int = 40) -> list[etree._Element]:
    out = []
    parent = el.getparent()
    while parent is not None and len(out) < limit:
        out.append(parent)
        parent = parent.getparent()
    return out


def _signature(el: etree._Element) -> tuple[str, str]:
    """Tag and class with digits dropped: the rows of one table, the posts of one thread."""
    return el.tag, re.sub(r"\d+", "", el.get("class") or "")


# class/id words of a post's by-line: a thread's posts carry one each, a text's paragraphs do not
_POST_META = {"author", "authi", "user", "username", "uname", "userinfo", "poster", "avatar", "floor", "louzhu",
              "postinfo", "posttime", "postauthor", "reply", "replies", "comment", "pi", "pls", "byline"}


def _is_post(el: etree._Element) -> bool:
    """Whether ``el`` carries a by-line near its top (author, floor, time): a post, not a paragraph."""
    return any(_tokens(d) & _POST_META for d in itertools.islice(el.iter(), 60)
               if isinstance(d.tag, str) and (d.get("class") or d.get("id")))


def main_block(root: etree._Element, min_chars: int = 200) -> etree._Element | None:
    """The element holding the page's running text, by where its Chinese text sits.

    Each paragraph-like element credits its own Chinese characters to its parent in full and to
    its grandparent by half, so the container of many paragraphs outscores any one of them and a
    sidebar of short links scores little. When that container is one of a row of like elements
    that also hold text (the rows of a layout table), their common parent is the text; when those
    elements are posts with by-lines (a thread, a post and its comments), the first post is.
    None when no container holds ``min_chars``."""
    scores: dict[etree._Element, float] = {}
    own: dict[etree._Element, int] = {}
    for el in root.iter(*PARAGRAPH_TAGS):
        n = count(_CJK_RUN, _own_text(el))
        if n < 10:
            continue
        own[el] = n
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + n
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + n / 2
    content = _Content(own)
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    comments = _comment_list(best, content)
    if comments is not None:  # the comments outweigh the post: take the post if it stands elsewhere
        outside = [e for e in scores if e is not comments and comments not in e.iterancestors()
                   and e not in comments.iterancestors() and scores[e] >= max(min_chars, 0.2 * scores[best])]
        if outside:
            best = max(outside, key=scores.__getitem__)
    best, first_post = _whole_text(best, content)
    return best if first_post or content[best] >= min_chars or scores.get(best, 0) >= min_chars else None


def _comment_list(el: etree._Element, content: _Content) -> etree._Element | None:
    """The list of posts with by-lines (comments, replies) that ``el`` is or lies in, if any."""
    for node in [el, *_ancestors(el, 6)]:
        groups: dict[tuple[str, str], list[etree._Element]] = {}
        for child in node:
            if isinstance(child.tag, str) and len(child):  # a post has parts: its by-line and its body
                groups.setdefault(_signature(child), []).append(child)
        for group in groups.values():
            if len(group) >= 2 and sum(map(_is_post, group)) >= 2 and sum(content[c] >= 10 for c in group) >= 2:
                return node
    return None


class _Content(dict):
    """Chinese characters of running text inside an element, counted when first asked for."""

    def __init__(self, own: dict[etree._Element, int]) -> None:
        super().__init__()
        self.own = own

    def __missing__(self, el: etree._Element) -> int:
        self[el] = total = sum(self.own.get(d, 0) for d in el.iter(*PARAGRAPH_TAGS))
        return total



def _whole_text(best: etree._Element, content: _Content) -> tuple[etree._Element, bool]:
    """Widen ``best`` to the run of like elements it belongs to, or narrow a thread to its first
    post (then True: a post is the text whatever its length)."""
    for unit in [best, *_ancestors(best, 4)]:
        parent = unit.getparent()
        if parent is None or unit.tag in ("body", "html"):
            break
        like = [c for c in parent if isinstance(c.tag, str) and _signature(c) == _signature(unit)
                and (content[c] >= 10 or count(_CJK_RUN, c.text_content()) >= 4)]
        if len(like) < 2:
            continue
        if sum(_is_post(c) for c in like) >= 2:
            first = like[0]
            inner = [e for e in first.iter() if content[e] >= 0.95 * max(content[first], 1)]
            return (inner[-1] if inner else first), True
        return parent, False
    return best, False


def link_lists(root: etree._Element, keep: etree._Element | None = None) -> list[Removal]:
    """Remove blocks that are mostly links — navigation boxes, "related" lists, tag clouds — with a
    record each. Links inside running text (a word or two of a paragraph) do not make a list."""
    removals: list[Removal] = []
    for el in list(root.iter("ul", "ol", "table", "div", "dl", "section", "p", "center")):
        if el is keep or el.getparent() is None or (keep is not None and el in keep.iterancestors()):
            continue
        anchors = [a for a in el.iter("a")]
        if len(anchors) < 3:
            continue
        text = text_of(el)
        linked = sum(len(text_of(a)) for a in anchors)
        if len(text) >= 12 and linked >= 0.6 * len(text) and not _sentences_outside_links(el):
            removals.append(Removal("chrome.link_list", text))
            _remove(el)
    return removals


def _sentences_outside_links(el: etree._Element) -> bool:
    """Whether the block holds a sentence of its own besides its links (then it is text)."""
    own = _own_text(el) + "".join((c.tail or "") for c in el.iter() if c is not el and c.tag != "a")
    return count(_CJK_RUN, own) >= 30 and bool(re.search(r"[。！？]", own))


def following_tables(block: etree._Element) -> list[etree._Element]:
    """Tables right after the text block that continue it (a notice's list, a report's figures)."""
    out = []
    sib = block.getnext()
    while sib is not None and isinstance(sib.tag, str):
        table = sib if sib.tag == "table" else (sib.find(".//table") if len(sib) == 1 else None)
        if table is None or count(_CJK_RUN, table.text_content()) < 10:
            break
        out.append(table)
        sib = sib.getnext()
    return out

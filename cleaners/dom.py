"""DOM-level cleaning, before any text is extracted: what a browser hides and what is page furniture.

Hidden text is found three ways: inline styles, the page's own ``<style>`` rules (class, id and
tag selectors, as anti-scraping "jammer" pages use), and attributes such as ``hidden``.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

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
              "article", "blockquote", "pre", "dd", "dt", "dl", "header", "center", "hr", "td", "th"}


class PageError(ValueError):
    """The input is not an HTML page we can read."""


def parse(html: str) -> etree._Element:
    if not html or not html.strip():
        raise PageError("empty page: no HTML to clean")
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise PageError(f"unreadable HTML: {exc}") from exc
    return root


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
    total = len(text_of(root)) or 1
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el is keep or el.getparent() is None:
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
            if len(text_of(el)) > 0.4 * total:
                reason = None
        if reason:
            text = text_of(el) if el.tag not in ("script", "style") else ""
            total -= len(text)
            if text:
                removals.append(Removal(reason, text))
            _remove(el)
    for comment in root.xpath("//comment()"):
        _remove(comment)
    return removals


def lines(el: etree._Element) -> list[str]:
    """The element's text as a reader sees it: one entry per block or line break."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if not isinstance(node.tag, str) or node.tag in _NOT_TEXT:
            if node.tail:
                parts.append(node.tail)
            return
        block = node.tag in BLOCK_TAGS
        if block:
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if block:
            parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    walk(el)
    text = "".join(parts)
    return [ln.strip() for ln in re.split(r"\s*\n\s*", text) if ln.strip()]


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
    """Links inside body text keep their words and lose their targets (SEO links)."""
    for a in list(el.iter("a")):
        a.drop_tag()


_PARAGRAPH_TAGS = {"p", "div", "td", "section", "article", "li", "font", "span", "pre", "blockquote", "dd"}
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]")


def _own_text(el: etree._Element) -> str:
    """Text directly inside ``el`` and inside its inline children, not in nested blocks or links."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and child.tag not in BLOCK_TAGS and child.tag != "a":
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return "".join(parts)


def main_block(root: etree._Element, min_chars: int = 200) -> etree._Element | None:
    """The element holding the page's running text, by where its Chinese text sits.

    Each paragraph-like element credits its own Chinese characters to its parent in full and to
    its grandparent by half, so the container of many paragraphs outscores any one of them and a
    sidebar of short links scores little. None when no container holds ``min_chars``."""
    scores: dict[etree._Element, float] = {}
    for el in root.iter(*_PARAGRAPH_TAGS):
        n = len(_CJK_RUN.findall(_own_text(el)))
        if n < 10:
            continue
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + n
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + n / 2
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= min_chars else None

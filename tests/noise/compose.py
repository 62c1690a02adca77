"""Put generated noise into clean speech text, and say exactly what cleaning must give back.

The clean speeches are the gold texts of ``tests/eval`` (lines of the founding documents). A
composed page knows its expected paragraphs character for character: inline noise leaves the
paragraph whole, an omitted-middle note splits it where the note stood, a truncation note ends the
text where it stood.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.noise.grammar import Grammar, Noise

EVAL = Path(__file__).resolve().parent.parent / "eval" / "pages"
_SENTENCE_END = re.compile(r"(?<=[。!?！？；;])")


def speech_pool() -> list[list[str]]:
    """The gold speeches of the evaluation set, as paragraph lists (not the page of look-alike
    sentences, which is a probe, not a speech)."""
    out = []
    for f in sorted(EVAL.glob("*.json")):
        if f.stem.endswith("_keep"):
            continue
        for sp in json.loads(f.read_text(encoding="utf-8"))["speeches"]:
            paras = [p for p in sp["text"].split("\n") if p.strip()]
            if len(paras) >= 3:
                out.append(paras)
    return out


TOPICS = ("驻村工作组长讲话", "村支部工作汇报", "在全县组织工作会议上的讲话", "农村基层组织建设动员会的讲话",
          "党建工作述职报告", "乡村振兴工作推进会发言", "年度工作总结", "干部座谈会讲话稿", "开学典礼校长致辞",
          "安全生产会议主持词")


@dataclass
class Composed:
    paras: list[str]  # the noisy page text, one entry per paragraph
    expected: list[str]  # what cleaning must return
    kinds: list[str] = field(default_factory=list)
    truncated: bool = False
    stated: int | None = None


@dataclass
class _Seg:
    """One noisy paragraph and the clean paragraphs it must give back."""

    noisy: str
    expected: list[str]
    editable: bool = True  # still clean: inline noise may go in


_EMPTY_PAIR = re.compile(r"[(（\[【]\s*[)）\]】]")


def _inline_positions(text: str) -> list[int]:
    """Places inside a paragraph: mid-word, beside punctuation and brackets, at sentence ends.

    Not inside an empty bracket pair of the text ("团支( )部"): noise alone between two brackets
    reads the same as noise that brought its own, and no cleaner can tell them apart."""
    marks = [i for i, ch in enumerate(text) if ch in "，,。、:：;；“”()（）《》【】!！?？"]
    inside = {i for m in _EMPTY_PAIR.finditer(text) for i in range(m.start() + 1, m.end())}
    places = list(range(1, len(text))) + [i for m in marks for i in (m, m + 1) if 0 < i < len(text)] * 2
    return [i for i in places if i not in inside] or [len(text)]


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s]


STRUCTURAL = ("omitted", "truncated", "preview")


def compose(g: Grammar, speech: list[str], kinds: list[str]) -> Composed:
    """One noisy copy of ``speech`` carrying one noise of each kind named (kinds may repeat).

    Paywall notes go in first (they decide where the text ends), then noise inside and between
    paragraphs, then what the page puts above and below the text."""
    segs = [_Seg(p, [p]) for p in speech]
    title = g.r.choice(TOPICS)
    head: list[str] = []
    tail: list[str] = []
    out = Composed([], [])
    for kind in sorted(kinds, key=lambda k: k not in STRUCTURAL):
        if kind == "omitted":
            _omit(g, segs, out, g.omitted())
            continue
        if kind in ("truncated", "preview"):
            if not out.truncated:
                _truncate(g, segs, out, g.truncated_end(title) if kind == "truncated" else g.preview_limit())
            continue
        made = {"source_tag": g.source_tag, "obfuscated_source": g.obfuscated_source, "compiled_by": g.compiled_by,
                "content_from": g.content_from, "brand_domain": g.brand_domain, "brand_line": g.brand_line,
                "jammer": g.jammer, "intro": lambda: g.intro(title), "outro": lambda: g.outro(title),
                "chrome_head": lambda: g.chrome(list(TOPICS), "head"),
                "chrome_tail": lambda: g.chrome(list(TOPICS), "tail"),
                "related": lambda: g.related(list(TOPICS))}[kind]()
        out.kinds.append(kind)
        noises = made if isinstance(made, list) else [made]
        for noise in noises:
            if noise.place == "inline":
                free = [s for s in segs if s.editable and len(s.noisy) > 1]
                if free:
                    seg = g.r.choice(free)
                    pos = g.r.choice(_inline_positions(seg.noisy))
                    seg.noisy = seg.noisy[:pos] + noise.text + seg.noisy[pos:]
                    seg.editable = False
            elif noise.place == "para":
                limit = len(segs) - (1 if out.truncated else 0)
                segs.insert(g.r.randint(0, limit), _Seg(noise.text, [], editable=False))
            elif noise.place == "head":
                head.append(noise.text)
            else:
                tail.append(noise.text)
    out.paras = head + [s.noisy for s in segs] + tail
    out.expected = [p for s in segs for p in s.expected]
    return out


def _omit(g: Grammar, segs: list[_Seg], out: Composed, noise: Noise) -> None:
    """A paywall cut in the middle of a paragraph: the paragraph is split where the note stands."""
    candidates = [s for s in segs if s.editable and len(_sentences(s.noisy)) >= 2]
    if not candidates:
        return
    out.kinds.append(noise.kind)
    seg = g.r.choice(candidates)
    sentences = _sentences(seg.noisy)
    cut = g.r.randrange(1, len(sentences))
    before, after = "".join(sentences[:cut]).strip(), "".join(sentences[cut:]).strip()
    seg.noisy, seg.expected, seg.editable = before + noise.text + after, [before, after], False
    out.truncated = True  # a copy with its middle withheld is incomplete


def _truncate(g: Grammar, segs: list[_Seg], out: Composed, noise: Noise) -> None:
    """End the text at a sentence end of a paragraph past the first (a preview: at a paragraph end)."""
    out.kinds.append(noise.kind)
    k = g.r.randrange(1, len(segs))
    seg = segs[k]
    sentences = _sentences(seg.noisy)
    if noise.kind == "paywall.preview" or len(sentences) < 2 or not seg.editable:
        del segs[k + 1:]
        segs.append(_Seg(noise.text, [], editable=False))
    else:
        kept = "".join(sentences[:g.r.randrange(1, len(sentences))]).strip()
        seg.noisy, seg.expected, seg.editable = kept + noise.text, [kept], False
        del segs[k + 1:]
    out.truncated, out.stated = True, noise.stated


TEMPLATES = 6


def page_html(paras: list[str], title: str, charset: str = "utf-8", template: int = 0) -> str:
    """A page in one of several site templates, the text as paragraphs: a plain 范文 page, a CMS
    article with menus and footer, a table layout, a government page with <br> lines, a document
    site with its metadata list and related documents, a mirror whose jammer text a stylesheet hides."""
    esc = html.escape
    body = "".join(f"<p>{esc(p)}</p>" for p in paras)
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}"><title>{esc(title)}</title>'
    if template == 1:
        return (f"<html><head>{head}</head><body><div class='nav'><a href='/'>首页</a> <a href='/fw/'>范文</a></div>"
                f"<div class='article'><h1>{esc(title)}</h1><div class='content'>{body}</div></div>"
                "<div class='footer'>联系我们 | 关于我们</div></body></html>")
    if template == 2:
        cells = "".join(f"<tr><td>{esc(p)}</td></tr>" for p in paras)
        return f"<html><head>{head}</head><body><table><tr><td><h2>{esc(title)}</h2></td></tr>{cells}</table></body></html>"
    if template == 3:
        text = "<br>".join(esc(p) for p in paras)
        return f"<html><head>{head}</head><body><div id='zoom'><div>{text}</div></div></body></html>"
    if template == 4:
        related = "".join(f"<li><a href='/d/{i}.html'>{esc(t)}</a></li>" for i, t in enumerate(TOPICS[:6]))
        return (f"<html><head>{head}</head><body><div class='doc-main'><h1>{esc(title)}</h1>"
                f"<div class='doc-body'>{body}</div></div><div class='doc-side'><h3>相关文档</h3><ul>{related}</ul>"
                "</div></body></html>")
    if template == 5:
        jam = "".join(f"<p>{esc(p)}<font class='jammer'>x{i}#k</font></p>" for i, p in enumerate(paras))
        return (f"<html><head>{head}<style>.jammer{{display:none}}</style></head><body><div class='t_f'>{jam}</div>"
                "</body></html>")
    return f"<html><head>{head}</head><body><div class='con'>{body}</div></body></html>"

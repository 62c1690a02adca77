"""Compilation pages without separators: "<topic>N篇" pages whose speeches follow one another
with no 篇N marks, as 范文 sites publish them.

Each speech is a gold speech of the evaluation set, given at random a title line of its own, a
salutation block of one or several lines (尊敬的…、 / 各位…, / 同志们:), and a closing (谢谢大家!,
以上汇报…, a signature and a date). The gold is each speech's text as it should be archived: the
salutation, body and closing are speech; a title line is its title, not its text.
"""

from __future__ import annotations

from dataclasses import dataclass

from cleaners.chars import to_simplified
from tests.noise.grammar import Grammar

SALUTATIONS = (["同志们:"], ["各位领导、同志们:"], ["尊敬的各位领导、", "各位来宾、", "同志们:"],
               ["尊敬的县委书记,", "各位领导,", "同志们、朋友们:"], ["亲爱的同学们:"], ["各位代表:"])
CLOSINGS = (["谢谢大家!"], ["以上汇报,不妥之处,请批评指正。"], ["谢谢!"],
            ["以上是我的述职报告,请各位领导和同志们评议。"], ["中共××县委办公室", "2023年5月12日"], [])
TITLES = ("在全县{}工作会议上的讲话", "{}工作汇报", "关于{}情况的报告", "{}工作总结", "在{}推进会上的发言")
TOPIC_WORDS = ("农村基层组织建设", "乡村振兴", "扫黑除恶", "党风廉政建设", "安全生产", "驻村帮扶", "共青团",
               "脱贫攻坚")


@dataclass
class Compilation:
    paras: list[str]
    speeches: list[str]  # gold texts, one per speech, paragraphs joined by newlines


def _strip_salutation(paras: list[str]) -> list[str]:
    """A pool speech's own opening salutation, if any (the generator gives each speech its own)."""
    while paras and (paras[0].endswith((":", "：")) and len(paras[0]) <= 20):
        paras = paras[1:]
    return paras


def distinct(pool: list[list[str]]) -> list[list[str]]:
    """One copy of each speech (the evaluation set holds some speech twice, in another script or
    encoding): a compilation of two copies of one speech is a repeat, not two speeches."""
    seen: set[str] = set()
    out = []
    for speech in pool:
        key = to_simplified("".join(speech))[40:80]
        if key not in seen:
            seen.add(key)
            out.append(speech)
    return out


def compilation(g: Grammar, pool: list[list[str]], k: int | None = None) -> Compilation:
    """One page of ``k`` (3–6) speeches run together."""
    r = g.r
    k = k or r.randint(3, 6)
    paras: list[str] = []
    golds: list[str] = []
    for speech in r.sample(distinct(pool), k):
        body = _strip_salutation(list(speech))[: r.randint(4, 9)]
        text: list[str] = []
        if r.random() < 0.6:
            paras.append(r.choice(TITLES).format(r.choice(TOPIC_WORDS)))
        if r.random() < 0.8:
            text += r.choice(SALUTATIONS)
        text += body
        text += r.choice(CLOSINGS)
        paras += text
        golds.append("\n".join(text))
    return Compilation(paras, golds)

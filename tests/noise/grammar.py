"""Noise as a grammar: every kind of site noise in NOISE.md as a generator of spellings.

Each generator draws from pools (site names built from a character pool and a brand suffix,
domains from the name's pinyin, its initials or random letters, separators sprinkled into names
and domains, every bracket style, templates with variable slots, random numbers), so a test sees
spellings nobody wrote a rule for. Cleaners are developed against ``DEV_SEED``; the gate draws
from ``GATE_SEED``, whose pages are not looked at while writing rules.

A noise piece says where it may go (``inline``: inside a sentence; ``para``: a paragraph of its
own; ``head``/``tail``: above or below the speech) and what it means for the copy (``gap``: the
page withheld text there; ``truncated``: the text ends there, with ``stated`` the full length the
note claims).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

DEV_SEED = 20261202
GATE_SEED = 7_340_117  # the held-out seed: run it, never tune a rule on what it prints

NAME_POOL = ("文秘公务范学习稿子写作资料材料讲话演讲心得总结党建政务读书知识百科优秀精品中华华夏大众新时代第一"
             "好美星海天地云山明德博雅智慧青年职场办公写手笔杆妙笔墨香书香")
SUFFIXES = ("网", "网", "汇", "吧", "之家", "大全", "宝典", "天下", "文库", "站", "在线", "家园", "社区")
TLDS = ("com", "cn", "net", "org", "cc", "com.cn", "net.cn", "top", "vip", "xyz", "info", "wang", "club")
OPEN_CLOSE = (("【", "】"), ("[", "]"), ("(", ")"), ("（", "）"), ("〔", "〕"), ("〖", "〗"), ("<", ">"),
              ("「", "」"), ("［", "］"), ("(", "]"))
JUNK = "/.,:;|]_*~"
SOURCE_WORDS = ("来源", "来自", "出处", "转自", "摘自", "稿源", "出自")


@dataclass(frozen=True)
class Noise:
    text: str
    kind: str
    place: str  # inline | para | head | tail
    gap: bool = False  # the page withheld text here (an omitted middle)
    truncated: bool = False  # the text ends here
    stated: int | None = None  # the full length the note states, in characters


class Grammar:
    """Spellings of every noise kind, reproducible from a seed."""

    def __init__(self, seed: int | random.Random) -> None:
        self.r = seed if isinstance(seed, random.Random) else random.Random(seed)

    # --- pieces ---------------------------------------------------------------------------------
    def name(self) -> str:
        r = self.r
        core = "".join(r.choice(NAME_POOL) for _ in range(r.randint(2, 4)))
        return core + r.choice(SUFFIXES)

    def domain(self, name: str | None = None, pinyin_only: bool = False) -> str:
        r = self.r
        how = "pinyin" if pinyin_only else r.choice(("pinyin", "initials", "random", "digits"))
        if name and how == "pinyin":
            label = "".join(lazy_pinyin(name))
        elif name and how == "initials":
            label = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)) + str(r.randint(1, 999))
        else:
            letters = "abcdefghijklmnopqrstuvwxyz"
            label = "".join(r.choice(letters) for _ in range(r.randint(3, 9)))
            if how == "digits":
                label += str(r.randint(1, 9999))
        host = f"{label}.{r.choice(TLDS)}"
        if r.random() < 0.6:
            host = "www." + host
        if r.random() < 0.3:
            host = r.choice(("http://", "https://")) + host
        if r.random() < 0.2:
            host = host.upper() if r.random() < 0.5 else host.capitalize()
        return host

    def url(self, name: str | None = None) -> str:
        r = self.r
        host = self.domain(name)
        if not host.lower().startswith("http"):
            host = "http://" + host
        return f"{host}/{r.choice(('a', 'fanwen', 'html', 'p', 'doc'))}/{r.randint(1000, 9999999)}.html"

    def sprinkle(self, text: str, rate: float = 0.35, junk: str = JUNK) -> str:
        """Junk punctuation wedged between characters, as anti-copy watermarks do."""
        out = []
        for i, ch in enumerate(text):
            out.append(ch)
            if i < len(text) - 1 and self.r.random() < rate:
                out.append("".join(self.r.choice(junk) for _ in range(self.r.randint(1, 2))))
        return "".join(out)

    def sprinkle_domain(self, domain: str) -> str:
        """Separators inside a domain's scheme and name, and around its dots (never inside the
        top-level part: com, com.cn)."""
        tld = next(t for t in sorted(TLDS, key=len, reverse=True) if domain.lower().endswith("." + t))
        head = domain[: -len(tld) - 1]
        return self.sprinkle(head, 0.25) + "." + domain[-len(tld):]

    def title(self, topics: list[str]) -> str:
        return self.r.choice(topics)

    def n(self, lo: int = 100, hi: int = 9999) -> int:
        return self.r.randint(lo, hi)

    # --- 1. watermarks ------------------------------------------------------------------------------
    def source_tag(self) -> Noise:
        """【来源:X】 in any bracket, with junk sprinkled into the tag word and the name."""
        r = self.r
        o, c = r.choice(OPEN_CLOSE)
        junk = "".join(j for j in JUNK if j not in (c, {"］": "]", "）": ")"}.get(c)))  # a tag is not closed inside itself
        word = self.sprinkle(r.choice(SOURCE_WORDS), 0.5, junk)
        sep = r.choice((":", "：", ":", "/::", "|", ":/"))
        body = self.sprinkle(self.name(), 0.3, junk)
        if r.random() < 0.3:
            body += " " + self.domain()
        return Noise(f"{o}{word}{sep}{body}{r.choice(('', '|', ' '))}{c}", "watermark.source_tag", "inline")

    def obfuscated_source(self) -> Noise:
        """(资/料来.源,于:X学;习/网 ]x.com — the phrase runs on to the site's address."""
        r = self.r
        name = self.name()
        word = r.choice(("资料来源于", "来源于", "本文来源于", "资料来自", "文章出自"))
        o = r.choice(("(", "（", "[", "【", ""))
        junk = JUNK.replace({"(": ")", "（": ")", "[": "]", "【": "】"}.get(o, ""), "")
        word = self.sprinkle(word, 0.6, junk)
        dom = self.sprinkle_domain(self.domain(name))
        return Noise(f"{o}{word}{r.choice((':', '：', ',', ''))}{self.sprinkle(name, 0.4, junk)} {r.choice((']', ')', ''))}{dom}",
                     "watermark.obfuscated_source", "inline")

    def compiled_by(self) -> Noise:
        """本文由X整理,原文地址:http://…"""
        r = self.r
        name = self.name()
        verb = r.choice(("整理", "收集", "编辑", "发布", "搜集整理", "网友投稿"))
        label = r.choice(("原文地址", "原文链接", "转载请注明出处", "本文链接", "原文出处"))
        text = f"本文由{self.sprinkle(name, 0.2)}{verb}{r.choice((',', '，', ' '))}{label}{r.choice((':', '：'))}{self.url(name)}"
        return Noise(text, "watermark.compiled_by", "inline")

    def content_from(self) -> Noise:
        """内容来自X www.Y.cn 转载请保留"""
        r = self.r
        name = self.name()
        lead = r.choice(("内容来自", "本文来自", "文章来自", "转自", "摘自", "原文来自"))
        tail = r.choice(("", " 转载请保留", " 转载请注明出处", ",转载请保留链接", " 请勿转载", "，转载请注明来源"))
        dom = self.domain(name)
        if r.random() < 0.3:
            dom = self.sprinkle_domain(dom)
        return Noise(f"{lead}{name} {dom}{tail}", "watermark.content_from", "inline")

    def brand_domain(self) -> Noise:
        """稿子汇 www.gaozihui.com — a brand and an address named after it."""
        r = self.r
        name = self.name()
        text = f"{name}{r.choice((' ', '  ', ' ', ''))}{self.domain(name, pinyin_only=True)}"
        if r.random() < 0.3:
            o, c = r.choice(OPEN_CLOSE[:4])
            text = f"{o}{text}{c}"
        return Noise(text, "watermark.brand_domain", "inline")

    def brand_line(self) -> Noise:
        """A line naming the site and nothing else: 稿子汇,范文学习文库 / 公文汇 www.gongwenhui.com."""
        r = self.r
        name = self.name()
        kind = r.randrange(3)
        if kind == 0:
            text = f"{name}{r.choice((',', '，', ' | ', ' '))}{self.name()}"
        elif kind == 1:
            text = f"{name} {self.domain()}"
        else:
            text = self.domain(name)
        return Noise(text, "watermark.brand_line", "para")

    def jammer(self) -> Noise:
        """Forum jammer text left at a line break: / G- k; W% a% |( ^# n% J3."""
        r = self.r
        tokens = []
        for _ in range(r.randint(6, 14)):
            tok = r.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            tok += r.choice("!#$%^&*()-;:/|\\~@") if r.random() < 0.7 else r.choice("0123456789")
            tokens.append(tok)
        return Noise(" ".join(tokens), "watermark.jammer", "para")

    # --- 3. paywall and preview -------------------------------------------------------------------
    def omitted(self) -> Noise:
        r = self.r
        name = self.name()
        n = self.n()
        member = r.choice(("正式会员可完整阅读", "登录后可阅读全文", "开通VIP会员查看全文", "注册会员后可查看",
                           "付费后可阅读完整内容"))
        host = r.choice((f"{name}{self.url(name)}", name, ""))
        word = r.choice(("省略", "隐藏", "略去", "屏蔽了"))
        ell = r.choice(("……", "...", "…", "。。。"))
        return Noise(f"{ell}({host}{word}{n}字,{member}){ell}", "paywall.omitted", "inline", gap=True)

    def truncated_end(self, title: str) -> Noise:
        r = self.r
        total = self.n(3000, 12000)
        shown = self.n(500, total - 100)
        text = r.choice((
            f"……(未完,全文共{total}字,当前仅显示{shown}字,请阅读下面提示信息。收藏《{title}》",
            f"……(未完待续,全文共{total}字,当前仅显示{shown}字)",
            f"(全文共{total}字,当前仅显示{shown}字,登录后查看全文)",
            f"…… 全文共{total}字,开通会员后即可查看剩余内容",
        ))
        return Noise(text, "paywall.truncated", "tail", truncated=True, stated=total)

    def preview_limit(self) -> Noise:
        r = self.r
        pages = self.n(2, 60)
        text = r.choice((f"还剩{pages}页未读, 继续阅读", f"还剩{pages}页未读，继续阅读>>", f"剩余{pages}页未读,点击继续阅读",
                         f"本资源只提供{r.randint(3, 12)}页预览,全部文档请下载后查看!",
                         f"本文档仅提供{r.randint(3, 12)}页预览,完整文档请下载后查看",
                         "试读已结束,如需继续阅读请下载", "预览已结束,下载文档到电脑,查看完整内容",
                         "点击查看更多>>", "展开阅读全文", "阅读全文请下载文档", "免费下载完整版查看全文",
                         f"以上为节选内容,全文共{self.n()}字"))
        return Noise(text, "paywall.preview", "tail", truncated=True)

    # --- 4. site voice ------------------------------------------------------------------------------
    def intro(self, title: str) -> Noise:
        r = self.r
        site = self.name()
        who = r.choice(("大家", "您", "你", "各位朋友", "大家伙"))
        verb = r.choice(("精心收集", "精心整理", "整理", "收集整理", "搜集", "精选", "准备", "推荐"))
        invite = r.choice(("内容仅供参考,欢迎大家阅读与借鉴", "仅供参考", "欢迎阅读", "希望对你有帮助", "欢迎参考",
                           "供大家参考借鉴", "欢迎阅读与收藏", "希望能够帮助到大家", "仅供学习参考"))
        text = r.choice((
            f"本文是{site}为{who}{verb}的{title},{invite}。",
            f"下面{site}小编为{who}{verb}了{title},{invite}。",
            f"{site}小编为{who}{verb}了{title},{invite}。",
            f"导语:{title}一文来源于网友上传,不代表本站观点,若需要原创文章可咨询客服老师,欢迎参考。",
            f"前言:我们精心挑选了数篇优质{title}文章,供您阅读参考。期待这些文章能为您带来启发,助您在写作的道路上更上一层楼。",
            f"【摘要】{site}{r.choice(('演讲稿', '讲话稿', '范文'))}专区提醒各位朋友:{title},{invite}。",
            f"以下是{site}为{who}{verb}的{title},{invite}。",
        ))
        return Noise(text, "site.intro", "head")

    def outro(self, title: str) -> Noise:
        r = self.r
        site = self.name()
        text = r.choice((
            f"以上是小编为大家准备的{title},希望对大家有所帮助。",
            f"以上就是{site}为您准备的{title}的全部内容,更多精彩请关注本网站。",
            "本站是提供个人知识管理的网络存储空间,所有内容均由用户发布,不代表本站观点。",
            "版权声明:本文内容由互联网用户自发贡献,该文观点仅代表作者本人。如发现本站有涉嫌侵权的内容,请联系删除,本站将立刻删除。",
            f"编辑:{r.choice(('sx_', 'zw_', 'ed'))}{''.join(r.choice('abcdefghxyz') for _ in range(5))}",
            f"责任编辑:{r.choice(NAME_POOL)}{r.choice(NAME_POOL)}",
        ))
        return Noise(text, "site.outro", "tail")

    # --- 5. page chrome -------------------------------------------------------------------------
    def chrome(self, titles: list[str], where: str) -> Noise:
        r = self.r
        site = self.name()
        choices = (
            lambda: f"{r.choice(('您的位置', '当前位置', '您当前所在位置', '你的位置'))}:{r.choice(('首页', site))}"
                    f"{r.choice(('>', '>>', ' > ', '»'))}{r.choice(('讲话稿', '领导讲话', '范文大全'))}"
                    f"{r.choice(('>', '>>', ' > '))}正文",
            lambda: f"{r.choice(('上一篇', '下一篇', '上一篇文章', '下篇'))}{r.choice((':', '：'))}{r.choice(titles)}",
            lambda: f"- {r.randint(0, 999)}",
            lambda: f"约{r.randint(1, 9)}.{r.randint(1, 99)}千字",
            lambda: f"约 {r.randint(2, 80)}页",
            lambda: f"20{r.randint(10, 25)}-0{r.randint(1, 9)}-1{r.randint(0, 9)} 发布于{r.choice(('河南', '黑龙江', '北京', '广东'))}",
            lambda: r.choice(("举报", "收藏", "分享到", "打印本页", "关闭窗口", "返回顶部")),
            lambda: f"- PAGE {r.randint(1, 40)} -",
            lambda: f"第{r.randint(1, 5)}页 / 共{r.randint(6, 40)}页",
            lambda: f"上传人:{site} 文档编号:{self.n(100000, 9999999)} 上传时间:2022-12-12 格式:DOC 页数:{r.randint(2, 40)}",
            lambda: "下载 | 打印 | 全屏 | 收藏 | 【字号: | 加大 | 还原 | 减小 | 】",
            lambda: f"文档评论({r.randint(0, 30)})",
            lambda: f"发布时间:20{r.randint(10, 25)}-0{r.randint(1, 9)}-2{r.randint(0, 8)} 浏览次数:{self.n(10, 99999)}",
            lambda: f"Copyright © 2008-2024 {site} 版权所有",
        )
        return Noise(r.choice(choices)(), "chrome", where)

    def related(self, titles: list[str]) -> list[Noise]:
        r = self.r
        head = r.choice(("相关文章", "您可能关注的文档", "相关推荐", "猜你喜欢", "热门范文", "最近下载", "延伸阅读"))
        items = [r.choice((f"- {t}.docx", f"{t}", f"- {t}.doc VIP", f"· {t}")) for t in r.sample(titles, k=min(4, len(titles)))]
        return [Noise(head, "chrome.related", "tail"), *(Noise(i, "chrome.related", "tail") for i in items)]


# --- never-touch: speech sentences that look like noise --------------------------------------------
LOOKALIKES = (
    "资料来源于基层的调查研究,是我们决策的依据。",
    "我们要把群众的意见作为工作的来源,做到来源于群众、服务于群众。",
    "今天我们学习了上一篇章的内容,下一篇章由大家自己阅读。",
    "各位会员单位要积极参加协会组织的活动。",
    "请大家翻到第1页,我们逐条讨论。",
    "本文件自印发之日起施行,由县委办公室负责解释。",
    "欢迎各位领导和嘉宾莅临指导!",
    "这些数据仅供参考,具体以统计部门公布的为准。",
    "我们整理了一批典型经验材料,供大家学习借鉴。",
    "女士们,先生们,朋友们!",
    "谢谢大家!",
    "【范文三】是这次评选中的一等奖作品。",
    "我们要建好“学习强国”学习平台,用好“中国政府网”。",
    "XX镇、××村、**县的同志们要按时上报材料。",
    "20--年,我们要重点抓好三件事。",
    "一、提高认识,加强领导",
    "同志们:",
    "以上汇报,不妥之处,请批评指正。",
    "会议指出,要加强网络安全工作,网站建设要规范。",
    "他说:“来源于实践的经验最可贵。”",
    "全年完成投资1.2亿元,同比增长15.3%。",
    "请登录市政府门户网站www.example.gov.cn查询办事指南。",
)

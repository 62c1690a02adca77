"""Build the cleaning evaluation set: noisy pages in their original encodings, with gold texts.

Gold texts are lines of the founding seed documents (../shared/seeds) chosen by hand below; the
pages wrap them in noise of every kind, in spellings the cleaners were *not* written against
(the demo site and unit tests use others). Run it to regenerate tests/eval/pages/*; review the diff.

    python tests/eval/build.py
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import opencc

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent.parent.parent / "shared" / "seeds"
OUT = HERE / "pages"
T2S = opencc.OpenCC("t2s")
esc = html.escape


def seed(n: int) -> list[str]:
    return next(SEEDS.glob(f"{n:03d}_*.txt")).read_text(encoding="utf-8").splitlines()


def shell(title: str, body: str, charset: str = "utf-8", head: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            f"<title>{esc(title)}</title>{head}</head><body>"
            '<div id="header"><ul class="menu"><li><a href="/">网站首页</a></li><li><a href="/fw/">范文大全</a></li>'
            '<li><a href="/jh/">讲话稿</a></li></ul></div>'
            f"{body}"
            '<div id="foot"><p>Copyright &copy; 2008-2024 All Rights Reserved 京ICP备09012345号-2</p></div></body></html>')


def ps(lines: list[str]) -> str:
    return "".join(f"<p>{esc(x)}</p>" for x in lines)


def write(name: str, page: str, encoding: str, speeches: list[dict], must_not: list[str], url: str,
          rules: dict | None = None, flags: dict | None = None) -> None:
    (OUT / f"{name}.html").write_bytes(page.encode(encoding, errors="xmlcharrefreplace"))
    meta = {"url": url, "encoding": encoding, "rules": rules or {}, "speeches": speeches, "must_not": must_not,
            "flags": flags or {}}
    (OUT / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def gold(lines: list[str], title: str = "") -> dict:
    return {"title": title, "text": "\n".join(x.strip() for x in lines if x.strip())}


def build() -> None:
    OUT.mkdir(exist_ok=True)
    s0, s1, s2, s3, s4 = (seed(n) for n in range(5))

    # e01: a compilation with 篇N separators, a site intro and outro, an obfuscated watermark in a
    # sentence, SEO links, jammer characters hidden by the page's stylesheet, neighbours, related list.
    i2, i3 = s0.index("驻村工作组长讲话二:"), s0.index("驻村工作组长讲话三:")
    parts = [s0[3:i2], s0[i2 + 1:i3], s0[i3 + 1:-3]]
    noisy = []
    for n, part in enumerate(parts):
        noisy.append(f"<p>篇{'一二三'[n]}</p>")
        for k, line in enumerate(part):
            text = esc(line)
            if n == 1 and k == 14:
                text = text.replace("重大事项", "(文章来.源;網友投/稿 ]fanwen8.cn重大事项", 1).replace(
                    "(资/料来.源,于:gzu521学;习/网 ]gzu521.com", "")
            if k % 6 == 2 and "。" in line:
                text = text.replace("。", '<em class="jm">kT9#</em>。', 1)
            text = text.replace("农村社区", '<a href="/tag/nongcun/" target="_blank"><b>农村社区</b></a>', 1)
            noisy.append(f"<p>{text}</p>")
    clean = [[x.replace("(资/料来.源,于:gzu521学;习/网 ]gzu521.com", "") for x in part] for part in parts]
    body = ('<div class="main"><h1>驻村工作组长讲话3篇</h1><div class="art_con">'
            "<p>下面是第一范文网小编为大家收集整理的驻村工作组长讲话,供大家参考借鉴,希望可以帮助到有需要的朋友。</p>"
            + "".join(noisy) +
            "<p>以上就是本站为您准备的驻村工作组长讲话的全部内容,更多精彩请关注本网站。</p></div>"
            '<div class="fenye"><p>上一篇：村支书在换届选举大会上的表态发言</p><p>下一篇：2021年驻村第一书记述职报告</p></div>'
            '<div class="xgtj"><h4>相关文章推荐</h4><ul><li>驻村工作队长讲话稿</li><li>驻村干部座谈会讲话</li></ul></div></div>')
    write("e01_subheads", shell("驻村工作组长讲话3篇_第一范文网", body, head="<style>em.jm{font-size:0px;}</style>"),
          "utf-8", [gold(p) for p in clean],
          ["小编", "fanwen8", "網友投", "kT9#", "上一篇", "下一篇", "相关文章", "本站", "篇一", "范文网"],
          "http://www.fanwen8.cn/jianghua/1234.html")

    # e02: a document-sharing site: metadata list, page markers, preview limit, related documents.
    start, end = s1.index("在市直机关下派驻村任职干部座谈会上的讲话"), s1.index("您可能关注的文档")
    speech = s1[start + 3:end]
    body = ('<div class="doc"><ul class="doc-info"><li>- 356</li><li>- 2</li><li>- 约3.21千字</li><li>- 约 12页</li>'
            "<li>- 2023-05-11 发布于河南</li><li>- 举报</li></ul>"
            f"<h1>{esc(s1[start])}</h1><p>刘 敏 坚</p><p>(2007年1月16日)</p><p>- PAGE 2 -</p>{ps(speech)}"
            "<p>本文档仅提供8页预览，完整文档请下载后查看</p>"
            "<p>相关推荐</p><p>- 2024年驻村工作总结范文.docx</p><p>- 乡村振兴工作汇报材料.pptx VIP</p>"
            "<p>文档评论(3)</p><p>金锄头文库</p></div>")
    write("e02_docsite", shell(s1[start] + " - 金锄头文库", body), "utf-8", [gold(speech)],
          ["356", "千字", "发布于", "举报", "PAGE", "预览", "相关推荐", ".docx", "文档评论", "文库"],
          "https://www.jinchutou.com/p-123456.html", flags={"truncated": True})

    # e03: the same speech on a government site in GBK, hidden characters of every sort.
    hidden = ['<span style="display : none">网</span>', '<font style="visibility: hidden">qz</font>',
              '<span style="font-size:0pt">7Kx</span>', '<span style="color:#fff;background:#fff">公文网</span>',
              "\u200b", "\u2060"]
    lines = []
    for k, line in enumerate(speech):
        text = esc(line)
        if len(line) > 40:
            text = text[:25] + hidden[k % len(hidden)] + text[25:]
        lines.append(f"<p>{text}</p>")
    body = (f'<div class="dqwz">当前位置：<a href="/">首页</a> &gt; <a>领导讲话</a></div><h1>{esc(s1[start])}</h1>'
            '<div class="info">发布时间：2007-01-18　来源：市委组织部　浏览次数：1203</div>'
            f'<div id="zoom"><p>刘 敏 坚</p><p>(2007年1月16日)</p>{"".join(lines)}</div>'
            '<div class="bottom_tools">【<a>打印本页</a>】【<a>关闭窗口</a>】</div>')
    write("e03_gov_gbk", shell(s1[start], body, charset="gb2312"), "gb18030", [gold(speech)],
          ["qz", "7Kx", "公文网", "\u200b", "\u2060", "当前位置", "浏览次数", "打印本页", "关闭窗口"],
          "http://www.example.gov.cn/ldjh/2007/0118/123.html", rules={"body_selector": "#zoom"})

    # e04: a traditional-script mirror in Big5: editor's disclaimer, converter pinyin, jammer hidden by
    # a class rule, neighbours; the mojibake stays (flagged, not repaired).
    trad = s2[3:-2]
    lines = []
    for k, line in enumerate(trad):
        text = esc(line)
        if k == 3:
            text = text.replace("黨的", "黨(dǎng)的", 1)
        if k % 4 == 1:
            text = text.replace("，", '<span class="sj">署鷄</span>，', 1).replace(",", '<span class="sj">辦蝦</span>,', 1)
        lines.append(f"<p>{text}</p>")
    body = (f"<h1>{esc(s2[0])}</h1><p>發佈時間：2022-07-02</p>"
            "<p>導讀：本文由網友投稿，版權歸原作者所有，如有侵權請聯繫本站刪除，僅供參考。</p>"
            f'<div class="cont">{"".join(lines)}</div><p>- 上一篇：醫院感染管理論文</p><p>- 下一篇：護理工作總結</p>')
    write("e04_big5", shell(s2[0], body, charset="big5", head="<style>.sj { visibility: hidden }</style>"),
          "big5hkscs", [gold(trad)], ["網友投稿", "署鷄", "辦蝦", "dǎng", "上一篇", "下一篇", "發佈時間"],
          "http://www.fwtw.com.tw/a/8899.html", flags={"mojibake": True})

    # e05: the simplified original in GBK: newspaper source line and a photo credit inside the text.
    simp = [T2S.convert(x).replace("??h", "县") for x in s2[3:-2]]
    body = (f"<h1>{esc(T2S.convert(s2[0]))}</h1><div class='ly'>《 组织人事报 》( 2022年07月03日 03 版)</div>"
            f"<div class='TRS_Editor'>{ps(simp[:5])}<p>(新华社记者 李学仁 摄)</p>{ps(simp[5:])}</div>")
    write("e05_gbk_credits", shell(T2S.convert(s2[0]), body, charset="gbk"), "gb18030", [gold(simp)],
          ["组织人事报", "李学仁", "摄"], "http://paper.example.cn/html/2022-07/03/nw.123.htm")

    # e06: a paid writing site: breadcrumb, table of contents, tool row, omitted middle, truncated end.
    body_lines = [x for x in s3[29:] if x.strip()]
    om = next(k for k, x in enumerate(body_lines) if "省略1032字" in x)
    before, after = body_lines[:om], body_lines[om + 1:]
    last = after[-1].split("……(未完")[0].strip()
    page_lines = before + ["……【此处已隐藏2048字，注册会员可阅读全文】……"] + after[:-1] + [
        last + " ……(未完待续，全文共7350字，登录后查看全文)", "收藏《在软弱涣散村级党组织整顿工作专题会议上的讲话》"]
    toc = s3[5:26]
    body = ('<div class="weizhi">当前位置：首页 >> 讲话稿 >> 党会报告 >> 正文</div>'
            f"<h1>{esc(s3[2])}</h1><p>【 字体：大 中 小 】 【 打印 】 【 关闭 】</p>"
            f"<div class='content'><p>提纲：</p>{ps(toc[1:])}<p>……</p><p>{esc(s3[2])}</p>{ps(page_lines)}</div>")
    write("e06_paywall", shell(s3[2], body), "utf-8", [gold(before + after[:-1] + [last])],
          ["当前位置", "字体", "打印", "提纲", "隐藏2048字", "注册会员", "未完待续", "全文共", "收藏《"],
          "http://www.wenmi.example.com/article/2025/0626/123456.html", flags={"truncated": True, "stated_length": 7350})

    # e07: a compilation without separators (seed 004): intro, watermarks between paragraphs.
    lines = s4[1:49] + s4[111:117]
    noisy = []
    for k, line in enumerate(lines):
        noisy.append(f"<p>{esc(line).replace('社会网主义', '社会<span style=display:none>网</span>主义')}</p>")
        if k in (6, 25):
            noisy.append("<p>公文素材库 www.gwsck.com</p>")
        if k == 40:
            noisy.append("<p>公文素材网,写作文库</p>")
    body = ("<h1>村支部工作汇报</h1><div class='text'><p>【导读】小编为大家精心准备了村支部工作汇报范文,欢迎阅读借鉴。</p>"
            + "".join(noisy) + "</div>")
    golds = [gold(s4[1:16]), gold(s4[16:34]), gold(s4[34:42]), gold(s4[42:49]), gold(s4[112:117], s4[111])]
    golds[0]["text"] = golds[0]["text"].replace("社会网主义", "社会主义")
    write("e07_compilation", shell("村支部工作汇报_公文素材库", body), "utf-8", golds,
          ["导读", "小编", "gwsck", "公文素材", "写作文库", "网主义"], "http://www.gwsck.com/hb/556.html")

    # e08: a block pasted twice, an editor line and a copyright notice inside the article box.
    block = s4[117:121]
    body = (f"<h1>干部选拔任用工作汇报</h1><div class='article'>{ps(block + block)}"
            "<p>(责任编辑：王芳)</p><p>版权声明：本文内容由互联网用户自发贡献，该文观点仅代表作者本人。如发现本站有涉嫌抄袭侵权/违法违规的内容，请联系删除。</p></div>")
    write("e08_repeat", shell("干部选拔任用工作汇报", body), "utf-8", [gold(block)],
          ["责任编辑", "版权声明", "本站"], "http://www.example.com/gb/77.html")

    # e09: forum "jammer" characters whose hiding stylesheet is external, so they are visible text.
    report = s4[159:176]
    lines = []
    for k, line in enumerate(report):
        jam = ["/ G- k; W% a% |( ^# n% J3", "n I/ @ 9 |8 L9 l j8 \\ P- t7", "^3 X4 ~ q* Z2 &amp; E! h0 y^"][k % 3]
        lines.append(f'{esc(line)}<font class="jammer">{jam}</font><br>')
    body = f"<h1>扫黑除恶专项斗争工作汇报</h1><div class='t_msgfont'>{''.join(lines)}</div>"
    write("e09_jammer", shell("扫黑除恶专项斗争工作汇报 - 论坛", body,
                              head='<link rel="stylesheet" href="/static/forum.css">'), "utf-8", [gold(report)],
          ["G- k;", "W%", "|8", "X4 ~", "Z2"], "http://bbs.example.com/thread-1234-1-1.html")

    # e10: a personal-library site (360doc-like) with its widgets, and full-width digits in the text.
    report = s4[176:185]
    wide = [x.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"}) for x in report]
    body = (f"<h1>挂职村党支部书记工作汇报</h1><div class='toolbar'><span>转藏到我的图书馆</span><span>献花(0)</span>"
            f"<span>+1</span><span>分享：</span></div><div id='artContent'>{ps(wide)}</div>"
            "<p>本站是提供个人知识管理的网络存储空间，所有内容均由用户发布，不代表本站观点。请注意甄别内容中的联系方式、诱导购买等信息，谨防诈骗。</p>")
    write("e10_library", shell("挂职村党支部书记工作汇报", body), "utf-8", [gold(report)],
          ["转藏", "献花", "本站", "存储空间"], "http://www.360doc.example.com/content/21/0101/1.shtml",
          rules={"body_selector": "#artContent"})

    # e11: placeholders and sentences that merely resemble noise must survive.
    keep = ["同志们:", "上一篇章我们讲发展,这一篇章讲稳定,会员大会要按期召开。",
            "我们XX镇、××乡和**村在20--年都完成了任务,wo村也不例外,相关资料来源于群众的意见。",
            "请大家翻到材料第1页,全文共分三个部分,第一部分讲成绩,点击率高的宣传作品要表彰。"] + s4[186:196]
    body = f"<h1>在村务工作会议上的讲话</h1><div class='content'>{ps(keep)}</div>"
    write("e11_keep", shell("在村务工作会议上的讲话", body), "utf-8", [gold(keep)], [],
          "http://www.example.org/jh/11.html")


if __name__ == "__main__":
    build()

"""Page-level cleaning on real-looking HTML: hidden text, page furniture, splitting, metadata."""

from __future__ import annotations

import pytest

from cleaners import PageError, SiteRules, clean_page
from cleaners.dom import lines, parse, remove_chrome_blocks, remove_hidden
from cleaners.metadata import occasion_of, take_header
from cleaners.split import cn_number, split_speeches

BODY = "同志们:今天我们召开全县农村基层组织建设工作会议,主要任务是总结经验、部署工作。"


def page(inner: str, head: str = "") -> str:
    return f"<html><head><title>在全县组织工作会议上的讲话_某某网</title>{head}</head><body>{inner}</body></html>"


@pytest.mark.parametrize("hidden,head", [
    ('<span style="display:none">x7Q</span>', ""),
    ('<span style="DISPLAY: none !important">x7Q</span>', ""),
    ('<font style="visibility:hidden">x7Q</font>', ""),
    ('<span style="font-size:0px">x7Q</span>', ""),
    ('<span style="font-size: 0">x7Q</span>', ""),
    ('<span style="color:#FFFFFF">x7Q</span>', ""),
    ('<span style="color:#333;background-color:#333">x7Q</span>', ""),
    ('<font class="jammer">x7Q</font>', "<style>.jammer{display:none}</style>"),
    ('<i id="j1">x7Q</i>', "<style>#j1, .other { display: none; }</style>"),
    ('<span class="a b tj">x7Q</span>', "<style>span.tj{font-size:0}</style>"),
    ('<em hidden>x7Q</em>', ""),
])
def test_hidden_text_never_reaches_the_text(hidden: str, head: str) -> None:
    html = page(f"<div class='content'><p>今天我们召开{hidden}全县农村基层组织建设工作会议,主要任务是总结经验、部署工作。</p></div>", head)
    root = parse(html)
    removals = remove_hidden(root)
    text = "".join(lines(root))
    assert "x7Q" not in text and "今天我们召开全县农村基层" in text
    assert removals and removals[0].reason.startswith("hidden.")


def test_visible_styles_are_not_hidden() -> None:
    root = parse(page('<p><span style="color:#c00;font-size:16px">重点</span>工作<span style="display:inline">要抓好</span></p>'))
    remove_hidden(root)
    assert lines(root) == ["重点工作要抓好"]


def test_page_furniture_blocks_go_body_stays() -> None:
    html = page("""<div class="top-nav"><a href="/">首页</a></div><nav>导航</nav>
      <div class="crumb">当前位置:首页 &gt; 讲话</div><div id="content"><p>正文第一段。</p></div>
      <div class="related"><a>相关文章</a></div><div class="share-box">分享到</div><footer>版权所有</footer>""")
    root = parse(html)
    remove_chrome_blocks(root)
    assert lines(root) == ["正文第一段。"]


def test_seo_links_keep_their_word() -> None:
    html = page('<div class="content"><p>总结工作<a href="/fanwen/jingyan/"><u>经验</u></a>,部署下一步任务,推进农村基层组织建设。'
                '这是一段足够长的讲话内容,用来让抽取器把它当作正文。</p></div>')
    result = clean_page([html], rules=SiteRules(body_selector="div.content"))
    assert "总结工作经验,部署" in result.speeches[0].text


def test_empty_and_non_html_input_is_a_clear_error() -> None:
    with pytest.raises(PageError, match="empty page"):
        clean_page(["   "])


def test_malformed_html_still_cleans() -> None:
    html = "<html><body><div class=content><p>" + BODY + "<p>第二段<b>没有闭合" + "。" * 3 + "</div></td></table>"
    result = clean_page([html], rules=SiteRules(body_selector="div.content"))
    assert result.speeches and BODY[4:20] in result.speeches[0].text


def test_multi_part_page_is_one_text() -> None:
    part1 = page(f"<h1>讲话</h1><div id='zoom'><p>{BODY}</p></div><div class='pages'><a>下一页</a></div>")
    part2 = page("<h1>讲话</h1><div id='zoom'><p>第二页的内容,继续讲第二个问题,要统一思想,提高认识,狠抓落实。</p></div>")
    result = clean_page([part1, part2], rules=SiteRules(body_selector="#zoom"))
    assert len(result.speeches) == 1
    assert result.speeches[0].paragraphs == [BODY, "第二页的内容,继续讲第二个问题,要统一思想,提高认识,狠抓落实。"]


def test_generic_extraction_without_selectors() -> None:
    paras = "".join(f"<p>{BODY}第{i}段内容,要加强领导,落实责任。</p>" for i in range(1, 8))
    html = page(f"<div class='nav'>首页 | 讲话</div><h1>在全县组织工作会议上的讲话</h1><div class='article'>{paras}</div>"
                "<div class='footer'>版权所有 某某网</div>")
    result = clean_page([html], "http://example.cn/a/1.html")
    assert result.extractor == "density"
    assert result.title == "在全县组织工作会议上的讲话"
    assert result.speeches[0].text.count("要加强领导") == 7
    assert "版权所有" not in result.speeches[0].text


def test_trafilatura_takes_over_where_no_container_holds_the_text() -> None:
    lines = "<br>".join(f"{BODY}第{i}段,要加强领导,落实责任。" for i in range(1, 6))
    result = clean_page([page(f"<h1>在全县组织工作会议上的讲话</h1>{lines}")], "http://example.cn/a/2.html")
    assert result.extractor == "trafilatura"
    assert result.speeches[0].text.count("要加强领导") == 5


def test_subheads_split_a_compilation_and_name_its_speeches() -> None:
    body = ["本文是小编为大家整理的讲话稿3篇,仅供参考。"]
    for n in "一二三":
        body += [f"驻村工作组长讲话{n}:", "同志们:", f"第{n}篇讲话的内容," + "要认真落实各项任务," * 12]
    segs, removals = split_speeches(body, 120)
    assert [s.title for s in segs] == ["驻村工作组长讲话一", "驻村工作组长讲话二", "驻村工作组长讲话三"]
    assert removals[0].reason == "split.prelude"


@pytest.mark.parametrize("sep", ["篇1", "【篇一】", "范文二", "第三篇"])
def test_subhead_spellings(sep: str) -> None:
    body = [sep, "内容" * 80, sep.replace("1", "2").replace("一", "二").replace("二", "四").replace("三", "五"), "内容" * 80]
    segs, _ = split_speeches(body, 120)
    assert len(segs) == 2


def test_compilation_without_separators_splits_at_numbering_restart_and_salutation() -> None:
    report1 = ["一、基本情况", "甲" * 150, "二、主要做法", "乙" * 150, "三、下一步打算", "丙" * 150]
    report2 = ["各位领导、同志们:", "下午好!", "一、工作回顾", "丁" * 150, "二、工作设想", "戊" * 150]
    report3 = ["2021年工作汇报", "按照要求,现将有关情况汇报如下:", "一、主要成效", "己" * 200]
    segs, _ = split_speeches(report1 + report2 + report3, 120)
    assert [s.paras[0] for s in segs] == ["一、基本情况", "各位领导、同志们:", "按照要求,现将有关情况汇报如下:"]
    assert segs[2].title == "2021年工作汇报"


def test_one_speech_with_sections_is_not_split() -> None:
    body = ["同志们:", "一、统一思想", "甲" * 200, "二、明确任务", "(一)抓班子", "乙" * 200, "(二)抓队伍", "丙" * 200,
            "三、强化保障", "丁" * 200]
    segs, _ = split_speeches(body, 120)
    assert len(segs) == 1


def test_header_metadata_moves_out_of_the_text() -> None:
    title = "在市直机关下派驻村任职干部座谈会上的讲话"
    paras, removals, meta = take_header([title, "刘 敏 坚", "(2007年1月16日)", "同志们:", "一、精心组织,狠抓落实", "正文。"],
                                        title)
    assert paras == ["同志们:", "一、精心组织,狠抓落实", "正文。"]
    assert (meta.speaker, meta.speech_date, meta.occasion) == ("刘敏坚", "2007-01-16", "市直机关下派驻村任职干部座谈会")
    assert meta.outline == [{"level": 1, "para": 1, "text": "一、精心组织,狠抓落实"}]
    assert {r.reason for r in removals} == {"chrome.title_repeat", "meta.speaker", "meta.speech_date"}


@pytest.mark.parametrize("title,occasion", [("在全省组织工作会议上的讲话", "全省组织工作会议"),
                                            ("张三同志在庆祝建党100周年大会上的讲话", "庆祝建党100周年大会"),
                                            ("农村基层组织建设动员会的讲话", None)])
def test_occasion_from_title(title: str, occasion: str | None) -> None:
    assert occasion_of(title) == occasion


@pytest.mark.parametrize("numeral,value", [("一", 1), ("九", 9), ("十", 10), ("十二", 12), ("二十", 20), ("3", 3)])
def test_cn_number(numeral: str, value: int) -> None:
    assert cn_number(numeral) == value


def test_truncated_page_is_flagged_with_stated_length_and_mojibake_is_flagged() -> None:
    html = page("<h1>讲话</h1><div class='c'><p>" + BODY + "</p><p>縣委決定召開大會,抓好創建工作??h委組織部要發揮作用,要求"
                "……(未完,全文共6287字,当前仅显示2897字)</p><p>收藏本文</p></div>")
    s = clean_page([html], rules=SiteRules(body_selector="div.c")).speeches[0]
    assert s.truncated and s.stated_length == 6287 and s.mojibake
    assert s.gaps == [{"after_para": 2, "kind": "truncated", "chars": None}]
    assert "??h委" in s.text  # flagged, never repaired by guessing


def test_a_page_that_loses_most_of_its_text_is_flagged_for_review() -> None:
    chrome = "".join(f"<p>- 2024年驻村工作总结范文第{i}篇.docx VIP</p>" for i in range(40))
    html = page(f"<h1>讲话</h1><div class='c'><p>{BODY}</p><p>您可能关注的文档</p>{chrome}</div>")
    result = clean_page([html], rules=SiteRules(body_selector="div.c"))
    assert result.speeches[0].text == BODY
    assert result.needs_review
    clean = clean_page([page(f"<h1>讲话</h1><div class='c'><p>{BODY}</p><p>{BODY}再强调一点。</p></div>")],
                       rules=SiteRules(body_selector="div.c"))
    assert not clean.needs_review

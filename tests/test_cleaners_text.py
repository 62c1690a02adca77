"""Text-level cleaning: each kind of noise in several spellings, and speech sentences that must survive."""

from __future__ import annotations

import pytest

from cleaners import text as T
from cleaners.chars import _changed_by, _opencc, fold, normalise_text, script_of
from cleaners.types import Gap

SPEECH = "我们要认真贯彻落实县委的决策部署,扎实推进农村基层组织建设。"


def kept_text(out) -> str:  # noqa: ANN001 - StepOut
    return "\n".join(p for p in out.paras if isinstance(p, str))


@pytest.mark.parametrize("mark", [
    "(资/料来.源,于:gzu521学;习/网 ]gzu521.com",
    "(本文来.自:范文先;生网 www.fanwenxs.com)",
    "【资料来源于:公文.范文网/www.gwfw.cn】",
    "(來/源.於:xx學;習網 ]xxstudy.net",
    "(稿子汇 www.gaozihui.com)",
])
def test_watermark_inside_a_sentence_is_cut(mark: str) -> None:
    para = "凡是涉及社区发展和群众切身利益" + mark + "的重大事项,都要按程序办理。"
    out = T.remove_watermarks([para])
    assert kept_text(out) == "凡是涉及社区发展和群众切身利益的重大事项,都要按程序办理。"
    assert all(r.reason.startswith("watermark") for r in out.removals)


@pytest.mark.parametrize("line", ["稿子汇 www.gaozihui.com", "公文汇 WWW.GONGWENHUI.COM", "稿子汇,范文学习文库",
                                  "范文先生网 www.fanwenxs.com", "第一范文网|公文写作文库"])
def test_watermark_lines_between_paragraphs_go(line: str) -> None:
    out = T.remove_watermarks([SPEECH, line, SPEECH])
    assert out.paras == [SPEECH, SPEECH]


@pytest.mark.parametrize("sentence", [
    "我们要认真听取来源于群众的意见,实行网格化管理。",
    "资料来源于县统计局,全县网格员共计1200名。",
    "要加强互联网建设,建好县级融媒体中心网站。",
    "一、建设智慧城市网",
])
def test_sentences_that_resemble_watermarks_survive(sentence: str) -> None:
    assert T.remove_watermarks([sentence]).paras == [sentence]


@pytest.mark.parametrize("note,chars", [
    ("……(新文秘网http://www.wm114.cn省略1032字,正式会员可完整阅读)……", 1032),
    ("……(此处省略 865 字,开通VIP会员可阅读全文)……", 865),
    ("【中间部分已隐藏2200字,登录后查看】", 2200),
    ("……(範文網省略1500字,正式會員可完整閱讀)……", 1500),
])
def test_omitted_middle_becomes_a_gap(note: str, chars: int) -> None:
    out = T.remove_paywall(["前面的内容到这里为止", note, "后面的内容从这里开始"])
    assert out.paras == ["前面的内容到这里为止", Gap("omitted", chars=chars), "后面的内容从这里开始"]


@pytest.mark.parametrize("note,total", [
    ("……(未完,全文共6287字,当前仅显示2897字,请阅读下面提示信息。收藏《在某会议上的讲话》", 6287),
    ("...(未完待续,全文共 4120 字,登录后查看全文)", 4120),
    ("(當前僅顯示1800字,全文共5000字,請登錄後閱讀)", 5000),
    ("……登录后即可查看全文", None),
])
def test_truncated_end_cuts_the_rest_and_records_the_stated_length(note: str, total: int | None) -> None:
    out = T.remove_paywall(["第一段讲话内容。", "第二段讲话内容到此" + note, "收藏本文", "相关范文"])
    assert out.paras == ["第一段讲话内容。", "第二段讲话内容到此", Gap("truncated", stated_total=total)]
    assert out.facts["truncated"] is True


@pytest.mark.parametrize("line,gap", [("还剩39页未读,继续阅读", True), ("本资源只提供10页预览,全部文档请下载后查看!", True),
                                      ("点击查看更多>>", True), ("第1页 / 共43页", False), ("继续阅读", True),
                                      ("免费下载完整版查看全文", True), ("剩余8页未读，点击继续阅读>>", True)])
def test_document_site_preview_markers(line: str, gap: bool) -> None:
    """A read-more or download-the-rest note where the text stops marks the copy truncated."""
    out = T.remove_paywall([SPEECH, line])
    assert out.paras == ([SPEECH, Gap("truncated")] if gap else [SPEECH])


@pytest.mark.parametrize("line", ["点击查看更多>>", "展开阅读全文"])
def test_a_read_more_widget_with_text_after_it_is_dropped_without_a_gap(line: str) -> None:
    out = T.remove_paywall([SPEECH, line, SPEECH + "第二段。"])
    assert out.paras == [SPEECH, SPEECH + "第二段。"]
    assert [r.reason for r in out.removals] == ["paywall.preview_widget"]


@pytest.mark.parametrize("line", ["二、剩余30%的任务要在年底前完成", "请各单位登录系统查看全部通知。", "第1页"])
def test_lines_that_only_look_like_preview_notes_survive(line: str) -> None:
    out = T.remove_paywall([SPEECH, line, SPEECH])
    assert out.paras == [SPEECH, line, SPEECH]


@pytest.mark.parametrize("sentence", ["会员大会每年召开一次,正式会员享有表决权。", "这份材料的第1页列出了全部任务。",
                                      "省略号不能滥用,全文共分三个部分。"])
def test_paywall_words_inside_prose_survive(sentence: str) -> None:
    assert T.remove_paywall([sentence]).paras == [sentence]


@pytest.mark.parametrize("line,reason", [
    ("您的位置:新文秘网>>农村/组织讲话/>>正文", "chrome.breadcrumb"),
    ("您当前所在位置:首页 > 应用文档 > 演讲稿 > 领导演讲稿", "chrome.breadcrumb"),
    ("首頁 » 講話稿 » 正文", "chrome.breadcrumb"),
    ("上一篇:做文明学生校长讲话3篇", "chrome.prev_next"),
    ("- 下一篇:有機磷農藥中毒護理探討論文", "chrome.prev_next"),
    ("上一页 1 2 3 下一页", "chrome.prev_next"),
    ("- 192", "chrome.doc_meta"), ("约4.43千字", "chrome.doc_meta"), ("- 约 9页", "chrome.doc_meta"),
    ("2021-02-01 发布于黑龙江", "chrome.doc_meta"), ("- PAGE 1 -", "chrome.doc_meta"), ("PAGE", "chrome.doc_meta"),
    ("上传人:张三 文档编号:1653931 上传时间:2022-12-12 格式:PPT 页数:43 大小:1.26MB", "chrome.doc_meta"),
    ("举报", "chrome.widget"), ("文档评论(0)", "chrome.widget"), ("献花(0)", "chrome.widget"),
    ("转藏到我的图书馆", "chrome.widget"),
    ("下载 | 打印 | 全屏 | 收藏 | 【字号: | 加大 | 还原 | 减小 | 】", "chrome.widget"),
    ("发表时间:2025/6/26 15:06:02", "chrome.page_meta"), ("時間:2022-07-02 08:59:00", "chrome.page_meta"),
    ("来源:人民网 作者:李明 浏览:1024", "chrome.page_meta"),
    ("Copyright © 2010-2025 某某网 版权所有", "chrome.copyright"),
])
def test_chrome_lines_go_with_their_reason(line: str, reason: str) -> None:
    out = T.remove_chrome([SPEECH, line])
    assert out.paras == [SPEECH]
    assert [r.reason for r in out.removals] == [reason]


@pytest.mark.parametrize("sentence", ["有人在文章里写下<script>alert(1)</script>这样的代码,干部要警惕。",
                                      "流程是申报 → 审核 → 公示,每一步都要留痕。"])
def test_sentences_with_arrows_are_not_breadcrumbs(sentence: str) -> None:
    assert T.remove_chrome([SPEECH, sentence]).paras == [SPEECH, sentence]


def test_related_document_lists_go_until_prose_resumes() -> None:
    paras = [SPEECH, "您可能关注的文档", "最近下载", "- 税务师-税法一.docx VIP", "- 云米说明书用户手册.pdf", "原创力文档"]
    assert T.remove_chrome(paras).paras == [SPEECH]
    paras = [SPEECH, "猜你喜欢", "村支书表态发言稿", "驻村第一书记述职报告"]
    assert T.remove_chrome(paras).paras == [SPEECH]


def test_table_of_contents_above_the_text_goes_but_the_headings_stay() -> None:
    paras = ["目录/提纲:……", "一、精准摸排,找准问题症结", "(一)多维度排查,摸清底数", "二、配强班子", "……",
             "同志们:", "一、精准摸排,找准问题症结", SPEECH, "二、配强班子", SPEECH]
    out = T.remove_chrome(paras)
    assert out.paras == paras[5:]


def test_page_facts_read_from_chrome() -> None:
    out = T.remove_chrome(["- 2021-02-01 发布于黑龙江", SPEECH])
    assert out.facts == {"publish_date": "2021-02-01", "region": "黑龙江"}


@pytest.mark.parametrize("sentence", ["上一篇章我们讲了发展,这一篇章讲稳定。", "下一步,我们要重点抓好三项工作:",
                                      "要把举报电话向社会公布。", "他在第1页就写明了目标。", "2021年是建党100周年。"])
def test_prose_resembling_chrome_survives(sentence: str) -> None:
    assert T.remove_chrome([sentence]).paras == [sentence]


@pytest.mark.parametrize("line", [
    "作为驻村工作组长为此发表讲话,本文是学习啦小编为大家整理的驻村工作组长的讲话,仅供参考。",
    "下面学习啦小编为你整理了大学生社团简介,欢迎阅读。",
    "導語:農村基層組織建設動員會的講話一文來源于網友上傳,不代表本站觀點,若需要原創文章可咨詢客服老師,歡迎參考。",
    "前言:我们精心挑选了数篇优质村支部工作汇报文章,供您阅读参考。期待这些文章能为您带来启发。",
    "以上是小編為大家準備的比賽總結范文,希望对你有帮助。",
    "本站是提供个人知识管理的网络存储空间,所有内容均由用户发布,不代表本站观点。",
    "版權聲明:本文內容由互聯網用戶自發貢獻,如有侵權請聯繫,本站將立刻刪除",
    "编辑:sx_chenzf", "(责任编辑:王小明)", "【摘要】本文是小编整理的讲话稿,供大家参考。",
])
def test_site_voice_lines_go(line: str) -> None:
    out = T.remove_site_voice([line, SPEECH])
    assert out.paras == [SPEECH]


@pytest.mark.parametrize("sentence", ["我们要加强版权保护,严厉打击侵权盗版行为。", "本网格员要做到仅供参考的数据不上报。",
                                      "同志们,编辑部的同志们辛苦了。"])
def test_speech_sentences_with_site_words_survive(sentence: str) -> None:
    assert T.remove_site_voice([sentence]).paras == [sentence]


def test_photo_credit_and_paper_source_are_cut_and_dated() -> None:
    out = T.remove_site_voice(["会议在北京召开。新华社记者 鞠鹏/摄", "《 人民日报 》( 2020年05月19日 01 版)"])
    assert out.paras == ["会议在北京召开。"]
    assert out.facts["publish_date"] == "2020-05-19"


def test_repeated_block_is_dropped_once() -> None:
    block = ["近年来,为了全面落实群众公认五条要求,严格执行干部选任责任追究制度。", "一是严把条件资格关,把知情权交给群众。"]
    out = T.remove_repeated_blocks([SPEECH, *block, *block, "结束语。"])
    assert out.paras == [SPEECH, *block, "结束语。"]
    assert [r.reason for r in out.removals] == ["repeat.block", "repeat.block"]


@pytest.mark.parametrize("before,noise,after", [
    ("商贾云集的", "内容来自公务吧 www.gongwuba.cn 转载请保留", "义乌"),  # it took 的义 and left 转载请保留
    ("要加快构建现代化交通运输", "【来源:交通运输网】", "网络体系。"),  # it took 网络 after the tag
    ("要加快构建现代化交通运输", "【来]源/::公务吧|】", "网络体系。"),
    ("党委(", "本文由公文汇整理,原文地址:http://www.gwh.com/a/1.html", "工)委要负总责。"),
    ("(二", "(来/源于:公文网 ]gongwen.com", ")搞好环境建设。"),
    ("主要负责同志要", "(本文来.自:范文先;生网 www.fanwenxs.com)", "亲自抓。"),
])
def test_a_watermark_is_cut_to_its_edge_and_no_further(before: str, noise: str, after: str) -> None:
    out = T.remove_watermarks([before + noise + after])
    assert out.paras == [before + after]


def test_lines_said_again_are_speech_each_time() -> None:
    """A salutation before each part, a slogan, a heading used twice: speech, not a pasted block."""
    paras = ["女士们,先生们,朋友们!", SPEECH, "女士们,先生们,朋友们!", "一、加强领导", SPEECH + "第二部分。",
             "女士们,先生们,朋友们!", "一、加强领导", "谢谢大家!", "谢谢大家!"]
    assert T.remove_repeated_blocks(paras).paras == paras


def test_a_long_paragraph_pasted_twice_is_dropped_once() -> None:
    long = SPEECH * 2
    out = T.remove_repeated_blocks([long, "中间一段话。", long])
    assert out.paras == [long, "中间一段话。"]


def test_source_rules_cut_only_what_the_source_declares() -> None:
    import re
    out = T.apply_source_rules(["推荐使用Chrome浏览器访问本站。" + SPEECH], [re.compile(fold("推荐使用chrome浏览器访问本站。"))])
    assert kept_text(out) == SPEECH


@pytest.mark.parametrize("raw,clean", [
    ("领\u200b导\u200c干\ufeff部", "领导干部"),
    ("２０２１年１２月１５日，ＸＸ县", "2021年12月15日，XX县"),
    ("各級領(lǐng)導(dǎo)幹部", "各級領導幹部"),
    ("江 西 省 地 方 标 准", "江西省地方标准"),
    ("(GDP)增长6%", "(GDP)增长6%"),
])
def test_normalise_text(raw: str, clean: str) -> None:
    assert normalise_text(raw) == clean


def test_fold_keeps_length_and_maps_scripts_and_widths() -> None:
    for s in ["農村基層組織建設", "（資料來源）ＷＷＷ", "同志們：今天"]:
        assert len(fold(s)) == len(s)
    assert fold("農村基層組織") == "农村基层组织"
    assert fold("（ＡＢ）") == "(ab)"


def test_script_detection() -> None:
    assert script_of("農村基層組織建設動員會的講話") == "traditional"
    assert script_of("农村基层组织建设动员会的讲话") == "simplified"


def test_the_characters_a_converter_changes_are_listed_alike_in_one_call_or_one_at_a_time() -> None:
    class JoiningLines:  # converts as t2s does, but a text's lines come back as one: one call can't be read
        def convert(self, text: str) -> str:
            return _opencc("t2s").convert(text).replace("\n", "")

    listed = _changed_by(_opencc("t2s")).pattern
    assert listed == _changed_by(JoiningLines()).pattern
    assert "農" in listed and "农" not in listed and 4000 < len(listed) < 5000


def test_placeholders_are_kept() -> None:
    paras = ["我们XX镇决心按照部署,××乡、**村在20--年完成任务,wo村也一样。"]
    for step in (T.remove_watermarks, T.remove_chrome, T.remove_site_voice, T.remove_paywall):
        assert step(paras).paras == paras

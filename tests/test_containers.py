"""Which part of a page is the text: the post and not its replies or comments, tables that belong
to the text, no navigation boxes — and a record for every block of text left out."""

from __future__ import annotations

from cleaners import clean_page

POST = ("同志们:今天我们召开全县农村基层组织建设工作会议,主要任务是总结经验、部署工作。"
        "过去一年,全县各级党组织认真落实县委部署,村级组织建设取得明显成效,群众满意度不断提高。"
        "今年要在选好配强村党组织书记、发展壮大村级集体经济、健全村级组织运行机制上下功夫,让每个村都有一个好班子。")
POST2 = ("一要提高认识,把基层组织建设摆在更加突出的位置;二要突出重点,抓好村级班子和党员队伍建设;"
         "三要强化保障,落实村级组织运转经费和村干部报酬;四要严格考核,把抓基层党建的成效作为评价干部的重要依据。")
REPLY = ("楼主说得很有道理,我们村也是这样做的。去年我们村调整了村两委班子,选出了年轻有文化的书记,"
         "今年修了路、建了文化广场,群众都说好。希望县里多组织这样的交流,让各村互相学习经验。")


def text_of(html: str) -> tuple[str, list[str]]:
    result = clean_page([html], "http://bbs.example.test/thread-1-1.html")
    return "\n".join(s.text for s in result.speeches), [r.reason for r in result.removals]


def post(n: int, body: str) -> str:
    return (f'<div class="post" id="post_{n}"><div class="authi"><a class="xw1">用户{n}</a> 发表于 2024-05-0{n}</div>'
            f'<div class="t_f" id="postmessage_{n}"><p>{body}</p></div></div>')


def test_a_forum_thread_gives_its_first_post_not_the_longer_replies() -> None:
    replies = "".join(post(n, REPLY * 3) for n in range(2, 6))
    html = f"<html><head><title>讲话稿讨论</title></head><body><div id='postlist'>{post(1, POST * 2)}{replies}</div></body></html>"
    text, reasons = text_of(html)
    assert text == POST * 2
    assert "extract.outside" in reasons  # the replies are recorded, not silently dropped


def test_a_blog_post_wins_over_a_longer_comment_list() -> None:
    comments = "".join(f'<div class="cmt-item"><span class="author">网友{n}</span><p>{REPLY * 2}</p></div>'
                       for n in range(6))
    html = (f"<html><body><div class='entry'><h1>讲话</h1><p>{POST}</p><p>{POST2}</p></div>"
            f"<div id='pinglun'>{comments}</div></body></html>")
    text, reasons = text_of(html)
    assert text == POST + "\n" + POST2
    assert reasons.count("extract.outside") >= 6


def test_rows_of_a_layout_table_are_one_text() -> None:
    rows = "".join(f"<tr><td>{p}</td></tr>" for p in ("一、提高认识", POST * 4, "二、加强领导", POST, "三、落实责任"))
    text, _ = text_of(f"<html><body><table>{rows}</table></body></html>")
    assert text == "\n".join(("一、提高认识", POST * 4, "二、加强领导", POST, "三、落实责任"))


def test_a_table_right_after_the_text_is_kept_as_its_rows() -> None:
    html = (f"<html><body><div class='content'><p>{POST}</p><p>{POST2}</p><p>现将各单位任务分解如下:</p></div>"
            "<table><tr><td>序号</td><td>责任单位</td><td>完成时限</td></tr>"
            "<tr><td>1</td><td>县委组织部</td><td>2024年6月底前</td></tr></table>"
            "<div class='footer'>版权所有</div></body></html>")
    text, _ = text_of(html)
    assert text.endswith("现将各单位任务分解如下:\n序号 责任单位 完成时限\n1 县委组织部 2024年6月底前")


def test_a_navigation_box_of_links_is_dropped_with_a_record() -> None:
    links = "".join(f"<a href='/wiki/{n}'>词条名称{n}</a> · " for n in range(30))
    html = (f"<html><body><div id='bodyContent'><p>{POST}</p><p>{POST2}</p>"
            f"<table class='navbox'><tr><th>相关条目</th><td>{links}</td></tr></table></div></body></html>")
    text, reasons = text_of(html)
    assert text == POST + "\n" + POST2
    assert "chrome.link_list" in reasons


def test_links_inside_running_text_do_not_make_a_link_list() -> None:
    body = ("要认真学习<a href='/a'>党的二十大精神</a>,深入贯彻<a href='/b'>新发展理念</a>,"
            "加快构建<a href='/c'>新发展格局</a>,推动高质量发展取得新成效。") * 3
    text, _ = text_of(f"<html><body><div class='content'><p>{body}</p><p>{POST}</p></div></body></html>")
    assert "要认真学习党的二十大精神,深入贯彻新发展理念" in text


def test_text_outside_the_chosen_block_is_recorded() -> None:
    html = (f"<html><body><div class='content'><p>{POST}</p><p>{POST2}</p></div>"
            "<div class='box'><p>本站推荐:优秀讲话稿范文大全合集</p></div></body></html>")
    result = clean_page([html], "http://site.test/a.html")
    assert any(r.reason == "extract.outside" and "优秀讲话稿" in r.text for r in result.removals)


def test_text_nested_ten_thousand_levels_deep_is_read() -> None:
    html = "<html><body>" + "<div>" * 10_000 + f"<p>{POST}</p><p>{POST2}</p>" + "</div>" * 10_000 + "</body></html>"
    text, _ = text_of(html)
    assert text == POST + "\n" + POST2


def test_nul_bytes_and_control_characters_lose_no_text() -> None:
    html = f"<html><body><div class='content'><p>{POST}</p><p>\x00{POST2}\x07</p></div></body></html>"
    text, _ = text_of(html)
    assert text == POST + "\n" + POST2

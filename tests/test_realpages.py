"""Robustness on real Chinese news and government pages (../shared/realpages, not copied here).

There is no gold text: each page must clean without error, its main text must come out, and
neither the text its own styles hide nor its page chrome may.
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from cleaners import clean_page
from cleaners.dom import hidden_selectors
from crawler.encoding import decode_html

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"
# page → (text that must come out, text that must not)
EXPECT = {
    "baijiahao_1": ("曾在殡仪馆任职，每天和死亡打交道", []),
    "cjddsb_1": ("为持续推动金融消费者教育和金融知识普及工作", []),
    "gsc_1": ("2019年中国人文地理学术年会在重庆", ["English中文版", "上一篇", "友情链接", "学会简介 历史沿革"]),
    "gzggw_1": ("全县固定资产投资完成246.79亿元", ["浏览次数", "无障碍浏览", "政务公开"]),
    "ifeng_1": ("调查组仍在紧锣密鼓工作中", []),
    "njxfhn_1": ("近日，广东江门警方接到一名72岁事主报警", []),
    "people_1": ("父亲的教诲像一盏灯", ["新疆阿勒泰：百万牲畜大转场"]),
    "shanxi_1": ("山西品牌丝路行首次登陆巴西", []),
    "stcn_1": ("天奇股份", ["特朗普拟限制美国投资流入中国市场"]),
    "sxmu_1": ("为了深化国家监察体制改革", ["添加收藏夹", "机构职能", "省内外高校"]),
    "thepaper_2": ("搭地铁去坐邮轮玩转东南亚", []),
    "xinhuanet_1": ("法国9", ["罕见!大量水母聚海湾", "印度交警跳舞指挥走红"]),
    "zsnews_1": ("顺德区金融业联合会陈伊芬秘书长", []),
    "zyyfy_1": ("弘扬我院中药特色", []),
}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def hidden_only_texts(html: str) -> list[str]:
    """Texts the page hides (inline or by its stylesheets) that it shows nowhere else."""
    root = lxml.html.document_fromstring(html)
    hidden = root.xpath('//*[contains(translate(@style, " ", ""), "display:none")]')
    for sel in hidden_selectors(root):
        try:
            hidden += root.cssselect(sel)
        except Exception:  # selectors cssselect cannot parse hide nothing we can check
            continue
    texts = {_squash(e.text_content()) for e in hidden}
    for e in hidden:
        e.getparent().remove(e) if e.getparent() is not None else None
    visible = _squash(root.text_content())
    return [t for t in texts if len(t) >= 8 and t not in visible]


@pytest.fixture(scope="module", params=sorted(EXPECT))
def page(request: pytest.FixtureRequest) -> tuple[str, str]:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent: the real-page robustness set lives in the shared folder beside the checkout")
    html, _ = decode_html((REAL / f"{request.param}.html").read_bytes())
    return request.param, html


def test_main_text_comes_out_and_chrome_does_not(page: tuple[str, str]) -> None:
    name, html = page
    result = clean_page([html], "http://example.com/")
    text = _squash("\n".join(s.text for s in result.speeches))
    must, must_not = EXPECT[name]
    assert _squash(must) in text
    assert [m for m in must_not if _squash(m) in text] == []


def test_hidden_text_does_not_come_out(page: tuple[str, str]) -> None:
    _, html = page
    text = _squash("\n".join(s.text for s in clean_page([html], "http://example.com/").speeches))
    assert [h for h in hidden_only_texts(html) if h in text] == []

"""Reconstruction from partial copies: fills gaps from other copies, never invents, keeps provenance."""

from __future__ import annotations

from sqlalchemy.orm import Session

from archive.dedup.reconstruct import reconstruct
from archive.storage.models import DupGroup
from tests.test_archive import PARAS, archive_html, html_page

FULL = [f"第{i}部分。" + "要认真落实县委的决策部署," * 3 + f"这是第{i}段的结尾。" for i in range(10)]
OMITTED = FULL[:3] + [FULL[3][:14]] + [FULL[6][-14:]] + FULL[7:]  # gap after paragraph 4 (0-based 3)
TRUNCATED = FULL[:5] + [FULL[5][:12]]


def test_a_cut_end_is_filled_from_a_copy_that_omits_only_the_middle() -> None:
    result = reconstruct([(1, FULL[:8], [8]), (2, OMITTED, [4])])
    assert result.text == "\n".join(FULL) and result.open_gaps == [] and result.filled == 1
    assert [p["from"] for p in result.paragraphs] == [1] * 8 + [2] * 2


def test_what_no_copy_has_stays_missing() -> None:
    result = reconstruct([(1, OMITTED, [4]), (2, TRUNCATED, [6])])
    texts = [p["text"] for p in result.paragraphs]
    assert texts == FULL[:5] + [FULL[5][:12], FULL[6][-14:]] + FULL[7:]  # FULL[5] rest and FULL[6] start unknown
    assert result.open_gaps == [6] and result.filled == 0
    assert all(t in "\n".join(FULL) for t in texts)  # nothing invented


def test_copies_that_do_not_overlap_leave_the_gap_open() -> None:
    result = reconstruct([(1, FULL[:3], [3]), (2, ["完全不同的另一段文字,与前文没有任何重合之处。"], [])])
    assert result.text == "\n".join(FULL[:3]) and result.open_gaps == [3]


def test_a_group_of_partial_copies_carries_its_reconstruction(session: Session) -> None:
    cut_end = archive_html(session, "http://a.cn/1.html", html_page("讲话", PARAS[:5] + [
        PARAS[5][:20] + "……(未完,全文共1200字,当前仅显示600字)"]))[0]
    cut_middle = archive_html(session, "http://b.cn/2.html", html_page("讲话", PARAS[:2] + [
        PARAS[2][:25] + "……(此处省略800字,正式会员可完整阅读)……" + PARAS[4][-20:]] + PARAS[5:]))[0]
    assert cut_end.group_id == cut_middle.group_id and cut_end.truncated and cut_middle.truncated
    group = session.get(DupGroup, cut_end.group_id)
    rebuilt = "\n".join(p["text"] for p in group.reconstruction["paragraphs"])
    assert rebuilt == "\n".join(PARAS) and group.reconstruction["open_gaps"] == []
    assert {p["from"] for p in group.reconstruction["paragraphs"]} == {cut_end.id, cut_middle.id}
    complete = archive_html(session, "http://c.cn/3.html", html_page("讲话", PARAS))[0]
    session.refresh(group)
    assert group.canonical_id == complete.id and group.reconstruction is None  # a complete copy needs none


def test_reconstruction_is_exported_on_the_canonical_row(session: Session, tmp_path) -> None:  # noqa: ANN001
    import json

    from archive.export.write import export

    archive_html(session, "http://a.cn/1.html", html_page("讲话", PARAS[:5] + [PARAS[5][:20] + "……(未完,全文共1200字)"]))
    archive_html(session, "http://b.cn/2.html", html_page("讲话", PARAS[:2] + [
        PARAS[2][:25] + "……(此处省略800字,正式会员可完整阅读)……" + PARAS[4][-20:]] + PARAS[5:]))
    export(session, "jsonl", tmp_path / "x.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["reconstructed_text"] for r in rows if r["is_canonical"]] == ["\n".join(PARAS)]
    assert [r["reconstructed_text"] for r in rows if not r["is_canonical"]] == [None]

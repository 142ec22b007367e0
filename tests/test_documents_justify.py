"""Stretchable spaces in body paragraphs (server/documents/justify.py): only where a line may break."""
from __future__ import annotations

from server.documents.justify import justify_paragraphs


def test_spaces_only_where_a_line_may_break() -> None:
    out = justify_paragraphs("<p>于2026年5月29日（县级）挂牌，ZD-1399-01号。</p>")
    assert out == '<p class="justified">于 2026 年 5 月 29 日 （县 级） 挂 牌， ZD-1399-01 号。</p>'
    # never before closing punctuation (避头点), after opening punctuation, or inside numbers and codes
    assert " ，" not in out and "（ " not in out and "20 26" not in out and "ZD- 1399" not in out


def test_only_plain_paragraphs_and_notes_and_their_text() -> None:
    html = ('<h2>一、要求</h2><p class="number">某综〔2026〕1号</p><p class="note" style="x">（附注）</p>'
            '<p>甲&#34;乙<b>丙丁</b> 戊</p>')
    out = justify_paragraphs(html)
    assert '<h2>一、要求</h2><p class="number">某综〔2026〕1号</p>' in out  # headings, 发文字号 untouched
    assert '<p class="note justified" style="x">（附 注）</p>' in out
    # tags and entities stay whole; a space the text had stays visible
    assert '<p class="justified">甲 &#34; 乙<b>丙 丁</b><span class="word-space"> </span>戊</p>' in out

"""Title lines of a 公文 (server/documents/titles.py): breaks between words, balanced lines (7.3.1)."""
from __future__ import annotations

from server.documents.titles import TITLE_CHARS, balance, name_phrases, phrases, title_lines, width


def test_place_names_split_after_their_suffixes_only() -> None:
    assert name_phrases("河口镇东岗村废弃砖厂周边") == ["河口镇", "东岗村", "废弃砖厂周边"]
    assert name_phrases("城关街道南关农贸市场周边") == ["城关街道", "南关农贸市场周边"]
    assert name_phrases("黑龙潭雷家沟村") == ["黑龙潭雷家沟村"]  # never "雷/沟"
    assert name_phrases("西城区") == ["西城区"]


def test_a_title_breaks_after_the_name_not_inside_it() -> None:
    title = "关于对" + str(phrases("河口镇东岗村废弃砖厂周边")) + "<wbr>实行挂牌督办的通知"
    assert str(title_lines(title)) == "关于对河口镇东岗村废弃砖厂周边<br>实行挂牌督办的通知"
    title = "关于" + str(phrases("河口镇东岗村废弃砖厂周边")) + "<wbr>延期整治的请示"
    assert str(title_lines(title)) == "关于河口镇东岗村废弃砖厂周边<br>延期整治的请示"


def test_a_short_title_stays_on_one_line_and_a_long_one_fits_the_width() -> None:
    assert str(title_lines("关于对西城区<wbr>实行挂牌督办的通知")) == "关于对西城区实行挂牌督办的通知"
    name = "河口镇东岗村废弃砖厂及周边出租屋群与夜市摊点聚集的治安复杂区域"
    lines = str(title_lines("关于对" + str(phrases(name)) + "<wbr>实行挂牌督办的通知")).split("<br>")
    assert "".join(lines) == f"关于对{name}实行挂牌督办的通知"
    assert all(width(line) <= TITLE_CHARS for line in lines) and min(len(line) for line in lines) >= 4
    assert "".join(lines).count("区域") == 1 and not any(line.startswith("域") for line in lines)


def test_no_stub_line_and_markup_stays_text() -> None:
    # the old automatic wrap left a lone "区" on the last line
    lines = balance(["关于对某某县城关镇人民路", "农贸市场周边地区", "实行挂牌督办的通知"])
    assert lines == ["关于对某某县城关镇人民路", "农贸市场周边地区实行挂牌督办的通知"]  # whole phrases
    assert str(title_lines("关于&lt;b&gt;<wbr>的通知")) == "关于&lt;b&gt;的通知"
    assert str(phrases("<b>镇")) == "&lt;b&gt;镇"


def test_a_table_header_breaks_only_at_its_spaces_and_stays_escaped():
    from server.documents.titles import header_phrases

    assert str(header_phrases("排查 矛盾纠纷 （件）")) == (
        '<span class="phrase">排查</span><wbr><span class="phrase">矛盾纠纷</span><wbr><span class="phrase">（件）</span>')
    assert str(header_phrases("挂牌督办")) == "挂牌督办"  # no space: one word, wraps as before
    assert "<b>" not in str(header_phrases("<b>x</b> 件")) and "&lt;b&gt;" in str(header_phrases("<b>x</b> 件"))

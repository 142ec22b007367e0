"""The shared 公文 layout (server/documents/layout/gbt9704.*) against GB/T 9704-2012.

Each test implements one row of the measurable checklist in docs research §1.1 ("the test oracle"),
named ``test_rNN_…``. Two documents are rendered once for the module with the real ``Renderer`` and the
free fonts: a one-page 通知 and a ≥ 4-page one (headings, full pages, odd and even pages). Geometry
is measured on the PDF (pdfplumber, pypdf) and, where glyph ink or painted borders matter, on
``pdftoppm`` rasters; see tests/pdfcheck.py.
"""
from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from server.documents.pdf import Renderer, RenderError, RenderResult
from tests import pdfcheck
from tests.pdfcheck import HANG, MM, ZI, Pdf, block_x_mm, mm, pt

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is needed")

# The free substitutes the stylesheet's stacks end in (tests run without licensed fonts).
FANGSONG = {"FandolFang"}
XIAOBIAOSONG = {"Noto-Serif-CJK-SC-Bold"}
SONGTI = {"FandolSong"}

TEMPLATE = """{% extends "gbt9704.html" %}
{%- block addressee %}{{ addressee }}{% endblock %}
{%- block body %}{% for kind, text in blocks %}<{{ kind }}>{{ text }}</{{ kind }}>{% endfor %}{% endblock %}
{%- block attachments %}{{ attachments }}{% endblock %}
{%- block note %}{{ note }}{% endblock %}
{%- block cc %}{{ cc }}{% endblock %}"""

# 正文 written so that no closing punctuation falls at the start of a line of the 28-字 grid
# (see test_test_data_breaks): such a line would legitimately hold 27 characters (避头点).
PARAS = [
    "为深入贯彻落实上级关于加强基层社会治理的决策部署，进一步健全县乡村三级社会治安综合治理工作体系，切实维护全县社会大局持续和谐稳定，经县人民政府研究同意，现就做好今年社会治安综合治理重点工作有关事项通知如下。",
    "各乡镇人民政府要把社会治安综合治理工作摆在更加突出的位置，主要负责同志要亲自研究部署，分管负责同志要具体抓好落实，形成一级抓一级、层层抓落实的工作格局。要结合本地实际制定具体实施方案，明确工作目标、工作措施和完成时限，确保各项任务落地见效。",
    "县直各部门要按照职责分工，主动认领工作任务，密切协作配合，及时研究解决工作中遇到的困难和问题。对涉及多个部门的重点难点问题，牵头部门要主动协调，配合部门要积极支持，不得推诿扯皮，切实形成工作合力。",
    "要坚持和发展新时代枫桥经验，健全完善矛盾纠纷多元化解机制，推动人民调解、行政调解、司法调解有机衔接。各乡镇要定期组织开展矛盾纠纷排查化解活动，对排查出来的问题逐件登记建档，明确责任单位和责任人员，做到小事不出村、大事不出乡、矛盾不上交。",
    "要深入推进社会治安防控体系建设，加强重点地区、重点部位和重点时段的巡逻防控，提高见警率和管事率。要加大对城乡结合部、学校周边、集贸市场等治安复杂区域的排查整治力度，依法打击各类违法犯罪活动，不断增强人民群众的安全感和满意度。",
    "要加强网格化服务管理，科学划分网格，配齐配强网格员队伍，完善网格员的培训、考核和激励制度。网格员要经常深入群众，及时掌握社情民意，准确采集基础信息，做到底数清楚、情况明了，为及时发现和处置各类风险隐患提供有力支撑。",
    "要加强综治中心规范化建设，完善工作制度和运行机制，推动综治中心与有关职能部门的信息共享和工作联动。要充分运用现代信息技术手段，提高社会治理的智能化水平，不断提升发现问题、分析问题和解决问题的能力。",
    "要广泛开展平安创建宣传活动，充分利用广播电视、报刊网络、宣传栏等多种形式，大力宣传社会治安综合治理的方针政策和工作成效，引导广大群众积极参与平安建设，营造人人参与、人人尽责、人人共享的良好社会氛围。",
    "县社会治安综合治理委员会办公室要加强对各乡镇和县直各部门工作情况的督促检查，定期通报工作进展情况。对工作成效明显的单位和个人予以表扬，对工作不力、措施不实、发生重大问题的单位，依照有关规定严肃追究相关人员责任。",
    "各乡镇人民政府和县直各部门要于每季度末将工作开展情况书面报送县社会治安综合治理委员会办公室，遇有重大情况要及时报告，不得迟报、漏报和瞒报。",
]

LONG_BLOCKS = [
    ("p", PARAS[0]),
    ("h2", "一、加强组织领导"), ("p", PARAS[1]), ("p", PARAS[2]),
    ("h2", "二、突出工作重点"),
    ("h3", "（一）化解矛盾纠纷"), ("p", PARAS[3]),
    ("h3", "（二）加强治安防控"), ("p", PARAS[4]),
    ("h3", "（三）夯实基层基础"), ("p", PARAS[5]), ("p", PARAS[6]),
    ("h2", "三、营造良好氛围"), ("p", PARAS[7]),
    ("h2", "四、强化责任落实"), ("p", PARAS[1]), ("p", PARAS[3]), ("p", PARAS[4]),
    ("h2", "五、严格督导考核"), ("p", PARAS[8]), ("p", PARAS[9]),
]

SHORT = {
    "doc": {"title": "关于开展安全生产大检查的通知", "mark": "某某县人民政府文件", "number": "某政发〔2026〕3号",
            "signer": "某某县人民政府", "date": "2026年6月8日", "printer": "某某县人民政府办公室",
            "printed_date": "2026年6月8日", "draft": False},
    "addressee": "各乡镇人民政府，县直各单位",
    # page 1 holds the 版头, so a one-page document with a seal and a 版记 has room for little 正文
    "blocks": [("p", "现将《某某县安全生产大检查工作方案》印发给你们，请结合实际认真抓好贯彻落实。")],
    "attachments": "",
    "note": "",
    "cc": "县委办公室，县政协办公室",
}

LONG = {
    "doc": {"title": "关于做好二〇二六年度全县社会治安综合治理重点工作的通知",
            "mark": "某某县社会治安综合治理委员会文件", "number": "某综治委〔2026〕12号",
            "signer": "某某县社会治安综合治理委员会", "date": "2026年11月29日",
            "printer": "某某县社会治安综合治理委员会办公室", "printed_date": "2026年11月30日", "draft": False},
    "addressee": "各乡镇人民政府，县直各单位",
    "blocks": LONG_BLOCKS,
    "attachments": "二〇二六年度全县社会治安综合治理重点工作任务分解表及工作进度安排表",
    "note": "此件公开发布",
    "cc": "县委办公室，县人大常委会办公室，县政协办公室，县纪委监委，县人民法院，县人民检察院，县公安局。",
}

DATE_RE = re.compile(r"^[1-9]\d{3}年(?:1[0-2]|[1-9])月(?:[12]\d|3[01]|[1-9])日$")
NUMBER_RE = re.compile(r".+〔\d{4}〕[1-9]\d*号")


def render(renderer: Renderer, context: dict[str, Any], max_pages: int = 20) -> RenderResult:
    return renderer.render({"t.html": TEMPLATE}, "t.html", context, max_pages)


def expected_text(ctx: dict[str, Any]) -> str:
    """The text a reader should find in the PDF, in reading order, whitespace removed."""
    d = ctx["doc"]
    parts = [d["mark"], d["number"], d["title"], ctx["addressee"] + "：", *(t for _, t in ctx["blocks"])]
    if ctx["attachments"]:
        parts.append("附件：" + ctx["attachments"])
    parts += [d["signer"], d["date"]]
    if ctx["note"]:
        parts.append("（" + ctx["note"] + "）")
    if ctx["cc"]:
        parts.append("抄送：" + ctx["cc"].rstrip("。").replace("，", "、") + "。")  # "、" between bodies
    parts += [d["printer"], d["printed_date"] + "印发"]
    return re.sub(r"\s+", "", "".join(parts))


# -- fixtures: one renderer, each document rendered once -------------------------------------------
@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture(scope="module")
def short_result(renderer: Renderer) -> RenderResult:
    return render(renderer, SHORT)


@pytest.fixture(scope="module")
def long_result(renderer: Renderer) -> RenderResult:
    return render(renderer, LONG)


@pytest.fixture(scope="module")
def short(short_result: RenderResult):
    pdf = Pdf(short_result.pdf)
    yield pdf
    pdf.close()


@pytest.fixture(scope="module")
def long(long_result: RenderResult):
    pdf = Pdf(long_result.pdf)
    yield pdf
    pdf.close()


@pytest.fixture(scope="module", params=["short", "long"])
def any_doc(request: pytest.FixtureRequest) -> tuple[Pdf, dict[str, Any]]:
    return request.getfixturevalue(request.param), (SHORT if request.param == "short" else LONG)


# -- helpers ---------------------------------------------------------------------------------------------
def all_lines(pdf: Pdf, size: float = 16.0) -> list[tuple[int, pdfcheck.Line]]:
    """(page index, line) of every line of ``size`` pt text in the document, in reading order."""
    return [(i, line) for i in range(pdf.page_count) for line in pdf.lines(i, size)]


def body_lines(pdf: Pdf) -> list[tuple[int, pdfcheck.Line]]:
    """The 正文's lines: after the 主送 line, before the 附件说明 (or the 署名)."""
    lines = all_lines(pdf)
    start = next(k for k, (_, ln) in enumerate(lines) if ln.text.endswith("："))
    end = next(k for k, (_, ln) in enumerate(lines) if ln.text.startswith("附件："))
    return lines[start + 1:end]


def left_pt(index: int) -> float:
    return pt(block_x_mm(index)[0])


def right_pt(index: int) -> float:
    return pt(block_x_mm(index)[1])


def red_rule(pdf: Pdf) -> dict:
    rules = [r for r in pdf.red_rects(0) if r["width"] > 100 * MM]
    assert len(rules) == 1, f"one red rule expected on page 1, found {len(rules)}"
    return rules[0]


def signature_lines(pdf: Pdf, ctx: dict[str, Any]) -> tuple[int, pdfcheck.Line, pdfcheck.Line]:
    for i in range(pdf.page_count):
        lines = pdf.lines(i)
        for k, line in enumerate(lines):
            if line.text == ctx["doc"]["date"]:
                assert k > 0, "the 署名 line should be above the date"
                return i, lines[k - 1], line
    raise AssertionError(f"成文日期 {ctx['doc']['date']!r} not found on one line")


def test_test_data_breaks() -> None:
    """Guard for the test data itself: on a 28-字 grid (first line 26 after the indent) no line of the
    long document's paragraphs starts with closing punctuation or follows an opening one."""
    closing, opening = set("，。、；：？！）》」』〕】…”’"), set("（《「『〔【“‘")
    for _, text in LONG_BLOCKS + SHORT["blocks"]:
        for pos in range(26, len(text), 28):
            assert text[pos] not in closing and text[pos - 1] not in opening, (text, pos)


# -- 1 ---------------------------------------------------------------------------------------------------
def test_r01_pages_are_a4(any_doc) -> None:
    pdf, _ = any_doc
    for w, h in pdf.page_sizes():
        assert w == pytest.approx(210 * MM, abs=0.5) and h == pytest.approx(297 * MM, abs=0.5)


def test_long_document_has_odd_and_even_pages(long: Pdf, short: Pdf) -> None:
    assert short.page_count == 2  # the 版记 on the back of the one sheet (7.4.1)
    assert long.page_count >= 4


# -- 2 ---------------------------------------------------------------------------------------------------
def test_r02_text_inside_the_type_block(any_doc) -> None:
    """Every upright char but the folio lies in the 版心: x 28–184 mm on odd pages, 26–182 mm on even
    pages (mirrored margins), y 37–262 mm; pages with full lines reach both edges."""
    pdf, _ = any_doc
    for i in range(pdf.page_count):
        if pdf.body_bbox(i) is None:
            continue  # the blank page before a 版记 page
        x0, top, x1, bottom = pdf.body_bbox(i)
        left, right = block_x_mm(i)
        where = f"page {i + 1}: x {mm(x0):.2f}–{mm(x1):.2f} mm, y {mm(top):.2f}–{mm(bottom):.2f} mm"
        assert mm(x0) >= left - 0.5 and mm(x1) <= right + 0.5, where
        assert mm(top) >= 37 - 0.5 and mm(bottom) <= 262 + 0.5, where
        if pdf.full_lines(i):
            assert mm(x0) == pytest.approx(left, abs=0.5), where
            assert mm(x1) == pytest.approx(right, abs=0.5), where


def test_r02_even_pages_are_mirrored(long: Pdf) -> None:
    odd = [long.body_bbox(i)[0] for i in range(1, long.page_count, 2) if long.full_lines(i)]
    even = [long.body_bbox(i)[0] for i in range(2, long.page_count, 2) if long.full_lines(i)]
    assert odd and even
    assert all(mm(x) == pytest.approx(26, abs=0.3) for x in odd)  # pages 2, 4, …
    assert all(mm(x) == pytest.approx(28, abs=0.3) for x in even)  # pages 3, 5, …


# -- 3 ---------------------------------------------------------------------------------------------------
def test_r03_body_is_16pt_fangsong(long: Pdf) -> None:
    chars = [c for i in range(long.page_count) for c in long.chars(i, size=16.0) if c["text"].strip()]
    assert len(chars) > 1000
    fang = [c for c in chars if pdfcheck.font_family(c["fontname"]) in FANGSONG]
    assert len(fang) / len(chars) >= 0.9, {pdfcheck.font_family(c["fontname"]) for c in chars}
    for i, line in body_lines(long):
        if line.text.startswith(("一、", "二、", "三、", "四、", "五、")):
            assert line.fonts == {"Noto-Sans-CJK-SC"}, line.text  # 黑体 substitute
        elif line.text.startswith("（"):
            assert line.fonts == {"AR-PL-KaitiM-GB"}, line.text  # 楷体 substitute
        else:
            assert line.fonts <= FANGSONG, line.text


# -- 4 ---------------------------------------------------------------------------------------------------
def test_r04_title_22pt_xiaobiaosong(any_doc) -> None:
    pdf, ctx = any_doc
    lines = pdfcheck.group_lines(pdf.chars(0, size=22.0))
    assert "".join(ln.text for ln in lines) == ctx["doc"]["title"]
    assert {f for ln in lines for f in ln.fonts} <= XIAOBIAOSONG
    for ln in lines:  # centred in the 版心
        assert mm(ln.centre) == pytest.approx(sum(block_x_mm(0)) / 2, abs=1.0)


# -- 5 ---------------------------------------------------------------------------------------------------
def test_r05_28_chars_on_full_lines(long: Pdf) -> None:
    """A line followed by a continuation line of the same paragraph is full: it reaches the 版心's right
    edge, and its characters plus its indent make 28 字 of 15.79 pt."""
    lines = body_lines(long)
    full = 0
    for (i, line), (j, nxt) in zip(lines, lines[1:]):
        if (nxt.x0 - left_pt(j)) / ZI > 0.5:  # the next line starts a paragraph
            continue
        indent = round((line.x0 - left_pt(i)) / ZI)
        assert (line.x1 - left_pt(i)) / ZI == pytest.approx(28, abs=0.1), (i, line.text)
        assert len(line) + indent == 28, (i, indent, line.text)
        full += 1
    assert full >= 40


# -- 6 ---------------------------------------------------------------------------------------------------
def test_r06_22_lines_on_full_pages(long: Pdf) -> None:
    """At most 22 lines of 16 pt text per page; a page whose 正文 continues on the next page (other than
    page 1 with the 版头) holds exactly 22; consecutive baselines are 28.95 pt apart."""
    body = {(i, round(ln.baseline, 2)) for i, ln in body_lines(long)}
    full_pages = []
    for i in range(long.page_count):
        lines = long.lines(i)
        assert len(lines) <= 22, (i, len(lines))
        nxt = long.lines(i + 1) if i + 1 < long.page_count else []
        if i > 0 and nxt and (i + 1, round(nxt[0].baseline, 2)) in body:
            full_pages.append(i)
            assert len(lines) == 22, f"page {i + 1}: {len(lines)} lines"
            for pitch in Pdf.pitches(lines):
                assert pitch == pytest.approx(HANG, abs=0.6), (i, pitch)
    assert len(full_pages) >= 2


def test_r06_headings_stay_on_the_line_grid(long: Pdf) -> None:
    """黑体 and 楷体 heading lines keep the 28.95 pt pitch of the 仿宋 lines around them."""
    lines = body_lines(long)
    pairs = [(a, b) for (i, a), (j, b) in zip(lines, lines[1:]) if i == j]
    mixed = [(a, b) for a, b in pairs if a.fonts != b.fonts]
    assert len(mixed) >= 6
    for a, b in pairs:
        assert b.baseline - a.baseline == pytest.approx(HANG, abs=0.6), (a.text, b.text)


# -- 7 ---------------------------------------------------------------------------------------------------
def test_r07_mark_is_red_72mm_from_the_top(any_doc) -> None:
    pdf, ctx = any_doc
    red = pdf.red_chars(0)
    assert "".join(c["text"] for c in sorted(red, key=lambda c: c["x0"])) == ctx["doc"]["mark"]
    assert len({round(c["top"], 1) for c in red}) == 1, "the 标志 should be on one line"
    others = [c for i in range(pdf.page_count) for c in pdf.body_chars(i) if c not in red]
    assert all(pdfcheck.is_black(c["non_stroking_color"]) for c in others)  # everything else is black
    rule_top = mm(red_rule(pdf)["top"])
    top = pdf.first_red_row_mm(0, dpi=150, crop_mm=(0, 0, 210, rule_top - 0.5))
    assert top == pytest.approx(72, abs=1.5)
    assert mm(min(c["x0"] for c in red) + max(c["x1"] for c in red)) / 2 == pytest.approx(106, abs=1.0)


def test_r07_mark_size_fits_the_name(short: Pdf, long: Pdf) -> None:
    """A short name is set at 40 pt; a long one shrinks so that it stays on one line of the 版心."""
    assert {round(c["size"]) for c in short.red_chars(0)} == {40}
    sizes = {round(c["size"], 1) for c in long.red_chars(0)}
    assert len(sizes) == 1 and 25 < sizes.pop() < 40


# -- 8 ---------------------------------------------------------------------------------------------------
def test_r08_red_rule_156mm_4mm_below_the_number(any_doc) -> None:
    pdf, _ = any_doc
    rule = red_rule(pdf)
    assert mm(rule["width"]) == pytest.approx(156, abs=1.0)
    assert mm(rule["x0"]) == pytest.approx(28, abs=0.5)
    number = pdf.find_line(0, r"〔\d{4}〕", size=16.0)
    assert mm(rule["top"] - number.bottom) == pytest.approx(4, abs=1.0)


# -- 9 ---------------------------------------------------------------------------------------------------
def test_r09_number_centred_and_well_formed(any_doc) -> None:
    pdf, ctx = any_doc
    number = pdf.find_line(0, r"〔\d{4}〕", size=16.0)
    assert number.text == ctx["doc"]["number"]
    assert NUMBER_RE.fullmatch(number.text)
    assert mm(number.centre) == pytest.approx(106, abs=1.5)
    mark_bottom = max(c["bottom"] for c in pdf.red_chars(0))
    assert number.top > mark_bottom  # below the 标志, above the rule
    assert number.bottom < red_rule(pdf)["top"]


# -- 10 --------------------------------------------------------------------------------------------------
def test_r10_title_and_addressee_spacing(any_doc) -> None:
    pdf, ctx = any_doc
    title = pdfcheck.group_lines(pdf.chars(0, size=22.0))
    gap_title = (title[0].top - red_rule(pdf)["bottom"]) / HANG
    assert 1.5 <= gap_title <= 3.2, gap_title
    addressee = pdf.find_line(0, "：$", size=16.0)
    assert addressee.text == ctx["addressee"] + "："
    gap_addressee = (addressee.top - title[-1].bottom) / HANG
    assert 0.7 <= gap_addressee <= 2.0, gap_addressee
    assert mm(addressee.x0) == pytest.approx(28, abs=0.5)


# -- 11 --------------------------------------------------------------------------------------------------
def test_r11_paragraphs_indented_2_zi(long: Pdf) -> None:
    """Every 正文 line is indented 0 or 2 字; the indented ones are exactly the paragraph and heading
    starts, in order."""
    starts = []
    for i, line in body_lines(long):
        indent = (line.x0 - left_pt(i)) / ZI
        if abs(indent - 2) <= 0.1:
            starts.append(line.text)
        else:
            assert abs(indent) <= 0.1, (i, indent, line.text)
    assert len(starts) == len(LONG_BLOCKS)
    for line_text, (_, block) in zip(starts, LONG_BLOCKS):
        assert block.startswith(line_text[:8])


def test_attachments_and_note_aligned(long: Pdf) -> None:
    """附件说明 one blank line below the 正文, "附件：" at 2 字, a wrapped name aligned under its first
    character; 附注 on the line after the date, at 2 字."""
    lines = all_lines(long)
    k = next(k for k, (_, ln) in enumerate(lines) if ln.text.startswith("附件："))
    (i, first), (j, second), (_, previous) = lines[k], lines[k + 1], lines[k - 1]
    assert (first.x0 - left_pt(i)) / ZI == pytest.approx(2, abs=0.1)
    assert first.baseline - previous.baseline == pytest.approx(2 * HANG, abs=0.6)
    assert second.text in LONG["attachments"]  # the name wraps
    assert (second.x0 - left_pt(j)) / ZI == pytest.approx(5, abs=0.1)
    assert second.baseline - first.baseline == pytest.approx(HANG, abs=0.6)
    i, _, date = signature_lines(long, LONG)
    note = long.find_line(i, r"^（此件公开发布）$", size=16.0)
    assert (note.x0 - left_pt(i)) / ZI == pytest.approx(2, abs=0.1)
    assert note.baseline - date.baseline == pytest.approx(HANG, abs=0.6)


# -- 13 --------------------------------------------------------------------------------------------------
def test_r13_page_numbers(any_doc) -> None:
    """"— n —" in 14 pt 宋体, half-width digits; odd pages right, even pages left, 1 字 (14 pt) in."""
    pdf, _ = any_doc
    for i in range(pdf.page_count):
        folio = pdf.page_number(i)
        if pdf.body_bbox(i) is None or (i > 0 and pdf.body_bbox(i - 1) is None):
            assert folio is None, f"page {i + 1} is blank or the 版记 page after one: no number (7.5)"
            continue
        assert folio is not None, f"page {i + 1} has no page number"
        assert folio.number == i + 1
        assert folio.size == pytest.approx(14, abs=0.1)
        assert folio.fontnames <= SONGTI
        dash = folio.chars[0]
        assert dash["text"] == "—" and dash["x1"] - dash["x0"] == pytest.approx(14, abs=0.5)  # 一字线
        for c in folio.chars:
            if c["text"].isdigit():
                assert c["x1"] - c["x0"] <= 0.6 * 14
        if i % 2 == 0:  # odd page
            assert folio.x1 == pytest.approx(right_pt(i) - 14, abs=1.5), (i, mm(folio.x1))
        else:
            assert folio.x0 == pytest.approx(left_pt(i) + 14, abs=1.5), (i, mm(folio.x0))


# -- 14 --------------------------------------------------------------------------------------------------
def test_r14_page_number_7mm_below_the_type_block(long: Pdf) -> None:
    """The 一字线's ink is 7 mm below the 版心 (y ≈ 269 mm), measured on a 600 dpi raster."""
    for i in (0, 1):
        dash = long.page_number(i).chars[0]
        crop = (mm(dash["x0"]) + 0.5, 262.5, mm(dash["x1"] - dash["x0"]) - 1.0, 17)
        rows = long.ink_rows_mm(i, 600, crop, lambda px: max(px[:3]) < 160)
        assert rows, f"no dash ink on page {i + 1}"
        centre = (rows[0] + rows[-1] + 25.4 / 600) / 2
        assert rows[-1] - rows[0] < 1.0  # a thin rule, not a glyph
        assert centre == pytest.approx(269, abs=1.0)


# -- 15, 16 ----------------------------------------------------------------------------------------------
def test_r15_date_arabic_right_4_zi(any_doc) -> None:
    pdf, ctx = any_doc
    i, _, date = signature_lines(pdf, ctx)
    assert DATE_RE.fullmatch(date.text)
    assert (right_pt(i) - date.x1) / ZI == pytest.approx(4, abs=0.25)


def test_r16_signer_centred_over_date(any_doc) -> None:
    pdf, ctx = any_doc
    i, signer, date = signature_lines(pdf, ctx)
    assert signer.text == ctx["doc"]["signer"]
    assert mm(signer.centre - date.centre) == pytest.approx(0, abs=1.0)
    assert date.baseline - signer.baseline == pytest.approx(HANG, abs=0.6)
    # room for the seal: two blank lines between the text above and the 署名
    above = [ln for ln in pdf.lines(i) if ln.baseline < signer.baseline]
    if above:
        assert signer.baseline - above[-1].baseline == pytest.approx(3 * HANG, abs=0.6)


@pytest.mark.parametrize("lines", [6, 9])
def test_signature_page_shows_text(renderer: Renderer, lines: int) -> None:
    """When the 附件说明 and the 署名 do not fit under the 正文, the last 正文 line moves with them: the
    page with the seal is never without 正文 (7.3.5.5 forbids "此页无正文")."""
    text = ("各乡镇人民政府和县直各部门要于每季度末将工作开展情况书面报送县社会治安综合治理委员会办公室"
            "遇有重大情况要及时报告不得迟报漏报和瞒报") * 4
    ctx = {**SHORT, "attachments": "工作方案", "blocks": [("p", text[:26 + 28 * (lines - 1)])]}
    with Pdf(render(renderer, ctx).pdf) as pdf:
        i, signer, _ = signature_lines(pdf, ctx)
        assert i > 0  # the case under test: the signature did not fit on page 1
        first = pdf.lines(i)[0]
        assert first.text in text, f"page {i + 1} starts with {first.text!r}, not with 正文"


# -- 18, 19 ----------------------------------------------------------------------------------------------
def test_r18_colophon_rules(any_doc) -> None:
    """版记 rules as wide as the 版心; first and last 0.35 mm, middle 0.25 mm; the last one's bottom is the
    版心's bottom (262 mm) on the last page; no such rules on other pages."""
    pdf, ctx = any_doc
    last = pdf.page_count - 1
    rules = pdf.horizontal_rules_mm(last, dpi=600, y_range_mm=(37, 280))
    assert len(rules) == (3 if ctx["cc"] else 2), rules
    left, right = block_x_mm(last)
    for rule in rules:
        assert rule["x0"] == pytest.approx(left, abs=0.5) and rule["x1"] == pytest.approx(right, abs=0.5)
    for rule in (rules[0], rules[-1]):
        assert rule["thickness"] == pytest.approx(0.35, abs=0.05)
    for rule in rules[1:-1]:
        assert rule["thickness"] == pytest.approx(0.25, abs=0.05)
    assert rules[-1]["bottom"] == pytest.approx(262, abs=0.5)
    vector_bottom = max(r["bottom"] for r in pdf.rects(last) if not pdfcheck.is_red(r.get("non_stroking_color")))
    assert mm(vector_bottom) == pytest.approx(262, abs=0.5)
    for i in range(last):
        assert not [r for r in pdf.rects(i) if r["width"] > 100 * MM and not pdfcheck.is_red(r.get("non_stroking_color"))]


@pytest.mark.parametrize("lines", [1, 2, 3, 4])
def test_r18_colophon_never_overlaps_the_text(renderer: Renderer, lines: int) -> None:
    """Whatever the length of the 正文, the 版记 ends at 262 mm on the last page and keeps a blank line
    between the text above it and its first rule (it moves to a new page rather than overlap)."""
    text = ("各乡镇人民政府和县直各部门要于每季度末将工作开展情况书面报送县社会治安综合治理委员会办公室"
            "遇有重大情况要及时报告不得迟报漏报和瞒报") * 2
    with Pdf(render(renderer, {**SHORT, "blocks": [("p", text[:26 + 28 * (lines - 1)])]}).pdf) as pdf:
        last = pdf.page_count - 1
        rules = pdf.horizontal_rules_mm(last, dpi=300, y_range_mm=(37, 280))
        assert len(rules) == 3 and rules[-1]["bottom"] == pytest.approx(262, abs=0.5)
        above = [ln for ln in pdf.lines(last) if mm(ln.top) < rules[0]["top"]]
        if above:
            assert rules[0]["top"] - mm(above[-1].bottom) >= mm(HANG), (lines, rules[0], mm(above[-1].bottom))


def test_r19_colophon_rows(any_doc) -> None:
    pdf, ctx = any_doc
    last = pdf.page_count - 1
    rules = pdf.horizontal_rules_mm(last, dpi=300, y_range_mm=(37, 280))
    lines = pdf.lines(last, size=14.0)
    printed = lines[-1]
    assert printed.text.replace(" ", "").startswith(ctx["doc"]["printer"])
    assert printed.text.endswith("印发")
    assert printed.x0 == pytest.approx(left_pt(last) + 14, abs=1.5)
    assert printed.x1 == pytest.approx(right_pt(last) - 14, abs=1.5)
    assert rules[-2]["bottom"] < mm(printed.top) and mm(printed.bottom) < rules[-1]["top"]
    cc = [ln for ln in lines if rules[0]["bottom"] < mm(ln.top) and mm(ln.bottom) < rules[1]["top"]]
    assert cc and cc[0].text.startswith("抄送：") and cc[-1].text.endswith("。")
    assert "".join(ln.text for ln in cc).count("。") == 1
    assert cc[0].x0 == pytest.approx(left_pt(last) + 14, abs=1.5)
    for line in cc[1:]:  # continuation lines align after "抄送："
        assert line.x0 == pytest.approx(left_pt(last) + 14 + 3 * 14, abs=1.5)
    for line in cc:
        assert line.x1 <= right_pt(last) - 14 + 1.5
    if ctx is LONG:
        assert len(cc) >= 2
    # each row's text sits in the middle of its rules (no empty lines inside the 版记)
    for row, (upper, lower) in ((cc, rules[0:2]), ([printed], rules[-2:])):
        above, below = mm(row[0].top) - upper["bottom"], lower["top"] - mm(row[-1].bottom)
        assert above == pytest.approx(below, abs=1.0), (row[0].text, above, below)


# -- 20 --------------------------------------------------------------------------------------------------
def test_r20_extracted_text_equals_input(any_doc) -> None:
    pdf, ctx = any_doc
    text = pdf.text()
    assert "\ufffd" not in text and "(cid:" not in text
    assert text == expected_text(ctx)


# -- 21 --------------------------------------------------------------------------------------------------
def test_r21_missing_glyph_refused(renderer: Renderer) -> None:
    ctx = {**SHORT, "blocks": [("p", "本段含有一个生僻字𠀀，无字体可排。")]}
    with pytest.raises(RenderError) as info:
        render(renderer, ctx)
    assert "𠀀" in str(info.value) and "U+20000" in str(info.value)


# -- 22 --------------------------------------------------------------------------------------------------
def test_r22_fonts_embedded_and_subset(any_doc) -> None:
    pdf, _ = any_doc
    fonts = pdf.fonts()
    families = {f.family for f in fonts}
    assert FANGSONG <= families and XIAOBIAOSONG <= families and SONGTI <= families
    for font in fonts:
        assert font.embedded, font
        assert font.subset, font


# -- 草稿 ------------------------------------------------------------------------------------------------
def test_draft_watermark_on_every_page(renderer: Renderer, long: Pdf) -> None:
    with Pdf(render(renderer, {**LONG, "doc": {**LONG["doc"], "draft": True}}).pdf) as draft:
        assert draft.page_count == long.page_count
        for i in range(draft.page_count):
            marks = draft.chars(i, upright=False)
            assert "".join(c["text"] for c in marks) == "草稿", f"page {i + 1}"
            assert all(c["size"] > 100 for c in marks)
        assert draft.text() == long.text()  # the watermark does not disturb the upright text
    for i in range(long.page_count):
        assert "草稿" not in "".join(c["text"] for c in long.page(i).chars)

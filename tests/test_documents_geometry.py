"""Geometry of every shipped document (config/documents/), issued from records with long names and long
texts: what a clerk sends back when it is wrong (issue 12, items 11, 12, 14, 15, 16).

* nothing of any size (tables, 版记, headings) lies outside the 版心 (a long area name once pushed
  the 签收回执 table to 231 mm);
* the 版记 is on the document's last page, and that page is even (the back of the last sheet, 7.4.1);
* no page opens with a paragraph's last line alone (a widow);
* no continued line of the 正文 ends short of the 版心's right edge (ragged right margins before
  unbreakable ledger numbers and dates, or before a character kept with its "，");
* titles break between words, in lines of balanced length (7.3.1), and so do table column headers;
* internal ledger numbers are not printed; the 抄送 line separates bodies with "、".

Each document is issued once (rendering costs about a second) and every check runs on it; the
failures of all documents are reported together. ``DOC_SHOTS=/tmp/doc_shots`` keeps the PDFs.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests import pdfcheck
from tests.test_documents_shipped import env, key_area, sample  # noqa: F401  (env is a fixture)

LONG_NAME = "河口镇东岗村废弃砖厂及周边出租屋群与夜市摊点聚集的治安复杂区域"  # 31 characters
LONG_TEXT = ("废弃砖厂夜间聚赌，周边出租屋流动人口多、登记不全，夜市摊点占道经营引发纠纷，"
             "2026年3月至2026年4月共接报警情14起，其中聚赌9起、盗窃电动车3起、打架斗殴2起，"
             "群众多次来访反映，要求尽快整治")


# Words of the shipped titles and the test names that a title line break must not split.
WORDS = ("河口镇", "东岗村", "废弃砖厂", "出租屋群", "夜市", "摊点", "复杂区域", "挂牌督办", "验收合格", "予以摘牌",
         "延期整治", "整治工作", "社会治安", "重点地区", "综合治理", "一票否决", "排查整治", "统计表", "建议书",
         "验收报告", "满意度", "测评表")


# The statistics table's column headers, each of which must stay on one line.
HEADER_WORDS = ("群众反映", "治安问题", "已办结", "矛盾纠纷", "治安信息", "研判", "新认定", "重点地区", "挂牌督办", "验收摘牌")


def _issue_all(env: dict[str, Any]) -> dict[str, bytes]:
    from tests.keyareas import issue
    from tests.test_survey import participants

    township, county = env["township"], env["county"]
    data = sample("key_area")
    problems = {**data["problems"], "description": LONG_TEXT}
    record = key_area(township, name=LONG_NAME, problems=problems)
    pdfs = {doc_id: issue(doc_id, user, record_id=record.id).pdf
            for doc_id, user in (("listing_notice", county), ("rectification_report", township),
                                 ("delisting_notice", county), ("veto_decision", county),
                                 ("acceptance_report", county), ("survey_sheet", county))}
    acceptance = {**data["acceptance"], "issues": LONG_TEXT,
                  "satisfaction_survey": {"survey_date": "2026-09-05", "venue": "东岗村委会",
                                          "participants": participants(18, 6, 6)}}
    acceptance.pop("conclusion")
    delisting = {"extensions": [{"approved_date": "2026-09-12", "approved_by": "河口镇党委",
                                 "reason": LONG_TEXT, "new_deadline": "2026-10-31"}]}
    extended = key_area(township, name=LONG_NAME, acceptance=acceptance, delisting=delisting,
                        consolidation=None)
    pdfs["extension_request"] = issue("extension_request", township, record_id=extended.id).pdf
    from tests.keyareas import area_at

    clue = area_at({"name": LONG_NAME, "area_type": data["area_type"], "township_code": data["township_code"],
                    "identification": {"discovery_source": "screening", "basis": LONG_TEXT}, "problems": problems},
                   "clue", township)
    pdfs["recommendation_letter"] = issue("recommendation_letter", township, record_id=clue.id).pdf
    pdfs["monthly_statistics"] = issue("monthly_statistics", county, month="2026-05").pdf
    pdfs["_numbers"] = "\n".join([record.number, extended.number, clue.number]).encode()
    return pdfs


def _problems(doc_id: str, pdf: pdfcheck.Pdf, ledger_numbers: list[str]) -> list[str]:
    found = []
    last = pdf.page_count - 1
    for i in range(pdf.page_count):
        outside = pdf.outside_block(i)
        if outside:
            worst = max(outside, key=lambda c: c["x1"])
            found.append(f"page {i + 1}: {len(outside)} chars outside the 版心, e.g. {worst['text']!r} "
                         f"at x {pdfcheck.mm(worst['x0']):.1f}–{pdfcheck.mm(worst['x1']):.1f} mm")
    if pdf.colophon_pages() != [last]:
        found.append(f"版记 on pages {[i + 1 for i in pdf.colophon_pages()]}, not only on the last ({last + 1})")
    if pdf.page_count % 2:
        found.append(f"{pdf.page_count} pages: the 版记 page is odd")
    for i, line in pdf.short_continued_lines():
        short = (pdfcheck.pt(pdfcheck.block_x_mm(i)[1]) - line.x1) / pdfcheck.ZI
        found.append(f"page {i + 1}: continued line ends {short:.2f} 字 short: {line.text}")
    for i, line in pdf.widows():
        found.append(f"page {i + 1}: a paragraph's last line alone at the top: {line.text}")
    title = [ln.text for ln in pdf.lines(0, size=22.0)]
    joined = "|".join(title)
    for word in WORDS:  # a title line break never falls inside a word …
        if word in joined.replace("|", "") and word not in joined:
            found.append(f"title breaks inside {word!r}: {title}")
    if len(title) > 1 and min(len(t) for t in title) < 4:  # … nor leaves a stub of a line
        found.append(f"title has a stub line: {title}")
    if doc_id == "monthly_statistics":  # column headers wrap between words (the header_phrases filter)
        rows = [ln.text for i in range(pdf.page_count) for ln in pdf.lines(i, size=10.5)]
        for word in HEADER_WORDS:
            if not any(word in row for row in rows):
                found.append(f"header word {word!r} split across lines: {rows[:4]}")
    text = pdf.text()
    for number in ledger_numbers:
        if number in text:
            found.append(f"internal ledger number {number} printed")
    cc = "".join(ln.text for ln in pdf.lines(last, size=14.0)[:-1])  # the rows above "…印发"
    if cc and (not cc.startswith("抄送：") or "，" in cc or not cc.endswith("。") or cc.count("。") != 1):
        found.append(f"抄送 punctuation: {cc}")
    return [f"{doc_id}: {p}" for p in found]


def test_every_shipped_document_keeps_to_the_type_block(env):  # type: ignore[no-untyped-def]
    pdfs = _issue_all(env)
    numbers = pdfs.pop("_numbers").decode().split("\n")
    if os.environ.get("DOC_SHOTS"):  # keep the PDFs for looking at the pages
        folder = Path(os.environ["DOC_SHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        for doc_id, data in pdfs.items():
            (folder / f"long_{doc_id}.pdf").write_bytes(data)
    assert set(pdfs) == {"listing_notice", "rectification_report", "delisting_notice", "veto_decision",
                         "extension_request", "recommendation_letter", "monthly_statistics", "acceptance_report",
                         "survey_sheet"}
    problems: list[str] = []
    for doc_id, data in pdfs.items():
        with pdfcheck.Pdf(data) as pdf:
            problems += _problems(doc_id, pdf, numbers)
    assert not problems, "\n".join(problems)


def test_a_long_area_name_wraps_inside_the_receipt_table(env):  # type: ignore[no-untyped-def]
    """The 签收回执 (the listing notice's 附件) with a 31-character name: the cell wraps, its text stays
    in the table and the table in the 版心."""
    from tests.keyareas import issue

    record = key_area(env["township"], name=LONG_NAME)
    with pdfcheck.Pdf(issue("listing_notice", env["county"], record_id=record.id).pdf) as pdf:
        page = next(i for i in range(pdf.page_count) if pdf.find_line(i, "签收回执$", size=22.0))
        right = pdfcheck.block_x_mm(page)[1]
        cells = [c for c in pdf.body_chars(page) if abs(float(c["size"]) - 12) <= 0.1]
        assert cells and max(pdfcheck.mm(c["x1"]) for c in cells) <= right + 0.5
        borders = pdf.page(page).edges  # the cells' borders (drawn as lines)
        assert borders and max(pdfcheck.mm(r["x1"]) for r in borders) <= right + 0.5
        label = next(ln for ln in pdfcheck.group_lines(cells) if ln.text.startswith("督办对象"))
        column = label.chars[3]["x1"] + 3  # the value column starts right of the header cell
        values = pdfcheck.group_lines([c for c in cells if c["x0"] > column])
        joined, used = "", 0  # the name's lines, in order (another cell may hold a part of it, e.g. 河口镇)
        for line in (ln.text for ln in values):
            if line and LONG_NAME.startswith(joined + line) and joined != LONG_NAME:
                joined, used = joined + line, used + 1
        assert used >= 2 and joined == LONG_NAME  # wrapped, nothing lost

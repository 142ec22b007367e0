"""The dashboard as an .xlsx: the same figures as the page, one line per number, with its link.

A figure's total and each line of its breakdown are rows, so the sheet can be filtered and summed;
the last column is the address of the records behind the number (a county checks the sheet against
the ledgers the same way as the page).
"""
from __future__ import annotations

import io
from typing import Iterable

from openpyxl import Workbook
from openpyxl.styles import Font

from server.records.export import bold_cell, safe_cell
from server.stats.figures import Figure, Section, number
from server.stats.period import Period
from server.stats.viewpoint import Viewpoint

HEADER = ("分类", "统计项", "分项", "数值", "单位", "占比（%）", "逾期", "应配", "上年同期", "同比（%）", "说明", "明细链接")


def workbook(sections: Iterable[Section], vp: Viewpoint, period: Period, host: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title="统计分析")
    for column, width in zip("ABCDEFGHIJKL", (14, 34, 22, 10, 8, 10, 8, 8, 10, 10, 30, 50)):
        sheet.column_dimensions[column].width = width
    bold = Font(bold=True)
    sheet.append([bold_cell(sheet, f"统计范围：{vp.unit_name}　统计期间：{period.label}", bold)])
    sheet.append([bold_cell(sheet, title, bold) for title in HEADER])
    for section in sections:
        for figure in section.figures:
            for row in _rows(section.title, figure, host):
                sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rows(section: str, figure: Figure, host: str) -> list[list[object]]:
    def opt(value: object) -> object:
        return "" if value is None else value

    first = [section, safe_cell(figure.title), "合计", number(figure.total), figure.unit, opt(figure.rate),
             opt(figure.overdue), opt(figure.target), opt(figure.previous), opt(figure.change),
             safe_cell(figure.note), host + figure.href if figure.href else ""]
    rows = [first]
    for group in figure.groups:
        unit = "" if figure.kind == "year_end" else figure.unit  # its lines count units and people (人次)
        rows.append([section, safe_cell(figure.title), safe_cell(group.label), number(group.value), unit, "",
                     opt(group.overdue), opt(group.target), opt(group.previous), opt(group.change), "",
                     host + group.href if group.href else ""])
    return rows

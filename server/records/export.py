"""Excel export of a ledger list (openpyxl, write-only so memory stays flat on large ledgers)."""
from __future__ import annotations

import io
from typing import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from server.auth.models import User
from server.forms import build_form, display_value, export_columns, get_path
from server.records.confidential import Sight, visible_data
from server.records.models import Record
from server.records.service import user_labels
from server.specs.model import FormSpec
from server.timeutil import local

MAX_ROWS = 100_000


def safe_cell(text: str) -> str:
    """Neutralise spreadsheet formulas typed by users (CSV/formula injection)."""
    return "'" + text if text[:1] in {"=", "+", "-", "@"} else text


def export_workbook(form: FormSpec, records: Iterable[Record], user: User) -> bytes:
    """The records as an .xlsx, each as ``user`` may read it (protected values masked, 要求保密)."""
    model = build_form(form)
    seer = Sight(user)
    columns = export_columns(model)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=form.title[:31])
    header = ["编号", *(label for _, label in columns), "登记人", "登记时间", "最后修改时间", "版本"]
    bold = Font(bold=True)
    sheet.append([bold_cell(sheet, title, bold) for title in header])
    rows = list(records)[:MAX_ROWS]
    names = user_labels({r.created_by_id for r in rows})
    for record in rows:
        data = visible_data(record, seer)
        values = [safe_cell(display_value(model, path, get_path(data, path))) for path, _ in columns]
        sheet.append([record.number, *values, names.get(record.created_by_id, ""), local(record.created_at),
                      local(record.updated_at), record.version])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bold_cell(sheet, value: str, font: Font) -> WriteOnlyCell:  # type: ignore[no-untyped-def]
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = font
    return cell

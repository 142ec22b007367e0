"""Excel import into a ledger (导入): the layout "导出 Excel" writes reads back, all rows or none.

Counties kept their ledgers in Excel until now, so the first thing a clerk does is bring last year's
sheet in. What makes that safe:

* **The export's layout is the import's.** Columns are matched by the header titles the export writes
  (``来访人/姓名`` for a field inside an object; a table of rows as one column, rows separated by "；"
  and each row written ``标题：值，标题：值``), and values are read as the export shows them: choices by
  title (or by their stored value), 是/否, dates as Excel dates or text, org units by name or code,
  multiple choices separated by "、". The export's own columns (编号, 登记人, 登记时间 …) are the
  server's to set and are skipped: imported records get new numbers. An export → import round trip
  into an empty ledger gives the same data.
* **Every row is validated like a typed form**, by the same code: cells become the form data the page
  would post (:func:`server.forms.parse_submission`), then the records service's
  :func:`~server.records.service.checked` (sections of later workflow states, schema, references
  within the importing user's scope, places in their area). Errors name the sheet row, the column and
  the rule in Chinese:
  ``第 5 行『接报时间』：不是有效的日期时间（如 2026-05-01 09:30）``; unknown columns and missing
  required columns are reported once, not per row.
* **All or none, through the one write path**: :func:`~server.records.service.create_records` saves
  every row in one transaction via ``insert_record`` (numbering, audit, routing, the workflow's
  initial state), then publishes "saved" for each so rules run. A dry run does everything but the
  write and returns a preview.
* **Bounded**: rows are capped (``IMPORT_MAX_ROWS``) and the file size too (``IMPORT_MAX_MB``); the
  file is checked before openpyxl reads it (:mod:`server.records.workbook`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from flask import current_app
from werkzeug.datastructures import MultiDict

from server.auth.models import User
from server.errors import ValidationFailed
from server.forms import Field, FormModel, build_form, describe_change, display_value, export_columns, get_path, parse_submission
from server.forms.fields import option_value
from server.forms.pointers import join_name
from server.records import service
from server.records.confidential import PLACEHOLDER
from server.records.models import Record
from server.records.workbook import WorkbookError, read_workbook
from server.specs.model import FormSpec

#: Columns the export writes that the server sets itself; an import skips them.
SYSTEM_COLUMNS = frozenset({"编号", "登记人", "登记时间", "最后修改时间", "版本"})
PREVIEW_ROWS = 20
MAX_PROBLEMS = 200
YES = frozenset({"是", "√", "✓", "true", "yes", "y", "1", "对"})
NO = frozenset({"否", "×", "false", "no", "n", "0", ""})
_LIST_SPLIT = re.compile(r"\s*[、,，;；]\s*")
_ROW_SPLIT = re.compile(r"\s*[；;\n]\s*")
_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_DATE_RE = re.compile(_DATE)
_DATETIME_RE = re.compile(_DATE + r"(?:\s*[T\s]\s*(\d{1,2})\s*[:：]\s*(\d{1,2})(?:\s*[:：]\s*(\d{1,2}))?)")
_ISO_ZONED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})", re.ASCII)


@dataclass(frozen=True)
class Problem:
    """One reason the sheet cannot be imported: ``row`` None is about the file or a column."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row is not None else ""
        column = f"『{self.column}』" if self.column else ""
        return f"{where}{column}：{self.message}" if where or column else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "text": str(self)}


@dataclass
class ImportResult:
    """What an import did (or, dry, would do): the count, a preview of the first rows, or the problems."""

    dry_run: bool
    count: int = 0
    columns: list[str] = field(default_factory=list)
    preview: list[list[str]] = field(default_factory=list)  # first rows: sheet row number, then the values
    problems: list[Problem] = field(default_factory=list)
    created: list[Record] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class CellError(ValueError):
    """A cell whose text cannot be what its column holds (the message is Chinese)."""


def import_sheet(form_id: str, content: bytes, user: User, *, dry_run: bool, filename: str = "") -> ImportResult:
    """Import the .xlsx ``content`` into ledger ``form_id`` as ``user`` (NotAllowed without create)."""
    form = service.registry().form(form_id)
    service.require(user, "create", form)
    settings = current_app.config["SERVER_SETTINGS"]
    result = ImportResult(dry_run=dry_run)
    try:
        sheet = read_workbook(content, settings.import_max_rows, settings.import_max_mb * 1024 * 1024)
    except WorkbookError as exc:
        result.problems.append(Problem(None, "", str(exc)))
        return result
    model = build_form(form)
    layout, problems, blocking = match_header(model, sheet.header)
    result.problems.extend(problems)
    if sheet.too_many:
        result.problems.append(Problem(None, "", f"数据超过 {settings.import_max_rows} 行的上限，请分成几个文件导入"))
    if not sheet.rows:
        result.problems.append(Problem(None, "", "工作表中只有列标题，没有数据行"))
    if blocking or sheet.too_many or not sheet.rows:
        return result
    rows = _checked_rows(form, model, layout, sheet.rows, user, result.problems)
    result.count = len(rows)
    used = [(path, label) for path, label in export_columns(model) if label in {lbl for _, lbl in layout.values()}]
    result.columns = [label for _, label in used]
    result.preview = [[str(number), *(display_value(model, path, get_path(data, path)) for path, _ in used)]
                      for number, data in rows[:PREVIEW_ROWS]]
    if result.problems or dry_run:
        return result
    try:
        result.created = service.create_records(form, [data for _, data in rows], user,
                                                detail=f"从 Excel 导入 {len(rows)} 条（{filename or '未命名文件'}）")
    except service.RowRefused as exc:
        result.problems.extend(_problems(model, rows[exc.index][0], exc.errors))
    return result


def _checked_rows(form: FormSpec, model: FormModel, layout: dict[int, tuple[str, str]],
                  sheet_rows: list[tuple[int, tuple[Any, ...]]], user: User,
                  problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    """Each row as record data, validated by the records service; problems collected (capped)."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, values in sheet_rows:
        data, row_problems = row_data(model, layout, values, number)
        if not row_problems:
            try:
                data = service.checked(form, data, user)
            except ValidationFailed as exc:
                row_problems = _problems(model, number, exc.errors)
        problems.extend(row_problems)
        rows.append((number, data))
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem(None, "", f"错误过多，只列出前 {MAX_PROBLEMS} 条；请改正后重新导入"))
            break
    return rows


def _problems(model: FormModel, number: int, errors: list[Any]) -> list[Problem]:
    return [Problem(number, describe_change(model, e.pointer, None)[0], e.message) for e in errors]


def match_header(model: FormModel, header: list[Any]) -> tuple[dict[int, tuple[str, str]], list[Problem], bool]:
    """Column index → (field path, title) by the export's titles; problems; whether they block all rows.

    Unknown and repeated titles are reported (the rows are still checked, so every problem comes at
    once); a required column that is missing is reported once and blocks, since every row would fail.
    """
    by_label: dict[str, str] = {}
    for path, label in export_columns(model):
        by_label.setdefault(label, path)
    layout: dict[int, tuple[str, str]] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, cell in enumerate(header):
        title = cell_text(cell)
        if not title or title in SYSTEM_COLUMNS:
            continue
        if title in seen:
            problems.append(Problem(None, title, "列标题重复，每一列只能出现一次"))
        elif title not in by_label:
            problems.append(Problem(None, title, "不认识的列：本台账没有这个标题（请对照“导出 Excel”的第一行）"))
        else:
            layout[index] = (by_label[title], title)
        seen.add(title)
    missing = [label for path, label in export_columns(model) if path in required_paths(model.root) and label not in seen]
    problems.extend(Problem(None, label, "缺少必填的列") for label in missing)
    return layout, problems, bool(missing)


def required_paths(container: Field) -> set[str]:
    """Leaf paths every record must fill (required all the way down; conditional sections aside)."""
    paths: set[str] = set()
    for child in container.children:
        if not child.required or child.in_section or child.show_when:
            continue
        if child.kind == "object":
            paths |= required_paths(child)
        else:
            paths.add(child.path)
    return paths


def row_data(model: FormModel, layout: dict[int, tuple[str, str]], values: tuple[Any, ...],
             number: int) -> tuple[dict[str, Any], list[Problem]]:
    """One sheet row as the form data a page would post, parsed by the same parser; cell problems."""
    formdata: MultiDict = MultiDict()
    problems: list[Problem] = []
    unset_booleans: list[str] = []
    for index, (path, label) in layout.items():
        field = model.field_at(path)
        value = values[index] if index < len(values) else None
        if field is None:
            continue
        if field.kind == "boolean" and not cell_text(value):
            unset_booleans.append(path)
        try:
            put_cell(field, path, value, formdata)
        except CellError as exc:
            problems.append(Problem(number, label, str(exc)))
    data = parse_submission(model, formdata)
    for path in unset_booleans:  # a blank 是/否 cell stays unset, as the export shows an unset value
        _drop_false(data, path)
    return data, problems


def _drop_false(data: dict[str, Any], path: str) -> None:
    *parents, key = path.split("/")
    for token in parents:
        data = data.get(token) if isinstance(data, dict) else None  # type: ignore[assignment]
    if isinstance(data, dict) and data.get(key) is False:
        del data[key]


def put_cell(field: Field, name: str, value: Any, formdata: MultiDict) -> None:
    """Add the cell ``value`` of ``field`` to ``formdata`` under the input ``name``, as a page posts it."""
    kind = field.kind
    if kind == "rows":
        _put_rows(field, name, cell_text(value), formdata)
        return
    text = cell_text(value)
    if text == PLACEHOLDER:
        raise CellError(f"“{PLACEHOLDER}”是导出时遮盖保密内容的占位，不能导入：请填写原内容或留空")
    if kind == "boolean":
        if value is True or text.lower() in YES:
            formdata[name] = "on"
        elif not (value is False or text.lower() in NO):
            raise CellError(f"应填“是”或“否”，不能是“{text}”")
        return
    if not text:
        return
    if kind == "choice":
        formdata[name] = option_value(_choice(field, text))
    elif kind == "multi":
        for item in (t for t in _LIST_SPLIT.split(text) if t):
            formdata.add(name, option_value(_choice(field, item)))
    elif kind == "lines":
        parts = text.splitlines() if "\n" in text else _LIST_SPLIT.split(text)
        formdata[name] = "\n".join(p.strip() for p in parts if p.strip())
    elif kind == "date":
        formdata[name] = _date_value(value, text)
    elif kind == "datetime":
        formdata[name] = _datetime_value(value, text)
    else:
        formdata[name] = text


def _choice(field: Field, text: str) -> Any:
    """The ``const`` a cell names by title (as exported) or by the stored value itself."""
    for const, title in field.choices:
        if title == text:
            return const
    for const, _title in field.choices:
        if option_value(const) == text:
            return const
    titles = [title for _, title in field.choices]
    shown = "、".join(titles[:12]) + (" 等" if len(titles) > 12 else "")
    raise CellError(f"“{text}”不是可选项（可选：{shown}）")


def _put_rows(field: Field, name: str, text: str, formdata: MultiDict) -> None:
    """A table cell as the export writes it: rows split by "；", each ``标题：值，标题：值``."""
    if not text:
        return
    titles = sorted((c.title for c in field.children), key=len, reverse=True)
    by_title = {c.title: c for c in reversed(field.children)}
    label = re.compile(r"(?:^|[，,])\s*(" + "|".join(map(re.escape, titles)) + r")\s*[：:]")
    for index, row in enumerate(t for t in _ROW_SPLIT.split(text) if t):
        matches = list(label.finditer(row))
        if not matches or matches[0].start() != 0:
            example = "，".join(f"{c.title}：…" for c in field.children[:3])
            raise CellError(f"第{index + 1}行应写成“{example}”，多行之间用“；”分隔")
        for at, match in enumerate(matches):
            end = matches[at + 1].start() if at + 1 < len(matches) else len(row)
            child = by_title[match.group(1)]
            try:
                put_cell(child, join_name(join_name(name, index), child.key), row[match.end():end].strip(), formdata)
            except CellError as exc:
                raise CellError(f"第{index + 1}行『{child.title}』：{exc}") from exc


def _date_value(value: Any, text: str) -> str:
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d")
    match = _DATE_RE.fullmatch(text)
    moment = _moment(*match.groups()) if match else None
    if moment is None:
        raise CellError(f"不是有效的日期（如 2026-05-01，或 Excel 日期）：“{text}”")
    return moment.strftime("%Y-%m-%d")


def _datetime_value(value: Any, text: str) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")
    if _ISO_ZONED.fullmatch(text):
        return text  # as an API client stored it; the validator judges it
    match = _DATETIME_RE.fullmatch(text)
    moment = _moment(*match.groups()) if match else None
    if moment is None:
        raise CellError(f"不是有效的日期时间（如 2026-05-01 09:30）：“{text}”")
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def _moment(*parts: str | None) -> datetime | None:
    try:
        return datetime(*(int(p) for p in parts if p is not None))
    except ValueError:
        return None


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious ".0", dates as the export writes them, and the
    export's formula guard (a leading ') taken off again, so "'=1+1" comes back as "=1+1"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (date, time)):
        return value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text

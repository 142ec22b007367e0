"""The org tree as a spreadsheet: import from .xlsx / .csv, export for editing, publish as configuration.

A county keeps its list of villages and departments in Excel. The sheet has a header row of Chinese
column titles — 代码, 名称, 类别, 上级代码, 服务乡镇代码, 联系电话, then one column per post title of
``posts.json`` (党委书记, 所长 …) holding the holder's name — and one unit per row below, parents first.
类别 takes a kind's Chinese title (乡镇, 行政村, 派出所 …) or its id.

Rows are checked with exactly the rules of ``config/org/units.json`` (:func:`check_units`); problems
are worded "第 19 行「上级代码」：找不到上级单位 139901999000" (row numbers as the spreadsheet shows them,
the header being row 1), all at once, and an import with any problem imports nothing.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from server.org.kinds import KINDS
from server.specs.model import OrgSpec, OrgUnitSpec
from server.specs.org_loader import FIELD_TITLES, ORG_DIR, check_units, format_units_json

ROW = "_row"  # key of each row dict holding its spreadsheet row number (the header is row 1)
REQUIRED_FIELDS = ("code", "name", "kind")
SHEET_TITLE = "组织机构"
_KIND_BY_TITLE = {kind.title: kind.id for kind in KINDS.values()}


class SheetError(ValueError):
    """The file cannot be read as a table at all (wrong type, damaged, unknown encoding, bad header)."""


# --- reading -----------------------------------------------------------------------------------------


def read_sheet(source: bytes | str | os.PathLike[str] | BinaryIO, filename: str) -> list[dict[str, Any]]:
    """The data rows of an .xlsx (first worksheet) or .csv file as ``{column title: text, ROW: number}``.

    ``source`` is the file's content, a path, or an open binary file; ``filename`` decides the format.
    Cells become stripped strings ("" when empty); rows with no content are skipped but still counted.
    Raises :class:`SheetError` when the file cannot be read as a table.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv"):
        hint = "（旧版 .xls 请在 Excel 中另存为 .xlsx）" if suffix == ".xls" else ""
        raise SheetError(f"不支持的文件类型 {suffix or '（无扩展名）'}：请上传 .xlsx 或 .csv 文件{hint}")
    data = _content(source)
    table = _xlsx_table(data) if suffix != ".csv" else _csv_table(data)
    return _records(table)


def _content(source: bytes | str | os.PathLike[str] | BinaryIO) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    return source.read()


def _xlsx_table(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # only imports need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SheetError("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式") from exc
    try:
        if not workbook.worksheets:
            return []
        return [[_cell_text(value) for value in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    """A cell as text: a code typed into Excel arrives as a number (139901000000.0) and must read back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value).strip()


def _csv_table(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) as saved by most tools; GB18030 (GBK) as saved by Excel on Chinese Windows."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("无法识别 CSV 文件的编码：应为 UTF-8 或 GB18030（GBK）")


def _records(table: list[list[str]]) -> list[dict[str, Any]]:
    if not table or not any(table[0]):
        raise SheetError(f"第 1 行应为列标题（{'、'.join(FIELD_TITLES.values())} 及各职务），实际为空")
    width = max(len(row) for row in table)
    header = table[0] + [""] * (width - len(table[0]))
    seen: set[str] = set()
    for column, title in enumerate(header, start=1):
        if title in seen:
            raise SheetError(f"第 1 行：列标题「{title}」出现了不止一次")
        if title:
            seen.add(title)
        elif any(column <= len(row) and row[column - 1] for row in table[1:]):
            raise SheetError(f"第 1 行第 {column} 列缺少列标题，但该列下有内容")
    records = []
    for number, row in enumerate(table[1:], start=2):
        if not any(row):
            continue
        record: dict[str, Any] = {title: (row[i] if i < len(row) else "") for i, title in enumerate(header) if title}
        record[ROW] = number
        records.append(record)
    return records


# --- checking ----------------------------------------------------------------------------------------


def units_from_sheet(rows: Sequence[Mapping[str, Any]], posts: Mapping[str, str]) -> tuple[OrgSpec | None, list[str]]:
    """The org tree of a sheet's rows (from :func:`read_sheet`), checked like ``units.json``.

    ``posts`` is the post vocabulary (id -> title) of the current configuration: its titles are the
    post columns. Returns ``(OrgSpec, [])``, or ``(None, messages)`` with every problem when there is any.
    Rows without a ``ROW`` key are numbered as if they started at row 2.
    """
    columns: dict[str, tuple[str, str | None]] = {title: (field, None) for field, title in FIELD_TITLES.items()}
    columns.update({title: ("posts", post_id) for post_id, title in posts.items()})  # header -> (field, post id)
    header = list(dict.fromkeys(key for row in rows for key in row if key != ROW))
    errors = []
    used: dict[tuple[str, str | None], str] = {}
    for title in header:
        if title not in columns:
            known = "、".join([*FIELD_TITLES.values(), *posts.values()])
            errors.append(f"第 1 行「{title}」：未知的列（可用的列：{known}）")
        else:
            used[columns[title]] = title
    missing = [FIELD_TITLES[field] for field in REQUIRED_FIELDS if (field, None) not in used]
    errors += [f"第 1 行：缺少列「{title}」" for title in missing]
    if not rows:
        errors.append("表格中没有单位：第 2 行起每行应为一个单位")
    if missing or not rows:
        return None, errors

    def cell(row: Mapping[str, Any], key: tuple[str, str | None]) -> str:
        value = row.get(used[key], "") if key in used else ""
        return "" if value is None else str(value).strip()

    units: list[dict[str, Any]] = []
    numbers: list[int] = []
    for position, row in enumerate(rows):
        kind = cell(row, ("kind", None))
        unit: dict[str, Any] = {
            "code": cell(row, ("code", None)),
            "name": cell(row, ("name", None)),
            "kind": _KIND_BY_TITLE.get(kind, kind),
            "parent": cell(row, ("parent", None)),
            "serves": cell(row, ("serves", None)),
            "phone": cell(row, ("phone", None)),
            "posts": {post_id: cell(row, ("posts", post_id)) for post_id in posts
                      if cell(row, ("posts", post_id))},
        }
        units.append(unit)
        numbers.append(int(row.get(ROW, position + 2)))

    problems = check_units(units, posts, where=lambda index: f"第 {numbers[index]} 行")
    order = {field: rank for rank, field in enumerate([*FIELD_TITLES, "", "posts"])}
    post_rank = {post_id: rank for rank, post_id in enumerate(posts)}
    problems.sort(key=lambda p: (-1 if p.index is None else numbers[p.index], p.index or 0,
                                 order.get(p.field, 99), post_rank.get(p.key or "", 0)))
    for problem in problems:
        if problem.index is None:
            errors.append(f"表格：{problem.message}")
            continue
        if problem.field == "posts":
            title = posts.get(problem.key or "", problem.key)
        else:
            title = FIELD_TITLES.get(problem.field)
        column = f"「{title}」" if title else ""
        errors.append(f"第 {numbers[problem.index]} 行{column}：{problem.message}")
    if errors:
        return None, errors
    spec_units = tuple(
        OrgUnitSpec(code=u["code"], name=u["name"], kind=u["kind"], parent=u["parent"] or None,
                    serves=u["serves"] or None, posts=u["posts"], phone=u["phone"] or None)
        for u in units
    )
    return OrgSpec(posts=dict(posts), units=spec_units), []


# --- writing -----------------------------------------------------------------------------------------


def sheet_rows(spec: OrgSpec) -> list[list[str]]:
    """The header and one row per unit: the layout :func:`units_from_sheet` reads (for export / templates)."""
    header = [*FIELD_TITLES.values(), *spec.posts.values()]
    rows = [header]
    for unit in spec.units:
        kind = KINDS[unit.kind].title if unit.kind in KINDS else unit.kind
        rows.append([unit.code, unit.name, kind, unit.parent or "", unit.serves or "", unit.phone or "",
                     *(unit.posts.get(post_id, "") for post_id in spec.posts)])
    return rows


def export_xlsx(spec: OrgSpec) -> bytes:
    """The org tree as an .xlsx workbook (codes and phones stored as text, so Excel keeps every digit)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    for row in sheet_rows(spec):
        sheet.append(row)
    for column, width in zip("ABCDEF", (16, 24, 16, 16, 16, 16)):
        sheet.column_dimensions[column].width = width
    for cells in sheet.iter_cols(min_col=1, max_col=6):  # keep typed-in codes and phones as text too
        for cell in cells:
            cell.number_format = "@"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_csv(spec: OrgSpec) -> bytes:
    """The org tree as CSV in UTF-8 with a BOM (so that Excel opens it with the right encoding)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(sheet_rows(spec))
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def write_units_json(spec: OrgSpec, config_dir: Path) -> Path:
    """Write ``org/units.json`` of ``config_dir`` in the generator's layout, atomically; return its path.

    Only the units: the post vocabulary (``posts.json``) is the configuration the sheet was read against.
    Load the directory again (``load_org``) before the new file takes effect.
    """
    path = Path(config_dir) / ORG_DIR / "units.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(format_units_json(spec.units), encoding="utf-8")
    os.replace(temporary, path)
    return path

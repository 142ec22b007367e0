"""Reading an uploaded ledger sheet (.xlsx) without trusting it: the raw rows, or one Chinese error.

Clerks send whatever their office kept: an old .xls, a CSV saved from WPS, a damaged file, now and
then something crafted. Each gets a sentence that says what to do, never a 500. The checks run
before openpyxl sees the bytes, because openpyxl's own errors are English and a zip bomb would be
inflated by it: the file must be a zip whose declared uncompressed size stays within
``MAX_UNPACKED_BYTES`` and which holds a workbook part. openpyxl then reads it in read-only
(streaming) mode with ``defusedxml`` installed (no XML entity expansion), keeping formulas as the
text typed (``data_only=False``), so a cell ``=HYPERLINK(...)`` arrives as that text and is stored as
text, never evaluated. Reading stops one row past the cap, so a sheet of a million rows costs no more
than the cap.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

#: Unpacked size a ledger workbook may declare: 5,000 rows of a wide ledger are ~10 MB of XML.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls / .et (and encrypted .xlsx)
_ZIP_MAGIC = b"PK\x03\x04"


class WorkbookError(ValueError):
    """The file as a whole cannot be read; the message is for the clerk (Chinese)."""


@dataclass
class Sheet:
    """The first worksheet: its header row and the data rows (cell values as openpyxl gives them)."""

    header: list[Any]
    rows: list[tuple[int, tuple[Any, ...]]]  # (Excel row number, values)
    too_many: bool = False


def read_workbook(content: bytes, max_rows: int, max_bytes: int) -> Sheet:
    """The first worksheet of ``content``; WorkbookError for anything that is not a sound .xlsx."""
    if not content:
        raise WorkbookError("文件是空的，请选择要导入的 .xlsx 文件")
    if len(content) > max_bytes:
        raise WorkbookError(f"文件过大（上限 {max_bytes // (1024 * 1024)} MB），请分成几个文件导入")
    _check_container(content)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors …)
        raise WorkbookError("文件已损坏或不是有效的 Excel 工作簿（.xlsx），请在 Excel 中打开后另存为 .xlsx 再导入") from exc
    try:
        return _first_sheet(book, max_rows)
    except WorkbookError:
        raise
    except Exception as exc:
        raise WorkbookError("工作表内容无法读取（文件可能已损坏），请在 Excel 中打开后另存为 .xlsx 再导入") from exc
    finally:
        book.close()


def _check_container(content: bytes) -> None:
    if content.startswith(_OLE_MAGIC):
        raise WorkbookError("这是旧版 Excel（.xls）或加密的文件，不能直接导入：请在 Excel 中“另存为 .xlsx”并取消密码后再导入")
    if not content.startswith(_ZIP_MAGIC):
        raise WorkbookError("只能导入 Excel 工作簿（.xlsx）；CSV 或其他格式请先在 Excel 中另存为 .xlsx（可先“导出 Excel”得到样表）")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WorkbookError("文件已损坏或不是有效的 Excel 工作簿（.xlsx）") from exc
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise WorkbookError("文件解压后过大（可能是压缩炸弹），已拒绝；请只保留要导入的数据后重新保存")
    if "xl/workbook.xml" not in names:
        raise WorkbookError("压缩包中没有 Excel 工作簿：请上传 .xlsx 文件（.docx、.zip 等不能导入）")


def _first_sheet(book: Any, max_rows: int) -> Sheet:
    sheets = book.worksheets
    if not sheets:
        raise WorkbookError("工作簿中没有工作表")
    header: list[Any] | None = None
    rows: list[tuple[int, tuple[Any, ...]]] = []
    for number, values in enumerate(sheets[0].iter_rows(values_only=True), start=1):
        if header is None:
            if any(_filled(v) for v in values):
                header = list(values)
            continue
        if not any(_filled(v) for v in values):
            continue  # blank lines between blocks of rows are common in kept sheets
        if len(rows) == max_rows:
            return Sheet(header, rows, too_many=True)
        rows.append((number, tuple(values)))
    if header is None:
        raise WorkbookError("工作表是空的：第一行应为列标题（与“导出 Excel”的第一行相同），其下每行一条记录")
    return Sheet(header, rows)


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())

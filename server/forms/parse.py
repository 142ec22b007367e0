"""Posted form fields → JSON data shaped by the schema.

The parser is deliberately forgiving: it converts what it can and keeps what it cannot (``abc`` in a
number field stays a string) so that validation, not parsing, reports problems, with the same
Chinese messages as the API, and the page can show the typed value back.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

from werkzeug.datastructures import MultiDict

from server.forms.conditions import drop_inactive
from server.forms.fields import Field, option_value
from server.forms.model import FormModel
from server.forms.pointers import is_index, join_name

_MISSING: Any = object()
_INTEGER = re.compile(r"[+-]?\d+")
_SPACED_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2}.*)", re.ASCII)


def parse_submission(form: FormModel, formdata: MultiDict) -> dict[str, Any]:
    """The record data of a posted form (inactive conditional values already dropped)."""
    return _container(form, form.root, "", formdata)


def is_blank(value: Any) -> bool:
    """Nothing typed: absent, unchecked, an empty list, or an object holding only such values."""
    if value is None or value is False or value == [] or value == "":
        return True
    if isinstance(value, Mapping):
        return all(is_blank(v) for v in value.values())
    return False


def _container(form: FormModel, field: Field, prefix: str, formdata: MultiDict) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for child in field.children:
        value = _value(form, child, join_name(prefix, child.key), formdata)
        if value is not _MISSING:
            result[child.key] = value
    drop_inactive(form, field, result)
    return result


def _value(form: FormModel, field: Field, name: str, formdata: MultiDict) -> Any:
    kind = field.kind
    if kind == "boolean":
        return name in formdata
    if kind == "object":
        value = _container(form, field, name, formdata)
        return value if field.required or not is_blank(value) else _MISSING
    if kind == "rows":
        return _rows(form, field, name, formdata)
    if kind in ("multi", "lines"):
        return _list(field, name, formdata)
    raw = formdata.get(name)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return _MISSING
    return _scalar(field, text)


def _scalar(field: Field, text: str) -> Any:
    kind = field.kind
    if kind in ("integer", "number"):
        return to_number(text, integer=kind == "integer")
    if kind == "choice":
        return to_const(field, text)
    if kind == "textarea":
        return text.replace("\r\n", "\n").replace("\r", "\n")
    if kind == "datetime":
        match = _SPACED_DATETIME.fullmatch(text)
        return f"{match.group(1)}T{match.group(2)}" if match else text
    return text


def to_number(text: str, *, integer: bool) -> Any:
    """``int``/``float`` when ``text`` is a plain decimal number, else ``text`` unchanged."""
    if _INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # past Python's 4,300-digit limit: left as text, refused by validation
            return text
    if "_" in text:
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    if integer:
        return int(number) if number.is_integer() else text
    return number


def to_const(field: Field, text: str) -> Any:
    """The ``const`` of the choice posted as ``text`` (consts may be numbers), else ``text``."""
    for const, _title in field.choices:
        if option_value(const) == text:
            return const
    return text


def _list(field: Field, name: str, formdata: MultiDict) -> Any:
    if field.kind == "multi":
        texts = [t.strip() for t in formdata.getlist(name)]
        values = [to_const(field, t) for t in texts if t]
    else:
        raw = formdata.get(name) or ""
        texts = [t.strip() for t in raw.splitlines()]
        values = [_list_item(field, t) for t in texts if t]
    return values or _MISSING  # empty, even if required: "此项为必填项" beats "至少需要 1 项"


def _list_item(field: Field, text: str) -> Any:
    if field.item_type in ("integer", "number"):
        return to_number(text, integer=field.item_type == "integer")
    return text


def _rows(form: FormModel, field: Field, name: str, formdata: MultiDict) -> Any:
    """Rows by index present (gaps after deletion closed up), blank rows dropped."""
    rows = []
    for index in row_indices(name, formdata):
        row = _container(form, field, join_name(name, index), formdata)
        if not is_blank(row):
            rows.append(row)
    return rows or _MISSING


def row_indices(name: str, formdata: MultiDict) -> list[int]:
    """Numeric indices of the rows posted under ``name`` (template placeholders ignored)."""
    start = name + "/"
    found = set()
    for key in formdata.keys():
        if key.startswith(start):
            token = key[len(start):].split("/", 1)[0]
            if is_index(token):
                found.add(int(token))
    return sorted(found)

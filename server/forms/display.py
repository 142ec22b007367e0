"""Values as people read them (choice titles, 是/否, dates with a space) and walks over record data.

Lists, exports, the detail view and whole-record search must all agree on how a stored value looks,
so they share :func:`format_value`; the walk is shared by search and by the server's ref checks.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterator, Mapping

from markupsafe import Markup

from server.forms.fields import Field
from server.forms.html import tag
from server.forms.model import FormModel
from server.forms.pointers import escape_token, is_index, split_pointer
from server.forms.widgets import input_text
from server.timeutil import CST

_ISO_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}.*)", re.ASCII)
MULTI_SEPARATOR = "、"
ROW_SEPARATOR = "；"
PART_SEPARATOR = "，"
#: Characters of a value a list cell (or a picker's label) shows; the record page shows all of it.
#: A page of 20 records stays a few tens of kilobytes however long the texts are.
CELL_MAX = 100
ELLIPSIS = "…"


def display_value(form: FormModel, path: str | Field, value: Any) -> str:
    """``value`` of the field at ``path`` (``visitor/name``, ``rows/item``, ``/rows/0/item``)."""
    field = path if isinstance(path, Field) else form.field_at(path)
    return format_value(field, value)


def format_value(field: Field | None, value: Any) -> str:
    """Human text of a value; unknown fields and unexpected types fall back to plain text."""
    if value is None:
        return ""
    kind = field.kind if field is not None else None
    if field is not None and kind == "choice":
        return field.choice_title(value) or input_text(value)
    if field is not None and kind in ("multi", "lines") and isinstance(value, list):
        return MULTI_SEPARATOR.join(field.choice_title(v) or input_text(v) for v in value)
    if kind == "boolean" and isinstance(value, bool):
        return "是" if value else "否"
    if kind == "datetime" and isinstance(value, str):
        return _datetime_text(value)
    if field is not None and kind == "rows" and isinstance(value, list):
        return ROW_SEPARATOR.join(_parts(field, row) for row in value)
    if field is not None and kind == "object" and isinstance(value, Mapping):
        return _parts(field, value)
    return input_text(value)


def display_cell(form: FormModel, path: str, value: Any, limit: int = CELL_MAX) -> Markup | str:
    """A list cell: the shortened display text; an org unit's name carries its code on hover.

    People read 东风社区, not 139901001001, but a clerk matching a statistics sheet still needs the
    code, so it stays one hover away (``title``)."""
    field = form.field_at(path)
    text = shorten(format_value(field, value), limit)
    return with_code(field, value, text)


def with_code(field: Field | None, value: Any, text: str) -> Markup | str:
    """``text`` in a span whose ``title`` is the stored code when ``field`` names an org unit."""
    if field is None or "org" not in field.ui or not isinstance(value, str) or not value or text == value:
        return text
    return tag("span", {"class": "x-org", "title": value}, text)


def shorten(text: str, limit: int = CELL_MAX) -> str:
    """``text`` cut to ``limit`` characters, the last one "…" when anything was cut."""
    return text if len(text) <= limit else text[:max(limit - 1, 0)] + ELLIPSIS


def _datetime_text(value: str) -> str:
    """'2026-05-06 09:00' for people: seconds dropped, a value with a zone shown in China time."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        match = _ISO_DATETIME.fullmatch(value)
        return f"{match.group(1)} {match.group(2)}" if match else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(CST)
    return moment.strftime("%Y-%m-%d %H:%M")


def _parts(field: Field, row: Any) -> str:
    """An object (or one row) as ``标题：值，标题：值``, empty values left out."""
    if not isinstance(row, Mapping):
        return input_text(row)
    parts = []
    for child in field.children:
        text = format_value(child, row.get(child.key))
        if text:
            parts.append(f"{child.title}：{text}")
    return PART_SEPARATOR.join(parts)


def iter_values(form: FormModel, data: Any) -> Iterator[tuple[str, Field | None, Any]]:
    """(pointer, field or None, value) of every leaf in ``data``, through objects and rows.

    A multi-choice list is one leaf. Keys the form does not know are walked too (field None), so
    search still finds values of fields removed from a later version of the form.
    """
    yield from _walk(form.root, "", data)


def _walk(field: Field | None, pointer: str, value: Any) -> Iterator[tuple[str, Field | None, Any]]:
    if field is not None and field.kind in ("multi", "lines"):
        yield pointer, field, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            child = field.child(key) if field is not None and field.kind in ("object", "rows") else None
            yield from _walk(child, f"{pointer}/{escape_token(key)}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            inner = field if field is not None and field.kind == "rows" else None
            yield from _walk(inner, f"{pointer}/{index}", item)
    elif value is not None:
        yield pointer, field, value


def ref_values(form: FormModel, data: Any) -> list[tuple[str, str, str]]:
    """(pointer, target form id, record number) of every filled ``x-ui.ref`` field."""
    if not form.has_refs:
        return []  # every save asks: most ledgers have no reference fields, and the walk is not free
    return [
        (pointer, field.ref, value)
        for pointer, field, value in iter_values(form, data)
        if field is not None and field.ref and isinstance(value, str) and value
    ]


def search_text(form: FormModel, data: Any) -> str:
    """All leaf values, raw and as displayed (choice titles), lower-cased, for record search."""
    words: list[str] = []
    for _pointer, field, value in iter_values(form, data):
        raw = value if isinstance(value, list) else [value]
        words.extend(input_text(v) for v in raw if not isinstance(v, bool))
        shown = format_value(field, value)
        if shown and shown not in words:
            words.append(shown)
    return " ".join(w for w in words if w).lower()


def describe_change(form: FormModel, pointer: str, value: Any) -> tuple[str, str]:
    """(label, text) of one audit change: ``处置措施/第1行/期限`` and the value as people read it.

    History is read by staff, not programmers: pointers become field titles, row indices become
    row numbers, choices their titles. Unknown paths (a field since removed) keep the pointer.
    """
    titles: list[str] = []
    current: Field | None = form.root
    for token in split_pointer(pointer):
        if current is not None and current.kind == "rows" and is_index(token):
            titles.append(f"第{int(token) + 1}行")
            continue
        current = current.child(token) if current is not None and current.kind in ("object", "rows") else None
        titles.append(current.title if current is not None else token)
    label = "/".join(titles) or "（整条记录）"
    if current is not None and current.kind == "rows" and isinstance(value, Mapping):
        return label, _parts(current, value)  # one whole row added or removed
    return label, format_value(current, value)

"""The detail view of a record: label/value tables, nested objects as sub-tables, rows as a table.

Values go through :func:`server.forms.display.format_value` (choice titles, 是/否) and are escaped.
Only what was filled in is shown: empty fields, groups with nothing filled in, rows with nothing
in them and row columns empty in every row are left out (the page says so once), so inactive
branches and untouched optional parts do not leave a trail of empty lines.
"""
from __future__ import annotations

from typing import Any, Mapping

from markupsafe import Markup

from server.forms.display import format_value, with_code
from server.forms.fields import Field
from server.forms.html import tag
from server.forms.model import FormModel
from server.forms.widgets import input_text

_TABLE = "table table-sm table-bordered x-readonly"
NOTHING_FILLED = "没有已填写的内容"


def render_readonly(form: FormModel, data: Mapping[str, Any] | None,
                    links: Mapping[tuple[str, str], Markup] | None = None) -> Markup:
    """The filled-in part of the record as a definition table (keys the form no longer knows last).

    ``links`` maps a reference (target form id, record number) to what shows instead of the bare
    number: the referenced record's title linking to it, which the caller resolved for the viewer."""
    data = data if isinstance(data, Mapping) else {}
    rows = _field_rows(form.root, data, links or {})
    known = {child.key for child in form.root.children}
    rows += [_row(key, input_text(value)) for key, value in data.items()
             if key not in known and not _blank(value)]
    if not rows:
        return tag("p", {"class": "text-muted x-readonly-empty"}, NOTHING_FILLED)
    return tag("table", {"class": _TABLE}, tag("tbody", None, *rows))


def readonly_value(field: Field, value: Any, links: Mapping[tuple[str, str], Markup] | None = None) -> Markup | str | None:
    """One field's value as the detail page shows it (a nested table for an object), or None when
    nothing in it is filled in: for parts of an editing form that cannot be changed."""
    return _cell(field, value, links or {})


def _blank(value: Any) -> bool:
    """Nothing stored: absent, empty text, an empty list or object (``False`` and 0 are values)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (list, tuple, Mapping)):
        return len(value) == 0
    return False


def _field_rows(container: Field, data: Mapping[str, Any], links: Mapping[tuple[str, str], Markup]) -> list[Markup]:
    rows = []
    for child in container.children:
        cell = _cell(child, data.get(child.key), links)
        if cell is not None:
            rows.append(_row(child.title, cell))
    return rows


def _row(label: str, cell: Any) -> Markup:
    return tag("tr", None, tag("th", {"scope": "row", "class": "x-label"}, label),
               tag("td", {"class": "x-value"}, cell))


def _cell(field: Field, value: Any, links: Mapping[tuple[str, str], Markup]) -> Markup | str | None:
    """The shown value, or None when there is nothing to show."""
    if _blank(value):
        return None
    if field.kind == "object" and isinstance(value, Mapping):
        rows = _field_rows(field, value, links)
        return tag("table", {"class": _TABLE + " mb-0"}, tag("tbody", None, *rows)) if rows else None
    if field.kind == "rows" and isinstance(value, list):
        return _rows_table(field, value, links)
    if field.ref and isinstance(value, str) and (field.ref, value) in links:
        return links[(field.ref, value)]
    text = format_value(field, value)
    if text == "":
        return None
    if field.kind == "textarea":
        return tag("span", {"class": "x-pre"}, text)
    return with_code(field, value, text)


def _rows_table(field: Field, rows: list[Any], links: Mapping[tuple[str, str], Markup]) -> Markup | None:
    """One column per field filled in some row; cells may hold nested tables."""
    cells = []
    for row in rows:
        data = row if isinstance(row, Mapping) else {}
        values = [_cell(c, data.get(c.key), links) for c in field.children]
        if any(v is not None for v in values):
            cells.append(values)
    used = [i for i, child in enumerate(field.children) if any(r[i] is not None for r in cells)]
    if not used:
        return None
    head = tag("thead", None, tag("tr", None, *[tag("th", {"scope": "col"}, field.children[i].title)
                                               for i in used]))
    body = [tag("tr", None, *[tag("td", None, "" if r[i] is None else r[i]) for i in used]) for r in cells]
    return tag("table", {"class": _TABLE + " mb-0"}, head, tag("tbody", None, *body))

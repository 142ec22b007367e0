"""The detail view of a record: label/value tables, nested objects as sub-tables, rows as a table.

Values go through :func:`server.forms.display.format_value` (choice titles, 是/否) and are escaped;
fields of conditional sections only appear when they hold a value, so an inactive branch does not
leave a trail of empty lines.
"""
from __future__ import annotations

from typing import Any, Mapping

from markupsafe import Markup

from server.forms.display import format_value
from server.forms.fields import Field
from server.forms.html import tag
from server.forms.model import FormModel
from server.forms.widgets import input_text

_TABLE = "table table-sm table-bordered x-readonly"


def render_readonly(form: FormModel, data: Mapping[str, Any] | None) -> Markup:
    """The whole record as a definition table (keys the form no longer knows come last)."""
    data = data if isinstance(data, Mapping) else {}
    rows = _field_rows(form.root, data)
    known = {child.key for child in form.root.children}
    rows += [_row(key, input_text(value)) for key, value in data.items() if key not in known]
    return tag("table", {"class": _TABLE}, tag("tbody", None, *rows))


def _field_rows(container: Field, data: Mapping[str, Any]) -> list[Markup]:
    rows = []
    for child in container.children:
        value = data.get(child.key)
        if value is None and (child.in_section or child.show_when is not None):
            continue
        rows.append(_row(child.title, _cell(child, value)))
    return rows


def _row(label: str, cell: Any) -> Markup:
    return tag("tr", None, tag("th", {"scope": "row", "class": "x-label"}, label),
               tag("td", {"class": "x-value"}, cell))


def _cell(field: Field, value: Any) -> Markup | str:
    if field.kind == "object" and isinstance(value, Mapping):
        return tag("table", {"class": _TABLE + " mb-0"}, tag("tbody", None, *_field_rows(field, value)))
    if field.kind == "rows" and isinstance(value, list):
        return _rows_table(field, value)
    text = format_value(field, value)
    if field.kind == "textarea":
        return tag("span", {"class": "x-pre"}, text)
    return text


def _rows_table(field: Field, rows: list[Any]) -> Markup:
    """One column per field of the row; cells may hold nested tables."""
    head = tag("thead", None, tag("tr", None, *[tag("th", {"scope": "col"}, c.title)
                                               for c in field.children]))
    body = []
    for row in rows:
        data = row if isinstance(row, Mapping) else {}
        body.append(tag("tr", None, *[tag("td", None, _cell(c, data.get(c.key)))
                                      for c in field.children]))
    return tag("table", {"class": _TABLE + " mb-0"}, head, tag("tbody", None, *body))

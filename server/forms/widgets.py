"""The input controls of leaf fields (text, number, date, checkbox, select, radio, ref...).

Each widget shows the current value back *exactly*, including values that failed validation: a
number input would silently blank ``abc`` and a date input ``2026-02-30``, so such values are shown
in a plain text input instead (the clerk sees what was typed next to the error message).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from markupsafe import Markup

from server.forms.fields import Field, option_value
from server.forms.formats import is_date
from server.forms.html import classes, join, tag, void
from server.forms.pointers import html_id

_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?", re.ASCII)


@dataclass(frozen=True)
class Slot:
    """One field at one place of the page: its input name, current value and error message."""

    field: Field
    name: str
    value: Any
    error: str | None

    @property
    def id(self) -> str:
        return html_id(self.name)

    @property
    def help_id(self) -> str | None:
        return f"{self.id}-help" if self.field.description else None

    @property
    def error_id(self) -> str | None:
        return f"{self.id}-error" if self.error else None

    @property
    def described_by(self) -> str | None:
        """``aria-describedby``: the error message first (read before the help), then the help."""
        ids = [i for i in (self.error_id, self.help_id) if i]
        return " ".join(ids) or None


def input_text(value: Any) -> str:
    """A JSON value as the text of an input (``None`` → empty; numbers without a stray ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def required_mark(field: Field) -> Markup:
    """The red asterisk after a required field's label."""
    if not field.required:
        return Markup("")
    return tag("span", {"class": "x-required text-danger", "title": "必填", "aria-hidden": "true"}, "*")


def feedback(error: str | None, error_id: str | None = None) -> Markup:
    """The error under a control (``d-block`` so it shows for groups too, not only after inputs).

    ``error_id`` is what the control's ``aria-describedby`` points at.
    """
    if not error:
        return Markup("")
    return tag("div", {"id": error_id, "class": "invalid-feedback d-block"}, error)


def help_text(slot: Slot) -> Markup:
    if not slot.field.description:
        return Markup("")
    return tag("small", {"id": slot.help_id, "class": "form-text text-muted"},
               slot.field.description)


#: Option groups wider than a grid cell (15rem; estimated from the option titles: about 1em a
#: character plus 1.65em for the button and the gap, as measured in Chromium) or with many
#: options get a whole line.
_WIDE_CHOICES_EM = 15
_CHOICE_EXTRA_EM = 1.65
_WIDE_CHOICES_COUNT = 5
NONE_TITLE = "不选"


def is_wide(field: Field) -> bool:
    """Whether the field spans the whole width of the form grid instead of one cell.

    Short inputs (text, number, date, select, ref, a checkbox, a few radio buttons) share lines;
    text areas, containers and option groups that would not fit one cell get their own line.
    """
    kind = field.kind
    if kind in ("textarea", "lines", "object", "rows"):
        return True
    if kind == "multi" or (kind == "choice" and field.widget == "radio"):
        titles = [title for _, title in field.choices]
        if kind == "choice" and not field.required:
            titles.append(NONE_TITLE)
        width = sum(len(title) + _CHOICE_EXTRA_EM for title in titles)
        return len(titles) > _WIDE_CHOICES_COUNT or width > _WIDE_CHOICES_EM
    return False


def focus_id(slot: Slot) -> str:
    """The id of the control to focus for this field (an error summary links to it)."""
    kind = slot.field.kind
    if kind == "multi" or (kind == "choice" and slot.field.widget == "radio"):
        if kind == "choice" and not slot.field.required:
            return f"{slot.id}-none"
        if slot.field.choices or slot.value not in (None, []):
            return f"{slot.id}-0"
    return slot.id


def render_widget(slot: Slot, lookup_url: Callable[[str], str]) -> Markup:
    """The form-group of one leaf field."""
    kind = slot.field.kind
    if kind == "boolean":
        return _checkbox(slot)
    if kind == "choice" and slot.field.widget == "radio":
        return _choice_group(slot, "radio")
    if kind == "multi":
        return _choice_group(slot, "checkbox")
    control = _ref(slot, lookup_url) if kind == "ref" else _CONTROLS.get(kind, _text)(slot)
    label = tag("label", {"for": slot.id}, slot.field.title, required_mark(slot.field))
    return _group(slot, label, control, feedback(slot.error, slot.error_id), help_text(slot))


def _group(slot: Slot, *body: Markup, element: str = "div", css: str | None = None,
           extra: dict[str, Any] | None = None) -> Markup:
    names = classes("form-group x-field", css, "x-wide" if is_wide(slot.field) else None)
    return tag(element, {"class": names, "data-field": slot.field.path, **(extra or {})}, *body)


def _base(slot: Slot, css: str = "form-control") -> dict[str, Any]:
    placeholder = slot.field.ui.get("placeholder")
    return {
        "class": classes(css, "is-invalid" if slot.error else None),
        "id": slot.id,
        "name": slot.name,
        "placeholder": placeholder if isinstance(placeholder, str) else None,
        "aria-describedby": slot.described_by,
        "aria-required": "true" if slot.field.required else None,
        "aria-invalid": "true" if slot.error else None,
    }


def _text(slot: Slot, input_type: str = "text") -> Markup:
    return void("input", {"type": input_type, **_base(slot), "maxlength": max_length(slot.field),
                          "value": input_text(slot.value)})


def max_length(field: Field) -> int | None:
    """``maxlength`` for the browser: the schema's limit (a default one when the form sets none,
    see :mod:`server.forms.lengths`), so typing stops where the server would refuse."""
    limit = field.schema.get("maxLength")
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0 else None


def _textarea(slot: Slot) -> Markup:
    rows = slot.field.ui.get("rows")
    values = {**_base(slot), "rows": rows if isinstance(rows, int) and rows > 0 else 3,
              "maxlength": max_length(slot.field)}
    return tag("textarea", values, input_text(slot.value))


def _lines(slot: Slot) -> Markup:
    """A list of plain values, one per line (arrays of strings or numbers without choices)."""
    value = slot.value
    text = "\n".join(input_text(v) for v in value) if isinstance(value, list) else input_text(value)
    return tag("textarea", {**_base(slot), "rows": 3}, text)


def _date(slot: Slot) -> Markup:
    text = input_text(slot.value)
    return _text(slot, "date" if not text or is_date(text) else "text")


def _datetime(slot: Slot) -> Markup:
    text = input_text(slot.value)
    if text and not _LOCAL_DATETIME.fullmatch(text):
        return _text(slot, "text")  # a zone or a typo: datetime-local would blank it
    step = "any" if "." in text else ("1" if text.count(":") == 2 else None)
    return void("input", {"type": "datetime-local", **_base(slot), "value": text, "step": step})


def _number(slot: Slot) -> Markup:
    value = slot.value
    shown_as_number = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
    values = {**_base(slot), **_bounds(slot.field), "value": input_text(value)}
    if not shown_as_number:
        return void("input", {"type": "text", "inputmode": "decimal", **values})
    return void("input", {"type": "number", **values})


def _bounds(field: Field) -> dict[str, Any]:
    """``min``/``max``/``step`` from the schema; exclusive bounds only where integers allow them."""
    schema = field.schema
    integer = field.kind == "integer"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is None and integer and _is_num(schema.get("exclusiveMinimum")):
        low = math.floor(schema["exclusiveMinimum"]) + 1
    if high is None and integer and _is_num(schema.get("exclusiveMaximum")):
        high = math.ceil(schema["exclusiveMaximum"]) - 1
    step = schema.get("multipleOf")
    if not _is_num(step):
        step = 1 if integer else "any"
    return {"min": _num_attr(low), "max": _num_attr(high), "step": _num_attr(step)}


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num_attr(value: Any) -> str | None:
    if value is None:
        return None
    return input_text(value) if _is_num(value) else str(value)


def _select(slot: Slot) -> Markup:
    current = None if slot.value is None else option_value(slot.value)
    org = "org" in slot.field.ui
    parents = _parents(slot.field) if org else {}
    options = []
    if not slot.field.required:
        options.append(tag("option", {"value": ""}, "（不选）"))
    elif current is None:
        options.append(tag("option", {"value": "", "disabled": True, "selected": True}, "请选择…"))
    known = False
    for const, title in slot.field.choices:
        selected = option_value(const) == current
        known = known or selected
        parent = parents.get(option_value(const))
        options.append(tag("option", {"value": option_value(const), "selected": selected},
                           f"{parent} · {title}" if parent else title))
    if current is not None and not known:
        options.append(tag("option", {"value": current, "selected": True}, current))
    return tag("select", {**_base(slot), "data-org-picker": "" if org else None}, *options)


def _parents(field: Field) -> dict[str, str]:
    """Code -> parent's name of an org field's units (``server.org.fields`` puts it in ``description``).

    An option reads "城关街道 · 东风社区": two townships may each have a 东风村, and typing either
    name finds it in the picker (``orgpicker.js``), which turns this select into a search box."""
    choices = field.schema.get("oneOf")
    return {option_value(c["const"]): c["description"] for c in choices if isinstance(c, dict)
            and "const" in c and isinstance(c.get("description"), str)} if isinstance(choices, list) else {}


def _choice_group(slot: Slot, input_type: str) -> Markup:
    """Radio buttons (one choice) or checkboxes (several), in a fieldset with a legend.

    An optional radio group starts with 不选 (empty value) so that a choice can be taken back;
    its id ends in ``-none`` so the options keep their ids ``<id>-0``, ``<id>-1``...
    """
    values = slot.value if isinstance(slot.value, list) else [slot.value]
    current = [option_value(v) for v in values if v is not None]
    options = [(option_value(const), title) for const, title in slot.field.choices]
    options += [(text, text) for text in current if text not in {o for o, _ in options}]
    legend = tag("legend", {"class": "col-form-label pt-0"}, slot.field.title,
                 required_mark(slot.field))
    items = [_choice_item(slot, input_type, str(index), value, title, value in current)
             for index, (value, title) in enumerate(options)]
    if input_type == "radio" and not slot.field.required:
        items.insert(0, _choice_item(slot, input_type, "none", "", NONE_TITLE, not current))
    body = tag("div", {"id": slot.id}, *items)
    return _group(slot, legend, body, feedback(slot.error, slot.error_id), help_text(slot),
                  element="fieldset", extra={"aria-describedby": slot.described_by})


def _choice_item(slot: Slot, input_type: str, suffix: str, value: str, title: str,
                 checked: bool) -> Markup:
    item_id = f"{slot.id}-{suffix}"
    control = void("input", {
        "class": classes("form-check-input", "is-invalid" if slot.error else None),
        "type": input_type, "id": item_id, "name": slot.name, "value": value,
        "checked": checked, "data-kind": "multi" if input_type == "checkbox" else None,
        "aria-invalid": "true" if slot.error else None,
    })
    label = tag("label", {"class": "form-check-label", "for": item_id}, title)
    return tag("div", {"class": "form-check form-check-inline"}, control, label)


def _checkbox(slot: Slot) -> Markup:
    control = void("input", {
        "class": classes("form-check-input", "is-invalid" if slot.error else None),
        "type": "checkbox", "id": slot.id, "name": slot.name, "value": "true",
        "checked": slot.value is True, "aria-describedby": slot.described_by, "data-kind": "boolean",
        "aria-invalid": "true" if slot.error else None,
    })
    label = tag("label", {"class": "form-check-label", "for": slot.id}, slot.field.title,
                required_mark(slot.field))
    check = tag("div", {"class": "form-check"}, control, label, feedback(slot.error, slot.error_id))
    return _group(slot, check, help_text(slot), css="x-check")


def _ref(slot: Slot, lookup_url: Callable[[str], str]) -> Markup:
    """A text input for a record number with a suggestion list under it.

    forms.js fills the ``listbox`` from ``data-lookup`` (``?q=`` what is typed; empty = the newest
    records) and handles the keys; without JavaScript the list stays hidden and the number is typed.
    """
    list_id = f"{slot.id}-options"
    control = void("input", {
        "type": "text", **_base(slot), "maxlength": max_length(slot.field), "value": input_text(slot.value),
        "autocomplete": "off", "data-lookup": lookup_url(slot.field.ref or ""),
        "role": "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
        "aria-controls": list_id,
    })
    listbox = tag("ul", {"class": "list-group x-ref-list", "id": list_id, "role": "listbox",
                         "aria-label": "候选记录", "hidden": True})
    return tag("div", {"class": "x-ref"}, control, listbox)


_CONTROLS: dict[str, Callable[[Slot], Markup]] = {
    "text": _text, "textarea": _textarea, "lines": _lines, "date": _date, "datetime": _datetime,
    "integer": _number, "number": _number, "choice": _select,
}

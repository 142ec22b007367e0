"""The editing form: containers (fieldsets, rows, conditional sections) and the error summary.

Only the fields are rendered here; the page template owns the ``<form>`` tag, the CSRF token and
the buttons. Behaviour (rows, sections, ref pickers) comes from ``static/forms.js`` through data
attributes because the CSP forbids inline scripts and handlers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from markupsafe import Markup

from server.forms.fields import Field, Section
from server.forms.html import join, json_attr, tag
from server.forms.model import FormModel
from server.forms.readonly import readonly_value
from server.forms.pointers import html_id, is_index, join_name, name_to_pointer, split_pointer
from server.forms.validate import order_key
from server.forms.widgets import Slot, feedback, focus_id, help_text, render_widget, required_mark

#: The id of the error summary (forms.js focuses it when the page opens with errors).
SUMMARY_ID = "error-summary"
ROWS_EMPTY = "尚未添加，需要时点击“添加一行”。"


@dataclass
class _Context:
    """Per-render state: where each shown error's control is, and the row-template depth."""

    errors: dict[str, str]
    lookup_url: Callable[[str], str]
    depth: int = 0
    anchors: dict[str, str] = field(default_factory=dict)
    frozen: Mapping[str, str] = field(default_factory=dict)
    links: Mapping[tuple[str, str], Markup] = field(default_factory=dict)

    def take(self, name: str) -> str | None:
        """The error of the input named ``name`` (pointer without slash)."""
        return self.errors.get(name_to_pointer(name))

    def shown_at(self, name: str, element_id: str) -> None:
        """Record that the error of ``name`` is shown at the element ``element_id``."""
        pointer = name_to_pointer(name)
        if pointer in self.errors:
            self.anchors[pointer] = element_id

    def template(self) -> "_Context":
        """A context for a blank row template: no errors, a placeholder one level deeper."""
        return _Context({}, self.lookup_url, self.depth + 1)


def render_fields(form: FormModel, data: Mapping[str, Any] | None, errors: Mapping[str, str],
                  *, lookup_url: Callable[[str], str], frozen: Mapping[str, str] | None = None,
                  links: Mapping[tuple[str, str], Markup] | None = None) -> Markup:
    """All fields of ``form`` filled with ``data`` in a grid; errors at their fields and listed,
    each with a link to its control, in a summary on top.

    ``frozen``: top-level fields that cannot be changed here (a section of another workflow stage,
    ``x-ui.states``), each with a note saying why: shown read-only, as on the detail page (``links``:
    references resolved for the reader), when they hold data, left out when empty; they post nothing."""
    ctx = _Context(dict(errors), lookup_url, frozen=dict(frozen or {}), links=dict(links or {}))
    body = _layout(ctx, form.root.layout, "", data if isinstance(data, Mapping) else {})
    return join(_summary(form, ctx), tag("div", {"class": "x-grid x-form-grid"}, body))


def placeholder(depth: int) -> str:
    """The row-index placeholder of a template (``__index__``; nested templates get their own)."""
    return "__index__" if depth <= 1 else f"__index{depth - 1}__"


def _layout(ctx: _Context, items: tuple[Field | Section, ...], prefix: str,
            data: Mapping[str, Any]) -> Markup:
    parts = []
    for item in items:
        if isinstance(item, Section):
            parts.append(_section(ctx, item, prefix, data))
        elif not prefix and item.key in ctx.frozen:
            parts.append(_frozen(ctx, item, data.get(item.key)))
        else:
            parts.append(_field(ctx, item, prefix, data.get(item.key)))
    return join(*parts)


def _frozen(ctx: _Context, field: Field, value: Any) -> Markup:
    """A field that cannot be changed on this page: its filled-in values read-only, or nothing."""
    shown = readonly_value(field, value, ctx.links)
    if shown is None:
        return Markup("")
    element_id = html_id(field.key)
    ctx.shown_at(field.key, element_id)
    return tag("fieldset", {"class": "x-object x-frozen x-wide form-group", "id": element_id, "data-field": field.path},
               tag("legend", {"class": "x-legend w-auto px-1"}, field.title),
               tag("p", {"class": "small text-muted mb-1"}, ctx.frozen[field.key]),
               feedback(ctx.take(field.key), f"{element_id}-error" if ctx.take(field.key) else None), shown)


def _field(ctx: _Context, field: Field, prefix: str, value: Any) -> Markup:
    name = join_name(prefix, field.key)
    if field.kind == "object":
        html = _object(ctx, field, name, value)
    elif field.kind == "rows":
        html = _rows(ctx, field, name, value)
    else:
        slot = Slot(field, name, value, ctx.take(name))
        ctx.shown_at(name, focus_id(slot))
        html = render_widget(slot, ctx.lookup_url)
    if field.show_when is not None:
        trigger = join_name(prefix, field.show_when)
        html = tag("div", {"class": "x-dep x-grid x-wide", "data-show-when": trigger}, html)
    return html


def _section(ctx: _Context, section: Section, prefix: str, data: Mapping[str, Any]) -> Markup:
    """A conditional section; ``data-cond`` lists clauses that must all hold (``tests`` null =
    too rich for the browser, always shown; the server decides on save)."""
    clauses = [
        {"negate": c.negate,
         "tests": None if c.tests is None else [
             {**{k: v for k, v in t.items() if k != "key"}, "name": join_name(prefix, t["key"])}
             for t in c.tests]}
        for c in section.conditions
    ]
    return tag("div", {"class": "x-cond x-grid x-wide", "data-cond": json_attr(clauses)},
               _layout(ctx, section.layout, prefix, data))


def _legend(field: Field) -> Markup:
    return tag("legend", {"class": "x-legend w-auto px-1"}, field.title, required_mark(field))


def _object(ctx: _Context, field: Field, name: str, value: Any) -> Markup:
    slot = Slot(field, name, value, ctx.take(name))
    ctx.shown_at(name, slot.id)
    data = value if isinstance(value, Mapping) else {}
    return tag("fieldset", {"class": "x-object x-wide form-group", "id": slot.id,
                            "data-field": field.path, "aria-describedby": slot.described_by},
               _legend(field), help_text(slot), feedback(slot.error, slot.error_id),
               tag("div", {"class": "x-grid"}, _layout(ctx, field.layout, name, data)))


def rows_required(field: Field) -> bool:
    """A row list that must have rows: listed in ``required`` or with ``minItems`` ≥ 1."""
    return field.required or _int(field.schema.get("minItems")) > 0


def _rows(ctx: _Context, field: Field, name: str, value: Any) -> Markup:
    """Existing rows, a hidden ``<template>`` row and the 添加一行 button.

    Without data an optional list shows no row (a blank row would look like something to fill
    in); a required one shows ``max(minItems, 1)`` blank rows.
    """
    slot = Slot(field, name, value, ctx.take(name))
    ctx.shown_at(name, slot.id)
    rows = [r for r in value] if isinstance(value, list) else []
    if not rows and rows_required(field):
        rows = [{}] * max(_int(field.schema.get("minItems")), 1)
    inner = ctx.template()
    marker = placeholder(inner.depth)
    template = tag("template", {"class": "x-row-template", "data-placeholder": marker},
                   _row(inner, field, name, marker, {}))
    add = tag("button", {"type": "button", "class": "btn btn-sm btn-outline-primary x-row-add"},
              "添加一行")
    body = tag("div", {"class": "x-rows-body"},
               *[_row(ctx, field, name, str(i), row) for i, row in enumerate(rows)])
    empty = tag("p", {"class": "x-rows-empty small text-muted"}, ROWS_EMPTY)
    return tag("fieldset", {
        "class": "x-rows x-wide form-group", "id": slot.id, "data-field": field.path,
        "aria-describedby": slot.described_by,
        "data-min-items": _opt_int(field.schema.get("minItems")),
        "data-max-items": _opt_int(field.schema.get("maxItems")),
    }, _legend(field), help_text(slot), feedback(slot.error, slot.error_id), body, empty, template, add)


def _row(ctx: _Context, field: Field, name: str, index: str, value: Any) -> Markup:
    row_name = join_name(name, index)
    row_id = html_id(row_name)
    error = ctx.take(row_name) if index.isdigit() else None
    ctx.shown_at(row_name, row_id)
    error_id = f"{row_id}-error" if error else None
    data = value if isinstance(value, Mapping) else {}
    number = str(int(index) + 1) if index.isdigit() else ""
    title = tag("legend", {"class": "x-row-title"},
                "第 ", tag("span", {"class": "x-row-number"}, number), " 行")
    remove = tag("button", {"type": "button", "class": "btn btn-sm btn-outline-danger x-row-remove"},
                 "删除")
    return tag("fieldset", {"class": "x-row", "data-index": index, "id": row_id,
                            "aria-describedby": error_id},
               title, remove, feedback(error, error_id),
               tag("div", {"class": "x-grid"}, _layout(ctx, field.layout, row_name, data)))


def _summary(form: FormModel, ctx: _Context) -> Markup:
    """Every error as ``标签路径：消息``, in page order, linked to its control when it has one
    (errors of unknown keys or missing rows have no control and are only listed here)."""
    if not ctx.errors:
        return Markup("")
    items = []
    for pointer in sorted(ctx.errors, key=lambda p: order_key(form, p)):
        text = _summary_label(form, pointer) + ctx.errors[pointer]
        anchor = ctx.anchors.get(pointer)
        items.append(tag("li", None, tag("a", {"href": f"#{anchor}"}, text) if anchor else text))
    heading = tag("p", {"class": "x-error-summary-title font-weight-bold mb-1", "id": f"{SUMMARY_ID}-title"},
                  f"有 {len(items)} 处需要修改：")
    return tag("div", {"class": "alert alert-danger x-error-summary", "role": "alert", "id": SUMMARY_ID,
                       "tabindex": "-1", "aria-labelledby": f"{SUMMARY_ID}-title"},
               heading, tag("ul", {"class": "mb-0"}, *items))


def _summary_label(form: FormModel, pointer: str) -> str:
    """``物品/第 8 行/名称：`` for a known path; unknown keys are shown as they are."""
    parts: list[str] = []
    current: Field | None = form.root
    for token in split_pointer(pointer):
        if current is not None and current.kind == "rows" and is_index(token):
            parts.append(f"第 {int(token) + 1} 行")
            continue
        current = current.child(token) if current is not None else None
        parts.append(current.title if current is not None else token)
    return "/".join(parts) + "：" if parts else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = ["render_fields", "placeholder"]

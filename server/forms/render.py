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
from server.forms.pointers import html_id, is_index, join_name, name_to_pointer, split_pointer
from server.forms.widgets import Slot, feedback, help_text, render_widget, required_mark


@dataclass
class _Context:
    """Per-render state: errors not shown yet and the row-template nesting depth."""

    errors: dict[str, str]
    lookup_url: Callable[[str], str]
    depth: int = 0
    shown: set[str] = field(default_factory=set)

    def take(self, name: str) -> str | None:
        """The error of the input named ``name`` (pointer without slash), marking it as shown."""
        pointer = name_to_pointer(name)
        if pointer in self.errors:
            self.shown.add(pointer)
        return self.errors.get(pointer)

    def template(self) -> "_Context":
        """A context for a blank row template: no errors, a placeholder one level deeper."""
        return _Context({}, self.lookup_url, self.depth + 1)


def render_fields(form: FormModel, data: Mapping[str, Any] | None, errors: Mapping[str, str],
                  *, lookup_url: Callable[[str], str]) -> Markup:
    """All fields of ``form`` filled with ``data``; errors at their fields, the rest on top."""
    ctx = _Context(dict(errors), lookup_url)
    body = _layout(ctx, form.root.layout, "", data if isinstance(data, Mapping) else {})
    return join(_summary(form, ctx), body)


def placeholder(depth: int) -> str:
    """The row-index placeholder of a template (``__index__``; nested templates get their own)."""
    return "__index__" if depth <= 1 else f"__index{depth - 1}__"


def _layout(ctx: _Context, items: tuple[Field | Section, ...], prefix: str,
            data: Mapping[str, Any]) -> Markup:
    parts = []
    for item in items:
        if isinstance(item, Section):
            parts.append(_section(ctx, item, prefix, data))
        else:
            parts.append(_field(ctx, item, prefix, data.get(item.key)))
    return join(*parts)


def _field(ctx: _Context, field: Field, prefix: str, value: Any) -> Markup:
    name = join_name(prefix, field.key)
    if field.kind == "object":
        html = _object(ctx, field, name, value)
    elif field.kind == "rows":
        html = _rows(ctx, field, name, value)
    else:
        html = render_widget(Slot(field, name, value, ctx.take(name)), ctx.lookup_url)
    if field.show_when is not None:
        trigger = join_name(prefix, field.show_when)
        html = tag("div", {"class": "x-dep", "data-show-when": trigger}, html)
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
    return tag("div", {"class": "x-cond", "data-cond": json_attr(clauses)},
               _layout(ctx, section.layout, prefix, data))


def _legend(field: Field) -> Markup:
    return tag("legend", {"class": "x-legend w-auto px-1"}, field.title, required_mark(field))


def _object(ctx: _Context, field: Field, name: str, value: Any) -> Markup:
    slot = Slot(field, name, value, ctx.take(name))
    data = value if isinstance(value, Mapping) else {}
    return tag("fieldset", {"class": "x-object form-group border rounded px-3 pb-1",
                            "id": slot.id, "data-field": field.path},
               _legend(field), help_text(slot), feedback(slot.error),
               _layout(ctx, field.layout, name, data))


def _rows(ctx: _Context, field: Field, name: str, value: Any) -> Markup:
    """Existing rows (or blank ones), a hidden ``<template>`` row and the 添加一行 button."""
    slot = Slot(field, name, value, ctx.take(name))
    rows = [r for r in value] if isinstance(value, list) else []
    if not rows:
        rows = [{}] * max(_int(field.schema.get("minItems")), 1)
    inner = ctx.template()
    marker = placeholder(inner.depth)
    template = tag("template", {"class": "x-row-template", "data-placeholder": marker},
                   _row(inner, field, name, marker, {}))
    add = tag("button", {"type": "button", "class": "btn btn-sm btn-outline-primary x-row-add"},
              "添加一行")
    body = tag("div", {"class": "x-rows-body"},
               *[_row(ctx, field, name, str(i), row) for i, row in enumerate(rows)])
    return tag("fieldset", {
        "class": "x-rows form-group", "id": slot.id, "data-field": field.path,
        "data-min-items": _opt_int(field.schema.get("minItems")),
        "data-max-items": _opt_int(field.schema.get("maxItems")),
    }, _legend(field), help_text(slot), feedback(slot.error), body, template, add)


def _row(ctx: _Context, field: Field, name: str, index: str, value: Any) -> Markup:
    row_name = join_name(name, index)
    error = ctx.take(row_name) if index.isdigit() else None
    data = value if isinstance(value, Mapping) else {}
    number = str(int(index) + 1) if index.isdigit() else ""
    title = tag("legend", {"class": "x-row-title w-auto px-1 small text-muted"},
                "第 ", tag("span", {"class": "x-row-number"}, number), " 行")
    remove = tag("button", {"type": "button", "class": "btn btn-sm btn-outline-danger x-row-remove"},
                 "删除")
    return tag("fieldset", {"class": "x-row border rounded px-3 pb-2 mb-2", "data-index": index,
                            "id": html_id(row_name)},
               title, feedback(error), _layout(ctx, field.layout, row_name, data),
               tag("div", {"class": "text-right"}, remove))


def _summary(form: FormModel, ctx: _Context) -> Markup:
    """Errors that have no field on the page (root errors, unknown keys, missing rows)."""
    rest = [(p, m) for p, m in ctx.errors.items() if p not in ctx.shown]
    if not rest:
        return Markup("")
    items = [tag("li", None, _summary_label(form, p), m) for p, m in rest]
    return tag("div", {"class": "alert alert-danger x-error-summary", "role": "alert"},
               tag("ul", {"class": "mb-0"}, *items))


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

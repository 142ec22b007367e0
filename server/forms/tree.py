"""Building the field tree from a schema: kinds, order, conditional sections and dependents.

Kept apart from :mod:`server.forms.fields` (the shapes) because this is the only code that has to
understand schema *authoring* conventions: ``$ref`` to ``$defs``, ``x-ui.order``, ``if``/``then``/
``else`` nested in ``allOf`` and ``dependentRequired``.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from server.forms.fields import (
    Condition,
    Field,
    LayoutItem,
    Section,
    choices_of,
    main_type,
)
from server.forms.pointers import join_name, split_pointer

_TEST_KEYWORDS = frozenset({"const", "enum", "title", "description", "$comment"})
_IF_KEYWORDS = frozenset({"properties", "required", "type", "title", "description", "$comment"})
_EMPTY: Mapping[str, Any] = {}
#: Nesting depth at which a (recursive ``$ref``) schema stops being expanded into fields.
_MAX_DEPTH = 16


def build_tree(schema: Mapping[str, Any]) -> Field:
    """The root object field of a form schema (key and path are empty)."""
    schema = schema if isinstance(schema, Mapping) else _EMPTY  # the loader reports the error
    builder = _Builder(schema)
    root = Field(key="", path="", kind="object", title=str(schema.get("title", "")),
                 schema=schema, required=True)
    builder.fill(root, schema)
    return root


class _Builder:
    """Holds the root schema so that local ``$ref``s can be followed anywhere in the tree."""

    def __init__(self, root: Mapping[str, Any]):
        self.root = root

    def resolve(self, schema: Any) -> Mapping[str, Any]:
        """Follow local ``$ref``s (``#/$defs/x``), sibling keywords winning over the target's."""
        for _ in range(32):
            if not isinstance(schema, Mapping):
                return _EMPTY
            ref = schema.get("$ref")
            if not (isinstance(ref, str) and ref.startswith("#")):
                return schema
            target: Any = self.root
            for token in split_pointer(ref[1:]):
                target = target.get(token) if isinstance(target, Mapping) else None
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest} if isinstance(target, Mapping) else rest
        return _EMPTY

    def field(self, key: str, schema: Any, parent: str, required: bool, **extra: Any) -> Field:
        schema = self.resolve(schema)
        kind, widget = self.kind(schema)
        if parent.count("/") >= _MAX_DEPTH and kind in ("object", "rows"):
            kind = "text"  # a self-referencing schema must not recurse forever
        result = Field(key=key, path=join_name(parent, key), kind=kind, widget=widget,
                       title=str(schema.get("title", key)), schema=schema, required=required,
                       **extra)
        if kind == "object":
            self.fill(result, schema)
        elif kind == "rows":
            self.fill(result, self.resolve(schema.get("items")))
        elif kind in ("multi", "lines"):
            items = self.resolve(schema.get("items"))
            result.choices = choices_of(items)
            result.item_type = main_type(items) or "string"
        elif kind == "choice":
            result.choices = choices_of(schema)
        return result

    def kind(self, schema: Mapping[str, Any]) -> tuple[str, str | None]:
        """The field kind and the widget variant (``radio``/``select`` for a choice)."""
        ui = schema.get("x-ui") if isinstance(schema.get("x-ui"), Mapping) else _EMPTY
        widget = ui.get("widget") if isinstance(ui.get("widget"), str) else None
        typ = main_type(schema)
        if typ == "array" or (typ is None and "items" in schema):
            items = self.resolve(schema.get("items"))
            if choices_of(items):
                return "multi", widget
            if main_type(items) == "object" or "properties" in items:
                return "rows", widget
            return "lines", widget
        if typ == "object" or (typ is None and "properties" in schema):
            return "object", widget
        if isinstance(ui.get("ref"), str) and ui.get("ref"):
            return "ref", widget
        if choices_of(schema):
            return "choice", "radio" if widget == "radio" else "select"
        return _scalar_kind(typ, schema.get("format"), widget), widget

    def fill(self, container: Field, schema: Mapping[str, Any]) -> None:
        """Children, sections, dependents and layout of an object (or of each row)."""
        props = self.properties(schema)
        required = _string_set(schema.get("required"))
        order = _ordered(props, schema)
        base = [self.field(k, props[k], container.path, k in required) for k in order]
        sections = self.sections(container, schema, set(props), order)
        container.sections = tuple(sections)
        container.dependents = self.dependents(schema)
        _mark_dependents(base, sections, container.dependents, required)
        container.layout = _layout(base, sections)
        container.children = tuple(_flatten(container.layout))

    def properties(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return {}
        return {k: v for k, v in props.items() if isinstance(k, str)}

    def sections(self, container: Field, schema: Mapping[str, Any], base: set[str],
                 order: list[str]) -> list[Section]:
        """One section per ``then``/``else`` branch that declares fields of its own."""
        result: list[Section] = []
        seen: dict[str, Field] = {}
        known = list(order)
        for conditions, branch in _branches(self, schema, ()):
            props = self.properties(branch)
            keys = [k for k in _ordered(props, schema) if k not in base]
            if not keys:
                continue
            required = _string_set(branch.get("required"))
            fields = []
            for key in keys:
                if key not in seen:
                    seen[key] = self.field(key, props[key], container.path, key in required,
                                           in_section=True)
                    fields.append(seen[key])
                    known.append(key)
            trigger = _trigger(conditions[-1], known)
            result.append(Section(conditions, tuple(keys), tuple(fields), trigger))
        return result

    def dependents(self, schema: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        """``dependentRequired`` of the object and of its ``allOf`` entries, merged."""
        merged: dict[str, tuple[str, ...]] = {}
        for part in _with_all_of(self, schema):
            value = part.get("dependentRequired")
            if isinstance(value, Mapping):
                for trigger, deps in value.items():
                    extra = tuple(d for d in deps if isinstance(d, str)) if isinstance(deps, list) else ()
                    merged[trigger] = merged.get(trigger, ()) + extra
        return merged


def _scalar_kind(typ: str | None, fmt: Any, widget: str | None) -> str:
    if typ == "boolean" or widget == "checkbox":
        return "boolean"
    if typ in ("integer", "number"):
        return typ
    if widget == "textarea":
        return "textarea"
    if fmt == "date" or widget == "date":
        return "date"
    if fmt == "date-time" or widget == "datetime":
        return "datetime"
    return "text"


def _string_set(value: Any) -> set[str]:
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _ordered(props: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Names listed in ``x-ui.order`` first (in that order), then the rest in file order."""
    ui = schema.get("x-ui") if isinstance(schema.get("x-ui"), Mapping) else _EMPTY
    order = ui.get("order") if isinstance(ui.get("order"), list) else []
    first = [k for k in dict.fromkeys(order) if isinstance(k, str) and k in props]
    return first + [k for k in props if k not in first]


def _with_all_of(builder: _Builder, schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The schema and, recursively, every ``allOf`` entry (where authors group conditions)."""
    yield schema
    entries = schema.get("allOf")
    for entry in entries if isinstance(entries, list) else ():
        yield from _with_all_of(builder, builder.resolve(entry))


def _branches(builder: _Builder, schema: Mapping[str, Any], chain: tuple[Condition, ...]
              ) -> Iterator[tuple[tuple[Condition, ...], Mapping[str, Any]]]:
    """Every ``then``/``else`` with the chain of conditions leading to it (nested branches too)."""
    for part in _with_all_of(builder, schema):
        if "if" not in part:
            continue
        for keyword, negate in (("then", False), ("else", True)):
            branch = part.get(keyword)
            if isinstance(branch, Mapping):
                branch = builder.resolve(branch)
                here = chain + (Condition(part["if"], negate, _browser_tests(part["if"])),)
                yield here, branch
                yield from _branches(builder, branch, here)


def _browser_tests(if_schema: Any) -> tuple[Mapping[str, Any], ...] | None:
    """The ``if`` as sibling tests the page script understands, or None when it is richer."""
    if not isinstance(if_schema, Mapping) or set(if_schema) - _IF_KEYWORDS:
        return None
    props = if_schema.get("properties", {})
    required = _string_set(if_schema.get("required"))
    if not isinstance(props, Mapping):
        return None
    tests: list[Mapping[str, Any]] = []
    for key, sub in props.items():
        if not isinstance(sub, Mapping) or set(sub) - _TEST_KEYWORDS:
            return None
        test: dict[str, Any] = {"key": key, "required": key in required}
        if "const" in sub:
            test["const"] = sub["const"]
        if isinstance(sub.get("enum"), list):
            test["enum"] = list(sub["enum"])
        tests.append(test)
    tests.extend({"key": k, "required": True} for k in sorted(required - set(props)))
    return tuple(tests)


def _trigger(condition: Condition, known: list[str]) -> str | None:
    """The tested field shown last: the section goes right after it."""
    if_schema = condition.if_schema if isinstance(condition.if_schema, Mapping) else _EMPTY
    props = if_schema.get("properties")
    tested = set(props) if isinstance(props, Mapping) else set()
    tested |= _string_set(if_schema.get("required"))
    positions = [known.index(k) for k in tested if k in known]
    return known[max(positions)] if positions else None


def _mark_dependents(base: list[Field], sections: list[Section],
                     dependents: Mapping[str, tuple[str, ...]], required: set[str]) -> None:
    """Give each ``dependentRequired`` dependent its trigger (first trigger wins)."""
    fields = {f.key: f for f in base}
    for section in sections:
        fields.update({f.key: f for f in section.fields})
    for trigger, deps in dependents.items():
        for key in deps:
            target = fields.get(key)
            if target is not None and target.show_when is None and key not in required:
                target.show_when = trigger
                target.required = True


def _layout(base: list[Field], sections: list[Section]) -> tuple[LayoutItem, ...]:
    """Fields in order, each followed by the sections it triggers; untriggered sections last."""
    by_trigger: dict[str | None, list[Section]] = {}
    for section in sections:
        by_trigger.setdefault(section.trigger, []).append(section)
    items = _place(base, by_trigger)
    while by_trigger:
        trigger, group = next(iter(by_trigger.items()))
        section = group.pop(0)
        if not group:
            del by_trigger[trigger]
        section.layout = _place(section.fields, by_trigger)
        items += (section,)
    return items


def _place(fields: Iterable[Field], by_trigger: dict[str | None, list[Section]]
           ) -> tuple[LayoutItem, ...]:
    items: list[LayoutItem] = []
    for item in fields:
        items.append(item)
        for section in by_trigger.pop(item.key, []):
            section.layout = _place(section.fields, by_trigger)
            items.append(section)
    return tuple(items)


def _flatten(layout: Iterable[LayoutItem]) -> Iterator[Field]:
    for item in layout:
        if isinstance(item, Section):
            yield from _flatten(item.layout)
        else:
            yield item

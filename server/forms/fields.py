"""The field tree: what each part of a schema *is* on the page, decided once per schema.

The renderer, the parser, the validator's message mapping, the list/export columns and the detail
view all ask the same questions (which widget, which label, which choices, which section), so the
answers live here and every other module walks this tree instead of re-reading the schema.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

#: Kinds whose value is one JSON scalar (a string, number or boolean).
SCALAR_KINDS = frozenset(
    {"text", "textarea", "date", "datetime", "integer", "number", "boolean", "choice", "ref"}
)


@dataclass(frozen=True)
class Condition:
    """One ``if`` a section depends on; ``negate`` for the ``else`` branch.

    ``tests`` is the browser's version of the ``if`` (sibling ``const``/``enum``/presence tests) or
    ``None`` when the ``if`` is too rich for the page script, which then always shows the section.
    The server always evaluates ``if_schema`` itself.
    """

    if_schema: Mapping[str, Any]
    negate: bool
    tests: tuple[Mapping[str, Any], ...] | None


@dataclass(eq=False)
class Section:
    """Fields shown only while every condition of ``conditions`` holds (nested branches add more).

    ``keys`` are all property names the branch declares beyond the object's own properties; a key
    declared by two branches is rendered once (``fields`` of the first) but kept if either is active.
    """

    conditions: tuple[Condition, ...]
    keys: tuple[str, ...]
    fields: tuple["Field", ...] = field(default=(), repr=False)
    trigger: str | None = None
    layout: tuple["Field | Section", ...] = field(default=(), repr=False)


LayoutItem = Union["Field", Section]


@dataclass(eq=False)
class Field:
    """One property. ``path`` is its input name without array indices (``rows/item``).

    Containers (``object``, and ``rows`` standing for the object of each row) carry ``children``
    (every field, display order), ``layout`` (fields and sections as rendered), ``sections`` and
    ``dependents`` (``dependentRequired``: trigger key → dependent keys).
    """

    key: str
    path: str
    kind: str
    title: str
    schema: Mapping[str, Any] = field(repr=False)
    required: bool = False
    widget: str | None = None
    choices: tuple[tuple[Any, str], ...] = ()
    item_type: str = "string"
    children: tuple["Field", ...] = field(default=(), repr=False)
    layout: tuple[LayoutItem, ...] = field(default=(), repr=False)
    sections: tuple[Section, ...] = field(default=(), repr=False)
    dependents: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    show_when: str | None = None
    in_section: bool = False

    @property
    def ui(self) -> Mapping[str, Any]:
        """The field's ``x-ui`` hints (empty when absent or malformed)."""
        ui = self.schema.get("x-ui")
        return ui if isinstance(ui, Mapping) else {}

    @property
    def description(self) -> str:
        value = self.schema.get("description")
        return value if isinstance(value, str) else ""

    @property
    def ref(self) -> str | None:
        """The form id an ``x-ui.ref`` field points at."""
        ref = self.ui.get("ref")
        return ref if isinstance(ref, str) and ref else None

    def child(self, key: str) -> "Field | None":
        """The direct child named ``key`` of a container (None when unknown)."""
        for candidate in self.children:
            if candidate.key == key:
                return candidate
        return None

    def choice_title(self, value: Any) -> str | None:
        """The title of the choice whose ``const`` equals ``value`` (JSON equality: 1 is not true)."""
        for const, title in self.choices:
            if json_equal(const, value):
                return title
        return None


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema's ``const`` sees it for scalars: booleans never equal numbers."""
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def option_value(const: Any) -> str:
    """How a choice's ``const`` travels in HTML: strings as they are, other JSON values as JSON."""
    return const if isinstance(const, str) else json.dumps(const, ensure_ascii=False)


def main_type(schema: Mapping[str, Any]) -> str | None:
    """The schema's ``type``; for a list such as ``["string", "null"]`` the first non-null one."""
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), None)
    return typ if isinstance(typ, str) else None


def choices_of(schema: Mapping[str, Any]) -> tuple[tuple[Any, str], ...]:
    """``oneOf``/``anyOf`` of ``const`` + ``title`` (the documented way), or a plain ``enum``."""
    for keyword in ("oneOf", "anyOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options and all(
            isinstance(o, Mapping) and "const" in o for o in options
        ):
            return tuple((o["const"], str(o.get("title", o["const"]))) for o in options)
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return tuple((value, str(value)) for value in enum)
    return ()

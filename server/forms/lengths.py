"""Default maximum lengths: no text a user types is unbounded, whatever the form author wrote.

A string field without ``maxLength`` once accepted a 10 MB 事由摘要, and every list, export, search
text and history diff carried it from then on. So every free-text string gets a limit fitting what
it is on the page; a form that needs more (or less) says ``maxLength`` itself, and its own value
wins. The limits are added to a copy of the schema *before* the validator and the field tree are
built, so the server's check, its Chinese message (不能超过 N 个字), the ``maxlength`` of the HTML
input and the OpenAPI document all come from one number.

Where the limit goes: every field a value can sit at (``properties``, ``items``, and the fields that
``then``/``else``/``allOf`` … branches add), never inside ``if``/``not``/``contains`` (a limit there
would change what a condition means) and never on a branch's redeclaration of an existing field. A
local ``$ref`` is judged with its siblings (``x-ui.widget`` may sit beside it), and the limit is put
beside the ``$ref``, so a shared definition keeps no default of its own.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from server.forms.fields import choices_of, main_type
from server.forms.pointers import split_pointer

#: One line of text: names, phone numbers, places, short answers.
TEXT_MAX = 200
#: A text area: summaries, measures taken, minutes of a meeting.
TEXTAREA_MAX = 5000
#: A record number chosen with the picker (``x-ui.ref``): numbers are short.
REF_MAX = 100
#: Dates and date-times are bounded by their format check; choices (``oneOf``/``enum``/``const``,
#: org units included) by their options: neither gets a length of its own.
_BOUNDED_FORMATS = frozenset({"date", "date-time"})
_BOUNDED_WIDGETS = frozenset({"date", "datetime", "checkbox", "select", "radio", "checkboxes"})
#: Keywords whose subschemas describe the value itself (branches: more rules for the same object)
#: or a part of it (properties, items ...).
_SCHEMA_MAPS = ("properties", "patternProperties")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_BRANCHES = ("then", "else")
_VALUES = ("items", "prefixItems", "additionalProperties", "unevaluatedProperties", "unevaluatedItems")


def with_default_lengths(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` in which every free-text string has a ``maxLength``."""
    result = copy.deepcopy(dict(schema))
    _Walker(result).visit(result)
    return result


def default_max_length(schema: Mapping[str, Any]) -> int | None:
    """The limit a node of ``"type": "string"`` gets when it sets none; None when it needs none
    (not a string, a choice, a date, or it has ``maxLength`` already)."""
    if "maxLength" in schema or "const" in schema or "enum" in schema or choices_of(schema):
        return None
    typ = schema.get("type")
    if typ != "string" and not (isinstance(typ, list) and "string" in typ):
        return None  # untyped nodes are conditions, groups or redeclarations, not text fields
    ui = schema.get("x-ui") if isinstance(schema.get("x-ui"), Mapping) else {}
    widget = ui.get("widget")
    if schema.get("format") in _BOUNDED_FORMATS or widget in _BOUNDED_WIDGETS:
        return None
    if isinstance(ui.get("ref"), str) and ui.get("ref"):
        return REF_MAX
    if isinstance(ui.get("org"), Mapping):
        return None  # the unit's code: expanded into choices when the form is put into service
    return TEXTAREA_MAX if widget == "textarea" else TEXT_MAX


class _Walker:
    """Walks value positions of one schema document (the copy), following local ``$ref``s once.

    ``declared`` are the property names of the object a branch (``then``, ``allOf`` …) belongs to:
    a branch that names one of them again (``{"summary": {"type": "string", "minLength": 10}}``)
    adds a rule to that field, not a field, so it gets no default (200 would cap a text area)."""

    def __init__(self, root: dict[str, Any]):
        self.root = root
        self.entered: set[str] = set()

    def visit(self, node: Any, declared: frozenset[str] = frozenset(), redeclared: bool = False) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        target = self._target(ref) if isinstance(ref, str) and ref.startswith("#") else None
        judged = {**target, **{k: v for k, v in node.items() if k != "$ref"}} if target is not None else node
        limit = None if redeclared else default_max_length(judged)
        if limit is not None:
            node["maxLength"] = limit
        self._children(node, declared)
        if target is not None and ref not in self.entered:
            self.entered.add(ref)  # a shared definition is walked once (and a recursive one ends)
            self._children(target, frozenset())

    def _children(self, node: dict[str, Any], declared: frozenset[str]) -> None:
        props = node.get("properties")
        names = declared | frozenset(props) if isinstance(props, Mapping) else declared
        for key in _SCHEMA_MAPS:
            value = node.get(key)
            if isinstance(value, Mapping):
                for name, child in value.items():
                    self.visit(child, redeclared=key == "properties" and name in declared)
        branches = [node.get(key) for key in _BRANCHES if isinstance(node.get(key), Mapping)]
        if isinstance(node.get("dependentSchemas"), Mapping):
            branches += list(node["dependentSchemas"].values())
        branches += [b for key in _SCHEMA_LISTS if key != "prefixItems" and isinstance(node.get(key), list)
                     for b in node[key]]
        for branch in branches:
            self.visit(branch, names)
        for key in _VALUES:
            value = node.get(key)
            for child in (value if key in ("items", "prefixItems") and isinstance(value, list) else [value]):
                self.visit(child)

    def _target(self, ref: str) -> dict[str, Any] | None:
        found: Any = self.root
        for token in split_pointer(ref[1:]):
            found = found.get(token) if isinstance(found, dict) else None
        return found if isinstance(found, dict) else None

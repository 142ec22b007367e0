"""Form fields that name an org unit (``x-ui.org``): offered as choices of the live org tree.

A field ``{"type": "string", "x-ui": {"org": {"kinds": ["county_unit"], "route": true}}}`` stores a
unit code. When a form is put into service its schema gets the matching active units as
``oneOf`` choices, so the page shows a select of unit names, lists and exports show names, filters
work, and validation refuses unknown codes, all through the ordinary choice machinery. ``route``
marks fields whose unit the record is routed to (归口分流), so that unit's staff see it.

A choice beneath a township or a department carries that parent's name as its ``description``
("东风社区" in "城关街道"): villages of two townships may share a name, so the picker (static
``orgpicker.js``) searches and shows the path, while lists and pages show the unit's own name.
``within`` names another org field whose unit this one must lie beneath (村 in the chosen 乡镇).
``scoped`` marks a *place* field (where something happened): the records service lets a user
choose only units of their own area there (:func:`server.records.places.check_places`), whereas a
routing field may name any unit of the county.
"""
from __future__ import annotations

import copy
from typing import Any, Iterator, Mapping

from server.forms.pointers import escape_token
from server.memo import by_schema

UnitIndex = Mapping[str, tuple[str, str, str]]  # code -> (name, kind, parent's name), active units in tree order

_CONTAINERS = ("then", "else")


def has_org_fields(schema: Any) -> bool:
    return any(True for _ in _org_fields(schema, ""))


def expand_org_fields(schema: Mapping[str, Any], units: UnitIndex) -> dict[str, Any]:
    """A copy of ``schema`` whose org fields list the units of their kinds as oneOf choices."""
    expanded = copy.deepcopy(dict(schema))
    for field, _pointer in _org_fields(expanded, ""):
        kinds = set(field["x-ui"]["org"].get("kinds") or [])
        choices = [_choice(code, name, parent) for code, (name, kind, parent) in units.items() if kind in kinds]
        field["oneOf"] = choices or [{"const": "", "title": "（没有可选的单位）"}]
    return expanded


def _choice(code: str, name: str, parent: str) -> dict[str, str]:
    """One unit as a choice; the parent's name (not the county's) rides along for the picker."""
    return {"const": code, "title": name, "description": parent} if parent else {"const": code, "title": name}


def scoped_fields(schema: Mapping[str, Any]) -> list[str]:
    """Pointers (rows as ``*``) of the place fields a user may fill only with units of their own area."""
    return [pointer for field, pointer in _fields_of(schema) if field["x-ui"]["org"].get("scoped")]


def within_fields(schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(pointer, pointer of the field whose unit it must lie beneath) of org fields with ``within``
    (a village beneath the township chosen in another field)."""
    return [(pointer, field["x-ui"]["org"]["within"]) for field, pointer in _fields_of(schema)
            if isinstance(field["x-ui"]["org"].get("within"), str)]


def route_fields(schema: Mapping[str, Any]) -> list[str]:
    """Pointers (without row indices: ``/a/*/b``) of the org fields whose unit a record is routed to."""
    return [pointer for field, pointer in _fields_of(schema) if field["x-ui"]["org"].get("route")]


@by_schema
def _fields_of(schema: Mapping[str, Any]) -> list[tuple[dict[str, Any], str]]:
    return list(_org_fields(schema, ""))


def _org_fields(schema: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    if not isinstance(schema, dict):
        return
    ui = schema.get("x-ui")
    if isinstance(ui, dict) and isinstance(ui.get("org"), dict):
        yield schema, pointer
    for key, child in (schema.get("properties") or {}).items():
        yield from _org_fields(child, f"{pointer}/{escape_token(key)}")
    if isinstance(schema.get("items"), dict):
        yield from _org_fields(schema["items"], f"{pointer}/*")
    for key in _CONTAINERS:
        yield from _org_fields(schema.get(key), pointer)
    for branch in schema.get("allOf") or []:
        yield from _org_fields(branch, pointer)


def values_at(data: Any, pointer: str) -> list[str]:
    """Every string at ``pointer`` in ``data`` (``*`` walks all rows of an array)."""
    parts = [p for p in pointer.split("/")[1:]]
    found: list[Any] = [data]
    for part in parts:
        step: list[Any] = []
        for node in found:
            if part == "*" and isinstance(node, list):
                step.extend(node)
            elif isinstance(node, dict) and part.replace("~1", "/").replace("~0", "~") in node:
                step.append(node[part.replace("~1", "/").replace("~0", "~")])
        found = step
    return [v for v in found if isinstance(v, str) and v]

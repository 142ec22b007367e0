"""Where a JSON pointer lands in a form's schema, and what kind of value lives there.

Configuration names record fields by JSON pointer everywhere (document mappings, facts, workflow
dialogs, record mappings); ``config check`` resolves each against the form's schema, conditional
sections included, so a misspelt field is reported before it can fail on a live record.
"""
from __future__ import annotations

from typing import Any

from server.specs.metaschema import show


def schema_at(schema: Any, pointer: str) -> dict[str, Any] | None:
    """The sub-schema a record pointer reaches (array items by index or ``-`` = last), or None."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        return None
    node = schema
    for part in pointer.split("/")[1:]:
        if not isinstance(node, dict):
            return None
        properties = all_properties(node)
        if part in properties:
            node = properties[part]
        elif (part == "-" or part.isdigit()) and isinstance(node.get("items"), dict):
            node = node["items"]
        else:
            return None
    return node if isinstance(node, dict) else None


def all_properties(node: dict[str, Any]) -> dict[str, Any]:
    """Properties of an object schema, including those its conditional branches add."""
    merged = dict(node.get("properties") or {})
    for key in ("then", "else"):
        if isinstance(node.get(key), dict):
            merged.update(all_properties(node[key]))
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(key) or []:
            if isinstance(branch, dict):
                merged.update(all_properties(branch))
    return merged


def value_type(schema: dict[str, Any] | None) -> str | None:
    """The JSON type a field holds (``"string"`` for choices, dates and org units), or None."""
    if not isinstance(schema, dict):
        return None
    declared = schema.get("type")
    if isinstance(declared, str):
        return declared
    if "oneOf" in schema:
        consts = [c.get("const") for c in schema["oneOf"] if isinstance(c, dict)]
        if consts and all(isinstance(c, str) for c in consts):
            return "string"
    if "properties" in schema:
        return "object"
    return None


def is_date_field(schema: dict[str, Any] | None) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "string" and schema.get("format") in ("date", "date-time")


def find_field(at: str, pointer: Any, schema: dict[str, Any] | None, form: Any) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
    """``(problems, field schema)`` of a pointer that configuration says names a field of ``form``
    (``schema`` None: that form is broken and already reported, so nothing is said)."""
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        return [(at, f"应为以 / 开头的 JSON 指针，实际为 {show(pointer)}")], None
    if schema is None:
        return [], None
    found = schema_at(schema, pointer)
    if found is None:
        return [(at, f"表单 {show(form)} 中没有字段 {show(pointer)}")], None
    return [], found

"""Our meta-schema: what a form file may contain beyond plain JSON Schema, and how violations read.

A form is a JSON Schema 2020-12 document; the standard meta-schema says whether it is a valid
schema. This one adds the rules of docs/forms.md that are pure structure (a titled object root, the
shape of ``x-form`` and ``x-ui``, a title on every field, one supported ``type``) so that they stay
declarative and readable; rules that need to compare values (names that must exist, widgets that
must fit the field) are checked in ``loader``. ``describe`` turns a ``jsonschema`` error, from either
meta-schema, into ``(pointer, Chinese message)`` pairs that say what was expected and what was found.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from server.auth.roles import ACTIONS, ROLES
from server.org.kinds import KINDS
from server.specs.jsonpos import pointer_join

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SUPPORTED_TYPES = ["string", "integer", "number", "boolean", "object", "array"]
WIDGETS = ["text", "textarea", "select", "radio", "checkboxes", "checkbox", "date", "datetime"]

_STRINGS = {"type": "array", "items": {"type": "string"}}

FORM_META_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "$id": "urn:ledger:form-meta-schema",
    "$ref": "#/$defs/section",
    "type": "object",
    "required": ["type", "title", "properties"],
    "properties": {
        "$schema": {"const": DRAFT_2020_12},
        "type": {"const": "object"},
        "title": {"type": "string"},
        "x-form": {
            "type": "object",
            "properties": {"number_pattern": {"type": "string"}, "menu_order": {"type": "integer"},
                           "permissions": {"$ref": "#/$defs/permissions"}, "workflow": {"type": "string"}},
            "additionalProperties": False,
        },
        "x-ui": {
            "type": "object",
            "properties": {"order": _STRINGS, "list": _STRINGS, "filters": _STRINGS, "title": _STRINGS},
            "additionalProperties": False,
        },
        "x-confidential": {"type": "array", "items": {"$ref": "#/$defs/confidential"}},
    },
    "$defs": {
        # 要求保密: these fields, while ``when`` (a boolean field's pointer, or "always") holds, only for these readers.
        "confidential": {
            "type": "object",
            "required": ["title", "fields", "when", "readers"],
            "properties": {
                "title": {"type": "string", "minLength": 1},
                "fields": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "when": {"type": "string"},
                "readers": {"type": "array", "items": {"$ref": "#/$defs/reader"}},
            },
            "additionalProperties": False,
        },
        "reader": {
            "type": "object",
            "required": ["role"],
            "properties": {"role": {"enum": list(ROLES)},
                           "levels": {"type": "array", "minItems": 1, "items": {"enum": list(KINDS)}},
                           "unit": {"enum": ["owner", "creator"]}},
            "additionalProperties": False,
        },
        # Who may create / read / update the form's records, optionally only at some org levels.
        "permissions": {
            "type": "object",
            "properties": {action: {"type": "array", "items": {"$ref": "#/$defs/grant"}} for action in ACTIONS},
            "additionalProperties": False,
        },
        "grant": {
            "type": "object",
            "required": ["role"],
            "properties": {"role": {"enum": list(ROLES)},
                           "levels": {"type": "array", "minItems": 1, "items": {"enum": list(KINDS)}}},
            "additionalProperties": False,
        },
        # Anything that declares fields of one object: the object itself and its conditional branches.
        "section": {
            "properties": {
                "properties": {"type": "object", "additionalProperties": {"$ref": "#/$defs/field"}},
                "then": {"$ref": "#/$defs/section"},
                "else": {"$ref": "#/$defs/section"},
                "allOf": {"items": {"$ref": "#/$defs/section"}},
            },
        },
        # A field is a labelled value; array items are values too, but the array field carries the label.
        "field": {"$ref": "#/$defs/value", "required": ["title"]},
        "value": {
            "$ref": "#/$defs/section",
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "type": {"enum": SUPPORTED_TYPES},
                "items": {"$ref": "#/$defs/value"},
                "oneOf": {"type": "array", "items": {"$ref": "#/$defs/choice"}},
                "x-ui": {"$ref": "#/$defs/field_ui"},
            },
        },
        "choice": {
            "type": "object",
            "required": ["const", "title"],
            "properties": {"title": {"type": "string"}},
        },
        "field_ui": {
            "type": "object",
            "properties": {
                "widget": {"enum": WIDGETS},
                "placeholder": {"type": "string"},
                "order": _STRINGS,
                "errors": {"type": ["string", "object"], "additionalProperties": {"type": "string"}},
                "ref": {"type": "string"},
                "org": {
                    "type": "object",
                    "required": ["kinds"],
                    "properties": {"kinds": {"type": "array", "minItems": 1, "items": {"enum": list(KINDS)}},
                                   "route": {"type": "boolean"}, "scoped": {"type": "boolean"},
                                   # the unit must lie beneath the unit of this other field (a village of
                                   # the chosen township): a pointer to a root-level org field
                                   "within": {"type": "string", "pattern": "^/[^/]+$"}},
                    "additionalProperties": False,
                },
                "rows": {"type": "integer", "minimum": 1, "maximum": 50},
                # Personal data shown partly masked (110101********1234) to all but these readers
                # (server/records/confidential.py); an id_number is also checked (GB 11643 check digit).
                "sensitive": {"enum": ["id_number"]},
                "readers": {"type": "array", "items": {"$ref": "#/$defs/reader"}},
                # A section (top-level object field) of a workflow form filled only in these states
                # (server/records/stages.py); which states exist is checked with the workflow.
                "states": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
            },
            "dependentRequired": {"readers": ["sensitive"]},
            "additionalProperties": False,
        },
    },
}

FORM_META_VALIDATOR = Draft202012Validator(FORM_META_SCHEMA)
# The standard meta-schema, checked the way ``check_schema`` does (formats such as "regex" asserted).
JSON_SCHEMA_VALIDATOR = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)

_KIND_NAMES = {
    "string": "字符串", "integer": "整数", "number": "数字", "boolean": "布尔值",
    "object": "对象", "array": "数组", "null": "null",
}
_FORMAT_NAMES = {"regex": "正则表达式", "uri": "URI", "uri-reference": "URI 引用"}


def show(value: Any, limit: int = 60) -> str:
    """A value as JSON, shortened: messages must stay one readable line."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_list(values: list[Any]) -> str:
    """``"a"、"b"、"c"``: how messages enumerate allowed values."""
    return "、".join(show(v) for v in values)


def kind_of(value: Any) -> str:
    """The JSON kind of a value, with integers told apart from other numbers."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def found(value: Any) -> str:
    """What was found: the kind, and the value itself when it is short enough to help."""
    kind = kind_of(value)
    if kind == "null":
        return "null"
    if kind in ("object", "array"):
        return _KIND_NAMES[kind]
    return f"{_KIND_NAMES[kind]} {show(value)}"


def describe(error: ValidationError) -> Iterator[tuple[str, str]]:
    """``(pointer, message)`` for one ``jsonschema`` error; some errors are several problems."""
    pointer = pointer_join("", *error.absolute_path)
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword in ("anyOf", "oneOf") and error.context:
        # Report where the alternatives apply, with the reason of the most relevant one.
        yield pointer, next(describe(best_match(error.context)))[1]
    elif keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                yield pointer_join(pointer, key), f"不允许的键 {show(key)}（可用的键：{'、'.join(allowed)}）"
    elif keyword == "required" and isinstance(instance, dict):
        for key in expected:
            if key not in instance:
                yield pointer, f"缺少必需的键 {show(key)}"
    else:
        yield pointer, _describe_simple(keyword, expected, instance, error.message)


def _describe_simple(keyword: str, expected: Any, instance: Any, fallback: str) -> str:
    """The message of a keyword whose error is exactly one problem at the instance itself."""
    if keyword == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"应为{'或'.join(_KIND_NAMES.get(k, k) for k in kinds)}，实际为{found(instance)}"
    if keyword == "enum":
        return f"应为 {show_list(expected)} 之一，实际为 {show(instance)}"
    if keyword == "const":
        return f"应为 {show(expected)}，实际为 {show(instance)}"
    if keyword == "minimum":
        return f"应不小于 {expected}，实际为 {show(instance)}"
    if keyword == "maximum":
        return f"应不大于 {expected}，实际为 {show(instance)}"
    if keyword == "minLength" and isinstance(instance, str):
        return f"应至少有 {expected} 个字符，实际为 {len(instance)} 个"
    if keyword == "maxLength" and isinstance(instance, str):
        return f"应不超过 {expected} 个字符，实际为 {len(instance)} 个"
    if keyword == "maxItems" and isinstance(instance, list):
        return f"应至多有 {expected} 项，实际为 {len(instance)} 项"
    if keyword == "minItems":
        return f"应至少有 {expected} 项，实际为 {len(instance)} 项"
    if keyword == "uniqueItems":
        return f"各项应互不相同，实际 {show(_first_repeated(instance))} 出现了不止一次"
    if keyword == "format":
        return f"应为合法的{_FORMAT_NAMES.get(expected, expected)}，实际为 {show(instance)}"
    if keyword == "pattern":
        return f"应匹配 {expected}，实际为 {show(instance)}"
    return f"不符合 JSON Schema 的 {keyword} 规则：{fallback}"


def _first_repeated(items: list[Any]) -> Any:
    """The first item equal to an earlier one, in the JSON sense (``true`` is not ``1``)."""
    for index, item in enumerate(items):
        if any(item == earlier and isinstance(item, bool) == isinstance(earlier, bool)
               for earlier in items[:index]):
            return item
    return items

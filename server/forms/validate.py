"""Validation with one Chinese message per field, addressed by JSON pointer.

jsonschema reports errors per keyword and per *object* (``required`` is an error of the parent);
users need them per *field*, once, in the order they read the form. This module does that mapping
and applies the form's own ``x-ui.errors`` wording.
"""
from __future__ import annotations

import ast
import re
from collections import Counter
from typing import Any, Callable, Iterator, Mapping

from jsonschema.exceptions import ValidationError, best_match

from server import jsonsafe
from server.errors import FieldError
from server.forms.conditions import active_section_keys
from server.forms.fields import main_type
from server.forms.model import FormModel
from server.forms.pointers import escape_token, is_index, split_pointer, to_pointer
from server.forms.widgets import input_text

REQUIRED = "此项为必填项"
ROWS_REQUIRED = "请至少填写一行"
UNEXPECTED = "不允许的字段"
CHOOSE = "请从给定选项中选择"
FALLBACK = "不符合要求"
TOO_DEEP = "嵌套层次过深"

_TYPES = {
    "integer": "应为整数", "number": "应为数字", "string": "应为文本",
    "boolean": "应为“是”或“否”", "array": "应为列表", "object": "应为对象", "null": "应为空",
}
_FORMATS = {
    "date": "应为日期，例如 2026-05-01",
    "date-time": "应为日期时间，例如 2026-05-01T09:30",
    "id_number": "身份证号不正确：出生日期或最后一位校验码不符，请核对",
}
_BOUNDS: dict[str, Callable[[str], str]] = {
    "minimum": "不能小于 {}".format, "maximum": "不能大于 {}".format,
    "exclusiveMinimum": "应大于 {}".format, "exclusiveMaximum": "应小于 {}".format,
    "multipleOf": "应为 {} 的倍数".format, "minLength": "至少 {} 个字".format,
    "maxLength": "不能超过 {} 个字".format, "minItems": "至少需要 {} 项".format,
    "maxItems": "最多 {} 项".format,
}
_FIXED = {"pattern": "格式不正确", "uniqueItems": "不能有重复项", "enum": CHOOSE, "const": CHOOSE}
_UNEXPECTED_RE = re.compile(r"\((.*) (?:was|were) unexpected\)\s*$", re.S)

Explained = tuple[str, str, str]  # pointer, keyword, message


def validate(form: FormModel, data: Any) -> list[FieldError]:
    """Every field error of ``data``: one per pointer (first wins), in form order.

    Values no database can store (a NUL character, a lone surrogate, NaN/Infinity, nesting past 64) are
    refused here too, before the schema: every write path (API, pages, imports, CLI) comes through
    this function, and JSON Schema itself accepts them.
    """
    found: dict[str, FieldError] = {}
    try:
        for problem in jsonsafe.problems(data):
            pointer = owner_pointer(form, problem.pointer)
            found.setdefault(pointer, FieldError(pointer, problem.message))
    except jsonsafe.TooDeep as exc:
        return [FieldError(owner_pointer(form, str(exc)), TOO_DEEP)]
    seen: Counter[tuple[Any, ...]] = Counter()
    for error in form.validator.iter_errors(data):
        for pointer, keyword, message in _explain(form, error, seen):
            pointer = owner_pointer(form, pointer)
            if pointer not in found:
                found[pointer] = FieldError(pointer, message_for(form, pointer, keyword, message))
    return sorted(found.values(), key=lambda e: order_key(form, e.pointer))


def message_for(form: FormModel, pointer: str, keyword: str, default: str) -> str:
    """The field's own ``x-ui.errors`` message for ``keyword`` if it has one, else ``default``.

    Public so that checks made outside jsonschema (``ref``: the record number must exist) word
    their errors the way the form asks.
    """
    return form.custom_message(pointer, keyword) or default


def owner_pointer(form: FormModel, pointer: str) -> str:
    """The pointer of the field showing an error: items of a multi-choice belong to the list."""
    current = form.root
    tokens = split_pointer(pointer)
    for position, token in enumerate(tokens):
        if current.kind in ("multi", "lines"):
            return to_pointer(tokens[:position])
        if current.kind == "rows" and is_index(token):
            continue
        child = current.child(token) if current.kind in ("object", "rows") else None
        if child is None:
            return pointer
        current = child
    return pointer


def order_key(form: FormModel, pointer: str) -> tuple[tuple[int, str], ...]:
    """Sort key placing a pointer where its field appears on the page (unknown keys last)."""
    key: list[tuple[int, str]] = []
    current = form.root
    for token in split_pointer(pointer):
        if current is not None and current.kind == "rows" and is_index(token):
            key.append((int(token), ""))
            continue
        children = current.children if current is not None else ()
        index = next((i for i, c in enumerate(children) if c.key == token), None)
        if index is None:
            key.append((1 << 30, token))
            current = None
        else:
            key.append((index, ""))
            current = children[index]
    return tuple(key)


def _explain(form: FormModel, error: ValidationError, seen: Counter[tuple[Any, ...]]
             ) -> Iterator[Explained]:
    base = to_pointer(error.absolute_path)
    keyword = str(error.validator)
    if keyword in ("required", "dependentRequired"):
        key = (keyword, tuple(error.absolute_path), tuple(error.absolute_schema_path))
        missing = _missing(keyword, error.validator_value, error.instance)
        position = seen[key]
        seen[key] += 1
        if position < len(missing):
            pointer = f"{base}/{escape_token(missing[position])}"
            yield pointer, keyword, ROWS_REQUIRED if _is_rows(form, pointer) else REQUIRED
        return
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        extras = _unexpected(form, error)
        if extras is None:
            yield base, keyword, UNEXPECTED
        for extra in extras or ():
            yield f"{base}/{escape_token(extra)}", keyword, UNEXPECTED
        return
    if keyword in ("oneOf", "anyOf"):
        field = form.field_at(base)
        if (field is not None and field.choices) or not error.context:
            yield base, keyword, CHOOSE
            return
        best = best_match(error.context)
        yield from _explain(form, best, seen) if best is not None else ()
        return
    if keyword == "minItems" and error.instance == [] and _is_rows(form, base):
        yield base, keyword, ROWS_REQUIRED
        return
    yield base, keyword, _message(keyword, error.validator_value)


def _is_rows(form: FormModel, pointer: str) -> bool:
    """A repeatable-rows field: "required" there means "at least one row"."""
    field = form.field_at(pointer)
    return field is not None and field.kind == "rows"


def _message(keyword: str, value: Any) -> str:
    if keyword == "type":
        types = value if isinstance(value, list) else [value]
        typ = main_type({"type": types}) or "null"
        return _TYPES.get(typ, FALLBACK)
    if keyword == "format":
        return _FORMATS.get(value, "格式不正确")
    if keyword in _BOUNDS:
        return _BOUNDS[keyword](input_text(value))
    return _FIXED.get(keyword, FALLBACK)


def _missing(keyword: str, value: Any, instance: Any) -> list[str]:
    """Missing names in the order jsonschema reports them (one error each)."""
    if not isinstance(instance, Mapping):
        return []
    if keyword == "required":
        return [name for name in value if name not in instance]
    return [each for trigger, deps in value.items() if trigger in instance
            for each in deps if each not in instance]


def _unexpected(form: FormModel, error: ValidationError) -> list[str] | None:
    """The keys an additional/unevaluated-properties error refuses (None: cannot tell which).

    Keys of a section whose condition holds are not "unexpected": jsonschema only counts them as
    evaluated when the whole branch passes, and the branch's own errors already say what is wrong.
    """
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties":
        props, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
        return [k for k in instance if k not in props and not any(re.search(p, k) for p in patterns)]
    match = _UNEXPECTED_RE.search(error.message)
    try:
        keys = ast.literal_eval(f"[{match.group(1)}]") if match else None
    except (ValueError, SyntaxError):
        keys = None
    if keys is None:
        return None
    container = form.field_at(to_pointer(error.absolute_path))
    active = active_section_keys(form, container, instance) if container is not None else set()
    return [k for k in keys if isinstance(k, str) and k in instance and k not in active]

"""Facts, typed and checked against their provider's JSON Schema before they reach the rule engine.

Pure Python; this module does not import durable_rules. The engine compares loosely (``"100" < 90``
is true, ``"true" == true``), so nothing untyped may reach it: :func:`normalise_fact` coerces clean
strings to the declared number/integer/boolean type, refuses anything ambiguous, drops ``None``
(a missing attribute makes a condition false, which is how the engine treats it), and rejects
unknown or reserved attributes, nested values, non-JSON values and numbers or strings the C core
cannot handle. :func:`check_fact` is the cheap re-check the engine runs on every fact it is given.

Schema: a flat JSON Schema ``{"type": "object", "properties": {attr: {"type": T}}, "required": [...]}``
where ``T`` is ``"integer" | "number" | "string" | "boolean" | "null"`` or a list of them
(``["number", "null"]``).
"""
from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from .conditions import (
    ATTRIBUTE_RE,
    RESERVED_ATTRIBUTES,
    attribute_problem,
    describe_value,
    escape_pointer,
    number_problem,
    string_problem,
)

__all__ = ["FactError", "MAX_ATTRIBUTES", "check_fact", "normalise_fact"]

#: Most attributes one fact may have (the C core stops at 255 flattened properties, incl. sid/id/_t).
MAX_ATTRIBUTES = 200

_SUPPORTED_TYPES = frozenset({"integer", "number", "string", "boolean", "null"})
_TYPE_NAMES = {"integer": "整数", "number": "数字", "string": "字符串", "boolean": "布尔值（true/false）", "null": "null"}
_INTEGER_RE = re.compile(r"-?(0|[1-9][0-9]*)")
_NUMBER_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}


class FactError(ValueError):
    """A fact that cannot be evaluated. ``problems``: ``[(json_pointer, message)]``, messages in Chinese."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = list(problems)
        super().__init__("；".join(f"{p or '/'}：{m}" for p, m in self.problems))


def _pointer(attr: Any) -> str:
    return "/" + escape_pointer(attr)


def _types(attr: str, prop: Any) -> tuple[str, ...]:
    t = prop.get("type") if isinstance(prop, dict) else None
    types = (t,) if isinstance(t, str) else tuple(t) if isinstance(t, list) else ()
    if not types or any(x not in _SUPPORTED_TYPES for x in types):
        # the schema is code (a fact provider's declaration), not county configuration
        raise ValueError(f"fact schema: property {attr!r} must have a type among {sorted(_SUPPORTED_TYPES)}, got {t!r}")
    return types


def _expected(types: tuple[str, ...]) -> str:
    return "应为" + " 或 ".join(_TYPE_NAMES[t] for t in types)


def _coerce(value: Any, types: tuple[str, ...]) -> tuple[Any, str | None]:
    """``(value, None)`` or ``(None, problem)`` for one non-None value."""
    if isinstance(value, bool):
        if "boolean" in types:
            return value, None
        return None, f"{_expected(types)}，实际为 {describe_value(value)}"
    if isinstance(value, int):
        if "integer" in types or "number" in types:
            return value, number_problem(value)
        return None, f"{_expected(types)}，实际为 {describe_value(value)}"
    if isinstance(value, (float, Decimal)):
        if isinstance(value, Decimal):
            if not value.is_finite():
                return None, f"数值应为有限数，实际为 {describe_value(value)}"
        elif math.isnan(value) or math.isinf(value):
            return None, f"数值应为有限数，实际为 {describe_value(value)}"
        if "number" in types:
            number = float(value) if isinstance(value, Decimal) else value
            return number, number_problem(number)
        if "integer" in types:
            if value == int(value):
                return int(value), number_problem(int(value))
            return None, f"{_expected(types)}，实际为 {describe_value(value)}（有小数部分）"
        return None, f"{_expected(types)}，实际为 {describe_value(value)}"
    if isinstance(value, str):
        if "string" in types:
            return value, string_problem(value)
        if "integer" in types and _INTEGER_RE.fullmatch(value):
            number = int(value)
            return number, number_problem(number)
        if "number" in types and _NUMBER_RE.fullmatch(value):
            number = float(value) if "." in value else int(value)
            return number, number_problem(number)
        if "boolean" in types and value in _BOOLEANS:
            return _BOOLEANS[value], None
        hint = ""
        if types != ("null",):
            hint = "（只接受不带空格、正号、前导零和科学计数法的写法，如 85、89.5、true）"
        return None, f"{_expected(types)}，实际为 {describe_value(value)}{hint}"
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        return None, f"事实必须是扁平的：属性值应为单个值（{_expected(types)[2:]}），实际为 {describe_value(value)}"
    return None, f"{_expected(types)}，实际为 {describe_value(value)}；请在事实提供方转换为 JSON 值（日期可换算为字符串或天数）"


def normalise_fact(schema: dict, fact: dict) -> dict:
    """The fact typed against ``schema``; raises :class:`FactError` listing every problem.

    * numbers/integers/booleans are coerced from clean strings ("85" → 85, "89.5" → 89.5, "true" →
      True); integral floats/Decimals become ints for ``integer``, Decimals become floats for
      ``number``; anything else of the wrong type is refused (``1`` is not a boolean, ``" 85"`` is
      not a number);
    * ``None`` is dropped (the attribute is missing for the rules), except for a ``required``
      attribute whose type does not include ``null``; a missing ``required`` attribute is a problem;
    * unknown attributes, the reserved ``sid``/``id``/``_t``, nested objects/lists, non-JSON values,
      NaN/Infinity, numbers/strings out of the engine's range and more than 200 attributes are refused.
    """
    if not isinstance(fact, dict):
        raise FactError([("", f"事实应为对象，实际为 {describe_value(fact)}")])
    if len(fact) > MAX_ATTRIBUTES:
        raise FactError([("", f"事实有 {len(fact)} 个属性，最多 {MAX_ATTRIBUTES} 个")])
    properties = schema.get("properties") or {}
    required = schema.get("required") or ()
    out: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for attr, value in fact.items():
        if not isinstance(attr, str) or attr in RESERVED_ATTRIBUTES or not ATTRIBUTE_RE.match(attr):
            problems.append((_pointer(attr), attribute_problem(attr) or "属性名不合法"))
            continue
        if attr not in properties:
            problems.append((_pointer(attr), f'未声明的属性 "{attr}"：事实结构中没有这个属性'))
            continue
        types = _types(attr, properties[attr])
        if value is None:
            if "null" in types or attr not in required:
                continue
            problems.append((_pointer(attr), f"必填属性不能为 null：{_expected(types)}"))
            continue
        coerced, problem = _coerce(value, types)
        if problem:
            problems.append((_pointer(attr), problem))
        else:
            out[attr] = coerced
    for attr in required:
        if attr not in fact:
            problems.append((_pointer(attr), f'缺少必填属性 "{attr}"'))
    if problems:
        raise FactError(problems)
    return out


def check_fact(fact: Any) -> None:
    """Check a fact that should already be normalised (what the engine accepts); raises FactError."""
    if not isinstance(fact, dict):
        raise FactError([("", f"事实应为对象，实际为 {describe_value(fact)}")])
    if len(fact) > MAX_ATTRIBUTES:
        raise FactError([("", f"事实有 {len(fact)} 个属性，最多 {MAX_ATTRIBUTES} 个")])
    problems = None
    for attr, value in fact.items():
        kind = type(value)
        if kind is str:
            problem = string_problem(value) if len(value) > 2048 else None
        elif kind is int or kind is float:
            problem = number_problem(value)
        elif kind is bool:
            problem = None
        else:
            problem = f"应为字符串、数字或布尔值，实际为 {describe_value(value)}"
        if problem is None and (type(attr) is not str or attr in RESERVED_ATTRIBUTES or not ATTRIBUTE_RE.match(attr)):
            problem = attribute_problem(attr) or "属性名不合法"
        if problem:
            problems = problems or []
            problems.append((_pointer(attr), problem))
    if problems:
        raise FactError(problems)

"""Rule conditions (the ``if`` of a rule in ``config/rules/<ruleset>.json``): validation and helpers.

Pure Python; this module does not import durable_rules. The condition language is the subset of
durable_rules JSON described in ``docs/rules.md``::

    {"attr": value}                                  equality (one key)
    {"$lt"|"$lte"|"$gt"|"$gte"|"$neq": {"attr": value}}
    {"$ex"|"$nex": {"attr": 1}}                      attribute present / absent
    {"$and"|"$or": [condition, ...]}                 non-empty lists

    value := string | number | boolean | {"$param": "<parameter name>"}

Problems are ``(json_pointer, message)`` pairs with Chinese messages that say what was expected and
what was found. Besides the language itself, values are checked against what the durable_rules C core
actually handles (measured on 2.0.28): numbers it can parse (no exponent notation, |n| < 2**53) and
strings it compares correctly (long strings are compared wrongly past 64 KB).
"""
from __future__ import annotations

import copy
import difflib
import math
import re
from decimal import Decimal
from typing import Any, Iterator

__all__ = [
    "ATTRIBUTE_RE",
    "OPERATORS",
    "attribute_problem",
    "RESERVED_ATTRIBUTES",
    "condition_attributes",
    "condition_params",
    "condition_problems",
    "condition_schema_problems",
    "condition_size",
    "describe_value",
    "escape_pointer",
    "number_problem",
    "ruleset_problems",
    "string_problem",
    "substitute_params",
]

ATTRIBUTE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
PARAM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Keys the engine wrapper puts on every fact (session id, fact id, fact-kind guard).
RESERVED_ATTRIBUTES = frozenset({"sid", "id", "_t"})

LOGICAL = ("$and", "$or")
ORDERING = ("$lt", "$lte", "$gt", "$gte")
COMPARISON = ORDERING + ("$neq",)
EXISTENCE = ("$ex", "$nex")
OPERATORS = LOGICAL + COMPARISON + EXISTENCE
_AVAILABLE = "、".join(OPERATORS)

#: Most rules in one ruleset.
MAX_RULES = 48
#: Most alpha branches of one ruleset: its conditions in disjunctive normal form (each ``$or`` item is a
#: branch, several ``$or`` inside one ``$and`` multiply). Measured on 2.0.28: more than 64 branches
#: matching one fact overflow the C core's 64-entry traversal stack (error 303, and in some layouts a
#: segfault); 48 leaves a margin for the wrapper's guard and catch-all rule.
MAX_BRANCHES = 48
#: Most comparison terms of one ruleset (same normal form).
MAX_TERMS = 256
#: Deepest nesting of $and/$or accepted (also keeps the validator's recursion bounded).
MAX_DEPTH = 16
#: Largest magnitude of a number (JSON-safe integers; the C core's parser and 64-bit ints are fine below it).
MAX_ABS_NUMBER = 2**53 - 1
#: Smallest non-zero magnitude of a float: Python writes smaller ones as "1e-05", which the C core cannot parse.
MIN_ABS_FLOAT = 1e-4
#: Longest string value in UTF-8 bytes (the C core compares strings past ~65,535 bytes wrongly).
MAX_STRING_BYTES = 8192

_TYPE_NAMES = {
    "integer": "整数",
    "number": "数字",
    "string": "字符串",
    "boolean": "布尔值",
    "null": "null",
}


# --------------------------------------------------------------------------------------------------
# small shared helpers (also used by normalise.py)

def escape_pointer(token: Any) -> str:
    """One JSON-pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def _join(pointer: str, token: Any) -> str:
    return f"{pointer}/{escape_pointer(token)}"


def describe_value(value: Any) -> str:
    """A short Chinese description of a found value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"布尔值 {'true' if value else 'false'}"
    if isinstance(value, int):
        return f"整数 {value}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return f"数字 {value!r}"
    if isinstance(value, Decimal):
        return f"Decimal {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f'字符串 "{shown}"'
    if isinstance(value, dict):
        keys = [str(k) for k in list(value)[:5]]
        more = "…" if len(value) > 5 else ""
        return f"对象（键：{'、'.join(keys)}{more}）" if keys else "空对象 {}"
    if isinstance(value, (list, tuple)):
        return f"列表（{len(value)} 项）" if value else "空列表 []"
    return f"{type(value).__name__} 类型的值（不是 JSON 值）"


def number_problem(value: int | float) -> str | None:
    """Why the C core cannot take this number (None if it can). ``value`` is an int or float, not bool."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f"数值应为有限数，实际为 {describe_value(value)}"
        if value != 0 and abs(value) < MIN_ABS_FLOAT:
            return f"数值 {value!r} 的绝对值太小：非零数的绝对值应不小于 {MIN_ABS_FLOAT}（规则引擎无法解析科学计数法）"
    if abs(value) > MAX_ABS_NUMBER:
        return f"数值 {value!r} 超出范围：绝对值应不大于 {MAX_ABS_NUMBER}（2^53 − 1）"
    return None


def string_problem(value: str) -> str | None:
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_STRING_BYTES:
        return f"字符串太长：最多 {MAX_STRING_BYTES} 字节（UTF-8），实际 {size} 字节"
    return None


def attribute_problem(name: Any) -> str | None:
    """Why ``name`` cannot be an attribute name (None if it can)."""
    if not isinstance(name, str):
        return f"属性名应为字符串，实际为 {describe_value(name)}"
    if name in RESERVED_ATTRIBUTES:
        return f'属性名 "{name}" 是规则引擎保留的（sid、id、_t 不能用作属性名），请换一个名字'
    if not ATTRIBUTE_RE.match(name):
        return (f'属性名 "{name}" 不合法：应以字母或下划线开头，只含字母、数字和下划线，'
                f'层级之间用 "." 分隔（如 area.type）')
    return None


# --------------------------------------------------------------------------------------------------
# validation

def condition_problems(condition: Any, pointer: str = "", *,
                       allow_params: bool = True) -> list[tuple[str, str]]:
    """Every problem of one rule's ``if`` condition, as ``(json_pointer, message)``.

    ``pointer`` is the JSON pointer of ``condition`` itself (e.g. ``/rules/accepted/if``). With
    ``allow_params=False`` a remaining ``{"$param": ...}`` is a problem (the engine compiles only
    substituted conditions).
    """
    problems: list[tuple[str, str]] = []
    _check(condition, pointer, 0, allow_params, problems)
    return problems


def _check(cond: Any, ptr: str, depth: int, allow_params: bool, out: list[tuple[str, str]]) -> None:
    if depth > MAX_DEPTH:
        out.append((ptr, f"条件嵌套过深：$and/$or 最多嵌套 {MAX_DEPTH} 层"))
        return
    if not isinstance(cond, dict):
        out.append((ptr, '应为一个条件对象（如 {"属性名": 值}、{"$gte": {"属性名": 值}}、{"$and": [...]}），'
                         f"实际为 {describe_value(cond)}"))
        return
    if len(cond) != 1:
        if not cond:
            out.append((ptr, "条件对象为空：应恰好有一个键（运算符或属性名）"))
        else:
            keys = "、".join(f'"{k}"' for k in cond)
            out.append((ptr, f'条件对象应恰好有一个键，实际有 {len(cond)} 个（{keys}）；'
                             f'多个条件请用 {{"$and": [...]}} 或 {{"$or": [...]}} 组合'))
        return
    (key, value), = cond.items()
    kptr = _join(ptr, key)
    if not isinstance(key, str):
        out.append((kptr, f"键应为字符串，实际为 {describe_value(key)}"))
        return

    if key in LOGICAL:
        if not isinstance(value, list):
            out.append((kptr, f'"{key}" 的值应为非空的条件列表，实际为 {describe_value(value)}'))
        elif not value:
            out.append((kptr, f'"{key}" 的值应为非空的条件列表，实际为空列表 []'))
        else:
            for i, item in enumerate(value):
                _check(item, _join(kptr, i), depth + 1, allow_params, out)
        return

    if key in COMPARISON or key in EXISTENCE:
        example = '{"属性名": 1}' if key in EXISTENCE else '{"属性名": 值}'
        if not isinstance(value, dict):
            out.append((kptr, f'"{key}" 的值应为 {example}，实际为 {describe_value(value)}'))
            return
        if len(value) != 1:
            found = "空对象" if not value else f"{len(value)} 个键（{'、'.join(str(k) for k in value)}）"
            out.append((kptr, f'"{key}" 的值应为 {example}（恰好一个属性），实际为{found}'))
            return
        (attr, operand), = value.items()
        aptr = _join(kptr, attr)
        problem = attribute_problem(attr)
        if problem:
            out.append((aptr, problem))
            return
        if key in EXISTENCE:
            if type(operand) is not int or operand != 1:
                out.append((aptr, f'"{key}" 的写法是 {{"{key}": {{"{attr}": 1}}}}：值应为 1，'
                                  f"实际为 {describe_value(operand)}"))
            return
        _check_operand(operand, aptr, key, attr, allow_params, out)
        return

    if key == "$param":
        out.append((kptr, f"应为一个条件，实际为参数引用 {{\"$param\": …}}：$param 只能用作比较的值"
                          '（如 {"$gte": {"satisfaction_rate": {"$param": "satisfaction_threshold"}}}）'))
        return

    if key.startswith("$"):
        hint = difflib.get_close_matches(key, OPERATORS, n=1, cutoff=0.6)
        suggestion = f'；是否想写 "{hint[0]}"？' if hint else ""
        if key == "$eq":
            suggestion = '；相等请直接写 {"属性名": 值}'
        out.append((kptr, f'未知的运算符 "{key}"（可用：{_AVAILABLE}）{suggestion}'))
        return

    problem = attribute_problem(key)
    if problem:
        out.append((kptr, problem))
        return
    _check_operand(value, kptr, None, key, allow_params, out)


def _check_operand(value: Any, ptr: str, op: str | None, attr: str, allow_params: bool,
                   out: list[tuple[str, str]]) -> None:
    """The value compared with ``attr`` (``op`` None = equality)."""
    expected = "应为字符串、数字或布尔值（或 {\"$param\": \"参数名\"}）"
    if isinstance(value, dict):
        if set(value) == {"$param"}:
            name = value["$param"]
            pptr = _join(ptr, "$param")
            if not isinstance(name, str) or not PARAM_RE.match(name):
                out.append((pptr, f"参数名应为字母或下划线开头、只含字母数字下划线的字符串，实际为 {describe_value(name)}"))
            elif not allow_params:
                out.append((pptr, f'参数 "{name}" 尚未代入：编译前须先用 parameters.json 中的值替换'))
            return
        out.append((ptr, f"{expected}，实际为 {describe_value(value)}"))
        return
    if value is None:
        out.append((ptr, f'{expected}，实际为 null：缺失的属性不等于任何值；'
                         f'要判断"没有这个属性"请写 {{"$nex": {{"{attr}": 1}}}}'))
        return
    if isinstance(value, bool):
        if op in ORDERING:
            out.append((ptr, f'"{op}" 只能比较数字或字符串，实际为 {describe_value(value)}'))
        return
    if isinstance(value, (int, float)):
        problem = number_problem(value)
        if problem:
            out.append((ptr, problem))
        return
    if isinstance(value, str):
        problem = string_problem(value)
        if problem:
            out.append((ptr, problem))
        return
    out.append((ptr, f"{expected}，实际为 {describe_value(value)}"))


def ruleset_problems(rules: Any, pointer: str = "/rules", *,
                     allow_params: bool = True) -> list[tuple[str, str]]:
    """Every problem of a ruleset's rules (``{rule id: condition}``): each condition (pointers
    ``{pointer}/<rule id>/if/...``) and the engine's size limits (:data:`MAX_RULES`,
    :data:`MAX_BRANCHES`, :data:`MAX_TERMS`; pointer ``{pointer}``). ``PolicyEngine.load`` runs this
    with ``allow_params=False``; ``config check`` can run it to report limits before a reload."""
    if not isinstance(rules, dict):
        return [(pointer, f"应为对象（规则 id → 条件），实际为 {describe_value(rules)}")]
    if not rules:
        return [(pointer, "没有规则：应至少有一条规则，实际为空对象 {}")]
    problems: list[tuple[str, str]] = []
    if len(rules) > MAX_RULES:
        problems.append((pointer, f"规则太多：一个规则集最多 {MAX_RULES} 条，实际 {len(rules)} 条；请拆成几个规则集"))
    for rule_id, condition in rules.items():
        rule_ptr = _join(pointer, rule_id)
        if not isinstance(rule_id, str) or not rule_id:
            problems.append((rule_ptr, f"规则 id 应为非空字符串，实际为 {describe_value(rule_id)}"))
            continue
        problems.extend(condition_problems(condition, rule_ptr + "/if", allow_params=allow_params))
    if problems:
        return problems
    branches = terms = 0
    for condition in rules.values():
        b, t = condition_size(condition)
        branches += b
        terms += t
    if branches > MAX_BRANCHES:
        problems.append((pointer, f"条件展开后共有 {branches} 个分支，规则引擎最多支持 {MAX_BRANCHES} 个"
                                  f"（$or 的每一项算一个分支，$and 中的几个 $or 相乘）；请简化条件或拆成几个规则集"))
    elif terms > MAX_TERMS:
        problems.append((pointer, f"条件展开后共有 {terms} 个比较，规则引擎最多支持 {MAX_TERMS} 个；请简化条件或拆成几个规则集"))
    return problems


# --------------------------------------------------------------------------------------------------
# inspection and substitution (of conditions that are at least shaped right; malformed parts are skipped)

def _walk(cond: Any) -> Iterator[tuple[str, str | None, Any]]:
    """Yield ``(attribute, operator or None for equality, operand)`` for each comparison."""
    if not isinstance(cond, dict):
        return
    for key, value in cond.items():
        if key in LOGICAL:
            if isinstance(value, list):
                for item in value:
                    yield from _walk(item)
        elif key in COMPARISON or key in EXISTENCE:
            if isinstance(value, dict):
                for attr, operand in value.items():
                    yield attr, key, operand
        elif isinstance(key, str) and not key.startswith("$"):
            yield key, None, value


def condition_attributes(condition: Any) -> set[str]:
    """The fact attributes a condition refers to."""
    return {attr for attr, _, _ in _walk(condition) if isinstance(attr, str)}


def _param_name(operand: Any) -> str | None:
    if isinstance(operand, dict) and len(operand) == 1 and isinstance(operand.get("$param"), str):
        return operand["$param"]
    return None


def condition_params(condition: Any) -> set[str]:
    """The parameter names a condition refers to through ``{"$param": name}``."""
    names = set()
    for _, _, operand in _walk(condition):
        name = _param_name(operand)
        if name is not None:
            names.add(name)
    return names


def substitute_params(condition: Any, values: dict[str, Any]) -> Any:
    """A copy of ``condition`` with each ``{"$param": name}`` replaced by ``values[name]``.

    Raises KeyError (with the parameter name) for a parameter missing from ``values``. The input is
    not modified. Validate the result with ``condition_problems(..., allow_params=False)``.
    """
    def sub(node: Any) -> Any:
        if isinstance(node, dict):
            name = _param_name(node)
            if name is not None:
                if name not in values:
                    raise KeyError(name)
                return copy.deepcopy(values[name])
            return {k: sub(v) for k, v in node.items()}
        if isinstance(node, list):
            return [sub(v) for v in node]
        return node

    return sub(condition)


def condition_size(condition: Any) -> tuple[int, int]:
    """``(branches, terms)`` of the condition in disjunctive normal form.

    durable_rules compiles a condition into one alpha-network path per DNF branch (``$or`` inside
    ``$and`` multiplies), each term being one node; the wrapper bounds both to stay inside the C
    core's fixed-size tables. Terms exclude the wrapper's own ``_t`` guard.
    """
    if not isinstance(condition, dict) or len(condition) != 1:
        return 1, 1
    (key, value), = condition.items()
    if key in LOGICAL and isinstance(value, list) and value:
        sizes = [condition_size(item) for item in value]
        if key == "$or":
            return sum(b for b, _ in sizes), sum(t for _, t in sizes)
        branches, terms = 1, 0
        for b, t in sizes:  # cartesian product: every branch of one side joins every branch of the other
            terms = terms * b + t * branches
            branches *= b
        return branches, terms
    return 1, 1


# --------------------------------------------------------------------------------------------------
# optional: conditions against the fact's JSON Schema

def _declared_types(prop: Any) -> tuple[str, ...]:
    t = prop.get("type") if isinstance(prop, dict) else None
    if isinstance(t, str):
        return (t,)
    if isinstance(t, list):
        return tuple(x for x in t if isinstance(x, str))
    return ()


def condition_schema_problems(condition: Any, schema: dict, pointer: str = "") -> list[tuple[str, str]]:
    """Attributes a (well-formed) condition uses that the fact schema does not declare, and values whose
    type cannot match the declared type (the engine would compare ``"100" < 90`` loosely, so this is
    worth catching at ``config check`` time). Parameters are not checked (substitute first)."""
    props = schema.get("properties") or {}
    problems: list[tuple[str, str]] = []

    def check(cond: Any, ptr: str) -> None:
        if not isinstance(cond, dict) or len(cond) != 1:
            return
        (key, value), = cond.items()
        kptr = _join(ptr, key)
        if key in LOGICAL and isinstance(value, list):
            for i, item in enumerate(value):
                check(item, _join(kptr, i))
            return
        if key in COMPARISON or key in EXISTENCE:
            if not isinstance(value, dict) or len(value) != 1:
                return
            (attr, operand), = value.items()
            op, aptr = key, _join(kptr, attr)
        elif isinstance(key, str) and not key.startswith("$"):
            attr, operand, op, aptr = key, value, None, kptr
        else:
            return
        if attr not in props:
            known = "、".join(sorted(props)) or "无"
            problems.append((aptr, f'事实中没有属性 "{attr}"（已声明的属性：{known}）'))
            return
        if op in EXISTENCE or _param_name(operand) is not None:
            return
        types = set(_declared_types(props[attr]))
        if isinstance(operand, bool):
            ok = "boolean" in types
        elif isinstance(operand, (int, float)):
            ok = bool(types & {"number", "integer"})
        elif isinstance(operand, str):
            ok = "string" in types
        else:
            return
        if not ok:
            declared = " 或 ".join(_TYPE_NAMES.get(t, t) for t in _declared_types(props[attr])) or "未声明类型"
            problems.append((aptr, f'属性 "{attr}" 的类型是{declared}，不能与 {describe_value(operand)} 比较'))

    check(condition, pointer)
    return problems

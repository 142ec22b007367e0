"""Checking the inputs of the period lookups (``count_in_period``, ``last_period``) in fact files.

Kept apart from :mod:`server.specs.facts_loader` so that it stays small; the fact checker calls these
with itself (what it knows of the fact so far: its form, subject, attribute types and date attributes).
A lookup input naming a field that is not a date, an attribute defined later, or a cadence the code
does not know must fail at ``config check``, not count nothing on a live record.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

from server.rules.vocabulary import CADENCES, PERIOD_SCOPES, RECORD_DATE_PROPERTIES
from server.specs.fieldpaths import find_field, is_date_field, schema_at
from server.specs.jsonpos import pointer_join
from server.specs.metaschema import show
from server.specs.model import ParameterSpec

Problem = tuple[str, str]
MAX_GRACE_DAYS = 60


class FactSoFar(Protocol):
    """What the fact checker knows when it reaches the lookup."""

    forms: Mapping[str, dict[str, Any] | None]
    schema: dict[str, Any] | None   # the fact's form (None: a unit fact, or a broken form)
    form: Any
    subject: str
    types: dict[str, str]           # attributes defined so far
    dates: set[str]                 # those holding dates


def count_in_period_problems(at: str, inputs: Mapping[str, Any], fact: FactSoFar) -> list[Problem]:
    """The counted form and its date field, the two dates of this fact, the scope and ``where``."""
    form = inputs.get("form")
    if form is not None and (not isinstance(form, str) or form not in fact.forms):
        return [(pointer_join(at, "form"), f"表单 {show(form)} 不存在（现有表单：{'、'.join(sorted(fact.forms))}）")]
    schema = fact.forms.get(form) if isinstance(form, str) else None
    out: list[Problem] = []
    date_field = inputs.get("date_field")
    if "date_field" in inputs and date_field not in RECORD_DATE_PROPERTIES and schema is not None \
            and not is_date_field(schema_at(schema, date_field) if isinstance(date_field, str) else None):
        out.append((pointer_join(at, "date_field"), f"应为表单 {show(form)} 中日期字段的指针或 "
                                                    f"{'、'.join(RECORD_DATE_PROPERTIES)}，实际为 {show(date_field)}"))
    for key in ("from", "to"):
        if key in inputs:
            out += _date_input(pointer_join(at, key), inputs[key], fact)
    if inputs.get("scope", "subtree") not in PERIOD_SCOPES:
        out.append((pointer_join(at, "scope"), f"应为 {'、'.join(PERIOD_SCOPES)} 之一，实际为 {show(inputs['scope'])}"))
    where = inputs.get("where", {})
    if not isinstance(where, dict):
        return out + [(pointer_join(at, "where"), f"应为对象（指针 → 值），实际为 {show(where)}")]
    for pointer, value in where.items():
        if schema is not None and not schema_at(schema, pointer):
            out.append((pointer_join(at, "where", pointer), f"表单 {show(form)} 中没有字段 {show(pointer)}"))
        if isinstance(value, dict) and (set(value) != {"$fact"} or value.get("$fact") not in fact.types):
            out.append((pointer_join(at, "where", pointer), f"应为值或 {{\"$fact\": 已定义的属性}}，实际为 {show(value)}"))
    return out


def _date_input(at: str, value: Any, fact: FactSoFar) -> list[Problem]:
    """A date the lookup takes from this fact: a date field of the record or an earlier date attribute."""
    if isinstance(value, dict) and set(value) == {"$fact"}:
        if value["$fact"] not in fact.dates:
            return [(at, f"属性 {show(value['$fact'])} 不是此前已定义的日期属性（如 last_period 的 start、end）")]
        return []
    if isinstance(value, str) and value.startswith("/"):
        if fact.subject != "record":
            return [(at, f"单位的事实不能读取记录字段 {show(value)}，请用 {{\"$fact\": 日期属性}}")]
        problems, found = find_field(at, value, fact.schema, fact.form)
        if not problems and found is not None and not is_date_field(found):
            return [(at, f"字段 {show(value)} 不是日期字段")]
        return problems
    return [(at, f"应为本记录日期字段的指针或 {{\"$fact\": 日期属性}}，实际为 {show(value)}")]


def _is_cadence(value: Any) -> bool:
    return value in CADENCES


def _is_grace(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_GRACE_DAYS


_PERIOD_INPUTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "cadence": (_is_cadence, "、".join(CADENCES) + " 之一"),
    "grace_days": (_is_grace, f"0 到 {MAX_GRACE_DAYS} 的整数"),
}


def last_period_problems(at: str, inputs: Mapping[str, Any],
                         parameters: Mapping[str, ParameterSpec] | None) -> list[Problem]:
    """A cadence the code knows and a grace of whole days, each literal or ``{"$param": name}``."""
    out: list[Problem] = []
    for key, (valid, expected) in _PERIOD_INPUTS.items():
        if key not in inputs:
            continue
        value, where = inputs[key], pointer_join(at, key)
        if not (isinstance(value, dict) and set(value) == {"$param"}):
            if not valid(value):
                out.append((where, f"应为{expected}或 {{\"$param\": 参数名}}，实际为 {show(value)}"))
            continue
        name, where = value["$param"], pointer_join(where, "$param")
        if parameters is None:
            continue
        if not isinstance(name, str) or name not in parameters:
            out.append((where, f"参数 {show(name)} 不存在（现有参数：{'、'.join(parameters) or '无'}）"))
        elif not valid(parameters[name].value):
            out.append((where, f"参数 {show(name)} 应为{expected}，实际为 {show(parameters[name].value)}"))
    return out

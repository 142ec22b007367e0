"""Building facts from their declarations (``config/facts/``): a record or an org unit becomes the one
flat, typed fact that rulesets and workflow guards see.

The declaration is configuration (checked by ``server.specs.facts_loader``); here each attribute is
computed in file order, so later attributes may use earlier ones. What cannot be said in the small
operator vocabulary is a named lookup in :mod:`server.rules.lookups`. Builders read; they never write.
Ratios are kept unrounded (a threshold compares the exact value; explanations round for display).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Mapping

from server.forms.pointers import get_path
from server.specs.model import FactsSpec
from server.workflow.calendar import WorkCalendar

#: Non-zero magnitudes below this are written by Python in exponent notation, which the rule engine
#: cannot parse; a ratio that small is reported as 0.
_TINY = 1e-4


@dataclass
class FactContext:
    """What a fact may know besides its subject: today, the parameters, the working-day calendar, and
    a cache shared by one batch of evaluations (a tick), where lookups keep what they aggregated."""

    today: date
    parameters: Mapping[str, Any]
    calendar: WorkCalendar
    cache: dict[Any, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Subject:
    """What a fact is about. For a record: its data and properties (``record`` holds the row, for
    lookups); for an org unit: its properties. ``properties`` are the values of ``{"record": …}`` /
    ``{"unit": …}`` and are filled by the service, which knows the database."""

    data: Mapping[str, Any]
    properties: Mapping[str, Any]
    record: Any = None
    unit: Any = None
    transitions: Mapping[str, int] = field(default_factory=dict)


Lookup = Callable[[str, Mapping[str, Any], Subject, FactContext, Mapping[str, Any]], Mapping[str, Any]]


def build_fact(spec: FactsSpec, subject: Subject, ctx: FactContext, lookup: Lookup) -> dict[str, Any]:
    """The raw fact (normalise it before evaluating); missing values are None."""
    fact: dict[str, Any] = {}
    for name, definition in spec.attributes.items():
        fact[name] = _value(definition, fact, subject, ctx, lookup)
    return fact


def _value(definition: Mapping[str, Any], fact: dict[str, Any], subject: Subject, ctx: FactContext,
           lookup: Lookup) -> Any:
    def operand(item: Any) -> Any:
        if isinstance(item, str) and item.startswith("/"):
            return get_path(subject.data, item, dash_is_last=True)
        return fact.get(item)

    if "field" in definition:
        value = get_path(subject.data, definition["field"], dash_is_last=True)
        return definition.get("default") if value in (None, "") else value
    if "record" in definition:
        return subject.properties.get(definition["record"])
    if "unit" in definition:
        return subject.properties.get(definition["unit"])
    if "param" in definition:
        return ctx.parameters.get(definition["param"])
    if "value" in definition:
        return definition["value"]
    if "today" in definition:
        return _today(definition["today"], ctx.today)
    if "count" in definition:
        value = operand(definition["count"])
        return len(value) if isinstance(value, list) else 0
    if "count_values" in definition:
        return count_values(operand(definition["count_values"]), definition.get("at"), definition["values"])
    if "transitions" in definition:
        return subject.transitions.get(definition["transitions"], 0)
    if "switch" in definition:
        key = operand(definition["switch"])
        case = definition["cases"].get(_case_key(key), definition.get("default"))
        return _value(case, fact, subject, ctx, lookup) if case is not None else None
    if "lookup" in definition:
        return lookup(definition["lookup"], definition.get("inputs", {}), subject, ctx, fact).get(definition["output"])
    for op, compute in _UNARY.items():
        if op in definition:
            return compute(operand(definition[op]), definition, ctx)
    if "days_between" in definition:
        first, second = (as_date(operand(item)) for item in definition["days_between"])
        return _days(first, second, bool(definition.get("working")), ctx.calendar)
    for op, compute in _LISTS.items():
        if op in definition:
            return compute([operand(item) for item in definition[op]], definition)
    raise ValueError(f"unknown fact operator in {definition!r}")  # the loader admits only the vocabulary


def _case_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _today(name: str, today: date) -> Any:
    if name == "date":
        return today.isoformat()
    if name == "previous_month":
        first = today.replace(day=1)
        return f"{first.year - 1}-12" if first.month == 1 else f"{first.year}-{first.month - 1:02d}"
    return {"year": today.year, "month": today.month, "day_of_month": today.day}[name]


def as_date(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` (or date-time) value as a date; None when absent or not a date."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _days(start: date | None, end: date | None, working: bool, calendar: WorkCalendar) -> int | None:
    if start is None or end is None:
        return None
    return calendar.working_days_between(start, end) if working else (end - start).days


def _days_until(value: Any, definition: Mapping[str, Any], ctx: FactContext) -> int | None:
    return _days(ctx.today, as_date(value), bool(definition.get("working")), ctx.calendar)


def _days_since(value: Any, definition: Mapping[str, Any], ctx: FactContext) -> int | None:
    return _days(as_date(value), ctx.today, bool(definition.get("working")), ctx.calendar)


def _exists(value: Any, definition: Mapping[str, Any], ctx: FactContext) -> bool:
    return value not in (None, "", [], {})


def _year_of(value: Any, definition: Mapping[str, Any], ctx: FactContext) -> int | None:
    day = as_date(value)
    return day.year if day else None


def _in_list(value: Any, definition: Mapping[str, Any], ctx: FactContext) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(_is_one_of(item, definition["values"]) for item in items)


def _is_one_of(item: Any, wanted: list[Any]) -> bool:
    """``item`` equals one of ``wanted``, a boolean only a boolean (``True == 1`` in Python)."""
    return any(item == w and isinstance(item, bool) == isinstance(w, bool) for w in wanted)


def count_values(rows: Any, at: str | None, wanted: list[Any]) -> int:
    """How many values found in the rows of a list are one of ``wanted``: in each row the value at the
    pointer ``at`` (the row itself without one), an object counting each of its members and a list each
    of its items. So a survey's rows of participants, each with an object of answers, give the answers
    of every participant that are 满意; no rows, or a row without the value, count 0."""
    total = 0
    for row in rows if isinstance(rows, list) else ():
        found = get_path(row, at) if at else row
        items = found.values() if isinstance(found, dict) else found if isinstance(found, list) else (found,)
        total += sum(1 for item in items if _is_one_of(item, wanted))
    return total


def _numbers(values: list[Any]) -> list[float] | None:
    """Every operand as a number, or None when any is missing (a half-filled survey has no total)."""
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        return None
    return values


def _sum(values: list[Any], definition: Mapping[str, Any]) -> Any:
    numbers = _numbers(values)
    return sum(numbers) if numbers is not None else None


def _difference(values: list[Any], definition: Mapping[str, Any]) -> Any:
    numbers = _numbers(values)
    if numbers is None:
        return None
    result = numbers[0] - numbers[1]
    return max(result, definition["minimum"]) if "minimum" in definition else result


def _ratio(values: list[Any], definition: Mapping[str, Any]) -> float | None:
    numbers = _numbers(values)
    if numbers is None or not numbers[1]:
        return None
    result = numbers[0] / numbers[1] * (100 if definition.get("percent") else 1)
    return 0.0 if abs(result) < _TINY else result


def _equals(values: list[Any], definition: Mapping[str, Any]) -> bool:
    return all(v == values[0] and v is not None for v in values[1:]) and values[0] is not None


def _latest(values: list[Any], definition: Mapping[str, Any]) -> str | None:
    dates = [d for d in map(as_date, values) if d is not None]
    return max(dates).isoformat() if dates else None


def _earliest(values: list[Any], definition: Mapping[str, Any]) -> str | None:
    dates = [d for d in map(as_date, values) if d is not None]
    return min(dates).isoformat() if dates else None


_UNARY = {"days_until": _days_until, "days_since": _days_since, "exists": _exists, "year_of": _year_of,
          "in_list": _in_list}
_LISTS = {"sum": _sum, "difference": _difference, "ratio": _ratio, "equals": _equals, "latest": _latest,
          "earliest": _earliest}

"""Fact providers: how a record becomes the one flat, typed fact a ruleset sees.

A ruleset names its provider (``"facts": "key_area"``); the provider declares the JSON Schema of
its fact (``config check`` refuses conditions on undeclared attributes) and builds the fact from a
record. Derived values the county may tune (the satisfaction formula) come from parameters, never
from code constants. Providers read; they never write.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Mapping

# The 突出治安问题类别 of the key-area ledger: each becomes a boolean attribute ``category_<id>``.
PROBLEM_CATEGORIES = ("porn_gambling_drugs", "theft_robbery", "gang_clue", "public_order_chaos", "safety_hazard",
                      "campus_surroundings", "rental_floating_population", "other")
NUMBER = {"type": ["number", "null"]}
INTEGER = {"type": ["integer", "null"]}
STRING = {"type": ["string", "null"]}
BOOLEAN = {"type": "boolean"}


@dataclass(frozen=True)
class FactProvider:
    name: str
    title: str
    events: tuple[str, ...]
    form: str | None
    schema: dict[str, Any]
    build: Callable[[Mapping[str, Any], "FactContext"], dict[str, Any]]
    area_code: Callable[[Mapping[str, Any]], str | None] = lambda data: None  # where the matter is
    subject: str = "record"  # "record": one fact per record of ``form``; "org_unit": one per org unit
    unit_kinds: tuple[str, ...] = ()  # for "org_unit": the kinds of unit it is about

    @property
    def attributes(self) -> set[str]:
        return set(self.schema["properties"])


@dataclass(frozen=True)
class AreaUnits:
    """The org units around a record, looked up by the service: where it is and who serves there."""

    code: str = ""
    name: str = ""
    kind: str = ""
    police_station: str = ""   # code of the 派出所 serving that township
    justice_office: str = ""   # code of the 司法所 serving it
    previous_delisting_days: int | None = None  # days since an earlier area there with a shared problem was delisted


@dataclass(frozen=True)
class FactContext:
    """What a provider may know besides the record: today, the parameters, the record's unit."""

    today: date
    parameters: Mapping[str, Any]
    unit_code: str
    unit_kind: str
    area: AreaUnits = AreaUnits()


def _get(data: Mapping[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _days(start: Any, end: date) -> int | None:
    try:
        return (end - date.fromisoformat(str(start))).days if start else None
    except ValueError:
        return None


def _year(value: Any) -> int | None:
    try:
        return date.fromisoformat(str(value)).year if value else None
    except ValueError:
        return None


def satisfaction_rate(survey: Mapping[str, Any] | None, formula: str) -> tuple[float | None, int]:
    """(rate in percent rounded to 2 places, valid votes); formula ``satisfied_only`` counts 满意 alone."""
    if not isinstance(survey, Mapping):
        return None, 0
    counts = [survey.get(k) for k in ("satisfied", "basically_satisfied", "dissatisfied")]
    if not all(isinstance(c, int) and c >= 0 for c in counts):
        return None, 0
    satisfied, basic, dissatisfied = counts
    valid = satisfied + basic + dissatisfied
    if valid == 0:
        return None, 0
    good = satisfied if formula == "satisfied_only" else satisfied + basic
    return round(good * 100 / valid, 2), valid


def _key_area(data: Mapping[str, Any], ctx: FactContext) -> dict[str, Any]:
    rate, valid = satisfaction_rate(_get(data, "acceptance", "satisfaction_survey"),
                                    str(ctx.parameters.get("satisfaction_formula", "satisfied_plus_basic")))
    deadline = _get(data, "listing", "rectification_deadline")
    days_to_deadline = -d if (d := _days(deadline, ctx.today)) is not None else None
    return {
        "unit_code": ctx.area.code or data.get("township_code") or ctx.unit_code,
        "unit_kind": ctx.area.kind or ctx.unit_kind,
        "unit_name": ctx.area.name,
        "police_station": ctx.area.police_station or None,
        "first_responsible": _get(data, "responsibility", "first_responsible"),
        "relisted_after_days": ctx.area.previous_delisting_days if bool(_get(data, "listing", "is_listed")) else None,
        "stage": data.get("stage"),
        "is_listed": bool(_get(data, "listing", "is_listed")),
        "listed_date": _get(data, "listing", "listed_date"),
        "days_listed": _days(_get(data, "listing", "listed_date"), ctx.today),
        "days_to_deadline": days_to_deadline,
        "overdue_days": -days_to_deadline if days_to_deadline is not None and days_to_deadline < 0 else None,
        "listed_year": _year(_get(data, "listing", "listed_date")),
        "deadline_year": _year(deadline),
        "acceptance_held": rate is not None,
        "satisfaction_rate": rate,
        "valid_votes": valid,
        "conclusion": _get(data, "acceptance", "conclusion"),
        "accepted": _get(data, "acceptance", "conclusion") == "passed",
        "delisted": bool(_get(data, "delisting", "delisted_date")),
        "delisted_date": _get(data, "delisting", "delisted_date"),
        **{f"category_{c}": c in (_get(data, "problems", "categories") or []) for c in PROBLEM_CATEGORIES},
        "recurrence": bool(_get(data, "consolidation", "recurrence")),
        "days_since_delisting": _days(_get(data, "delisting", "delisted_date"), ctx.today),
    }


def _security_problem(data: Mapping[str, Any], ctx: FactContext) -> dict[str, Any]:
    return {
        "category": data.get("problem_category"),
        "unit_code": ctx.area.code or ctx.unit_code,
        "unit_kind": ctx.area.kind or ctx.unit_kind,
        "police_station": ctx.area.police_station or None,
        "justice_office": ctx.area.justice_office or None,
        "routed": bool(data.get("route_unit")),
    }


COVERAGE_KINDS = {"village": "officers_per_village", "community": "officers_per_community",
                  "unit_branch": "officers_per_unit", "police_station": "officers_per_unit",
                  "dept_office": "officers_per_unit"}


def _officer_coverage(data: Mapping[str, Any], ctx: FactContext) -> dict[str, Any]:
    """``data`` is ``{"unit": {code, name, kind, township}, "officers": n}`` (built by the service)."""
    unit = data["unit"]
    quota = int(ctx.parameters.get(COVERAGE_KINDS.get(unit["kind"], ""), 0))
    return {"unit_code": unit["code"], "unit_name": unit["name"], "unit_kind": unit["kind"],
            "township_code": unit.get("township"), "officers": data["officers"], "quota": quota,
            "gap": max(quota - data["officers"], 0)}


def _previous_month(today: date) -> str:
    first = today.replace(day=1)
    return f"{first.year - 1}-12" if first.month == 1 else f"{first.year}-{first.month - 1:02d}"


def _monthly_report(data: Mapping[str, Any], ctx: FactContext) -> dict[str, Any]:
    """``data``: ``{"unit": {...}, "reported_months": {unit code: {"2026-05", ...}}}``."""
    unit, month = data["unit"], _previous_month(ctx.today)
    return {"unit_code": unit["code"], "unit_name": unit["name"], "report_month": month,
            "reported": month in data["reported_months"].get(unit["code"], set()), "day_of_month": ctx.today.day}


PROVIDERS: dict[str, FactProvider] = {p.name: p for p in (
    FactProvider(
        name="monthly_report", title="县直部门月报", events=("daily",), form=None, subject="org_unit",
        unit_kinds=("county_unit",),
        schema={"type": "object", "properties": {
            "unit_code": STRING, "unit_name": STRING, "report_month": STRING, "reported": BOOLEAN,
            "day_of_month": INTEGER,
        }},
        build=_monthly_report,
    ),
    FactProvider(
        name="officer_coverage", title="治安信息员配备", events=("daily",), form=None, subject="org_unit",
        unit_kinds=tuple(COVERAGE_KINDS),
        schema={"type": "object", "properties": {
            "unit_code": STRING, "unit_name": STRING, "unit_kind": STRING, "township_code": STRING,
            "officers": INTEGER, "quota": INTEGER, "gap": INTEGER,
        }},
        build=_officer_coverage,
    ),
    FactProvider(
        name="security_problem", title="群众反映治安问题", events=("record_saved",), form="security_problem",
        schema={"type": "object", "properties": {
            "category": STRING, "unit_code": STRING, "unit_kind": STRING, "police_station": STRING,
            "justice_office": STRING, "routed": BOOLEAN,
        }},
        build=_security_problem,
        area_code=lambda data: _get(data, "location", "division_code"),
    ),
    FactProvider(
        name="key_area", title="重点地区台账", events=("record_saved", "daily"), form="key_area",
        schema={"type": "object", "properties": {
            "unit_code": STRING, "unit_kind": STRING, "unit_name": STRING, "police_station": STRING,
            "first_responsible": STRING, "relisted_after_days": INTEGER, "stage": STRING, "is_listed": BOOLEAN,
            "listed_date": STRING, "days_listed": INTEGER, "days_to_deadline": INTEGER, "overdue_days": INTEGER,
            "listed_year": INTEGER, "deadline_year": INTEGER,
            "acceptance_held": BOOLEAN, "satisfaction_rate": NUMBER, "valid_votes": INTEGER,
            "conclusion": STRING, "accepted": BOOLEAN, "delisted": BOOLEAN, "delisted_date": STRING,
            **{f"category_{c}": BOOLEAN for c in PROBLEM_CATEGORIES}, "recurrence": BOOLEAN, "days_since_delisting": INTEGER,
        }},
        build=_key_area,
        area_code=lambda data: data.get("township_code"),
    ),
)}

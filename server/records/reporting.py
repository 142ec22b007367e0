"""月报报送情况: for one month, which units must send the monthly inspection report and who has.

Nothing about *who must report* or *what counts as a report* is written here. Both are read from
the facts declaration the chase rule uses (``config/facts/monthly_report.json``): its ``unit_kinds``
are the units that must report, and its ``count_records`` lookup names the form, the fields that
name the reporting unit and the field holding the report month. The page and the daily 催报 thus
count the same reports and cannot disagree; changing who reports is one configuration edit.

Who may look: whoever may read the report form (``x-form.permissions``; the county administrator
reads every form). County-level staff, administrators and leaders see every unit; anyone else sees
the units of their own subtree (a department its own row). A report is linked only when the reader
may open it (:func:`server.records.scope.record_scope`), so the page never hands out a record the
records pages would answer 404 for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from sqlalchemy import select

from server.auth.models import User
from server.auth.permissions import allowed
from server.errors import FieldError, NotAllowed, NotFound, ValidationFailed
from server.extensions import db
from server.forms.pointers import get_path
from server.org.models import OrgUnit
from server.org.service import subtree_ids
from server.records.models import Record
from server.records.scope import is_county_wide, record_scope
from server.specs.model import FactsSpec, FormSpec, RulesSpec
from server.timeutil import CST, as_aware

#: The facts declaration of the 月报催报 rule (``config/rules/monthly_report.json`` names it).
FACTS_ID = "monthly_report"
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
MONTH_ERROR = "月份格式不正确，请按 2026-05 的格式选择月份"


@dataclass(frozen=True)
class Source:
    """What the facts declaration says a report is: a record of ``form_id`` naming the unit in the
    first filled of ``unit_fields`` whose ``month_field`` equals the month (and ``fixed`` values)."""

    form_id: str
    unit_kinds: tuple[str, ...]
    unit_fields: tuple[str, ...]
    month_field: str
    fixed: Mapping[str, Any]


@dataclass(frozen=True)
class Filed:
    """One report received: the record, its number and the day it was registered (China time)."""

    record_id: int
    number: str
    filed_on: str
    may_open: bool


@dataclass(frozen=True)
class UnitStatus:
    code: str
    name: str
    reports: tuple[Filed, ...]

    @property
    def reported(self) -> bool:
        return bool(self.reports)


@dataclass(frozen=True)
class MonthStatus:
    """Every unit expected to report for ``month`` (org order), with what it sent."""

    month: str
    form_title: str
    units: tuple[UnitStatus, ...]

    @property
    def expected(self) -> int:
        return len(self.units)

    @property
    def reported(self) -> int:
        return sum(1 for u in self.units if u.reported)

    @property
    def missing(self) -> int:
        return self.expected - self.reported


def previous_month(today: date) -> str:
    """The month whose report is due now: reports are sent the month after the inspections."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def parse_month(value: str | None, today: date) -> str:
    """The month asked for (``2026-05``), the previous month when none is; a malformed one is refused
    rather than silently replaced, since a count of the wrong month would be read as the right one."""
    if value is None or value.strip() == "":
        return previous_month(today)
    if not MONTH.fullmatch(value.strip()):
        raise ValidationFailed([FieldError("/month", MONTH_ERROR)])
    return value.strip()


def source_of(facts: FactsSpec) -> Source:
    """The report definition inside the facts declaration: its ``count_records`` attribute whose
    ``where`` compares a field with the month (a key attribute, ``{"$fact": "report_month"}``)."""
    for definition in facts.attributes.values():
        if not isinstance(definition, dict) or definition.get("lookup") != "count_records":
            continue
        inputs = definition.get("inputs") or {}
        where = inputs.get("where") or {}
        month = [p for p, v in where.items() if isinstance(v, dict) and v.get("$fact") in facts.key]
        fixed = {p: v for p, v in where.items() if not isinstance(v, dict)}
        if len(month) == 1 and len(fixed) + 1 == len(where):
            return Source(form_id=inputs["form"], unit_kinds=facts.unit_kinds,
                          unit_fields=tuple(inputs["unit_fields"]), month_field=month[0], fixed=fixed)
    raise NotFound(facts.id)  # the declaration no longer counts reports per month: no such page


def month_status(user: User, rules: RulesSpec | None, forms: Mapping[str, FormSpec], month: str | None,
                 today: date) -> MonthStatus:
    """The 报送情况 of ``month`` (None or empty: the previous month) as ``user`` may see it.

    The role is judged before the month, so a refused role gets NotAllowed whatever it asks for;
    then a malformed month is ValidationFailed (:func:`parse_month`)."""
    source, form = _configured(rules, forms)
    check_allowed(user, form)
    month = parse_month(month, today)
    units = expected_units(user, source.unit_kinds)
    filed = _filed(source, month, user, {u.code for u in units})
    rows = tuple(UnitStatus(u.code, u.name, tuple(filed.get(u.code, ()))) for u in units)
    return MonthStatus(month=month, form_title=str(form.schema.get("title", form.id)), units=rows)


def _configured(rules: RulesSpec | None, forms: Mapping[str, FormSpec]) -> tuple[Source, FormSpec]:
    """The report definition and its form in the live configuration (NotFound when either is gone)."""
    facts = rules.facts.get(FACTS_ID) if rules is not None else None
    if facts is None:
        raise NotFound(FACTS_ID)
    source = source_of(facts)
    form = forms.get(source.form_id)
    if form is None:
        raise NotFound(source.form_id)
    return source, form


def check_allowed(user: User, form: FormSpec) -> None:
    """Township centres and information officers do not receive the departments' reports."""
    if not allowed(user, "read", form):
        error = NotAllowed(f"read:{form.id}")
        error.message = "月报报送情况由县综治办和县直单位查看，您的角色无权查看"  # type: ignore[attr-defined]
        raise error


def may_see(user: User, rules: RulesSpec | None, forms: Mapping[str, FormSpec]) -> bool:
    """Whether to offer the page in the menu: the same test the page makes."""
    try:
        _source, form = _configured(rules, forms)
    except NotFound:
        return False
    return allowed(user, "read", form)


def expected_units(user: User, kinds: tuple[str, ...]) -> list[OrgUnit]:
    """Active units of the reporting kinds the user may see: all for county level, else their subtree."""
    stmt = select(OrgUnit).where(OrgUnit.is_active.is_(True), OrgUnit.kind.in_(list(kinds)))
    if not is_county_wide(user):
        unit = user.org_unit
        if unit is None or not unit.path:
            return []
        stmt = stmt.where(OrgUnit.id.in_(subtree_ids(unit)))
    return list(db.session.scalars(stmt.order_by(OrgUnit.id)))


def _filed(source: Source, month: str, user: User, codes: set[str]) -> dict[str, list[Filed]]:
    """Reports of ``month`` per unit code (oldest first), counted as the chase rule counts them."""
    rows = db.session.execute(select(Record.id, Record.number, Record.created_at, Record.data)
                              .where(Record.form_id == source.form_id).order_by(Record.created_at, Record.id)).all()
    wanted = {**source.fixed, source.month_field: month}
    found: list[tuple[str, Any]] = []
    for row in rows:
        data = row.data
        if not all(get_path(data, p) == v for p, v in wanted.items()):
            continue
        code = next((c for c in (get_path(data, p) for p in source.unit_fields) if c), None)
        if code in codes:
            found.append((code, row))
    visible = set(db.session.scalars(select(Record.id).where(
        Record.id.in_([r.id for _, r in found]), record_scope(user)))) if found else set()
    result: dict[str, list[Filed]] = {}
    for code, row in found:
        day = as_aware(row.created_at).astimezone(CST).date().isoformat() if row.created_at else ""
        result.setdefault(code, []).append(Filed(row.id, row.number, day, row.id in visible))
    return result

"""The year-end registers of what rules decided: 一票否决, 评先资格取消 and 责任追究.

These rows decide a unit's annual assessment, so the assessed and the assessors must be able to see
them and trace each one back to the rule that made it and the record that caused it. Who sees what
follows the records' scoping (``server.records.scope``): county-level staff and administrators see
every unit; a township or department sees the rows of its own units (its subtree and the offices
serving it) and the rows caused by records it may see; an information officer sees none (they report
problems, they are not assessed). The causing record is named only when the user may see it, so a
register row never reveals a record that the records pages would answer 404 for.

Pages, API and Excel export all read through :func:`rows_for`, so they cannot disagree on scope.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import ColumnElement, and_, case, or_, select, true

from server.auth.models import User
from server.errors import FieldError, NotFound, ValidationFailed
from server.extensions import db
from server.org.models import OrgUnit
from server.org.service import subtree_ids, unit_by_code
from server.records import confidential
from server.records.export import bold_cell, safe_cell
from server.records.models import Record
from server.records.scope import is_county_wide, record_scope
from server.rules.models import Accountability, AwardIneligibility, Decision, Veto
from server.timeutil import local

YEARS = range(2000, 2101)


@dataclass(frozen=True)
class Register:
    """One register: its table, its own columns (attribute, Chinese header) and which filters apply."""

    slug: str  # the path segment of its page and API resource
    title: str
    model: type
    columns: tuple[tuple[str, str], ...]
    has_reason: bool = True  # 评先资格取消 stores no reason of its own: its decision is the reason
    has_year: bool = False


VETOES = Register("vetoes", "一票否决登记", Veto, (("year", "年度"),), has_year=True)
AWARD_INELIGIBILITY = Register("award-ineligibility", "评先资格取消登记", AwardIneligibility,
                               (("award", "奖项"), ("from_date", "起始日期"), ("until_date", "截止日期")),
                               has_reason=False)
ACCOUNTABILITY = Register("accountability", "责任追究登记", Accountability, (("post", "岗位"), ("person", "责任人")))
REGISTERS: dict[str, Register] = {r.slug: r for r in (VETOES, AWARD_INELIGIBILITY, ACCOUNTABILITY)}


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    unit_code: str | None = None
    record_id: int | None = None

    def args(self) -> dict[str, Any]:
        """The filters as query parameters (for the export link that must list the same rows)."""
        values = {"year": self.year, "unit": self.unit_code, "record_id": self.record_id}
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str


@dataclass(frozen=True)
class DecisionRef:
    id: int
    title: str
    explanation: str
    ruleset: str
    rule: str


@dataclass(frozen=True)
class RecordRef:
    id: int
    number: str
    form_id: str
    form_title: str


@dataclass(frozen=True)
class RegisterRow:
    id: int
    unit: UnitRef
    values: dict[str, Any]  # the register's own columns by attribute: year / award, dates / post, person
    reason: str | None
    created_at: datetime
    decision: DecisionRef
    record: RecordRef | None  # None: no record, or one the user may not see


# -- filters ------------------------------------------------------------------------------------
def parse_filters(register: Register, args: Mapping[str, str]) -> Filters:
    """Query parameters ``year`` (vetoes only), ``unit`` (a unit code) and ``record_id``, checked.

    Raises ValidationFailed with every problem (Chinese, pointer = the parameter) rather than
    silently listing everything when a filter was mistyped. Empty values mean "no filter".
    """
    errors: list[FieldError] = []
    year = _integer(args, "year", errors, YEARS, f"年度应为 {YEARS[0]} 至 {YEARS[-1]} 之间的整数") \
        if register.has_year else None
    record_id = _integer(args, "record_id", errors, range(1, 2**63), "应为正整数（记录 id）")
    unit_code = (args.get("unit") or "").strip() or None
    if unit_code is not None and unit_by_code(unit_code) is None:
        errors.append(FieldError("/unit", f"找不到代码为“{unit_code[:40]}”的单位"))
    if errors:
        raise ValidationFailed(errors)
    return Filters(year=year, unit_code=unit_code, record_id=record_id)


def _integer(args: Mapping[str, str], name: str, errors: list[FieldError], allowed: range,
             message: str) -> int | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) in allowed:  # int() refuses 4,300+ digits
        return int(text)
    errors.append(FieldError(f"/{name}", message))
    return None


# -- scope --------------------------------------------------------------------------------------
def may_see_registers(user: User) -> bool:
    """Whether the registers can show this user anything (the sidebar links are offered only then)."""
    if not user.is_enabled or user.role == "info_officer":
        return False
    return _sees_all(user) or (user.org_unit is not None and bool(user.org_unit.path))


def _sees_all(user: User) -> bool:
    return user.role == "county_admin" or is_county_wide(user)


def _row_scope(model: type, user: User) -> ColumnElement[bool] | None:
    """The rows of ``model`` the user may see (``Record`` outer-joined); None: none at all."""
    if not may_see_registers(user):
        return None
    if _sees_all(user):
        return true()
    return or_(model.unit_id.in_(subtree_ids(user.org_unit)), _record_visible(user))


def _record_visible(user: User) -> ColumnElement[bool]:
    return and_(Record.id.is_not(None), record_scope(user))


def unit_choices(user: User) -> list[OrgUnit]:
    """Units offered in the 单位 filter: all for county level, else the user's own subtree."""
    if not may_see_registers(user):
        return []
    stmt = select(OrgUnit).where(OrgUnit.is_active.is_(True))
    if not _sees_all(user):
        stmt = stmt.where(OrgUnit.id.in_(subtree_ids(user.org_unit)))
    return list(db.session.scalars(stmt.order_by(OrgUnit.id)))


# -- rows ---------------------------------------------------------------------------------------
def vetoes(user: User, year: int | None = None, unit_code: str | None = None,
           record_id: int | None = None) -> list[RegisterRow]:
    """一票否决 the user may see, newest first."""
    return rows_for(VETOES, user, Filters(year, unit_code, record_id))


def award_ineligibility(user: User, unit_code: str | None = None, record_id: int | None = None) -> list[RegisterRow]:
    """评先资格取消 the user may see, newest first."""
    return rows_for(AWARD_INELIGIBILITY, user, Filters(None, unit_code, record_id))


def accountability(user: User, unit_code: str | None = None, record_id: int | None = None) -> list[RegisterRow]:
    """责任追究 the user may see, newest first."""
    return rows_for(ACCOUNTABILITY, user, Filters(None, unit_code, record_id))


def rows_for(register: Register, user: User, filters: Filters) -> list[RegisterRow]:
    """One query: the rows with their unit, decision and record, and whether the user may see the
    record (then a link is given); ledger titles come from the live configuration, not the database."""
    model = register.model
    scope = _row_scope(model, user)
    if scope is None:
        return []
    record_visible = case((_record_visible(user), 1), else_=0)
    stmt = (select(model, OrgUnit.code, OrgUnit.name, Decision, Record.number, Record.form_id, record_visible)
            .join(OrgUnit, OrgUnit.id == model.unit_id)
            .join(Decision, Decision.id == model.decision_id)
            .outerjoin(Record, Record.id == model.record_id)
            .where(scope)
            .order_by(model.created_at.desc(), model.id.desc()))
    if filters.year is not None and register.has_year:
        stmt = stmt.where(model.year == filters.year)
    if filters.unit_code:
        stmt = stmt.where(OrgUnit.code == filters.unit_code)
    if filters.record_id is not None:
        stmt = stmt.where(model.record_id == filters.record_id)
    results = db.session.execute(stmt).all()
    titles = _form_titles({form_id for *_, form_id, visible in results if visible})
    return [_row(register, *result, titles, user) for result in results]


def _explanation(decision: Decision, record_id: int | None, form_id: str | None, user: User) -> str:
    """The decision's explanation as ``user`` may read it: values of its record hidden from them (要求保密) scrubbed."""
    if record_id is None or form_id is None or not confidential.protections_for(form_id):
        return decision.explanation
    record = db.session.get(Record, record_id)
    return confidential.scrub(decision.explanation, confidential.secrets(record, user)) if record else decision.explanation


def _row(register: Register, effect: Any, code: str, name: str, decision: Decision, number: str | None,
         form_id: str | None, visible: int, titles: Mapping[str, str], user: User) -> RegisterRow:
    record = None
    if visible and effect.record_id is not None and number is not None and form_id is not None:
        record = RecordRef(effect.record_id, number, form_id, titles.get(form_id, form_id))
    return RegisterRow(
        id=effect.id, unit=UnitRef(code, name),
        values={attr: getattr(effect, attr) for attr, _ in register.columns},
        reason=effect.reason if register.has_reason else None, created_at=effect.created_at,
        decision=DecisionRef(decision.id, decision.title, _explanation(decision, effect.record_id, form_id, user),
                             decision.ruleset, decision.rule),
        record=record)


def _form_titles(form_ids: set[str]) -> dict[str, str]:
    """Ledger titles; a ledger no longer configured keeps its id rather than failing the register."""
    registry = current_app.extensions["registry"]
    titles = {}
    for form_id in form_ids:
        try:
            titles[form_id] = registry.form(form_id).title
        except NotFound:
            titles[form_id] = form_id
    return titles


# -- export -------------------------------------------------------------------------------------
def export_workbook(register: Register, rows: Iterable[RegisterRow]) -> bytes:
    """The rows as an .xlsx with Chinese headers; every text a person or a rule wrote is neutralised
    against formula injection (a reason typed as ``=HYPERLINK(...)`` stays text)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=register.title[:31])
    header = ["单位", *(label for _, label in register.columns), *(["原因"] if register.has_reason else []),
              "决定依据", "决定说明", "关联记录", "台账", "登记时间"]
    bold = Font(bold=True)
    sheet.append([bold_cell(sheet, title, bold) for title in header])
    for row in rows:
        values = [row.unit.name, *(row.values[attr] for attr, _ in register.columns),
                  *([row.reason] if register.has_reason else []), row.decision.title, row.decision.explanation,
                  row.record.number if row.record else "", row.record.form_title if row.record else ""]
        sheet.append([_cell(v) for v in values] + [local(row.created_at)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (int, date)):
        return value
    return safe_cell(str(value))

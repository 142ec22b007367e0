"""年度考核汇总: per assessed unit and year, 综治先进 eligibility, 一票否决 and 责任追究 on one sheet.

The county appraises its townships, subdistricts and county units once a year. What decides the
appraisal is already in the three registers (``server.rules.registers``); this module joins them per
unit for one year, so that the page and the Excel export list every assessed unit — those with nothing
recorded too (eligible, no veto), since a unit missing from the list would read as "not assessed".

Which year a row belongs to:

* an ineligibility period counts in every year it overlaps (挂牌 2025-11-10 → 摘牌 2026-02-20 counts in
  2025 and 2026). A period without a start (the listing date was not filled) starts the day it was
  registered; one without an end (not delisted yet) lasts until today, so a year that has not begun
  is not darkened by a listing that may end before it;
* a veto counts in its own year (the rule names it);
* an accountability record counts in the year of the veto decided together with it (the same rule
  firing), so a 2025 veto and the people held to account for it stay on the same year's sheet even
  when the rule fired in January 2026; otherwise in the year it was registered (China time).

A veto also takes away 综治先进 eligibility for its whole year (一票否决: no honours that year).

Rows of a subordinate unit (a village, a police station, a department's township office) count for the
assessed unit above it in the org tree: the 所长 of 城关派出所 held to account is listed under 县公安局.

Who sees what: county-level staff, administrators and leaders every unit; anyone else the assessed
units at or beneath their own unit (a township its own row, a county department its own); an
information officer nothing (403). Rows are read through :func:`server.rules.registers.rows_for`, so
a decision's explanation is scrubbed of what the reader may not see and a record is named only when
the reader may open it, exactly as on the register pages.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

from flask import current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from sqlalchemy import select

from server.auth.models import User
from server.errors import NotAllowed
from server.extensions import db
from server.org.kinds import KINDS, TOWNSHIP_LEVEL
from server.org.models import OrgUnit
from server.records.export import bold_cell, safe_cell
from server.records.scope import is_county_wide
from server.rules import registers
from server.rules.models import Veto
from server.rules.registers import ACCOUNTABILITY, AWARD_INELIGIBILITY, VETOES, Filters, RecordRef, RegisterRow
from server.specs.files import load_file
from server.specs.org_loader import POSTS_FILE, POSTS_META_VALIDATOR
from server.timeutil import CST, as_aware, local_today

ASSESSED_KINDS = (*TOWNSHIP_LEVEL, "county_unit")
HEADER = ("单位", "综治先进资格", "不具备资格期间及原因", "一票否决（原因）", "责任追究（对象/职务及原因）")


@dataclass(frozen=True)
class Item:
    """One line of a cell: what people read first (period, reason, person) and the rule's explanation."""

    text: str
    detail: str = ""
    record: RecordRef | None = None


@dataclass(frozen=True)
class UnitYear:
    """One assessed unit's year: the three registers joined."""

    code: str
    name: str
    kind_title: str
    periods: tuple[Item, ...]         # ineligibility periods overlapping the year (a veto's whole year first)
    vetoes: tuple[Item, ...]
    accountability: tuple[Item, ...]

    @property
    def eligible(self) -> bool:
        return not self.periods


@dataclass
class _Collected:
    periods: list[tuple[date, Item]] = field(default_factory=list)
    vetoes: list[Item] = field(default_factory=list)
    accountability: list[Item] = field(default_factory=list)


# -- who may see it ---------------------------------------------------------------------------------
def check_allowed(user: User) -> None:
    """Raise NotAllowed (403) for those the summary must not answer: information officers, disabled
    accounts, and accounts without a unit in the tree (they would otherwise see an empty sheet and
    take it for "nothing recorded")."""
    if registers.may_see_registers(user):
        return
    error = NotAllowed("year_end")
    error.message = ("治安信息员不参与单位考核，无权查看年度考核汇总" if user.role == "info_officer"  # type: ignore[attr-defined]
                     else "您的账号没有可查看的考核单位，无权查看年度考核汇总")
    raise error


def _sees_all(user: User) -> bool:
    """The register pages' rule: administrators and county-level staff and leaders see every unit."""
    return user.role == "county_admin" or is_county_wide(user)


# -- the summary ------------------------------------------------------------------------------------
def default_year() -> int:
    """This year in China, as the other pages count "today"."""
    return local_today().year


def parse_year(args: Mapping[str, str]) -> int:
    """The ``year`` query parameter (empty: this year); ValidationFailed with the registers' message."""
    if not (args.get("year") or "").strip():
        return default_year()
    year = registers.parse_filters(VETOES, {"year": args.get("year", "")}).year
    return year if year is not None else default_year()


def summary(user: User, year: int, within: OrgUnit | None = None) -> list[UnitYear]:
    """Every assessed unit the user may see, in org-tree order, with its year joined from the registers;
    ``within``: only that unit and those beneath it (the dashboard narrowed to a township, or one county
    of a province-wide database: the tree read is then that part only)."""
    check_allowed(user)
    units = select(OrgUnit)
    if within is not None:
        units = units.where(OrgUnit.path.startswith(within.path, autoescape=True))
    tree = _Tree(db.session.scalars(units))
    collected: dict[str, _Collected] = {}
    today = local_today()

    def slot(row: RegisterRow) -> _Collected:
        if within is not None and row.unit.code not in tree.by_code:
            return _Collected()  # outside the part asked for: collected nowhere
        return collected.setdefault(tree.assessed(row.unit.code), _Collected())

    for row in registers.rows_for(AWARD_INELIGIBILITY, user, Filters()):
        period = _period(row, year, today)
        if period is not None:
            slot(row).periods.append(period)
    for row in reversed(registers.rows_for(VETOES, user, Filters(year=year))):  # oldest first
        slot(row).vetoes.append(Item(row.reason or "", row.decision.explanation, row.record))
    veto_years = _veto_years()
    for row in reversed(registers.rows_for(ACCOUNTABILITY, user, Filters())):
        if veto_years.get(row.decision.id, _registered_year(row)) == year:
            slot(row).accountability.append(_accountable(row, tree))
    return [_unit_year(unit, collected.get(unit.code, _Collected()), year)
            for unit in tree.shown(user, collected)]


class _Tree:
    """The org units of one request, by code and id (a few hundred rows, read once)."""

    def __init__(self, units: Iterable[OrgUnit]):
        self.units = list(units)
        self.by_code = {u.code: u for u in self.units}
        self.by_id = {u.id: u for u in self.units}
        self._assessed: dict[str, str] = {}

    def assessed(self, code: str) -> str:
        """The assessed unit a row counts for: the unit itself, or the nearest assessed unit above it
        (the unit itself when there is none, e.g. the county: it is then listed on its own)."""
        if code not in self._assessed:
            unit = self.by_code.get(code)
            while unit is not None and unit.kind not in ASSESSED_KINDS:
                unit = self.by_id.get(unit.parent_id) if unit.parent_id else None
            self._assessed[code] = unit.code if unit is not None else code
        return self._assessed[code]

    def shown(self, user: User, collected: Mapping[str, _Collected]) -> list[OrgUnit]:
        """Active assessed units, plus any unit rows were collected for (a unit removed since keeps
        its past years), limited to the user's part of the tree and sorted as the tree is."""
        wanted = {u.id: u for u in self.units if u.kind in ASSESSED_KINDS and u.is_active}
        wanted.update({self.by_code[c].id: self.by_code[c] for c in collected if c in self.by_code})
        units = list(wanted.values())
        if not _sees_all(user):
            own = user.org_unit.path
            units = [u for u in units if u.path.startswith(own)]
        return sorted(units, key=_tree_key)


def _tree_key(unit: OrgUnit) -> tuple[int, ...]:
    """Depth-first order of the tree: the path's ids as numbers (``/1/10/`` after ``/1/4/``)."""
    return tuple(int(part) for part in unit.path.strip("/").split("/") if part.isdigit()) or (unit.id,)


def _unit_year(unit: OrgUnit, found: _Collected, year: int) -> UnitYear:
    periods = [item for _, item in sorted(found.periods, key=lambda pair: pair[0])]
    if found.vetoes:
        periods.insert(0, Item(f"{year} 年全年：受一票否决，不得评为综治工作先进单位"))
    kind = KINDS.get(unit.kind)
    return UnitYear(code=unit.code, name=unit.name, kind_title=kind.title if kind else "", periods=tuple(periods),
                    vetoes=tuple(found.vetoes), accountability=tuple(found.accountability))


# -- years ------------------------------------------------------------------------------------------
def _period(row: RegisterRow, year: int, today: date) -> tuple[date, Item] | None:
    """The ineligibility as a line of ``year``, or None when its period does not reach that year."""
    registered = as_aware(row.created_at).astimezone(CST).date()
    start: date = row.values.get("from_date") or registered
    until: date | None = row.values.get("until_date")
    end = until or max(today, start)
    if start > date(year, 12, 31) or end < date(year, 1, 1):
        return None
    begin = start.isoformat() if row.values.get("from_date") else f"{start.isoformat()}（登记日）"
    text = f"{begin} 至 {until.isoformat() if until else '今（尚未摘牌）'}：{row.decision.title}"
    award = row.values.get("award")
    if award:
        text += f"（{award}）"
    return start, Item(text, row.decision.explanation, row.record)


def _registered_year(row: RegisterRow) -> int:
    return as_aware(row.created_at).astimezone(CST).year


def _veto_years() -> dict[int, int]:
    """Decision id → the year of the veto it recorded. Only years are read (no unit, no reason), so
    reading past the user's scope reveals nothing: it dates their own accountability rows."""
    return {decision_id: year for decision_id, year in db.session.execute(select(Veto.decision_id, Veto.year))}


# -- accountability ---------------------------------------------------------------------------------
def _accountable(row: RegisterRow, tree: _Tree) -> Item:
    """"城关派出所 所长 龚国华：直接责任人：…" — the unit is named when it is not the assessed unit itself."""
    post = post_titles().get(row.values.get("post") or "", row.values.get("post") or "")
    who = " ".join(part for part in (post, row.values.get("person") or "（未登记姓名）") if part)
    if tree.assessed(row.unit.code) != row.unit.code:
        who = f"{row.unit.name} {who}"
    return Item(f"{who}：{row.reason or row.decision.title}", row.decision.explanation, row.record)


def post_titles() -> dict[str, str]:
    """Post id → title (party_secretary → 党委书记) from ``org/posts.json``, read once per request (a rule
    stores the post's id; people read its title). Empty without a usable posts file: the id is shown."""
    cache = db.session.info.get("post_titles")
    if cache is None:
        path = Path(current_app.extensions["registry"].config_dir) / POSTS_FILE
        document, errors = load_file(path, POSTS_FILE, POSTS_META_VALIDATOR, lambda _document: [])
        posts = document.get("posts") if isinstance(document, dict) and not errors else None
        cache = {k: v for k, v in posts.items() if isinstance(v, str)} if isinstance(posts, dict) else {}
        db.session.info["post_titles"] = cache
    return cache


# -- export -----------------------------------------------------------------------------------------
def export_workbook(rows: Iterable[UnitYear], year: int) -> bytes:
    """The summary as an .xlsx: one row per unit, the lines of a cell one per line (wrapped), every
    text neutralised against formula injection (a reason typed as ``=…`` stays text)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=f"{year}年度考核汇总")
    for column, width in zip("ABCDE", (22, 12, 60, 40, 50)):
        sheet.column_dimensions[column].width = width
    bold = Font(bold=True)
    sheet.append([bold_cell(sheet, title, bold) for title in HEADER])
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        values = [row.name, "有" if row.eligible else "无", _lines(row.periods), _lines(row.vetoes),
                  _lines(row.accountability)]
        sheet.append([_cell(sheet, value, wrap) for value in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lines(items: Iterable[Item]) -> str:
    lines = []
    for item in items:
        line = item.text
        if item.record is not None:
            line += f"（关联记录 {item.record.number}）"
        lines.append(line)
    return "\n".join(lines)


def _cell(sheet: Any, value: str, alignment: Alignment) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=safe_cell(value) if value else None)
    cell.alignment = alignment
    return cell

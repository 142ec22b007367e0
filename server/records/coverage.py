"""信息员配备情况: officers on the roster against their quotas, and each officer's year in figures.

The county recruits information officers by quota per org unit kind — a village 3, a community 2, a
subordinate unit of a county department 1 (parameters ``officers_per_village`` / ``_community`` /
``_unit``, the same the daily ``officer_coverage`` rule reads). This module answers, for the areas a
user is responsible for (the whole county for county staff and leaders, their own township or
department otherwise), how many officers each unit should have, how many are on the roster in post
(在岗), and the gap; townships and departments are summed (应配/实配/缺口) and listed with the gaps first.

It also counts, per officer and year, the reports filed, adopted and the rewards: computed from the
《信息报送及奖励登记簿》, never typed, so the roster cannot disagree with the ledger. A report whose
officer is hidden from the reader (信息员身份, ``x-confidential``) is not attributed for that reader.
Reads only; no Flask here beyond the live configuration the records service reaches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from sqlalchemy import func, select

from server.auth.models import User
from server.auth.permissions import allowed
from server.errors import NotAllowed, NotFound
from server.extensions import db
from server.forms.pointers import get_path
from server.org.kinds import KINDS, SUBORDINATE_UNITS, TOWNSHIP_LEVEL
from server.org.models import OrgUnit
from server.records import confidential
from server.records.models import Record
from server.org.service import subtree_ids
from server.records.scope import is_county_wide, record_scope
from server.records.service import registry

ROSTER = "officer_roster"
REPORT = "officer_report"
#: The roster fields naming the officer's unit (one per quota category), as in facts/officer_coverage.json.
UNIT_FIELDS = ("/village_code", "/community_code", "/unit_code")
ACTIVE = "active"
ADOPTED = "adopted"
#: Parameter of each unit kind's quota (anything else is a subordinate unit: ``officers_per_unit``).
QUOTA_PARAMS = {"village": "officers_per_village", "community": "officers_per_community"}
UNIT_QUOTA_PARAM = "officers_per_unit"
PLACE_KINDS = ("village", "community")
AREA_KINDS = (*TOWNSHIP_LEVEL, "county_unit")


@dataclass(frozen=True)
class UnitCoverage:
    """One village, community or subordinate unit: its quota, the officers in post, the gap."""

    code: str
    name: str
    kind_title: str
    quota: int
    officers: int

    @property
    def gap(self) -> int:
        return max(self.quota - self.officers, 0)


@dataclass
class AreaCoverage:
    """A township (街道) with its villages and communities, or a county department with its units."""

    code: str
    name: str
    kind_title: str
    units: list[UnitCoverage] = field(default_factory=list)

    @property
    def quota(self) -> int:
        return sum(u.quota for u in self.units)

    @property
    def officers(self) -> int:
        return sum(u.officers for u in self.units)

    @property
    def gap(self) -> int:
        """Sum of the units' gaps: a surplus in one village does not fill another's post."""
        return sum(u.gap for u in self.units)


@dataclass
class OfficerYear:
    """One officer's figures for a year, from the reports the reader may attribute to them."""

    record_id: int
    number: str
    name: str
    unit_name: str
    status: str
    reports: int = 0
    adopted: int = 0
    reward_total: float = 0

    @property
    def reward_text(self) -> str:
        """The total as people write it: 550, 37.5 (no trailing .0)."""
        return f"{self.reward_total:.2f}".rstrip("0").rstrip(".")


@dataclass
class OfficerTotals:
    year: int
    officers: list[OfficerYear]
    withheld: int = 0    # reports of the year whose officer this reader may not know


# -- who sees which areas ---------------------------------------------------------------------------------
def may_see_coverage(user: User) -> bool:
    """Readers of the roster who stand for an area: county-wide staff and leaders, a township's or a
    department's own staff (the menu offers the page to them only)."""
    try:
        form = registry().form(ROSTER)
    except NotFound:  # a configuration without the roster has no coverage page
        return False
    if not allowed(user, "read", form):
        return False
    return is_county_wide(user) or (user.org_unit is not None and user.org_unit.kind in AREA_KINDS)


def areas_for(user: User, within: OrgUnit | None = None) -> list[OrgUnit]:
    """The townships, subdistricts and county departments the user answers for, in configuration order
    (``within``: only those in that unit's part of the tree)."""
    if not may_see_coverage(user):
        raise NotAllowed("coverage")
    if not is_county_wide(user):
        return [user.org_unit]
    stmt = select(OrgUnit).where(OrgUnit.is_active.is_(True), OrgUnit.kind.in_(AREA_KINDS)).order_by(OrgUnit.id)
    if within is not None:
        stmt = stmt.where(OrgUnit.path.startswith(within.path, autoescape=True))
    return list(db.session.scalars(stmt))


# -- coverage ----------------------------------------------------------------------------------------------
def parameters() -> Mapping[str, Any]:
    rules = registry().live.rules
    return rules.values if rules is not None else {}


def quota_of(kind: str, params: Mapping[str, Any]) -> int:
    value = params.get(QUOTA_PARAMS.get(kind, UNIT_QUOTA_PARAM), 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def active_officers(codes: Iterable[str] | None = None, within: OrgUnit | None = None) -> dict[str, int]:
    """Unit code → officers in post on the roster (every roster record counts: a figure, not a list),
    counted by the database; ``codes``: only those units; ``within``: only the roster kept in the county
    of that unit (a province-wide database holds many)."""
    unit = func.coalesce(*(func.nullif(Record.data[tuple(p.strip("/").split("/"))].as_string(), "") for p in UNIT_FIELDS))
    stmt = (select(unit, func.count()).where(Record.form_id == ROSTER, Record.data["status"].as_string() == ACTIVE)
            .group_by(unit))
    if codes is not None:
        stmt = stmt.where(unit.in_(list(codes)))
    if within is not None:  # registered anywhere in the county (the county office registers its departments'
        # officers); the ids as a list, which the database reads from the (form_id, org_unit_id) index
        county = db.session.scalar(select(OrgUnit).where(OrgUnit.id == int(within.path.strip("/").split("/")[0])))
        stmt = stmt.where(Record.org_unit_id.in_(list(db.session.scalars(subtree_ids(county or within)))))
    return {code: count for code, count in db.session.execute(stmt) if code}


def _officer_unit(data: Any) -> str | None:
    return next((c for c in (get_path(data, p) for p in UNIT_FIELDS) if isinstance(c, str) and c), None)


def _members(areas: list[OrgUnit]) -> dict[int, list[OrgUnit]]:
    """The villages and communities of each township, the subordinate units of each department (one query)."""
    kinds = {a.id: PLACE_KINDS if a.kind in TOWNSHIP_LEVEL else SUBORDINATE_UNITS for a in areas}
    found: dict[int, list[OrgUnit]] = {a.id: [] for a in areas}
    stmt = select(OrgUnit).where(OrgUnit.parent_id.in_(list(kinds)), OrgUnit.is_active.is_(True)).order_by(OrgUnit.id)
    for unit in db.session.scalars(stmt):
        if unit.kind in kinds[unit.parent_id]:
            found[unit.parent_id].append(unit)
    return found


def coverage_for(user: User, within: OrgUnit | None = None) -> list[AreaCoverage]:
    """The user's areas with their units, gaps first (largest first), then in configuration order;
    departments without subordinate units are left out (``within``: see :func:`areas_for`)."""
    params = parameters()
    chosen = areas_for(user, within)
    members = _members(chosen)
    counts = active_officers((u.code for units in members.values() for u in units), within)
    areas = []
    for area in chosen:
        units = [UnitCoverage(u.code, u.name, KINDS[u.kind].title, quota_of(u.kind, params), counts.get(u.code, 0))
                 for u in members[area.id]]
        if units:  # (sorting is stable: equal gaps keep the configuration order)
            areas.append(AreaCoverage(area.code, area.name, KINDS[area.kind].title,
                                      sorted(units, key=lambda u: -u.gap)))
    return sorted(areas, key=lambda a: -a.gap)


def area_coverage(user: User, code: str) -> AreaCoverage | None:
    """One of the user's areas (None when it is not theirs or has no units)."""
    return next((a for a in coverage_for(user) if a.code == code), None)


# -- officers' years ---------------------------------------------------------------------------------------
def officer_totals(user: User, area: AreaCoverage, year: int) -> OfficerTotals:
    """The roster records of ``area`` the user may see, each with the year's reports (by 报送时间),
    adopted reports and reward total, counted from the report ledger."""
    units = {u.code: u.name for u in area.units}
    rows: dict[str, OfficerYear] = {}
    for record in db.session.scalars(select(Record).where(Record.form_id == ROSTER, record_scope(user))
                                     .order_by(Record.id)):
        code = _officer_unit(record.data)
        if code in units:
            rows[record.number] = OfficerYear(record.id, record.number, str(get_path(record.data, "/name") or ""),
                                              units[code], str(get_path(record.data, "/status") or ""))
    totals = OfficerTotals(year=year, officers=list(rows.values()))
    seer = confidential.sight(user)
    for report in _reports_of(rows, year):
        if "/officer" in confidential.hidden_pointers(report, seer):
            totals.withheld += 1
            continue
        _count(rows[report.data["officer"]], report)
    return totals


def _reports_of(rows: Mapping[str, OfficerYear], year: int) -> Iterable[Record]:
    if not rows:
        return []
    reported = Record.data["reported_at"].as_string()
    stmt = select(Record).where(Record.form_id == REPORT, reported >= f"{year:04d}-", reported < f"{year + 1:04d}-")
    return [r for r in db.session.scalars(stmt) if isinstance(r.data, dict) and r.data.get("officer") in rows]


def _count(row: OfficerYear, report: Record) -> None:
    row.reports += 1
    if report.state == ADOPTED:
        row.adopted += 1
        amount = get_path(report.data, "/adoption/reward_amount")
        if isinstance(amount, (int, float)) and not isinstance(amount, bool):
            row.reward_total += amount


def quotas() -> list[tuple[str, int]]:
    """The quotas as the page states them (每个行政村 3 名 ...), from the live parameters."""
    params = parameters()
    return [("每个行政村", quota_of("village", params)), ("每个社区", quota_of("community", params)),
            ("每个县直单位下属单位", quota_of(SUBORDINATE_UNITS[0], params))]

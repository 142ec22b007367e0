"""Whose figures a dashboard shows: the reader's view (county, township, department, leader) and unit.

County staff, administrators and leaders at county level count the whole county and may narrow to
one township or county department; everyone else counts their own unit and may not ask for another
(a unit they do not answer for is 404, as if it did not exist). Every figure is then counted within
:func:`server.records.scope.record_scope` as well, so a dashboard can never count what its reader
could not list.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, any_, exists, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from server.auth.models import User
from server.errors import NotAllowed, NotFound
from server.extensions import db
from server.org.kinds import TOWNSHIP_LEVEL
from server.org.models import OrgUnit
from server.org.service import subtree_ids, unit_by_code
from server.records.models import Record, RecordRoute
from server.records.scope import is_county_wide, record_scope

#: Units a county reader may narrow the figures to.
UNIT_KINDS = (*TOWNSHIP_LEVEL, "county_unit")
STAFF_ROLES = ("county_admin", "county_staff", "leader", "township_staff", "department_staff")


@dataclass(frozen=True)
class Viewpoint:
    user: User
    view: str                 # county | township | department | leader
    unit: OrgUnit | None      # the unit counted (with its subtree); None = everything the reader may see
    may_choose: bool          # county readers pick a unit; the others see their own
    home: OrgUnit | None = None  # a county reader's county: the default, and what they may narrow within

    @property
    def read_only(self) -> bool:
        return self.view == "leader"

    @property
    def unit_code(self) -> str:
        """The ``unit`` argument that asks for this viewpoint ("" for the reader's default)."""
        if self.unit is None or not self.may_choose or self.unit is self.home:
            return ""
        return self.unit.code

    @property
    def unit_name(self) -> str:
        return self.unit.name if self.unit is not None and self.unit is not self.home else "全县"

    def records(self) -> ColumnElement[bool]:
        """Records this dashboard counts: in the reader's scope and registered by, or routed to, the unit.

        A whole county (a root of the tree) is its records alone: routes run inside the tree, so nothing
        is routed into a county from outside it, and the condition stays one the database answers from
        the org-unit index (a province-wide database holds many counties)."""
        scope = record_scope(self.user)
        if self.unit is None:
            return scope
        if self.unit.parent_id is None:
            return and_(scope, self.within(Record.org_unit_id))
        routed = exists(select(RecordRoute.record_id).where(
            RecordRoute.record_id == Record.id, self.within(RecordRoute.org_unit_id)))
        return and_(scope, or_(self.within(Record.org_unit_id), routed))

    def within(self, column: Any) -> ColumnElement[bool]:
        """``column`` is one of the unit's ids: on PostgreSQL one array parameter (``= ANY``), which the
        statement cache keeps as it is, instead of a county's few hundred ``IN`` parameters."""
        if db.engine.dialect.name == "postgresql":
            return column == any_(literal(self.subtree, ARRAY(BigInteger)))
        return column.in_(self.subtree)

    @cached_property
    def subtree(self) -> list[int]:
        """Ids of the unit, the units beneath it and the offices serving them, read once per dashboard.

        Given to the counts as a list rather than as a subquery: the database then knows how many units
        it looks for and reads them from the (form_id, org_unit_id) index; from a subquery it cannot
        tell a township from the whole province and may scan the table."""
        return list(db.session.scalars(subtree_ids(self.unit))) if self.unit is not None else []

    @cached_property
    def choices(self) -> list[OrgUnit]:
        """The units a county reader may narrow to, townships first, in configuration order."""
        if not self.may_choose:
            return []
        stmt = select(OrgUnit).where(OrgUnit.is_active.is_(True), OrgUnit.kind.in_(UNIT_KINDS)).order_by(OrgUnit.id)
        if self.home is not None:
            stmt = stmt.where(OrgUnit.path.startswith(self.home.path, autoescape=True))
        units = db.session.scalars(stmt)
        return sorted(units, key=lambda u: (u.kind not in TOWNSHIP_LEVEL, u.id))


def view_of(user: User) -> str:
    if user.role == "leader":
        return "leader"
    if is_county_wide(user) or user.role == "county_admin" and user.org_unit is None:
        return "county"
    return "department" if user.role == "department_staff" else "township"


def may_see(user: User) -> bool:
    """Staff with a place in the tree (information officers have their own pages)."""
    if not user.is_enabled or user.role not in STAFF_ROLES:
        return False
    return is_county_wide(user) or (user.org_unit is not None and bool(user.org_unit.path))


def viewpoint(user: User, unit_code: str = "") -> Viewpoint:
    """The reader's viewpoint, narrowed to ``unit_code`` if they may choose (NotFound otherwise)."""
    if not may_see(user):
        raise NotAllowed("dashboard")
    view = view_of(user)
    if is_county_wide(user):
        # the reader's own county (a database may hold several): the default, and the limit of the choice
        home = user.org_unit if user.org_unit is not None and user.org_unit.kind == "county" else None
        unit = home
        if unit_code and (home is None or unit_code != home.code):
            unit = unit_by_code(unit_code)
            if (unit is None or not unit.is_active or unit.kind not in UNIT_KINDS
                    or (home is not None and not unit.path.startswith(home.path))):
                raise NotFound(unit_code)
        return Viewpoint(user, view, unit, True, home)
    if unit_code and unit_code != user.org_unit.code:
        raise NotFound(unit_code)
    return Viewpoint(user, view, user.org_unit, False)

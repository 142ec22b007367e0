"""The one scoping function: which records a user may know exist.

Every query for records (lists, search, export, reference pickers, history, API, and later
documents) adds :func:`record_scope`; a record outside it answers 404, so its existence does not
leak. County-level staff see everything; others see their unit and everything beneath it (with the
offices serving it), plus what was routed to those units; information officers see their own
reports only.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, select, true

from server.auth.models import User
from server.org.service import subtree_ids
from server.records.models import Record, RecordRoute

COUNTY_WIDE_ROLES = frozenset({"county_admin", "county_staff", "leader"})


def is_county_wide(user: User) -> bool:
    """County staff, admins and leaders at county level (or with no unit) see and act for the whole county."""
    return user.role in COUNTY_WIDE_ROLES and (user.org_unit is None or user.org_unit.kind == "county")


def record_scope(user: User) -> ColumnElement[bool]:
    if not user.is_enabled:
        return false()
    if user.role == "info_officer":
        return Record.created_by_id == user.id
    if is_county_wide(user):
        return true()
    unit = user.org_unit
    if unit is None or not unit.path:
        return false()  # no unit, or a unit without its tree position (it must not match every path)
    units = subtree_ids(unit)
    routed = exists(select(RecordRoute.record_id).where(
        RecordRoute.record_id == Record.id, RecordRoute.org_unit_id.in_(units)))
    return or_(Record.org_unit_id.in_(units), routed)


def reference_scope(user: User) -> ColumnElement[bool]:
    """Records a user may name in a reference field (a 转办 pointing at its 来访 ...).

    Everyone may refer to what they may see; an information officer may also refer to the records of
    their own unit and beneath it, and to those routed there (their village's 花名册 entry, registered
    by the township and routed to the village, for an 信息报送), which they cannot list.
    """
    scope = record_scope(user)
    unit = user.org_unit
    if user.role != "info_officer" or unit is None or not unit.path:
        return scope
    units = subtree_ids(unit)
    routed = exists(select(RecordRoute.record_id).where(
        RecordRoute.record_id == Record.id, RecordRoute.org_unit_id.in_(units)))
    return or_(scope, Record.org_unit_id.in_(units), routed)

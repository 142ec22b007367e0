"""Figures that are not a count over one ledger: the 待办, issued documents, officer coverage and the
year-end registers. Each reuses the module that owns its numbers (inbox, documents register,
:mod:`server.records.coverage`, :mod:`server.rules.year_end`), so the dashboard shows what those
pages show and cannot drift from them.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select, true

from server.auth.permissions import allowed
from server.documents.models import IssuedDocument
from server.errors import NotAllowed
from server.extensions import db
from server.inbox.models import InboxItem
from server.org.models import OrgUnit
from server.records.models import Record
from server.records.service import registry
from server.stats.figures import Figure, Group
from server.stats.period import Period
from server.stats.viewpoint import Viewpoint
from server.timeutil import local_today


# -- 待办 ----------------------------------------------------------------------------------------------------
def inbox_select(vp: Viewpoint) -> Select[tuple[InboxItem]]:
    """Open 待办 items of the units this dashboard covers."""
    stmt = select(InboxItem).where(InboxItem.status == "open")
    return stmt.where(vp.within(InboxItem.unit_id)) if vp.unit is not None else stmt


def inbox_figure(figure: Figure, vp: Viewpoint) -> Figure:
    """Grouped in the 待办 table first, then the few units found are named (not a join over every unit)."""
    items = inbox_select(vp).subquery()
    rows = db.session.execute(select(items.c.unit_id, func.count(), func.sum(case((items.c.due_date < local_today(), 1),
                                                                                   else_=0)))
                              .group_by(items.c.unit_id)).all()
    units = {u.id: u for u in db.session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name)
                                                   .where(OrgUnit.id.in_([r[0] for r in rows])))}
    figure.groups = sorted((Group(units[uid].code, units[uid].name, count, overdue=int(late or 0))
                            for uid, count, late in rows if uid in units),
                           key=lambda g: (-(g.overdue or 0), -g.value, g.key))
    figure.total = sum(g.value for g in figure.groups)
    figure.overdue = sum(g.overdue or 0 for g in figure.groups)
    figure.unit = "项"
    return figure


def inbox_drill(vp: Viewpoint, key: str | None, overdue: bool) -> Select[tuple[InboxItem]]:
    stmt = inbox_select(vp)
    if key:
        stmt = stmt.where(InboxItem.unit_id == select(OrgUnit.id).where(OrgUnit.code == key).scalar_subquery())
    if overdue:
        stmt = stmt.where(InboxItem.due_date < local_today())
    return stmt.order_by(InboxItem.due_date.asc().nulls_last(), InboxItem.id)


# -- issued documents ------------------------------------------------------------------------------------------
def documents_select(doc_id: str, vp: Viewpoint, period: Period) -> Select[tuple[IssuedDocument]]:
    """Documents of ``doc_id`` issued in the period and not revoked, about records the dashboard counts
    (or, for documents about no record, issued by its units)."""
    low, high = period.utc_bounds
    # per document, its record by primary key (documents of a kind in a period are few; records are many)
    readable = [f.id for f in registry().forms() if allowed(vp.user, "read", f)]
    about_record = exists(select(Record.id).where(Record.id == IssuedDocument.record_id, Record.form_id.in_(readable),
                                                  vp.records()))
    by_unit = vp.within(IssuedDocument.issuer_unit_id) if vp.unit is not None else true()
    own = or_(about_record, and_(IssuedDocument.record_id.is_(None), by_unit))
    return (select(IssuedDocument).where(IssuedDocument.doc_id == doc_id, IssuedDocument.state == "issued",
                                         IssuedDocument.issued_at >= low, IssuedDocument.issued_at < high, own)
            .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc()))


def documents_figure(figure: Figure, spec: dict[str, Any], vp: Viewpoint, period: Period, registry: Any) -> Figure | None:
    if spec["document"] not in registry.live.documents:
        return None
    stmt = documents_select(spec["document"], vp, period).order_by(None)
    figure.total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    figure.unit = "份"
    return figure


# -- officer coverage ------------------------------------------------------------------------------------------
def coverage_figure(figure: Figure, vp: Viewpoint) -> Figure | None:
    from server.records import coverage

    if not coverage.may_see_coverage(vp.user):
        return None
    within = vp.unit if vp.may_choose else None
    areas = coverage.coverage_for(vp.user, within)
    areas.sort(key=lambda a: a.officers / a.quota if a.quota else 1)
    figure.groups = [Group(a.code, a.name, a.officers, target=a.quota) for a in areas]
    figure.total = sum(a.officers for a in areas)
    figure.target = sum(a.quota for a in areas)
    figure.rate = round(figure.total / figure.target * 100, 2) if figure.target else None
    figure.rate_label = "配备率"
    figure.unit = "人"
    figure.drill = False
    return figure


# -- award eligibility and vetoes ------------------------------------------------------------------------------
def year_end_figure(figure: Figure, vp: Viewpoint, period: Period) -> Figure | None:
    from server.rules import year_end

    year = period.end.year
    try:
        rows = year_end.summary(vp.user, year, vp.unit)
    except NotAllowed:
        return None
    counts = Counter({"ineligible": sum(1 for r in rows if not r.eligible),
                      "veto": sum(1 for r in rows if r.vetoes),
                      "accountability": sum(len(r.accountability) for r in rows)})
    figure.groups = [Group("ineligible", "失去评选资格的单位", counts["ineligible"]),
                     Group("veto", "被一票否决的单位", counts["veto"]),
                     Group("accountability", "问责（人次）", counts["accountability"])]
    figure.total = counts["ineligible"]
    figure.unit = "个单位"
    figure.drill = False
    figure.detail = {"year": year}
    return figure

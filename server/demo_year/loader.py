"""Load the demo year once: plan every ledger family's events, replay them day by day, mark the year
as loaded, and say in Chinese what was loaded.

Only into a county with no records yet: the year is a story of its own and must not mix with a
county's real ledgers. A second run finds the mark (an audit row) and changes nothing. A run that
fails part-way leaves what it wrote (every step was a complete, valid save); load again into a fresh
database.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import select

from server.audit import log_event
from server.db import write_transaction
from server.demo_year import assessments, areas, cases, inspections, intake, meetings, officers, roster, summary
from server.demo_year.clock import Schedule, Year
from server.demo_year.context import Context
from server.demo_year.people import Names, Staff
from server.demo_year.places import load_county
from server.demo_year.plan import build
from server.extensions import db
from server.records.models import AuditEntry, Record
from server.timeutil import local, local_today

MARK = "demo.year"
SEED = 20260510  # the names and numbers of the year: the same every time


def loaded(year: int) -> AuditEntry | None:
    return db.session.scalar(select(AuditEntry).where(AuditEntry.action == MARK, AuditEntry.subject == str(year))
                             .order_by(AuditEntry.id).limit(1))


def load_year(year: int, scale: float = 1.0, progress: Callable[[str], None] | None = None) -> str:
    """Load the demo year ``year`` (scaled down for tests by ``scale``); returns what happened, in Chinese."""
    mark = loaded(year)
    if mark is not None:
        return f"示范年度 {year} 已于 {local(mark.at)} 载入，未做改动"
    if db.session.scalar(select(Record.id).limit(1)) is not None:
        return f"数据库中已有台账记录，未载入示范年度 {year}（示范年度只载入到还没有记录的示范县）"
    registry = current_app.extensions["registry"]
    window = Year(year, registry.live.calendar)
    if local_today() <= window.end:
        return f"示范年度 {year} 截至 {window.end}，须在此后载入（今天是 {local_today()}）"
    ctx = plan(window, scale)
    replay = ctx.schedule.run(progress)
    with write_transaction():
        log_event(MARK, "demo", subject=str(year), detail=f"示范年度 {window.start} 至 {window.end}，规模 {scale}")
    return summary.describe(ctx, replay)


def plan(window: Year, scale: float) -> Context:
    """Every family's events of the year, on one schedule (nothing written yet)."""
    registry = current_app.extensions["registry"]
    params = dict(registry.live.rules.values) if registry.live.rules else {}
    ctx = Context(year=window, plan=build(scale), county=load_county(), names=Names(SEED), staff=Staff(),
                  schedule=Schedule(window, daily_on=_no_day),
                  params=params)
    ctx.held = assessments.held_days(ctx)
    ctx.meeting_days = meetings.meeting_days(ctx)
    ctx.plan_roster = {place.code: n for place, _, n in roster.recruitment(ctx)}
    roster.schedule(ctx)
    cases.schedule(ctx)
    inspections.schedule(ctx)
    intake.schedule(ctx, ctx.held)
    officers.schedule(ctx, ctx.held)
    assessments.schedule(ctx, ctx.held)
    meetings.schedule(ctx)
    _check(ctx)
    return ctx


def _no_day(_day: date) -> bool:
    """The daily rulesets (deadline checks over every unit and record, seconds each) run once, at the
    year's close, over everything it holds; on the days before, the tick fires the timers only. The
    year's own steps keep the deadlines those rules check (reports filed, quotas met, areas accepted in
    time), so daily runs would add a minute or more and leave little but notices that the following
    periods withdraw."""
    return False


def _check(ctx: Context) -> None:
    """The plan's own consistency: every area is listed at a meeting held after its 研判 and accepted
    (or extended) within the year."""
    for area in ctx.plan.areas:
        if ctx.county.township_of(area.division) != area.township:
            raise ValueError(f"{area.name}：示范县的组织机构中没有 {area.township} 下的 {area.division}（示范年度按 config/org 的示范县编写）")
        _, started, planned_end = areas.rectification_days(ctx, area, ctx.held[area.k])
        if planned_end < started + timedelta(days=7):
            raise ValueError(f"{area.name}：{started} 才开始整治，赶不上 {ctx.meeting_days[area.meeting]} 的联席会议")
        if ctx.year.add_working(areas.applied_day(ctx, area), 4) > ctx.year.end:
            raise ValueError(f"{area.name}：验收赶不上示范年度结束（{ctx.year.end}）")

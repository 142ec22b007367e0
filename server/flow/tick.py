"""The tick (``flask --app server tick``): fire the timer steps that are due, run the daily rulesets.

Idempotent and safe to run on several hosts against one PostgreSQL: due timers are taken in small
batches with ``FOR UPDATE SKIP LOCKED`` (a second tick skips what the first holds), every step that
fires inserts a row unique per timer and step, and daily decisions are unique while in force. Run it
twice, or twice at once, and each effect happens once. Daily rulesets run once a day (recorded in
``tick_runs``) however often the tick runs; ``make run`` ticks every minute.

Library choice: procrastinate (a PostgreSQL job queue) would need PostgreSQL also where the server runs
on SQLite, and the work here is not a queue of jobs but a set of deadlines already stored with an
index on their next day; cron (or a systemd timer) plus row locks does it with nothing more to run.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError

from server.db import write_transaction
from server.events import RECORD_SAVED, publish
from server.extensions import db
from server.flow import actions as flow_actions
from server.flow import service, timers
from server.flow.models import RecordTimer, TickRun, TimerStep
from server.records import service as records
from server.records.models import Record
from server.rules import service as rules_service
from server.rules.models import Decision
from server.workflow import machine
from server.workflow.deadlines import pending_steps

log = logging.getLogger(__name__)
BATCH = 50


@dataclass
class Fired:
    record: str
    timer: str
    step: str
    error: str = ""


@dataclass
class TickReport:
    fired: list[Fired] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    daily_ran: bool = False


def tick(on: date | None = None, daily: bool | None = None) -> TickReport:
    """One tick: timers first (a step may move a record), then the daily rulesets if not yet run
    today (``daily`` True forces them, False skips them)."""
    today = on or service.today()
    report = TickReport()
    fire_timers(today, report)
    if daily or (daily is None and not _ran("daily", today)):
        report.decisions = rules_service.run_daily(today)
        report.daily_ran = True
        _mark("daily", today)
    return report


def fire_timers(today: date, report: TickReport) -> None:
    """Walk the due timers in (next step day, id) order, a batch per transaction, each visited once per
    tick: every batch starts after the last one (keyset), along the index on (status, next_at, id)."""
    last = (date.min, 0)
    while True:
        touched: list[tuple[Record, bool]] = []
        with write_transaction():
            stmt = (select(RecordTimer).where(RecordTimer.status == "running", RecordTimer.next_at <= today,
                                              tuple_(RecordTimer.next_at, RecordTimer.id) > last)
                    .order_by(RecordTimer.next_at, RecordTimer.id).limit(BATCH))
            if db.session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(db.session.scalars(stmt))
            for row in rows:
                last = (row.next_at, row.id)
                try:
                    with db.session.begin_nested():
                        touched += _fire(row, today, report)
                except DBAPIError:  # a lock timeout or deadlock: nothing happened, the next tick tries again
                    log.warning("计时 %s 本次未能执行（数据库繁忙），下次再试", row.id, exc_info=True)
                except Exception as exc:  # noqa: BLE001 - stored with the step, never retried in a loop
                    log.exception("计时步骤执行失败：计时 %s", row.id)
                    with db.session.begin_nested():
                        _fail(row.id, today, report, str(exc) or type(exc).__name__)
        for record, created in touched:  # rules see what the steps changed, as after any save
            publish(RECORD_SAVED, record=record, user=None, created=created)
        if not rows:
            return


def _fire(row: RecordTimer, today: date, report: TickReport) -> list[tuple[Record, bool]]:
    """Fire the due steps of one timer. The record is locked without waiting: a person moving it right
    now holds it (and will wait for this timer's row), so it is left for the next tick instead."""
    record = db.session.scalar(select(Record).where(Record.id == row.record_id)
                               .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if record is None:
        return []
    workflow = service.workflow_of(record)
    timer = workflow.timers.get(row.timer) if workflow is not None else None
    if timer is None:  # the record was migrated to a version without this timer
        timers.stop(row)
        return []
    fact = service.workflow_fact(record, workflow, on=today)
    env = service.env_for(record, workflow, fact, on=today)
    due_now, _ = pending_steps(timer, row.due_date, set(row.fired or []), today, env.params, fact, env.calendar)
    touched: list[tuple[Record, bool]] = []
    for step in due_now:
        db.session.add(TimerStep(timer_id=row.id, step=step.id, title=step.title, fired_on=today))
        db.session.flush()  # unique per timer and step: a step fires once
        row.fired = [*(row.fired or []), step.id]
        data = copy.deepcopy(record.data)
        values = service.placeholders(record, workflow, data, fact, None, on=today, timer_title=timer.title,
                                      step_title=step.title)
        run = flow_actions.run_for(record, data, None, env, key=f"timer:{row.id}:{step.id}",
                                   source=f"timer:{timer.id}.{step.id}", timer_id=row.id)
        flow_actions.perform_all(step.actions, values, run, workflow, [])
        if data != record.data:
            records.validate_data(record, data)
            records.write_data(record, data, None, "timer", detail=f"{timer.title}·{step.title}")
            touched.append((record, False))
        touched += [(r, True) for r in run.created] + [(r, False) for r in run.updated]
        report.fired.append(Fired(record.number, timer.title, step.title))
        transition = workflow.transitions.get(step.transition) if step.transition else None
        if transition is not None and record.state in transition.sources:
            to_state = machine.target(transition, service.passed(workflow, fact))
            touched += service.apply_transition(record, workflow, transition, to_state, copy.deepcopy(record.data),
                                                None, f"{timer.title}·{step.title}", fact, service.Outcome(record),
                                                actor=f"系统（{timer.title}·{step.title}）", on=today)
            touched.append((record, False))
        if row.status != "running":
            break
    if row.status == "running":
        timers.schedule_next(row, timer, env)
    record.due_date = timers.record_due(record.id)
    return list({id(r): (r, c) for r, c in touched}.values())


def _fail(timer_id: int, today: date, report: TickReport, error: str) -> None:
    """Mark the due steps of a timer as fired with the error, so the tick moves on (the error is on
    the step and in the log for the administrator)."""
    row = db.session.get(RecordTimer, timer_id, populate_existing=True)
    record = db.session.get(Record, row.record_id)
    workflow = service.workflow_of(record)
    timer = workflow.timers.get(row.timer) if workflow is not None else None
    if timer is None:
        timers.stop(row)
        return
    env = service.env_for(record, workflow, {}, on=today)
    try:
        due_now, _ = pending_steps(timer, row.due_date, set(row.fired or []), today, env.params, {}, env.calendar)
    except Exception:  # noqa: BLE001 - the amounts themselves cannot be worked out: stop asking every tick
        row.next_at = None
        return
    for step in due_now:
        db.session.add(TimerStep(timer_id=row.id, step=step.id, title=step.title, fired_on=today, error=error[:500]))
        row.fired = [*(row.fired or []), step.id]
        report.fired.append(Fired(record.number, timer.title, step.title, error))
    timers.schedule_next(row, timer, env)


def _ran(job: str, day: date) -> bool:
    return db.session.get(TickRun, (job, day)) is not None


def _mark(job: str, day: date) -> None:
    try:
        with write_transaction():
            db.session.add(TickRun(job=job, day=day))
    except IntegrityError:  # another tick finished the same job: fine
        db.session.rollback()

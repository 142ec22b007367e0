"""Timers of records: starting, pausing, resuming, stopping, and keeping the next step's day current.

Everything runs inside the caller's write transaction. A timer's due date is computed once, when it
starts (from the day the record entered the state, or from a date field), in the timer's unit and
with the working-day calendar; a pause gives back the days it lasted. ``next_at`` is the day of the
next step that has not fired; the tick selects on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from sqlalchemy import select

from server.extensions import db
from server.flow.models import RecordTimer
from server.forms.pointers import get_path
from server.inbox import service as inbox
from server.records.models import Record
from server.rules.facts import as_date
from server.timeutil import utcnow
from server.workflow.calendar import WorkCalendar
from server.workflow.deadlines import after_pause, due_date, schedule
from server.workflow.definition import Timer, Workflow


@dataclass
class TimerEnv:
    """What computing a deadline needs: today, the calendar, the parameters and the record's fact."""

    today: date
    calendar: WorkCalendar
    params: Mapping[str, Any]
    fact: Mapping[str, Any]


def live_timers(record_id: int) -> list[RecordTimer]:
    """The record's running and paused timers."""
    return list(db.session.scalars(select(RecordTimer).where(
        RecordTimer.record_id == record_id, RecordTimer.status.in_(("running", "paused"))).order_by(RecordTimer.id)))


def start(record: Record, workflow: Workflow, timer: Timer, env: TimerEnv, due_from: str | None = None,
          data: Mapping[str, Any] | None = None) -> RecordTimer | None:
    """Start ``timer`` (stopping a live one of the same id first: a restart re-arms every step).

    ``due_from``: a date field whose value is the due date itself (an approved 延期 gives the new
    deadline). ``data``: the record's data as the transition leaves it (default: as stored). Returns
    None when the timer counts from a date field that is still empty."""
    data = record.data if data is None else data
    for running in live_timers(record.id):
        if running.timer == timer.id:
            stop(running)
    if due_from is not None:
        due = as_date(get_path(data, due_from, dash_is_last=True))
        if due is None:
            return None
        base = env.today
    else:
        base = env.today if timer.start_from == "entered" else as_date(get_path(data, timer.start_from))
        if base is None:
            return None
        due = due_date(timer, base, env.params, env.fact, env.calendar)
    row = RecordTimer(record_id=record.id, timer=timer.id, workflow_version=record.workflow_version or 0,
                      status="running", base_date=base, due_date=due, fired=[], started_at=utcnow(),
                      due_fixed=due_from is not None)
    db.session.add(row)
    schedule_next(row, timer, env)
    db.session.flush()
    return row


def schedule_next(row: RecordTimer, timer: Timer, env: TimerEnv) -> None:
    """Set ``next_at`` to the day of the first step that has not fired (None when all have)."""
    fired = set(row.fired or [])
    row.next_at = next((day for step, day in schedule(timer, row.due_date, env.params, env.fact, env.calendar)
                        if step.id not in fired), None)


def stop(row: RecordTimer, status: str = "stopped") -> None:
    """Stop a timer; what its steps raised in the inbox is done (the matter moved on)."""
    row.status, row.stopped_at, row.next_at = status, utcnow(), None
    inbox.close_for_timer(row.id)


def pause(row: RecordTimer, today: date) -> None:
    """Pause (the result is reported and under review): what the steps asked for has been done."""
    row.status, row.paused_on, row.next_at = "paused", today, None
    inbox.close_for_timer(row.id)


def resume(row: RecordTimer, timer: Timer, env: TimerEnv) -> None:
    """Give back the paused days (in the timer's unit) and carry on."""
    if row.paused_on is not None:
        row.due_date = after_pause(timer, row.due_date, row.paused_on, env.today, env.calendar)
    row.status, row.paused_on = "running", None
    schedule_next(row, timer, env)


def recompute(row: RecordTimer, record: Record, timer: Timer, env: TimerEnv) -> bool:
    """After an edit of the date a timer counts from, move its due date; True when it moved. A due
    date set from a field (an approved 延期) stays as approved."""
    if timer.start_from == "entered" or row.due_fixed:
        return False
    base = as_date(get_path(record.data, timer.start_from))
    if base is None or base == row.base_date:
        return False
    row.base_date = base
    row.due_date = due_date(timer, base, env.params, env.fact, env.calendar)
    if row.status == "running":
        schedule_next(row, timer, env)
    return True


def record_due(record_id: int) -> date | None:
    """The record's nearest due date: of its running and paused timers."""
    dues = [t.due_date for t in live_timers(record_id)]
    return min(dues) if dues else None

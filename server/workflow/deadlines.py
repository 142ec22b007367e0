"""Deadlines: when a timer is due and on which days its escalation steps fire (pure).

"13 个工作日" counts Chinese working days from the calendar (holidays and 调休 included); an amount may
be a number, a parameter or an attribute of the record's fact, resolved here at the moment the
deadline is computed. A step fires on the day ``due ± offset``; the tick fires every step whose day
has come and that has not fired yet, each exactly once.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from server.workflow.calendar import WorkCalendar, add_calendar_days, add_months
from server.workflow.definition import Amount, Step, Timer


class AmountError(ValueError):
    """An amount could not be resolved (a missing fact attribute, a parameter that is not an integer)."""


def resolve(amount: Amount, params: Mapping[str, Any], fact: Mapping[str, Any]) -> int:
    value, source = amount.value, None
    if isinstance(value, dict) and "$param" in value:
        source, value = f"参数 {value['$param']}", params.get(value["$param"])
    elif isinstance(value, dict) and "$fact" in value:
        source, value = f"事实属性 {value['$fact']}", fact.get(value["$fact"])
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        found = "没有值" if value is None else f"的值 {value!r} 不是整数"
        raise AmountError(f"期限无法确定：{source or '期限'}{found}")
    return int(value) * amount.sign


def shift(day: date, count: int, unit: str, calendar: WorkCalendar) -> date:
    try:
        if unit == "working_days":
            return calendar.add_working_days(day, count)
        if unit == "months":
            return add_months(day, count)
        return add_calendar_days(day, count)
    except (OverflowError, ValueError) as exc:  # a parameter far too large: no such date
        raise AmountError(f"期限无法确定：{day} 加 {count} 超出了日期范围") from exc


def due_date(timer: Timer, base: date, params: Mapping[str, Any], fact: Mapping[str, Any],
             calendar: WorkCalendar) -> date:
    """The day the timer is due: ``base`` plus its length (``base`` itself does not count)."""
    return shift(base, resolve(timer.due, params, fact), timer.due.unit, calendar)


def step_day(step: Step, due: date, params: Mapping[str, Any], fact: Mapping[str, Any],
             calendar: WorkCalendar) -> date:
    return shift(due, resolve(step.offset, params, fact), step.offset.unit, calendar)


def schedule(timer: Timer, due: date, params: Mapping[str, Any], fact: Mapping[str, Any],
             calendar: WorkCalendar) -> list[tuple[Step, date]]:
    """Every step with its day, in the order they fire (ties keep the file's order)."""
    days = [(step, step_day(step, due, params, fact, calendar)) for step in timer.steps]
    return sorted(days, key=lambda pair: pair[1])


def pending_steps(timer: Timer, due: date, fired: set[str], today: date, params: Mapping[str, Any],
                  fact: Mapping[str, Any], calendar: WorkCalendar) -> tuple[list[Step], date | None]:
    """The steps due by ``today`` that have not fired, and the day of the next one after that."""
    due_now, next_day = [], None
    for step, day in schedule(timer, due, params, fact, calendar):
        if step.id in fired:
            continue
        if day <= today:
            due_now.append(step)
        elif next_day is None:
            next_day = day
    return due_now, next_day


def after_pause(timer: Timer, due: date, paused_on: date, resumed_on: date, calendar: WorkCalendar) -> date:
    """The due date once a pause from ``paused_on`` to ``resumed_on`` is given back, counted the way
    the timer counts (a pause over a weekend gives back no working days)."""
    if resumed_on <= paused_on:
        return due
    if timer.due.unit == "working_days":
        return calendar.add_working_days(due, calendar.working_days_between(paused_on, resumed_on))
    return add_calendar_days(due, (resumed_on - paused_on).days)

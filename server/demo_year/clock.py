"""The demo year's calendar and its replay: events run in time order, each "as of" its moment, and the
tick runs for every day in between, as ``make run``'s ticker would have.

The year is the twelve months that end with November of the chosen year (December 2025 – November
2026 for 2026): what a county has on file in December, when the year's report is written. Nothing is
dated after the window, so the demo never shows a record from the future when loaded in December.

Events are plain functions scheduled at a moment (China time). A ledger family schedules its own
events while planning, and may schedule more while the year runs (a problem handled a few days
after it was routed); an event is never scheduled before the moment being replayed.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable

from server.flow.tick import tick
from server.timeutil import as_of
from server.workflow.calendar import WorkCalendar, add_months

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Year:
    """The window of the demo year and working-day arithmetic on the county's calendar."""

    year: int
    calendar: WorkCalendar

    @property
    def start(self) -> date:
        return date(self.year - 1, 12, 1)

    @property
    def end(self) -> date:
        return date(self.year, 11, 30)

    def day(self, month: int, day: int) -> date:
        """A day of the demo year by month (12 = December of the year before)."""
        return date(self.year - 1 if month == 12 else self.year, month, day)

    def months(self) -> list[str]:
        """The window's months, oldest first: ``["2025-12", "2026-01", ..., "2026-11"]``."""
        return [add_months(self.start, n).strftime("%Y-%m") for n in range(12)]

    def working(self, day: date, back: bool = False) -> date:
        """``day`` if people work then, else the next (``back``: the previous) working day."""
        step = timedelta(days=-1 if back else 1)
        while not self.calendar.is_working_day(day):
            day += step
        return day

    def add_working(self, day: date, days: int) -> date:
        return self.calendar.add_working_days(day, days)

    def working_days(self, first: date, last: date) -> list[date]:
        """The working days from ``first`` to ``last``, both included."""
        out, day = [], first
        while day <= last:
            if self.calendar.is_working_day(day):
                out.append(day)
            day += timedelta(days=1)
        return out


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of a day, China time (naive; :func:`server.timeutil.as_of` reads it as CST)."""
    return datetime.combine(day, time(hour, minute))


@dataclass(order=True)
class _Event:
    moment: datetime
    seq: int
    label: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)


@dataclass
class Replay:
    """What running the schedule did: events run, ticks, timer steps fired, daily rule runs."""

    events: int = 0
    ticks: int = 0
    fired: int = 0
    daily_runs: int = 0
    decisions: int = 0
    seconds: float = 0.0


class Schedule:
    """Events in time order; :meth:`run` replays them with the tick in between.

    ``daily_on(day)`` says on which days the tick also runs the daily rulesets (deadlines checked over
    every record and unit: seconds each); on the other days it fires the timers only, which costs
    nothing when none is due.
    """

    def __init__(self, year: Year, daily_on: Callable[[date], bool]):
        self.year = year
        self.daily_on = daily_on
        self._heap: list[_Event] = []
        self._seq = itertools.count()
        self._now: datetime | None = None

    def at(self, moment: datetime, run: Callable[[], None], label: str = "") -> None:
        if self._now is not None and moment < self._now:
            raise ValueError(f"事件“{label}”的时间 {moment} 早于正在回放的 {self._now}")
        if moment.date() > self.year.end:
            raise ValueError(f"事件“{label}”的时间 {moment} 晚于示范年度的最后一天 {self.year.end}")
        heapq.heappush(self._heap, _Event(moment, next(self._seq), label, run))

    @property
    def now(self) -> datetime:
        if self._now is None:
            raise RuntimeError("示范年度尚未开始回放")
        return self._now

    def on(self, day: date, run: Callable[[], None], label: str = "", hour: int = 9, minute: int = 0) -> None:
        self.at(at(day, hour, minute), run, label)

    def run(self, progress: Callable[[str], None] | None = None) -> Replay:
        replay, started = Replay(), clock.monotonic()
        ticked = self.year.start - timedelta(days=1)
        month = ""
        while self._heap:
            event = heapq.heappop(self._heap)
            day = event.moment.date()
            while ticked < day:
                ticked += timedelta(days=1)
                self._tick(ticked, replay)
            if progress is not None and day.strftime("%Y-%m") != month:
                month = day.strftime("%Y-%m")
                progress(month)
            self._now = event.moment
            with as_of(event.moment):
                try:
                    event.run()
                except Exception:
                    log.error("示范年度事件失败：%s（%s）", event.label, event.moment)
                    raise
            replay.events += 1
        while ticked < self.year.end:
            ticked += timedelta(days=1)
            self._tick(ticked, replay)
        self._tick(self.year.end, replay, closing=True)
        replay.seconds = clock.monotonic() - started
        return replay

    def _tick(self, day: date, replay: Replay, closing: bool = False) -> None:
        """The tick of ``day`` at 00:30, before the day's work: timers due that day fire. The year closes
        with the daily rulesets run once more at the end of its last day, over everything it holds."""
        self._now = at(day, 23, 0) if closing else at(day, 0, 30)
        daily = closing or (self.daily_on(day) and day != self.year.end)
        with as_of(self._now):
            report = tick(on=day, daily=daily)
        replay.ticks += 1
        replay.fired += len(report.fired)
        replay.daily_runs += int(report.daily_ran)
        replay.decisions += len(report.decisions)

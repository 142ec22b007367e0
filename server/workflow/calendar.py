"""Working days: every "N 个工作日" deadline skips Chinese statutory holidays and counts 调休 make-up days.

China moves working days around every year: the State Council's notice (国务院办公厅关于<year>年部分
节假日安排的通知) turns some weekdays into days off and some weekends into working days (调休上班).
A plain "Monday to Friday" count is therefore wrong by up to a week around 春节 and 国庆. The answer
per day comes, in this order, from

1. a per-year override (:class:`YearDays`, read by ``server.specs.calendar_loader`` from
   ``config/calendar/<year>.json``): used *alone* for its year, so an administrator can add a year the
   package does not know yet, or correct one it got wrong;
2. the maintained ``chinese_calendar`` package, for the years its data covers;
3. plain weekends (Monday–Friday work) for any other year. ``server.specs.calendar_loader``'s
   ``calendar_warnings`` tells the administrator when a deadline reaches such a year.

:class:`WorkCalendar` answers from per-year tables built the first time a year is asked for, so
``add_working_days(start, 13)`` is a dictionary look-up, two array reads and a ``date.fromordinal``
rather than a loop calling the package: a tick over 100,000 open matters must stay cheap. The module
is pure (no Flask, no database, no files), so the workflow engine and its tests can use it anywhere.
"""
from __future__ import annotations

import hashlib
import json
from array import array
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta
from types import MappingProxyType
from typing import NamedTuple

import chinese_calendar

# The package's data: the years between its first and last listed day are fully covered (its own
# ``is_workday`` raises NotImplementedError outside them). Derived from the data, not pinned, so an
# upgraded package extends the calendar without a code change.
_PACKAGE_DAYS = [*chinese_calendar.holidays, *chinese_calendar.workdays]
PACKAGE_FIRST_YEAR: int = min(_PACKAGE_DAYS).year
PACKAGE_LAST_YEAR: int = max(_PACKAGE_DAYS).year
del _PACKAGE_DAYS

_EMPTY: Mapping[int, YearDays] = MappingProxyType({})


@dataclass(frozen=True)
class YearDays:
    """One year's days off and make-up working days, as an override of ``config/calendar/<year>.json``.

    ``holidays`` are days off (法定节假日 and the weekdays moved into the holiday; listing a weekend day
    is harmless); ``workdays`` are weekend days worked in lieu (调休上班). Every other day of the year
    follows the week: Monday–Friday work, Saturday and Sunday off.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        # Accept any collection, keep a frozenset: the calendar is shared between threads.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        strays = sorted(d for d in self.holidays | self.workdays if d.year != self.year)
        if strays:
            raise ValueError(f"{strays[0].isoformat()} is not in {self.year}")
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(f"{both[0].isoformat()} is both a holiday and a workday")


class _Year(NamedTuple):
    """One year's answers, indexed by ``ordinal - first`` (``first`` = the ordinal of 1 January).

    ``rank[i]`` counts the working days from 1 January up to and including day ``i``; ``work`` holds
    the ordinals of the working days in order, so "the k-th working day of the year" is ``work[k - 1]``.
    """

    first: int
    rank: array
    work: array


class WorkCalendar:
    """Which days are working days; immutable, built once per published configuration, shared by threads.

    The per-year tables are a memo filled on first use. Two threads may both build the same year;
    both results are equal and either one is kept, so no lock is needed.
    """

    __slots__ = ("_overrides", "_years", "_digest")

    def __init__(self, overrides: Mapping[int, YearDays] = _EMPTY):
        for year, days in overrides.items():
            if year != days.year:
                raise ValueError(f"override for {year} holds the days of {days.year}")
        self._overrides: Mapping[int, YearDays] = MappingProxyType(dict(overrides))
        self._years: dict[int, _Year] = {}
        self._digest = _digest(self._overrides)

    def __repr__(self) -> str:
        return f"WorkCalendar(overrides={sorted(self._overrides)}, last_covered_year={self.last_covered_year})"

    @property
    def overrides(self) -> Mapping[int, YearDays]:
        """The per-year overrides, read-only."""
        return self._overrides

    @property
    def last_covered_year(self) -> int:
        """The last year whose holidays are known, from the package or an override."""
        return max(PACKAGE_LAST_YEAR, *self._overrides) if self._overrides else PACKAGE_LAST_YEAR

    def is_covered(self, day: date) -> bool:
        """Whether ``day``'s year has real holiday data; otherwise only weekends are skipped in it."""
        return day.year in self._overrides or PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR

    def is_working_day(self, day: date) -> bool:
        """Whether people work on ``day`` (a datetime counts as its date)."""
        year = self._year(day.year)
        index = day.toordinal() - year.first
        return year.rank[index] != (year.rank[index - 1] if index else 0)

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start``; ``start`` itself never counts.

        ``days > 0``: the ``days``-th working day after ``start``. ``days < 0``: the ``-days``-th working
        day before ``start``, counting back from the day before it (3 working days before Friday
        2026-10-09 is 2026-09-29: 10-08, 09-30, 09-29). ``days == 0``: ``start`` itself, even on a day
        off, so that "0 个工作日" means "the same day" rather than silently moving a date.
        """
        if days == 0:
            return start
        year = self._year(start.year)
        index = start.toordinal() - year.first
        if days > 0:
            target = year.rank[index] + days  # the target-th working day counted from 1 January
            while target > len(year.work):
                target -= len(year.work)
                year = self._year(_next_year(year))
            return date.fromordinal(year.work[target - 1])
        before = year.rank[index - 1] if index else 0  # working days of the year before ``start``
        target = before + days + 1
        while target < 1:
            year = self._year(_previous_year(year))
            target += len(year.work)
        return date.fromordinal(year.work[target - 1])

    def working_days_between(self, start: date, end: date) -> int:
        """Signed count of working days ``d`` with ``start < d <= end``; ``-working_days_between(end, start)``
        when ``end < start``; 0 when equal.

        It is ``W(end) - W(start)`` for ``W(x)`` = working days up to and including ``x``, so it is
        antisymmetric and additive: ``between(a, b) + between(b, c) == between(a, c)``. With
        :meth:`add_working_days`, for every ``start`` and ``n >= 0``:
        ``working_days_between(start, add_working_days(start, n)) == n``; for ``n < 0`` the same holds
        when ``start`` is a working day (from a day off it is ``n + 1``, since counting back starts the
        day before ``start`` while the count ends at ``start``). And for a working day ``end > start``,
        ``add_working_days(start, working_days_between(start, end)) == end``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        first, last = self._year(start.year), self._year(end.year)
        count = self._rank(last, end) - self._rank(first, start)
        for year in range(start.year, end.year):
            count += len(self._year(year).work)
        return count

    def digest(self) -> str:
        """SHA-256 of the overrides' content (not of the package's data), stable across processes."""
        return self._digest

    def _rank(self, year: _Year, day: date) -> int:
        return year.rank[day.toordinal() - year.first]

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            table = self._years[year] = self._build(year)
        return table

    def _build(self, year: int) -> _Year:
        if not MINYEAR <= year <= MAXYEAR:
            raise OverflowError("date value out of range")
        override = self._overrides.get(year)
        package = override is None and PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR
        first = date(year, 1, 1).toordinal()
        rank, work, count = array("H"), array("l"), 0
        for ordinal in range(first, date(year, 12, 31).toordinal() + 1):
            day = date.fromordinal(ordinal)
            if override is not None:
                working = _overridden(day, override)
            elif package:
                working = chinese_calendar.is_workday(day)
            else:
                working = day.weekday() < 5
            if working:
                count += 1
                work.append(ordinal)
            rank.append(count)
        return _Year(first, rank, work)


def _overridden(day: date, override: YearDays) -> bool:
    """A day of an overridden year: only that file's lists count, on top of the week."""
    if day in override.workdays:
        return True
    return day.weekday() < 5 and day not in override.holidays


def _next_year(year: _Year) -> int:
    return date.fromordinal(year.first).year + 1


def _previous_year(year: _Year) -> int:
    return date.fromordinal(year.first).year - 1


def _digest(overrides: Mapping[int, YearDays]) -> str:
    content = {
        str(year): {"holidays": sorted(d.isoformat() for d in days.holidays),
                    "workdays": sorted(d.isoformat() for d in days.workdays)}
        for year, days in overrides.items()
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole calendar months (``months`` may be negative), clamped to the month's end.

    "一年观察期" and monthly reports count calendar months, not 30-day blocks: 2026-01-31 + 1 month is
    2026-02-28, the last day that month has.
    """
    years, month_index = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month_index + 1
    return start.replace(year=year, month=month, day=min(start.day, monthrange(year, month)[1]))


def add_calendar_days(start: date, days: int) -> date:
    """``start`` moved by ``days`` calendar days (自然日), holidays included; negative goes back."""
    return start + timedelta(days=days)

"""Calendar periods of a cadence: a month, its halves (上半月 1–15, 下半月 16–end) or its ten-day parts
(上旬 1–10, 中旬 11–20, 下旬 21–end), as Chinese offices count them.

Pure and free of the database: the 研判 cadence is a parameter (``assessment_cadence``, 半月 in the seed),
and the daily chase asks which period last passed its deadline (its end plus a grace of days).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from server.rules.vocabulary import CADENCES

#: Each cadence's parts of a month: (first day, last day or None for the month's end, name).
_PARTS: dict[str, tuple[tuple[int, int | None, str], ...]] = {
    "月": ((1, None, ""),),
    "半月": ((1, 15, "上半月"), (16, None, "下半月")),
    "旬": ((1, 10, "上旬"), (11, 20, "中旬"), (21, None, "下旬")),
}
assert set(_PARTS) == set(CADENCES)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str  # 2026年5月上半月

    def deadline(self, grace_days: int) -> date:
        return self.end + timedelta(days=grace_days)


def periods_of_month(year: int, month: int, cadence: str) -> list[Period]:
    """The periods ``cadence`` divides a month into, in order."""
    last = calendar.monthrange(year, month)[1]
    return [Period(date(year, month, first), date(year, month, end or last), f"{year}年{month}月{name}")
            for first, end, name in _PARTS[cadence]]


def period_of(day: date, cadence: str) -> Period:
    """The period ``day`` lies in."""
    return next(p for p in periods_of_month(day.year, day.month, cadence) if p.start <= day <= p.end)


def last_passed(today: date, cadence: str, grace_days: int = 0) -> Period:
    """The latest period whose deadline (end + ``grace_days``) lies before ``today``: on the 16th, with
    半月 and no grace, the first half of the month; on the 15th still the second half of the month before."""
    period = period_of(today, cadence)
    while period.deadline(grace_days) >= today:
        period = period_of(period.start - timedelta(days=1), cadence)
    return period

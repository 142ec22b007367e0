"""Working days: deadlines such as "10 个工作日内" skip weekends and the county's listed holidays."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Collection


def add_working_days(start: date, days: int, holidays: Collection[date] = (),
                     extra_workdays: Collection[date] = ()) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count).

    ``extra_workdays`` are weekend days worked in lieu (调休上班), which count as working days.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current, left = start, days
    while left:
        current += timedelta(days=1)
        if is_working_day(current, holidays, extra_workdays):
            left -= 1
    return current


def is_working_day(day: date, holidays: Collection[date] = (), extra_workdays: Collection[date] = ()) -> bool:
    if day in extra_workdays:
        return True
    return day.weekday() < 5 and day not in holidays

"""The period a dashboard counts: a month, a quarter, a year or any span of China calendar days.

Pages, the Excel export and the API read the same arguments (``from``/``to`` as YYYY-MM-DD, or a
preset ``period`` = month | quarter | year | last_year counted from today), so a figure read on the
page, in the spreadsheet and from the API is the same figure. A wrong date is a field error naming
the argument, never a silently different period.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping

from server.errors import FieldError, ValidationFailed
from server.timeutil import CST

PRESETS = {"month": "本月", "quarter": "本季度", "year": "本年", "last_year": "上年"}
MAX_DAYS = 366 * 10  # a decade is the longest span asked for; longer is a typo (20266-01-01)


@dataclass(frozen=True)
class Period:
    """Both ends included, China calendar days."""

    start: date
    end: date
    preset: str = ""

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"

    @property
    def months(self) -> tuple[str, str]:
        """The first and last month (YYYY-MM) the period touches, for ledgers kept by month."""
        return self.start.strftime("%Y-%m"), self.end.strftime("%Y-%m")

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        """``[start, end)`` as UTC instants: midnight China time of the first day and of the day after the last."""
        return _midnight(self.start), _midnight(self.end + timedelta(days=1))

    @property
    def years(self) -> range:
        return range(self.start.year, self.end.year + 1)

    def previous_year(self) -> "Period":
        """The same days a year earlier (29 February becomes the 28th), for 同比."""
        return Period(_year_back(self.start), _year_back(self.end))

    def args(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CST).astimezone(timezone.utc)


def _year_back(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def preset(name: str, today: date) -> Period:
    """本月, 本季度, 本年 (each up to today's end of period) or 上年, counted from ``today``."""
    if name == "month":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif name == "quarter":
        start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        end = (start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    elif name == "last_year":
        start, end = date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    else:
        name, start, end = "year", date(today.year, 1, 1), date(today.year, 12, 31)
    return Period(start, end, name)


def parse_period(args: Mapping[str, str], today: date) -> Period:
    """The period the arguments ask for: ``from``/``to`` (either may be left out), else ``period``,
    else this year. ValidationFailed names the argument that is wrong."""
    low, high = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if not low and not high:
        name = args.get("period") or "year"
        if name not in PRESETS:
            raise ValidationFailed([FieldError("/period", f"统计期间应为 {'、'.join(PRESETS)} 之一")])
        return preset(name, today)
    errors: list[FieldError] = []
    start = _date(low, "/from", errors) if low else date(today.year, 1, 1)
    end = _date(high, "/to", errors) if high else max(today, start)
    if not errors and start > end:
        errors.append(FieldError("/to", "截止日期不能早于起始日期"))
    if not errors and (end - start).days > MAX_DAYS:
        errors.append(FieldError("/to", "统计期间不能超过十年"))
    if errors:
        raise ValidationFailed(errors)
    return Period(start, end)


def _date(text: str, name: str, errors: list[FieldError]) -> date:
    try:
        value = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        value = None
    if value is None or not 2000 <= value.year <= 2100:
        errors.append(FieldError(name, "日期应为 2000 到 2100 年间的 YYYY-MM-DD，如 2026-01-01"))
        return date(2000, 1, 1)
    return value

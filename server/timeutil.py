"""Time helpers: the database stores UTC; people see China Standard Time (UTC+8, no DST)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def local(value: datetime | None) -> str:
    """'2026-05-01 09:30' in China time, for pages and exports."""
    if value is None:
        return ""
    return as_aware(value).astimezone(CST).strftime("%Y-%m-%d %H:%M")


def local_year(value: datetime) -> int:
    return as_aware(value).astimezone(CST).year


def local_today() -> date:
    """Today in China: what deadlines, working days and "today" in configuration count from."""
    return utcnow().astimezone(CST).date()

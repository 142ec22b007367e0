"""Time helpers: the database stores UTC; people see China Standard Time (UTC+8, no DST).

``as_of`` lets a caller act at another moment: everything that asks :func:`utcnow` or
:func:`local_today` (records' and transitions' stamps, ``{today}`` in workflow actions, deadlines,
rules, the documents' date) then sees that moment. It exists for the demo year
(``flask demo load --year``, :mod:`server.demo_year`), which replays a county year through the real
services day by day: those services take "now" from here, so the year is written as it would have
been written on each day, without rows stamped behind their back. Freezing the clock in production
code with a test library would also stop the clocks that must keep running (timeouts, sessions);
this changes only what the server itself calls "now", and only inside the ``with`` block.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

CST = timezone(timedelta(hours=8), "CST")

_as_of: ContextVar[datetime | None] = ContextVar("as_of", default=None)


@contextmanager
def as_of(moment: date | datetime) -> Iterator[None]:
    """Act as if it were ``moment``: a datetime (naive = China time) or a day (09:00 China time).
    Nested blocks see their own moment; leaving a block restores the one around it."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=CST)
    else:
        aware = datetime.combine(moment, time(9, 0), CST)
    token = _as_of.set(aware.astimezone(timezone.utc))
    try:
        yield
    finally:
        _as_of.reset(token)


def utcnow() -> datetime:
    fixed = _as_of.get()
    return fixed if fixed is not None else datetime.now(timezone.utc)


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

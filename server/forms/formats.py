"""Strict ``date`` / ``date-time`` format checks.

jsonschema's own checkers depend on optional packages (and accept things a clerk never types, or
reject the browser's ``2026-05-01T09:30``), so the result would differ between machines. Ours accept
exactly what the date and date-time inputs produce, plus seconds, fractions and a zone from API
clients, and reject impossible dates such as 2026-02-30.

``id_number`` is the 18-digit citizen identity number of GB 11643-1999: a pattern alone let a mistyped
digit through, so the birth date must be a real day and the check digit must be right.
"""
from __future__ import annotations

import datetime as dt
import re

from jsonschema import FormatChecker

DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-](\d{2}):(\d{2}))?",
    re.ASCII,
)


def is_date(value: object) -> bool:
    """``YYYY-MM-DD`` naming a real calendar day; non-strings are left to the ``type`` keyword."""
    if not isinstance(value, str):
        return True
    match = DATE_RE.fullmatch(value)
    return bool(match) and _real_date(*match.groups())


def is_datetime(value: object) -> bool:
    """``YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]`` naming a real moment."""
    if not isinstance(value, str):
        return True
    match = DATETIME_RE.fullmatch(value)
    if not match:
        return False
    year, month, day, hour, minute, second, _fraction, _zone, zone_h, zone_m = match.groups()
    if not _real_date(year, month, day):
        return False
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
        return False
    return zone_h is None or (int(zone_h) <= 23 and int(zone_m) <= 59)


ID_NUMBER_RE = re.compile(r"\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dXx]", re.ASCII)
#: GB 11643-1999 (ISO 7064 MOD 11-2): weight of each of the first 17 digits, and the check character
#: for each remainder of their weighted sum modulo 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECKS = "10X98765432"


def id_check_char(first17: str) -> str:
    """The check character (``0``–``9`` or ``X``) for the first 17 digits of an identity number."""
    return ID_CHECKS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def is_id_number(value: object) -> bool:
    """An 18-character identity number with a real birth date (not in the future, not before 1900)
    and the right check character (``x`` read as ``X``)."""
    if not isinstance(value, str):
        return True
    match = ID_NUMBER_RE.fullmatch(value)
    if not match or not _real_date(*match.groups()):
        return False
    if not dt.date(1900, 1, 1) <= dt.date(*map(int, match.groups())) <= dt.date.today():
        return False
    return id_check_char(value[:17]) == value[17].upper()


def _real_date(year: str, month: str, day: str) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def make_format_checker() -> FormatChecker:
    """A checker with only our strict formats: other ``format`` values stay annotations."""
    checker = FormatChecker(formats=())
    checker.checks("date")(is_date)
    checker.checks("date-time")(is_datetime)
    checker.checks("id_number")(is_id_number)
    return checker

"""Read ``config/calendar/<year>.json``: holidays and 调休 working days for years the package lacks.

The ``chinese_calendar`` package knows the State Council's holiday arrangements up to the year it was
released for. The notice for the next year (国务院办公厅关于<year>年部分节假日安排的通知) comes out
around November; until the package is upgraded, an administrator adds that year here, and the same
file corrects a year the package got wrong. A file replaces the package for its whole year: list
every day off and every make-up working day of that notice, not only the changes.

File format, one file per year, named by the year (``config/calendar/2027.json``)::

    {
      "holidays": ["2027-01-01", {"from": "2027-02-05", "to": "2027-02-11", "title": "春节"}],
      "workdays": ["2027-02-14"],
      "source": "国务院办公厅关于2027年部分节假日安排的通知"
    }

* ``holidays`` (required): days off. Each item is a date ``"YYYY-MM-DD"`` or a range
  ``{"from": ..., "to": ..., "title": ...}`` (both ends included, ``title`` optional). Include the
  weekdays moved into the holiday; weekend days inside a range are fine and change nothing.
* ``workdays`` (optional): weekend days worked in lieu (调休上班), in the same two forms. A weekday is
  a working day anyway, so listing one is reported as a mistake (usually a wrong date).
* ``source`` (optional): where the dates come from, for the reader; it does not change the result.
* Every date must be a real date inside the file's year, no date may be both a holiday and a workday,
  and the file name must be a year from 2000 to 2100. Listing a date twice is harmless.

Problems are :class:`ConfigError`\\ s with file, JSON pointer and line:column, like every other
configuration file: structure is checked by a Draft 2020-12 meta-schema, the dates by
:func:`_date_problems`, both through ``files.load_file``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from server.errors import ConfigError
from server.specs.jsonpos import pointer_join
from server.specs.metaschema import DRAFT_2020_12, show
from server.specs.files import load_file
from server.workflow.calendar import PACKAGE_LAST_YEAR, WorkCalendar, YearDays

CALENDAR_DIR = "calendar"
FIRST_YEAR, LAST_YEAR = 2000, 2100
KINDS = ("holidays", "workdays")
WEEKDAYS = "一二三四五六日"
Problem = tuple[str, str]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # not \d: that matches ２０２７ too
_YEAR_NAME = re.compile(r"[0-9]{4}")
_DAYS = {"type": "array", "items": {"$ref": "#/$defs/day"}}
CALENDAR_META_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "$id": "urn:ledger:calendar-meta-schema",
    "type": "object",
    "required": ["holidays"],
    "properties": {"holidays": _DAYS, "workdays": _DAYS, "source": {"type": "string"}},
    "additionalProperties": False,
    "$defs": {
        # A date string, or a range object; the date rules themselves are in _date_problems.
        "day": {
            "type": ["string", "object"],
            "required": ["from", "to"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "title": {"type": "string"}},
            "additionalProperties": False,
        },
    },
}
CALENDAR_META_VALIDATOR = Draft202012Validator(CALENDAR_META_SCHEMA)


def load_calendar(config_dir: Path) -> tuple[dict[int, YearDays] | None, list[ConfigError]]:
    """The per-year overrides of ``config_dir/calendar/`` and every problem found in them.

    ``({}, [])`` without a ``calendar/`` folder (the package alone is the calendar); ``(None, errors)``
    when anything is wrong, so a broken year never half-applies; else the overrides by year.
    """
    calendar_dir = Path(config_dir) / CALENDAR_DIR
    if not calendar_dir.is_dir():
        return {}, []
    years: dict[int, YearDays] = {}
    errors: list[ConfigError] = []
    for path in sorted(calendar_dir.glob("*.json")):
        file = f"{CALENDAR_DIR}/{path.name}"
        year = _year_of(path.stem)
        if year is None:
            errors.append(ConfigError(file, "", 1, 1, f"文件名应为 {FIRST_YEAR} 到 {LAST_YEAR} 之间的 4 位年份"
                                                      f"（如 2027.json），实际为 {show(path.stem)}"))
            continue
        document, file_errors = load_file(path, file, CALENDAR_META_VALIDATOR,
                                           lambda doc, year=year: _date_problems(doc, year))
        errors += file_errors
        if not file_errors:
            years[year] = YearDays(year=year, holidays=frozenset(_dates(document, "holidays", year)),
                                   workdays=frozenset(_dates(document, "workdays", year)))
    errors.sort(key=lambda e: (e.file, e.line, e.column, e.pointer, e.message))
    if errors:
        return None, errors
    return years, []


def calendar_warnings(calendar: WorkCalendar, latest_needed: date) -> list[str]:
    """A warning for each year up to ``latest_needed`` after the package's data that nobody configured.

    Deadlines in such a year still get computed, skipping only weekends, so they may fall on a
    holiday or miss a 调休 Saturday: the administrator should add the year before it matters.
    Years from the package's last one on are checked, so a gap between two configured years is
    reported too.
    """
    years = range(PACKAGE_LAST_YEAR + 1, latest_needed.year + 1)
    missing = [year for year in years if not calendar.is_covered(date(year, 1, 1))]
    return [
        f"{year} 年的法定节假日和调休安排尚未配置："
        f"请根据《国务院办公厅关于{year}年部分节假日安排的通知》添加 config/{CALENDAR_DIR}/{year}.json；"
        f"在此之前，{year} 年的工作日只跳过星期六、星期日计算，节假日和调休上班日都不会考虑。"
        for year in missing
    ]


def _year_of(stem: str) -> int | None:
    if _YEAR_NAME.fullmatch(stem) and FIRST_YEAR <= int(stem) <= LAST_YEAR:
        return int(stem)
    return None


def _parse(text: str) -> date | str:
    """The date ``text`` names, or what is wrong with it (the second half of a message)."""
    if not _ISO_DATE.fullmatch(text):
        return f"应为 YYYY-MM-DD 格式的日期，实际为 {show(text)}"
    try:
        return date.fromisoformat(text)
    except ValueError:
        return f"应为真实存在的日期，实际为 {show(text)}"


def _items(document: Any, kind: str) -> Iterator[tuple[str, Any]]:
    """``(pointer, item)`` of one list, skipping what is not a list (the meta-schema reports that)."""
    items = document.get(kind) if isinstance(document, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else []):
        yield pointer_join("", kind, index), item


def _item_days(at: str, item: Any, year: int) -> tuple[list[date], list[Problem]]:
    """The days one item names (empty when it is broken) and its problems."""
    if isinstance(item, str):
        ends = {at: item}
    elif isinstance(item, dict) and isinstance(item.get("from"), str) and isinstance(item.get("to"), str):
        ends = {f"{at}/from": item["from"], f"{at}/to": item["to"]}
    else:
        return [], []  # the wrong type or missing ends: the meta-schema's to report
    parsed = {pointer: _parse(text) for pointer, text in ends.items()}
    problems = [(p, value) for p, value in parsed.items() if isinstance(value, str)]
    problems += [(p, f"应为 {year} 年内的日期（本文件是 {year} 年的安排），实际为 {show(value.isoformat())}")
                 for p, value in parsed.items() if isinstance(value, date) and value.year != year]
    if problems:
        return [], problems
    days = [value for value in parsed.values() if isinstance(value, date)]
    first, last = days[0], days[-1]  # a single date is its own range
    if first > last:
        return [], [(at, f"起始日期 from 应不晚于结束日期 to，实际 from 为 {show(first.isoformat())}，"
                         f"to 为 {show(last.isoformat())}")]
    return [first + timedelta(days=n) for n in range((last - first).days + 1)], []


def _date_problems(document: Any, year: int) -> list[Problem]:
    """Dates that are malformed, outside the file's year, reversed, both kinds, or weekday workdays."""
    problems: list[Problem] = []
    holidays: dict[date, str] = {}
    for at, item in _items(document, "holidays"):
        days, item_problems = _item_days(at, item, year)
        problems += item_problems
        for day in days:
            holidays.setdefault(day, at)
    for at, item in _items(document, "workdays"):
        days, item_problems = _item_days(at, item, year)
        problems += item_problems
        both = [day for day in days if day in holidays]
        weekdays = [day for day in days if day not in holidays and day.weekday() < 5]
        if both:  # one message per item: a year-long range must not bury the file in errors
            problems.append((at, f"{_days_text(both)}已列为放假日（{holidays[both[0]]}），不能同时是调休上班日"))
        if weekdays:
            problems.append((at, f"{_weekdays_text(weekdays)}本来就是工作日（调休上班日应为星期六或星期日）"))
    return problems


def _days_text(days: list[date]) -> str:
    """``"2027-02-10 "``, or ``"2027-02-10 等 3 天"`` when a range holds several."""
    return f"{days[0].isoformat()} " if len(days) == 1 else f"{days[0].isoformat()} 等 {len(days)} 天"


def _weekdays_text(days: list[date]) -> str:
    """``"2027-02-10 是星期三，"``, or ``"2027-02-15（星期一）等 3 天"`` when a range holds several."""
    first = f"{days[0].isoformat()}"
    weekday = f"星期{WEEKDAYS[days[0].weekday()]}"
    return f"{first} 是{weekday}，" if len(days) == 1 else f"{first}（{weekday}）等 {len(days)} 天"


def _dates(document: Any, kind: str, year: int) -> Iterator[date]:
    """Every date of one list of a document that passed all checks."""
    for at, item in _items(document, kind):
        yield from _item_days(at, item, year)[0]

"""The working-day calendar: statutory holidays and 调休 days from ``chinese_calendar``, per-year overrides
from ``config/calendar/<year>.json``, and the exact messages for broken calendar files.

The 2026 expectations are the State Council's 2026 notice as the package records it: 国庆 10-01..10-07
off with Sunday 09-20 and Saturday 10-10 worked; 春节 02-15..02-23 off with Saturdays 02-14 and 02-28
worked; 元旦 01-01..01-03 off with Sunday 01-04 worked. The first test pins those facts to the package's
own data, so a wrong assumption fails there rather than somewhere obscure.

Each ``configs/calendar_invalid/<case>/calendar/`` holds broken calendar files and ``expected.txt``
the exact ``str(ConfigError)`` lines in the loader's order, like ``configs/invalid/`` for forms.
Speed is measured by ``benchmarks/bench_calendar.py``, not here.
"""
from __future__ import annotations

import json
import random
import threading
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from server.specs.calendar_loader import calendar_warnings, load_calendar
from server.workflow.calendar import (
    PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR, WorkCalendar, YearDays, add_calendar_days, add_months,
)

CONFIGS = Path(__file__).parent / "configs"
INVALID_CASES = sorted(p.name for p in (CONFIGS / "calendar_invalid").iterdir() if p.is_dir())
REQUIRED_CASES = {
    "bad_file_name", "not_a_date", "outside_year", "range_reversed", "holiday_and_workday",
    "weekday_workday", "schema_violations", "json_syntax",
}
CALENDAR = WorkCalendar()
D = date.fromisoformat
# The tests "beyond the package" use 2027; once an upgraded package knows 2027 they must move a year on.
beyond_package = pytest.mark.skipif(PACKAGE_LAST_YEAR >= 2027, reason="chinese_calendar now covers 2027")

VALID_2027 = {
    "holidays": ["2027-01-01", {"from": "2027-02-05", "to": "2027-02-11", "title": "春节"}],
    "workdays": ["2027-02-14"],
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
}
OVERRIDE_2027 = YearDays(
    year=2027, holidays=frozenset({D("2027-01-01")} | {D("2027-02-05") + timedelta(n) for n in range(7)}),
    workdays=frozenset({D("2027-02-14")}))


def reference_is_working(day: date, overrides: dict[int, YearDays] | None = None) -> bool:
    """The definition, written the slow and obvious way, to check the tables against."""
    override = (overrides or {}).get(day.year)
    if override is not None:
        return day in override.workdays or (day.weekday() < 5 and day not in override.holidays)
    if PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def reference_add(start: date, days: int, overrides: dict[int, YearDays] | None = None) -> date:
    step, current, left = (1 if days > 0 else -1), start, abs(days)
    while left:
        current += timedelta(days=step)
        if reference_is_working(current, overrides):
            left -= 1
    return current


# --- the package's 2026 data -------------------------------------------------------------------------


def test_package_data_for_2026_is_what_the_tests_assume() -> None:
    makeup = sorted(d.isoformat() for d in chinese_calendar.workdays if d.year == 2026)
    assert makeup == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    assert [d.strftime("%a") for d in map(D, makeup)] == ["Sun", "Sat", "Sat", "Sat", "Sun", "Sat"]
    assert all(D(f"2026-10-0{n}") in chinese_calendar.holidays for n in range(1, 8))
    assert PACKAGE_LAST_YEAR == max(chinese_calendar.holidays).year == 2026
    assert PACKAGE_FIRST_YEAR == min(chinese_calendar.holidays).year


def test_national_day_2026() -> None:
    assert [CALENDAR.is_working_day(D(f"2026-10-0{n}")) for n in range(1, 8)] == [False] * 7
    assert CALENDAR.is_working_day(D("2026-10-10"))   # Saturday, 调休上班
    assert CALENDAR.is_working_day(D("2026-09-20"))   # Sunday, 调休上班
    assert not CALENDAR.is_working_day(D("2026-10-11"))  # the Sunday after is an ordinary Sunday
    assert CALENDAR.add_working_days(D("2026-09-30"), 1) == D("2026-10-08")
    assert CALENDAR.add_working_days(D("2026-10-09"), 1) == D("2026-10-10")


def test_thirteen_working_days_across_national_day() -> None:
    # 10-08, 10-09, 10-10 (Sat), 10-12..16, 10-19..23: the plain weekday count would say 10-19.
    assert CALENDAR.add_working_days(D("2026-09-30"), 13) == D("2026-10-23")
    assert WorkCalendar({2026: YearDays(2026, frozenset(), frozenset())}).add_working_days(D("2026-09-30"), 13) \
        == D("2026-10-19")  # weekends alone would say
    assert CALENDAR.working_days_between(D("2026-09-30"), D("2026-10-23")) == 13
    assert CALENDAR.working_days_between(D("2026-09-30"), D("2026-10-07")) == 0
    assert CALENDAR.working_days_between(D("2026-09-30"), D("2026-10-10")) == 3
    assert CALENDAR.working_days_between(D("2026-10-23"), D("2026-09-30")) == -13


def test_negative_offsets() -> None:
    assert CALENDAR.add_working_days(D("2026-10-09"), -1) == D("2026-10-08")
    assert CALENDAR.add_working_days(D("2026-10-09"), -2) == D("2026-09-30")
    assert CALENDAR.add_working_days(D("2026-10-09"), -3) == D("2026-09-29")
    assert CALENDAR.add_working_days(D("2026-10-05"), -1) == D("2026-09-30")  # from inside the holiday
    assert CALENDAR.add_working_days(D("2026-09-21"), -1) == D("2026-09-20")  # the 调休 Sunday
    assert CALENDAR.add_working_days(D("2026-01-05"), -2) == D("2025-12-31")  # 01-04 (Sun), over 元旦


def test_spring_festival_2026() -> None:
    assert [CALENDAR.is_working_day(D("2026-02-15") + timedelta(n)) for n in range(9)] == [False] * 9
    assert CALENDAR.add_working_days(D("2026-02-13"), 1) == D("2026-02-14")  # Saturday, 调休上班
    assert CALENDAR.add_working_days(D("2026-02-14"), 1) == D("2026-02-24")
    assert CALENDAR.add_working_days(D("2026-02-27"), 1) == D("2026-02-28")  # Saturday, 调休上班
    assert CALENDAR.working_days_between(D("2026-02-13"), D("2026-02-28")) == 6  # 14, 24..28
    assert CALENDAR.add_working_days(D("2026-02-24"), -1) == D("2026-02-14")


def test_across_new_year() -> None:
    assert CALENDAR.add_working_days(D("2025-12-31"), 1) == D("2026-01-04")  # Sunday, 调休上班
    assert CALENDAR.working_days_between(D("2025-12-30"), D("2026-01-05")) == 3  # 12-31, 01-04, 01-05


def test_zero_days_is_the_start_itself() -> None:
    for start in (D("2026-10-01"), D("2026-10-11"), D("2026-10-12"), D("2027-02-06")):
        assert CALENDAR.add_working_days(start, 0) == start
        assert CALENDAR.working_days_between(start, start) == 0


# --- agreement with the definition, and the identities -----------------------------------------------


@pytest.mark.parametrize("overrides", [{}, {2027: OVERRIDE_2027}], ids=["package", "override_2027"])
def test_agrees_with_the_slow_definition(overrides: dict[int, YearDays]) -> None:
    calendar, rng = WorkCalendar(overrides), random.Random(20261001)
    day = D("2023-06-01")
    while day < D("2028-07-01"):
        assert calendar.is_working_day(day) == reference_is_working(day, overrides), day
        day += timedelta(1)
    for _ in range(3000):
        start, days = D("2024-01-01") + timedelta(rng.randrange(1461)), rng.randint(-60, 60)
        assert calendar.add_working_days(start, days) == (reference_add(start, days, overrides) if days else start)


def test_identities_with_working_days_between() -> None:
    """The guarantees of ``working_days_between``'s docstring, over random dates 2023–2028."""
    rng = random.Random(7)
    def any_day() -> date:
        return D("2023-01-01") + timedelta(rng.randrange(6 * 366))
    for _ in range(3000):
        start, n = any_day(), rng.randint(0, 400)
        assert CALENDAR.working_days_between(start, CALENDAR.add_working_days(start, n)) == n
        back = CALENDAR.add_working_days(start, -n) if n else start
        expected_back = -n if CALENDAR.is_working_day(start) or n == 0 else -n + 1
        assert CALENDAR.working_days_between(start, back) == expected_back
        a, b, c = any_day(), any_day(), any_day()
        assert CALENDAR.working_days_between(a, b) == -CALENDAR.working_days_between(b, a)
        assert CALENDAR.working_days_between(a, b) + CALENDAR.working_days_between(b, c) == \
            CALENDAR.working_days_between(a, c)
        end = any_day()
        if end > start and CALENDAR.is_working_day(end):
            assert CALENDAR.add_working_days(start, CALENDAR.working_days_between(start, end)) == end


def test_working_days_between_counts_start_exclusive_end_inclusive() -> None:
    rng = random.Random(3)
    for _ in range(300):
        start = D("2025-11-01") + timedelta(rng.randrange(500))
        end = start + timedelta(rng.randrange(60))
        counted = sum(reference_is_working(start + timedelta(n)) for n in range(1, (end - start).days + 1))
        assert CALENDAR.working_days_between(start, end) == counted


def test_shared_between_threads() -> None:
    calendar, starts = WorkCalendar(), [D("2024-01-01") + timedelta(n) for n in range(0, 1000, 7)]
    expected = [reference_add(s, 13) for s in starts]
    results: list[list[date]] = []
    def work() -> None:
        results.append([calendar.add_working_days(s, 13) for s in starts])
    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 8


# --- coverage and overrides --------------------------------------------------------------------------


@beyond_package
def test_year_beyond_the_package_skips_only_weekends() -> None:
    assert not CALENDAR.is_covered(D("2027-01-01"))
    assert CALENDAR.is_covered(D("2026-12-31")) and CALENDAR.last_covered_year == 2026
    assert CALENDAR.is_working_day(D("2027-01-01"))  # Friday; 元旦 unknown without a file
    assert not CALENDAR.is_working_day(D("2027-02-14"))
    assert CALENDAR.add_working_days(D("2027-02-04"), 1) == D("2027-02-05")
    assert not CALENDAR.is_covered(D(f"{PACKAGE_FIRST_YEAR - 1}-06-01"))


def test_override_adds_a_year() -> None:
    calendar = WorkCalendar({2027: OVERRIDE_2027})
    assert calendar.is_covered(D("2027-01-01")) and calendar.last_covered_year == max(2027, PACKAGE_LAST_YEAR)
    assert not calendar.is_working_day(D("2027-01-01"))
    assert calendar.is_working_day(D("2027-02-14"))  # Sunday, 调休上班
    assert calendar.add_working_days(D("2027-02-04"), 1) == D("2027-02-12")
    assert calendar.add_working_days(D("2027-02-04"), 2) == D("2027-02-14")
    assert calendar.add_working_days(D("2026-12-31"), 1) == D("2027-01-04")
    assert calendar.working_days_between(D("2027-02-04"), D("2027-02-15")) == 3


def test_override_replaces_a_package_year() -> None:
    """An override is the whole year: the package's 2026 holidays no longer apply."""
    calendar = WorkCalendar({2026: YearDays(2026, frozenset({D("2026-05-01")}), frozenset())})
    assert calendar.is_working_day(D("2026-10-01"))
    assert not calendar.is_working_day(D("2026-10-10"))
    assert not calendar.is_working_day(D("2026-05-01"))
    assert calendar.last_covered_year == PACKAGE_LAST_YEAR
    assert calendar.is_working_day(D("2025-10-01")) is False  # other years still from the package


def test_bad_overrides_are_refused() -> None:
    with pytest.raises(ValueError, match="2026-12-31 is not in 2027"):
        YearDays(2027, frozenset({D("2026-12-31")}), frozenset())
    with pytest.raises(ValueError, match="both"):
        YearDays(2027, frozenset({D("2027-02-14")}), frozenset({D("2027-02-14")}))
    with pytest.raises(ValueError, match="override for 2028"):
        WorkCalendar({2028: OVERRIDE_2027})


def test_digest_is_stable_and_follows_content() -> None:
    same = YearDays(2027, frozenset(sorted(OVERRIDE_2027.holidays, reverse=True)), frozenset({D("2027-02-14")}))
    assert WorkCalendar({2027: OVERRIDE_2027}).digest() == WorkCalendar({2027: same}).digest()
    assert WorkCalendar().digest() == WorkCalendar({}).digest() != WorkCalendar({2027: OVERRIDE_2027}).digest()
    other = YearDays(2027, OVERRIDE_2027.holidays, frozenset())
    assert WorkCalendar({2027: other}).digest() != WorkCalendar({2027: OVERRIDE_2027}).digest()
    assert len(WorkCalendar().digest()) == 64


def test_dates_outside_python_range_overflow() -> None:
    with pytest.raises(OverflowError):
        CALENDAR.add_working_days(D("9999-12-31"), 1)


# --- calendar arithmetic -----------------------------------------------------------------------------


@pytest.mark.parametrize("start, months, expected", [
    ("2026-01-31", 1, "2026-02-28"),
    ("2024-01-31", 1, "2024-02-29"),
    ("2026-05-31", 1, "2026-06-30"),
    ("2026-03-31", -1, "2026-02-28"),
    ("2026-01-15", -1, "2025-12-15"),
    ("2026-02-28", 12, "2027-02-28"),
    ("2024-02-29", 12, "2025-02-28"),
    ("2026-03-10", -27, "2023-12-10"),
    ("2026-10-31", 0, "2026-10-31"),
])
def test_add_months_clamps_to_the_last_day(start: str, months: int, expected: str) -> None:
    assert add_months(D(start), months) == D(expected)


def test_add_calendar_days_counts_holidays() -> None:
    assert add_calendar_days(D("2026-09-30"), 8) == D("2026-10-08")
    assert add_calendar_days(D("2026-01-01"), -1) == D("2025-12-31")
    assert add_calendar_days(D("2026-01-01"), 0) == D("2026-01-01")


# --- config/calendar/ --------------------------------------------------------------------------------


def _write(root: Path, files: dict[str, object]) -> Path:
    (root / "calendar").mkdir()
    for name, content in files.items():
        (root / "calendar" / name).write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    return root


def test_valid_calendar_file_loads(tmp_path: Path) -> None:
    years, errors = load_calendar(_write(tmp_path, {"2027.json": VALID_2027}))
    assert errors == []
    assert years == {2027: OVERRIDE_2027}
    calendar = WorkCalendar(years)
    assert calendar.add_working_days(D("2027-02-04"), 1) == D("2027-02-12")


def test_no_calendar_folder_is_no_override(tmp_path: Path) -> None:
    assert load_calendar(tmp_path) == ({}, [])
    (tmp_path / "calendar").mkdir()
    assert load_calendar(tmp_path) == ({}, [])


def test_duplicates_and_weekend_holidays_are_fine(tmp_path: Path) -> None:
    document = {"holidays": ["2027-01-01", "2027-01-01", "2027-01-02",
                             {"from": "2027-01-01", "to": "2027-01-03"}],
                "workdays": ["2027-02-14", {"from": "2027-02-13", "to": "2027-02-14"}]}
    years, errors = load_calendar(_write(tmp_path, {"2027.json": document}))
    assert errors == []
    assert years is not None and years[2027] == YearDays(
        2027, frozenset({D("2027-01-01"), D("2027-01-02"), D("2027-01-03")}),
        frozenset({D("2027-02-13"), D("2027-02-14")}))


@pytest.mark.parametrize("case", INVALID_CASES)
def test_invalid_calendar_reports_exactly(case: str) -> None:
    directory = CONFIGS / "calendar_invalid" / case
    expected = (directory / "expected.txt").read_text(encoding="utf-8").splitlines()
    years, errors = load_calendar(directory)
    assert years is None
    assert [str(error) for error in errors] == expected


def test_every_required_invalid_case_exists() -> None:
    assert REQUIRED_CASES <= set(INVALID_CASES)


def test_weekday_workday_message() -> None:
    """The message the administrator sees for the commonest slip: a weekday listed as 调休上班."""
    _, errors = load_calendar(CONFIGS / "calendar_invalid" / "weekday_workday")
    assert str(errors[0]) == ("calendar/2027.json:3:30: /workdays/1: 2027-02-10 是星期三，本来就是工作日"
                              "（调休上班日应为星期六或星期日）")


# --- warnings ----------------------------------------------------------------------------------------


@beyond_package
def test_warning_when_a_deadline_reaches_an_unknown_year() -> None:
    assert calendar_warnings(CALENDAR, D("2026-12-31")) == []
    assert calendar_warnings(CALENDAR, D("2027-03-01")) == [
        "2027 年的法定节假日和调休安排尚未配置：请根据《国务院办公厅关于2027年部分节假日安排的通知》"
        "添加 config/calendar/2027.json；在此之前，2027 年的工作日只跳过星期六、星期日计算，"
        "节假日和调休上班日都不会考虑。"
    ]
    with_2027 = WorkCalendar({2027: OVERRIDE_2027})
    assert calendar_warnings(with_2027, D("2027-12-31")) == []
    assert [w[:4] for w in calendar_warnings(with_2027, D("2028-01-10"))] == ["2028"]
    only_2028 = WorkCalendar({2028: YearDays(2028, frozenset({D("2028-01-01")}), frozenset())})
    assert [w[:4] for w in calendar_warnings(only_2028, D("2028-06-01"))] == ["2027"]

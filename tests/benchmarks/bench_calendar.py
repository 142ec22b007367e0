#!/usr/bin/env python3
"""Benchmark: one "13 个工作日" deadline, as a tick over 100,000 open matters computes it.

Run on demand (not part of the pytest suite)::

    .venv/bin/python tests/benchmarks/bench_calendar.py
    .venv/bin/python tests/benchmarks/bench_calendar.py --starts 200000 --days 13 --repeats 7

Draws ``--starts`` random start dates in 2024–2026 (fixed seed) and prints µs per call of
``WorkCalendar.add_working_days(start, days)`` (best of ``--repeats`` passes over all starts, on a
calendar whose year tables are already built), the one-off cost of building the tables of a fresh
calendar, and for scale the same deadlines by a day-by-day loop over ``chinese_calendar.is_workday``
(a sample, it is slow). Every method's results are
compared with the day-by-day loop on the sample before anything is timed.
"""
from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from datetime import date, timedelta
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import chinese_calendar  # noqa: E402

from server.workflow.calendar import WorkCalendar  # noqa: E402

FIRST, LAST = date(2024, 1, 1), date(2026, 12, 31)


def package_loop(start: date, days: int) -> date:
    """The obvious implementation: step a day at a time and ask the package (2027+: weekdays)."""
    current, left = start, days
    while left:
        current += timedelta(days=1)
        working = chinese_calendar.is_workday(current) if current.year <= 2026 else current.weekday() < 5
        left -= working
    return current


def per_call_us(function: Callable[[date, Any], Any], calls: list[tuple[date, Any]], repeats: int) -> float:
    """Best of ``repeats`` passes over ``calls``, in µs per call."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        for first, second in calls:
            function(first, second)
        best = min(best, time.perf_counter() - began)
    return best / len(calls) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=13)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sample", type=int, default=2_000, help="starts for the slow day-by-day loop")
    args = parser.parse_args()
    rng = random.Random(20261001)
    span = (LAST - FIRST).days + 1
    starts = [FIRST + timedelta(days=rng.randrange(span)) for _ in range(args.starts)]
    sample = starts[: args.sample]

    began = time.perf_counter()
    calendar = WorkCalendar()
    calendar.add_working_days(date(2026, 12, 31), 1)  # touches 2026 and 2027
    for year in (2024, 2025):
        calendar.is_working_day(date(year, 1, 1))
    build_ms = (time.perf_counter() - began) * 1e3

    assert [calendar.add_working_days(s, args.days) for s in sample] == [package_loop(s, args.days) for s in sample]

    calls = [(start, args.days) for start in starts]
    fast = per_call_us(calendar.add_working_days, calls, args.repeats)
    spans = [(start, start + timedelta(days=20)) for start in starts]
    between = per_call_us(calendar.working_days_between, spans, args.repeats)
    slow = per_call_us(package_loop, calls[: len(sample)], 1)

    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"chinese_calendar {chinese_calendar.__version__}")
    print(f"{args.starts:,} random starts in {FIRST.year}–{LAST.year}, add_working_days(start, {args.days})")
    print(f"  WorkCalendar.add_working_days        {fast:8.2f} µs/call  ({fast * args.starts / 1e3:,.0f} ms per tick)")
    print(f"  WorkCalendar.working_days_between    {between:8.2f} µs/call  (start, start + 20 days)")
    print(f"  day-by-day chinese_calendar loop     {slow:8.2f} µs/call  (sample of {len(sample):,})")
    print(f"  building 4 year tables, once         {build_ms:8.2f} ms")


if __name__ == "__main__":
    main()

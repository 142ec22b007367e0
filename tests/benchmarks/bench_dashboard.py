#!/usr/bin/env python3
"""Benchmark: the dashboard of one county-year in a province-wide database, beside hand-written SQL.

Build the data first (``tests/benchmarks/province.py``: 170 counties × 60,000 records), then::

    .venv/bin/python tests/benchmarks/bench_dashboard.py
    PROVINCE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/province \\
        .venv/bin/python tests/benchmarks/bench_dashboard.py [--counties 5] [--rounds 5] [--year 2025]

For each sampled county, each figure of ``config/dashboard.json`` is computed by the server's own code
(``server.stats.dashboard.compute``, as the page and the API call it, for that county office's staff:
``viewpoint(user)`` counts their own county, one of the 170 in the database) and by a hand-written SQL aggregate of the same numbers on the
same data (plain psycopg, no ORM). The two must give the same numbers (the run fails otherwise);
each is timed, alternating A/B, ``--rounds`` times, and the medians are printed per figure with their
ratio, then the whole dashboard (``build``) against the sum of the SQL. The same county is then asked
for a month, a quarter, a year and five years (the cost follows the period), and the plan of one
count is printed (it must use the records' (form_id, org_unit_id) index, not scan the table).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg  # noqa: E402

from province import DEFAULT_URL, make_app, plain_url  # noqa: E402

ACTIVE_AREA_STATES = ["identified", "rectifying", "listed", "acceptance_applied", "extension_pending", "extended"]


# -- the hand-written SQL --------------------------------------------------------------------------------------
# The county's units (and the offices serving its townships) are read first, once per dashboard as the
# page does (timed as its own line, "(unit ids)"), and given to each aggregate as an array.
UNITS_SQL = ("SELECT id FROM org_units WHERE path LIKE %(path)s "
             "UNION SELECT id FROM org_units WHERE serves_id IN (SELECT id FROM org_units WHERE path LIKE %(path)s)")
# Dates in the terms of the period indexes (``flask stats indexes``): the same data, the same indexes.
DAY = "data #>> '{{{f}}}' >= %(start)s AND data #>> '{{{f}}}' < %(after)s"


def count_sql(form: str, key: str | None, period: str | None, where: str = "", join: str = "") -> str:
    group = f"{key}, " if key else "'', "
    sql = (f"SELECT {group}count(*) FROM records r {join} WHERE r.form_id = '{form}' AND r.org_unit_id = ANY(%(units)s)")
    if period:
        sql += f" AND {period}"
    if where:
        sql += f" AND {where}"
    return sql + " GROUP BY 1"


ENTERED = ("EXISTS (SELECT 1 FROM record_transitions t WHERE t.record_id = r.id AND t.to_state = '{s}' "
           "AND t.at >= %(low)s AND t.at < %(high)s)")
TOWNSHIP = "JOIN org_units o ON o.id = r.org_unit_id"
RAW: dict[str, str] = {
    "problems_by_source": count_sql("security_problem", "data->>'info_source'", DAY.format(f="received_at")),
    "visits_by_source": count_sql("visit_register", "data->>'source'", DAY.format(f="received_at")),
    "problems_by_township": count_sql("security_problem", "o.code", DAY.format(f="received_at"), join=TOWNSHIP),
    "open_matters": ("SELECT o.code, count(*), sum(CASE WHEN i.due_date < %(today)s THEN 1 ELSE 0 END) FROM inbox_items i "
                     "JOIN org_units o ON o.id = i.unit_id WHERE i.status = 'open' AND i.unit_id = ANY(%(units)s) GROUP BY 1"),
    "areas_by_state": count_sql("key_area", "state", None),
    "areas_by_discovery": count_sql("key_area", "data->'identification'->>'discovery_source'",
                                    "created_at >= %(low)s AND created_at < %(high)s"),
    "areas_listed": count_sql("key_area", None, ENTERED.format(s="listed")),
    "areas_delisted": count_sql("key_area", None, ENTERED.format(s="consolidating")),
    "areas_by_township": count_sql("key_area", "o.code", None, f"r.state IN ({', '.join(repr(s) for s in ACTIVE_AREA_STATES)})",
                                   join=TOWNSHIP),
    "officer_coverage": (
        "WITH places AS (SELECT p.code, p.kind FROM org_units p JOIN org_units a ON a.id = p.parent_id "
        "WHERE a.path LIKE %(path)s AND a.kind IN ('township', 'subdistrict', 'county_unit') AND a.is_active AND p.is_active "
        "AND ((a.kind = 'county_unit' AND p.kind IN ('unit_branch', 'police_station', 'dept_office')) OR (a.kind <> 'county_unit' AND p.kind IN ('village', 'community')))), "
        "officers AS (SELECT coalesce(nullif(data->>'village_code', ''), nullif(data->>'community_code', ''), "
        "nullif(data->>'unit_code', '')) AS code, count(*) AS n FROM records WHERE form_id = 'officer_roster' "
        "AND data->>'status' = 'active' AND org_unit_id = ANY(%(units)s) GROUP BY 1) "
        "SELECT '', coalesce(sum(o.n), 0), sum(CASE p.kind WHEN 'village' THEN %(q_village)s WHEN 'community' THEN "
        "%(q_community)s ELSE %(q_unit)s END) FROM places p LEFT JOIN officers o ON o.code = p.code"),
    "officer_reports": count_sql("officer_report", "state", DAY.format(f="reported_at")),
    "salient_reports": count_sql("officer_report", None, DAY.format(f="reported_at"),
                                 "(data->'verification'->>'is_salient_problem')::boolean"),
    "rewarded_reports": count_sql("officer_report", "data->'adoption'->>'reward_level'", DAY.format(f="reported_at"),
                                  "data->'adoption'->>'reward_level' IN ('general', 'significant', 'major')"),
    "assessments": count_sql("assessment", "state", DAY.format(f="date")),
    "recommendation_letters": (
        "SELECT '', count(*) FROM issued_documents d WHERE d.doc_id = 'recommendation_letter' AND d.state = 'issued' "
        "AND d.issued_at >= %(low)s AND d.issued_at < %(high)s AND (EXISTS (SELECT 1 FROM records r WHERE "
        "r.id = d.record_id AND r.org_unit_id = ANY(%(units)s)) OR (d.record_id IS NULL AND d.issuer_unit_id = ANY(%(units)s)))"),
    "joint_meetings": count_sql("joint_meeting", "data->>'meeting_type'", DAY.format(f="meeting_date")),
    "department_reports": count_sql("monthly_inspection", "data->>'inspecting_unit'",
                                    "data #>> '{report_month}' >= %(first_month)s AND data #>> '{report_month}' <= %(last_month)s"),
    "follow_up_satisfaction": count_sql("follow_up", "data->>'satisfaction'", DAY.format(f="follow_up_date")),
    "award_eligibility": (
        "SELECT '', count(DISTINCT a.unit_id) FROM award_ineligibility a WHERE a.unit_id = ANY(%(units)s) "
        "AND coalesce(a.from_date, %(start)s) <= %(end)s AND (a.until_date IS NULL OR a.until_date >= %(start)s)"),
    "case_statistics": (
        "SELECT f, sum(CASE WHEN m >= %(first_month)s THEN v ELSE 0 END), sum(CASE WHEN m < %(first_month)s THEN v ELSE 0 END) "
        "FROM (SELECT data->>'month' AS m, unnest(ARRAY['criminal_cases', 'public_order_cases', 'police_incidents']) AS f, "
        "unnest(ARRAY[(data->>'criminal_cases')::float, (data->>'public_order_cases')::float, "
        "(data->>'police_incidents')::float]) AS v FROM records r WHERE form_id = 'case_statistics' "
        "AND org_unit_id = ANY(%(units)s) AND ((data->>'month' >= %(first_month)s AND data->>'month' <= %(last_month)s) OR "
        "(data->>'month' >= %(prev_first)s AND data->>'month' <= %(prev_last)s))) x GROUP BY f"),
}


def raw_numbers(figure_id: str, rows: list[tuple[Any, ...]]) -> dict[str, float]:
    """The SQL rows as the dashboard's numbers: key -> value ("" the total when there is no breakdown)."""
    if figure_id == "case_statistics":
        return {f"{f}": float(now) for f, now, _ in rows} | {f"{f}/previous": float(before) for f, _, before in rows}
    if figure_id == "open_matters":
        return {code: float(n) for code, n, _ in rows} | {f"{code}/overdue": float(late) for code, _, late in rows}
    if figure_id == "officer_coverage":
        return {"": float(rows[0][1]), "/target": float(rows[0][2] or 0)}
    if figure_id == "award_eligibility":
        return {"ineligible": float(rows[0][1])}
    out: dict[str, float] = {}
    for key, n in rows:
        key = "" if key is None else ("true" if key is True else "false" if key is False else str(key))
        out[key] = out.get(key, 0) + float(n)
    return {k: v for k, v in out.items() if v}


def dashboard_numbers(figure: Any) -> dict[str, float]:
    if figure.kind == "sum":
        return {g.key: float(g.value) for g in figure.groups} | {f"{g.key}/previous": float(g.previous or 0) for g in figure.groups}
    if figure.kind == "inbox":
        return {g.key: float(g.value) for g in figure.groups} | {f"{g.key}/overdue": float(g.overdue or 0) for g in figure.groups}
    if figure.kind == "coverage":
        return {"": float(figure.total), "/target": float(figure.target or 0)}
    if figure.kind == "year_end":
        return {"ineligible": float(figure.total)}
    if not figure.groups:
        return {"": float(figure.total)} if figure.total else {}
    return {g.key: float(g.value) for g in figure.groups if g.value}


# -- timing -------------------------------------------------------------------------------------------------------
def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run_raw_all(raw: Any, specs: list[dict[str, Any]], values: dict[str, Any]) -> None:
    units = [r[0] for r in raw.execute(UNITS_SQL, values).fetchall()]
    for spec in specs:
        raw.execute(RAW[spec["id"]], {**values, "units": units}).fetchall()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def params_for(county: Any, start: date, end: date, quota: dict[str, int]) -> dict[str, Any]:
    from server.stats.period import Period

    period = Period(start, end)
    low, high = period.utc_bounds
    before = period.previous_year()
    return {"path": county.path + "%", "start": start.isoformat(), "end": end.isoformat(),
            "after": (end + timedelta(days=1)).isoformat(), "low": low, "high": high,
            "first_month": period.months[0], "last_month": period.months[1],
            "prev_first": before.months[0], "prev_last": before.months[1], "today": date.today(),
            "q_village": quota["village"], "q_community": quota["community"], "q_unit": quota["unit"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counties", type=int, default=5, help="how many counties to sample (spread over the tree)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()
    url = os.environ.get("PROVINCE_DATABASE_URL", DEFAULT_URL)
    app = make_app(url)
    failures = 0
    with app.app_context(), psycopg.connect(plain_url(url), autocommit=True) as raw:
        from sqlalchemy import func, select

        from server.auth.models import User
        from server.extensions import db
        from server.org.models import OrgUnit
        from server.records import coverage
        from server.records.models import Record
        from server.stats import dashboard
        from server.stats.period import Period
        from server.auth.service import create_user
        from server.stats.viewpoint import viewpoint as reader_viewpoint

        registry = app.extensions["registry"]
        registry.adopt_published()
        params = registry.live.rules.values
        quota = {"village": coverage.quota_of("village", params), "community": coverage.quota_of("community", params),
                 "unit": coverage.quota_of("unit_branch", params)}
        total = db.session.scalar(select(func.count(Record.id)))
        roots = list(db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None), OrgUnit.code.like("P%"))
                                        .order_by(OrgUnit.id)))
        step = max(1, len(roots) // max(1, args.counties))
        sample = roots[::step][:args.counties]
        specs = [f for s in registry.live.dashboard["sections"] for f in s["figures"]]
        print(f"database: {total:,} records, {len(roots)} counties; sampled {', '.join(c.code for c in sample)}; "
              f"period {args.year}-01-01..{args.year}-12-31; {args.rounds} rounds, A/B alternated\n")

        for county in sample:  # a county office user of each sampled county (made once)
            name = f"county_{county.code[:4].lower()}"
            if db.session.scalar(select(User).where(User.username == name)) is None:
                create_user(name, "Jiangbei-qiao-2026", role="county_staff", org_code=county.code, display_name=name)
        db.session.commit()
        users = {c.id: f"county_{c.code[:4].lower()}" for c in sample}

        def viewpoint(county_id: int) -> Any:
            """What the page computes for that county's office: ``viewpoint(user)`` with no unit asked for."""
            db.session.remove()  # every round starts like a request: nothing cached in the session
            vp = reader_viewpoint(db.session.scalar(select(User).where(User.username == users[county_id])))
            assert vp.unit is not None and vp.unit.id == county_id
            return vp

        per_figure: dict[str, tuple[list[float], list[float]]] = {s["id"]: ([], []) for s in specs}
        per_figure["(unit ids)"] = ([], [])
        whole_a: list[float] = []
        whole_b: list[float] = []
        start, end = date(args.year, 1, 1), date(args.year, 12, 31)
        for county in sample:
            values = params_for(county, start, end, quota)
            period = Period(start, end)
            for round_no in range(args.rounds):
                # one request: the reader and the county's unit ids are read once, as the page does
                vp = viewpoint(county.id)
                seconds, _ = timed(lambda: vp.subtree)
                raw_seconds, units = timed(lambda: [r[0] for r in raw.execute(UNITS_SQL, values).fetchall()])
                per_figure["(unit ids)"][0].append(seconds)
                per_figure["(unit ids)"][1].append(raw_seconds)
                for spec in (specs if round_no % 2 == 0 else list(reversed(specs))):
                    seconds, figure = timed(lambda: dashboard.compute(spec, vp, period))
                    raw_seconds, rows = timed(lambda: raw.execute(RAW[spec["id"]], {**values, "units": units}).fetchall())
                    per_figure[spec["id"]][0].append(seconds)
                    per_figure[spec["id"]][1].append(raw_seconds)
                    if round_no == 0:
                        mine, theirs = dashboard_numbers(figure), raw_numbers(spec["id"], rows)
                        if mine != theirs:
                            failures += 1
                            print(f"MISMATCH {county.code} {spec['id']}: dashboard {mine} != SQL {theirs}")
                vp = viewpoint(county.id)
                seconds, _ = timed(lambda: dashboard.build(vp, period))
                whole_a.append(seconds)
                whole_b.append(timed(lambda: run_raw_all(raw, specs, values))[0])

        print(f"{'figure':28} {'dashboard ms':>13} {'raw SQL ms':>11} {'ratio':>7}")
        for name in ["(unit ids)", *(s["id"] for s in specs)]:
            mine, theirs = per_figure[name]
            a, b = median_ms(mine), median_ms(theirs)
            print(f"{name:28} {a:13.1f} {b:11.1f} {a / b if b else float('nan'):7.2f}")
        a, b = median_ms(whole_a), median_ms(whole_b)
        print(f"\nwhole dashboard, one county-year: {a:.0f} ms (median of {len(whole_a)}; max {max(whole_a) * 1000:.0f} ms) "
              f"beside {b:.0f} ms of raw SQL: ratio {a / b:.2f}")

        county = sample[0]
        print(f"\nby period, county {county.code} (median of {args.rounds}):")
        for label, (first, last) in {"month": (date(args.year, 6, 1), date(args.year, 6, 30)),
                                     "quarter": (date(args.year, 4, 1), date(args.year, 6, 30)),
                                     "year": (start, end), "five years": (date(args.year - 3, 1, 1), date(args.year + 1, 12, 31))}.items():
            runs = []
            for _ in range(args.rounds):
                vp = viewpoint(county.id)
                runs.append(timed(lambda: dashboard.build(vp, Period(first, last)))[0])
            print(f"  {label:10} {median_ms(runs):7.0f} ms")
        values = params_for(county, start, end, quota)
        values["units"] = [r[0] for r in raw.execute(UNITS_SQL, values).fetchall()]
        plan = raw.execute("EXPLAIN " + RAW["problems_by_source"], values).fetchall()
        text = "\n".join(r[0] for r in plan)
        print("\nplan of problems_by_source:\n" + text)
        if "Seq Scan on records" in text:
            failures += 1
            print("FAIL: the count scans the whole records table")
    print(f"\n{'OK' if not failures else f'{failures} FAILURES'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The township centres' intake since they opened in early May: 146 reports in 《群众反映治安问题登记簿》,
half of them brought by visitors (a 《来信来访登记簿》 entry first), each routed by the routing rule's
suggestion (谁主管、谁负责), handled by the unit it went to, approved by the centre and followed up.

The reports behind the areas the centres found (``Area.source == "centre"``) come from the area's
village in the weeks before the 研判 that recommends it; the rest spread over the townships.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from server.demo_year.context import Context, moment
from server.demo_year.places import Place
from server.demo_year.plan import Area
from server.demo_year.texts import CATEGORY_WEIGHTS, DEPARTMENT_FOR, PROBLEMS, SOURCES, weighted

#: Township centres opened for business on the first working day of May after the holiday (seed: 5月初).
OPENING = (5, 6)
LAST_DAY = (11, 27)


@dataclass(frozen=True)
class Report:
    """One report to a township centre: when, where, what, from whom, and the area it points to."""

    day: date
    hour: int
    minute: int
    place: Place
    category: str
    variant: int
    source: str
    area: str = ""


def plan_reports(ctx: Context, held: dict[int, date]) -> list[Report]:
    """The centres' reports of the year: those behind the centres' areas, then the rest, half visits."""
    rng = ctx.names.rng
    opening = ctx.year.working(ctx.year.day(*OPENING))
    out: list[Report] = []
    for area in (a for a in ctx.plan.areas if a.source == "centre"):
        days = ctx.year.working_days(max(opening, _minus(held[area.k], 30)), _minus(held[area.k], 2))
        for n in range(area.reports):
            out.append(Report(days[(n * 5) % len(days)], 8 + rng.randrange(9), rng.randrange(60),
                              ctx.county.place(area.division), area.categories[0], n, "", area.key))
    days = ctx.year.working_days(opening, ctx.year.day(*LAST_DAY))
    townships = ctx.county.townships
    while len(out) < ctx.plan.centre_reports:
        township = townships[min(int(rng.triangular(0, len(townships), 0)), len(townships) - 1)]
        place = rng.choice(ctx.county.grassroots[township.code])
        category = weighted(rng, CATEGORY_WEIGHTS)
        out.append(Report(rng.choice(days), 8 + rng.randrange(9), rng.randrange(60), place, category,
                          rng.randrange(len(PROBLEMS[category])), ""))
    out.sort(key=lambda r: (r.day, r.hour, r.minute))
    visits = set(rng.sample(range(len(out)), len(out) // 2))
    return [Report(r.day, r.hour, r.minute, r.place, r.category, r.variant,
                   "visit" if i in visits else weighted(rng, SOURCES), r.area) for i, r in enumerate(out)]


def schedule(ctx: Context, held: dict[int, date]) -> None:
    for report in plan_reports(ctx, held):
        ctx.on(report.day, lambda r=report: receive(ctx, r), f"群众反映 {report.place.name}",
               hour=report.hour, minute=report.minute)


def describe(report: Report, area: Area | None) -> str:
    template = PROBLEMS[report.category][report.variant % len(PROBLEMS[report.category])][0]
    if area is None:
        return template.format(place=report.place.name)
    return f"{area.name}：{area.description}" if report.variant == 0 else template.format(place=area.name)


def receive(ctx: Context, report: Report) -> None:
    """Register the report (and the visit it came with), then route it the same morning."""
    user = ctx.staff.township(report.place.township)
    area = next((a for a in ctx.plan.areas if a.key == report.area), None)
    text = describe(report, area)
    name, gender = ctx.names.person()
    phone = ctx.names.phone()
    received = moment(ctx.schedule_now())
    visit = None
    if report.source == "visit":
        visit = ctx.create("visit_register", {
            "received_at": received, "source": "visit", "first_accept_person": ctx.clerk(report.place.township),
            "visitor": {"name": name, "gender": gender, "phone": phone}, "problem_category": "public_security",
            "matter_type": "report", "summary": text, "demand": "请求依法处理",
            "location": {"division_code": report.place.code}, "involves_security": True}, user)
    data = {"received_at": received, "info_source": report.source,
            "reporter": {"name": name, "phone": phone, "confidential": ctx.names.chance(0.1)},
            "location": {"division_code": report.place.code, "address": _address(ctx, report.place)},
            "problem_category": report.category, "description": text, "submit_assessment": bool(report.area)}
    if visit is not None:
        data["visit_record"] = visit.number
    problem = ctx.create("security_problem", data, user)
    if report.area:
        ctx.area_problems.setdefault(report.area, []).append(problem.id)
    if visit is not None:
        ctx.go(visit.id, "answer", user, {"result": f"已登记为群众反映治安问题（{problem.number}），由综治中心分流办理",
                                          "reply_method": "in_person"})
    handle(ctx, problem.id, report.place.township, report.category, report.variant, visit.id if visit else None)


def handle(ctx: Context, problem_id: int, township: str, category: str, variant: int, visit_id: int | None = None,
           visitee: str = "") -> None:
    """Route now; the unit reports within a few working days, the centre approves and follows up."""
    user = ctx.staff.township(township)
    fields = {"route_unit": DEPARTMENT_FOR[category]} if category in DEPARTMENT_FOR else {}
    problem = ctx.go(problem_id, "route", user, fields)
    unit = problem.data["route_unit"]
    rng = ctx.names.rng
    today = ctx.schedule_now().date()
    done = ctx.year.add_working(today, rng.choice((2, 3, 4, 5, 6, 8)))
    _, measures, result = PROBLEMS[category][variant % len(PROBLEMS[category])]
    approved = ctx.year.add_working(done, 1)
    followed = ctx.year.add_working(approved, 1)
    ctx.on(done, lambda: ctx.go(problem_id, "report_result", ctx.staff.department(unit), {
        "measures": measures, "result": result, "completed_date": done.isoformat()}), "报告处置结果", hour=15)
    ctx.on(approved, lambda: ctx.go(problem_id, "approve", user), "审核办结", hour=10)
    ctx.on(followed, lambda: follow_up(ctx, problem_id, visit_id, township, followed), "回访", hour=16)


def follow_up(ctx: Context, problem_id: int, visit_id: int | None, township: str, day: date) -> None:
    user = ctx.staff.township(township)
    satisfaction = "satisfied" if ctx.names.chance(0.82) else "basically_satisfied"
    answer = {"follow_up": {"date": day.isoformat(), "person": ctx.clerk(township), "method": "phone",
                            "satisfaction": satisfaction}}
    ctx.go(problem_id, "follow_up", user, answer)
    if visit_id is not None:
        ctx.go(visit_id, "follow_up", user, answer)


def _address(ctx: Context, place: Place) -> str:
    n = ctx.names.rng.randrange(1, 12)
    return f"{place.name}{n}组" if place.kind == "village" else f"{place.name}{n}号楼附近"


def _minus(day: date, days: int) -> date:
    return day - timedelta(days=days)

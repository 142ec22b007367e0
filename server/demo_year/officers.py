"""《治安信息员信息报送及奖励登记簿》 since June: 289 reports, each verified by the township centre (or
the county office, for the officers of county units) and adopted or not; the reward follows the tiers
(rule ``officer_reward``). 27 are salient problems (突出治安问题), reported from the villages of the 7
areas they led to; each is also registered in 《群众反映治安问题登记簿》 (信息来源：治安信息员) and
handled there, so that the 研判 can cite it. A few reports come from the demo officer's phone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from server.demo_year.context import Context, moment
from server.demo_year.intake import handle
from server.demo_year.plan import Area
from server.demo_year.texts import OFFICER_REPORTS, OFFICER_WEIGHTS, weighted

FIRST_DAY = (6, 1)
LAST_DAY = (11, 25)
INFO_CATEGORY = {"porn_gambling_drugs": "crime_clue", "theft_robbery": "crime_clue", "gang_clue": "crime_clue",
                 "public_order_chaos": "security_hazard", "safety_hazard": "security_hazard",
                 "campus_surroundings": "security_hazard", "rental_floating_population": "key_person"}
APP_REPORTS = 5  # filed from a phone by the demo officer (user xinxiyuan, 东风社区)
DEMO_OFFICER = "139901001001"


@dataclass(frozen=True)
class Tip:
    day: date
    hour: int
    unit: str  # the officer's unit (village, community or subordinate unit)
    officer: int  # index among the unit's officers
    place: str  # where it happened (a village or community)
    category: str
    text: str
    area: str = ""
    app: bool = False


def plan_tips(ctx: Context, held: dict[int, date]) -> list[Tip]:
    """The year's reports: the salient ones behind the officers' areas, then routine ones up to the total."""
    tips = _salient_tips(ctx, held)
    rng = ctx.names.rng
    days = _days(ctx.year.day(*FIRST_DAY), ctx.year.day(*LAST_DAY))
    units = [code for code, officers in sorted(ctx.plan_roster.items()) if officers]
    townships = [t.code for t in ctx.county.townships]
    app_reports = min(APP_REPORTS, ctx.plan.officer_reports // 10) if DEMO_OFFICER in ctx.plan_roster else 0
    while len(tips) < ctx.plan.officer_reports:
        app = sum(t.app for t in tips) < app_reports
        unit = DEMO_OFFICER if app else rng.choice(units)
        # a village's or community's officer reports from home; a school's or hospital's from anywhere
        place = unit if ctx.county.township_of(unit) else rng.choice(ctx.county.grassroots[rng.choice(townships)]).code
        category = weighted(rng, OFFICER_WEIGHTS)
        text = rng.choice(OFFICER_REPORTS[category]).format(place=ctx.county.place_name(place))
        tips.append(Tip(rng.choice(days), 7 + rng.randrange(14), unit, rng.randrange(ctx.plan_roster[unit]), place,
                        category, text, app=app))
    return sorted(tips, key=lambda t: (t.day, t.hour))


def _salient_tips(ctx: Context, held: dict[int, date]) -> list[Tip]:
    """The salient reports of each officers' area, in the 40 days before the 研判 that recommends it."""
    rng, tips = ctx.names.rng, []
    start = ctx.year.day(*FIRST_DAY)
    for area in (a for a in ctx.plan.areas if a.source == "officer"):
        days = _days(max(start, held[area.k] - timedelta(days=40)), held[area.k] - timedelta(days=6))
        unit = _unit_near(ctx, area)
        for n in range(area.reports):
            tips.append(Tip(days[(n * 7) % len(days)], 7 + rng.randrange(14), unit, n, area.division,
                            INFO_CATEGORY[area.categories[0]], _salient_text(area, n), area.key))
    return tips


def schedule(ctx: Context, held: dict[int, date]) -> None:
    for tip in plan_tips(ctx, held):
        ctx.on(tip.day, lambda t=tip: report(ctx, t), "信息员报送", hour=tip.hour, minute=ctx.names.rng.randrange(60))


def report(ctx: Context, tip: Tip) -> None:
    """The officer's report (entered by the centre from a call or message, or by the officer on the app);
    verification and adoption are scheduled on the following working days."""
    centre = _centre(ctx, tip)
    user = ctx.staff.officer(tip.unit) if tip.app else centre
    number, name = ctx.roster[tip.unit][tip.officer % len(ctx.roster[tip.unit])]
    record = ctx.create("officer_report", {
        "officer": number, "reported_at": moment(ctx.schedule_now()),
        "report_method": "app" if tip.app else ctx.names.pick(("phone", "phone", "sms", "in_person")),
        "location": {"division_code": tip.place}, "info_category": tip.category, "content": tip.text,
        "urgency": "urgent" if tip.area else "normal"}, user)
    today = ctx.schedule_now().date()
    checked = ctx.year.add_working(today, ctx.names.pick((1, 1, 2, 3)))
    if tip.area:
        ctx.area_reports.setdefault(tip.area, []).append(record.id)
    ctx.on(checked, lambda: verify(ctx, record.id, tip, name, checked), "核查信息员报送", hour=11)


def _centre(ctx: Context, tip: Tip):  # type: ignore[no-untyped-def]
    """Who verifies: the township centre of a village's or community's officer, the county office for
    the officers of county units."""
    township = ctx.county.township_of(tip.unit)
    return ctx.staff.township(township) if township else ctx.staff.county()


def verify(ctx: Context, record_id: int, tip: Tip, officer_name: str, day: date) -> None:
    centre = _centre(ctx, tip)
    rng = ctx.names.rng
    result = "confirmed" if tip.area else weighted(rng, (("confirmed", 70), ("partly_confirmed", 20), ("unconfirmed", 10)))
    first = bool(tip.area) or rng.random() < 0.9
    ctx.go(record_id, "verify", centre, {"verification": {
        "verification_unit": ctx.county.station_name(ctx.county.township_of(tip.place)), "verified_date": day.isoformat(),
        "verification_result": result, "is_first_report": first, "is_salient_problem": bool(tip.area),
        "note": "经派出所民警实地核查" + ("，属突出治安问题，提交研判" if tip.area else "")}})
    decided = ctx.year.add_working(day, rng.choice((0, 1, 2)))
    if result == "unconfirmed":
        ctx.on(decided, lambda: ctx.go(record_id, "reject", centre, reason="经核查不属实"), "不予采用", hour=16)
    else:
        level = "significant" if tip.area else ("major" if rng.random() < 0.03 else "general")
        uses = ["assessment", "handled"] if tip.area else (["case_filed"] if tip.category == "crime_clue" else ["handled"])
        ctx.on(decided, lambda: ctx.go(record_id, "adopt", centre, {"adoption": {
            "uses": uses, "reward_level": level if first else "none"}}), "采用", hour=16)
    if tip.area:
        _register(ctx, record_id, tip, officer_name, ctx.county.township_of(tip.place))


def _register(ctx: Context, record_id: int, tip: Tip, officer_name: str, township: str) -> None:
    """A salient problem goes into the centre's 《群众反映治安问题登记簿》 too, and is handled there."""
    area = next(a for a in ctx.plan.areas if a.key == tip.area)
    report = ctx.record(record_id)
    problem = ctx.create("security_problem", {
        "received_at": moment(ctx.schedule_now()), "info_source": "info_officer", "officer_report": report.number,
        "reporter": {"name": officer_name, "confidential": True},
        "location": {"division_code": area.division}, "problem_category": area.categories[0],
        "description": tip.text, "submit_assessment": True}, ctx.staff.township(township))
    ctx.area_problems.setdefault(tip.area, []).append(problem.id)
    handle(ctx, problem.id, township, area.categories[0], tip.officer)


def _salient_text(area: Area, n: int) -> str:
    return f"{area.name}：{area.description}" if n == 0 else f"{area.name}情况仍未好转，近一周又有{n + 1}起，群众反映强烈"


def _unit_near(ctx: Context, area: Area) -> str:
    """The area's village if it has officers, else another unit of its township that has."""
    if ctx.plan_roster.get(area.division):
        return area.division
    return next(p.code for p in ctx.county.grassroots[area.township] if ctx.plan_roster.get(p.code))


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]

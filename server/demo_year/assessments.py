"""《治安信息研判记录簿》: the county centre's half-monthly 研判, 24 in the year, each held on the first
working day from the end of its half-month. Its figures are counted by the rule ``assessment_figures``
when it is saved. A 研判 that finds an area needing rectification recommends it: concluding it
registers the key area at 线索 and issues the 《整治社会治安重点地区建议书》 to the area's township
(workflow ``assessment``); the township centre then marks the reports behind it as having formed it,
and the area's own year begins (:mod:`server.demo_year.areas`).
"""
from __future__ import annotations

from calendar import monthrange
from datetime import date

from server.demo_year import areas
from server.demo_year.context import Context
from server.demo_year.plan import Area

RISK = ("low", "medium", "medium", "high")


def period(ctx: Context, k: int) -> tuple[date, date]:
    """The half-month ``k`` (0 = first half of the December before the year)."""
    month = ctx.year.start.month + k // 2
    year = ctx.year.start.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    if k % 2 == 0:
        return date(year, month, 1), date(year, month, 15)
    return date(year, month, 16), date(year, month, monthrange(year, month)[1])


def held_days(ctx: Context) -> dict[int, date]:
    """The day each half-month's 研判 is held: the first working day from the period's end."""
    return {k: ctx.year.working(period(ctx, k)[1]) for k in range(24)}


def schedule(ctx: Context, held: dict[int, date]) -> None:
    for k, township in ctx.plan.assessments:
        ctx.on(held[k], lambda k=k, t=township: hold(ctx, k, t, held[k]), f"研判 {k}", hour=9)


def session(ctx: Context, k: int) -> str:
    start, _ = period(ctx, k)
    return f"{start.year}年{start.month}月{'上' if k % 2 == 0 else '下'}半月"


def hold(ctx: Context, k: int, township: str, day: date) -> None:
    """The township centre registers the meeting (figures counted on save), then concludes it before noon."""
    user = ctx.staff.township(township)
    start, end = period(ctx, k)
    recommended = [a for a in ctx.plan.areas if a.k == k and a.township == township]
    record = ctx.create("assessment", {
        "session": session(ctx, k), "date": day.isoformat(), "chair": ctx.clerk(f"{township}-chair"),
        "participants": _participants(ctx, township),
        "period_start": start.isoformat(), "period_end": end.isoformat(),
        "situation_analysis": _analysis(recommended),
        "salient_problems": [_row(ctx, area) for area in recommended],
    }, user)
    risk = RISK[min(len(recommended) + (k % 2), len(RISK) - 1)]
    conclusion = ("建议将" + "、".join(a.name for a in recommended) + "列为重点地区，向所在乡镇（街道）党（工）委发出整治建议书"
                  if recommended else "本期未发现需列为重点地区的区域，各单位按职责做好日常防控")
    ctx.go(record.id, "conclude", user, {"conclusion": conclusion, "risk_level": risk,
                                         "recommended_measures": "加强巡逻防控，落实属地责任，对群众反映集中的问题限期整改"})
    rows = ctx.record(record.id).data.get("salient_problems", [])
    for area, row in zip(recommended, rows):
        number = row["key_area"]
        area_id = _area_id(number)
        ctx.areas[area.key] = area_id
        ctx.on(day, lambda a=area, n=number: _mark_reports(ctx, a, n), "标记形成重点地区的问题", hour=15)
        areas.schedule_identification(ctx, area, day)


def _participants(ctx: Context, township: str) -> list[dict[str, str]]:
    """The township centre, its 派出所, 司法所 and 市场监管所, and a county department's 综治工作室."""
    name = ctx.county.township_name(township)
    short = name.removesuffix("街道").removesuffix("镇")
    units = (f"{name}综治中心", ctx.county.station_name(township), f"{short}司法所", f"{short}市场监督管理所", "县综治办")
    return [{"unit": unit, "names": "、".join(ctx.clerk(f"{unit}{n}") for n in range(2 if i < 2 else 1))}
            for i, unit in enumerate(units)]


def _row(ctx: Context, area: Area) -> dict:
    problems = [ctx.record(i) for i in ctx.area_problems.get(area.key, [])]
    row = {"place": area.name, "area_type": area.area_type, "division_code": area.division,
           "category": area.categories[0], "description": area.description, "evidence": _evidence(ctx, area, problems),
           "recommend": True}
    if problems:
        row["security_problem"] = problems[0].number
    return row


def _evidence(ctx: Context, area: Area, problems: list) -> str:  # type: ignore[type-arg]
    if area.source == "centre":
        return f"乡镇综治中心受理群众反映 {len(problems)} 条（{'、'.join(p.number for p in problems)}），经核查属实"
    if area.source == "officer":
        reports = [ctx.record(i).number for i in ctx.area_reports.get(area.key, [])]
        return f"治安信息员报送突出治安问题 {len(reports)} 条（{'、'.join(reports)}），经核查属实"
    criminal, public, incidents = area.baseline
    return f"近三个月发生刑事案件 {criminal} 起、治安案件 {public} 起，110警情 {incidents} 起，群众安全感明显下降"


def _analysis(recommended: list[Area]) -> str:
    if not recommended:
        return "本期辖区治安形势总体平稳，可防性案件同比下降，群众反映问题均已分流办理"
    return "本期" + "；".join(f"{a.name}{a.description}" for a in recommended) + "，已形成突出治安问题"


def _area_id(number: str) -> int:
    from sqlalchemy import select

    from server.extensions import db
    from server.records.models import Record

    return db.session.scalar(select(Record.id).where(Record.form_id == "key_area", Record.number == number))


def _mark_reports(ctx: Context, area: Area, number: str) -> None:
    """The township centre records in its 《群众反映治安问题登记簿》 that these problems formed the area."""
    user = ctx.staff.township(area.township)
    for problem_id in ctx.area_problems.get(area.key, []):
        ctx.edit(problem_id, {"forms_key_area": True, "formed_key_area": number}, user)

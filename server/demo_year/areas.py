"""《社会治安重点地区排查整治台账》: each area's year through the ``key_area`` workflow, after the 研判
registered it at 线索 with its 建议书.

The township centre identifies it and starts rectification with a plan due before the next joint
meeting; the plan's end passes without acceptance (the tick marks it for the meeting), so the meeting
lists it (:mod:`server.demo_year.meetings`). Listed, the township submits its plan within the 10
working days and reports progress every month; it applies for acceptance, the county holds the
座谈会 (one row per participant) and accepts: at or above the threshold the area is delisted (验收报告,
摘牌通知) and the township files its 整治工作报告; below it the township asks its party committee for
an extension (延期整治申请) and records the approval.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from server.demo_year.context import Context
from server.demo_year.plan import Area
from server.demo_year.texts import ITEMS, SURVEY_GROUPS
from server.workflow.calendar import add_months


def schedule_identification(ctx: Context, area: Area, recommended: date) -> None:
    """认定 the working day after the 研判, rectification the day after with its plan to end three days
    before the meeting that will list it; progress reported every 25 days until the application."""
    user = ctx.staff.township(area.township)
    identified, started, planned_end = rectification_days(ctx, area, recommended)
    area_id = ctx.areas[area.key]
    ctx.on(identified, lambda: ctx.go(area_id, "identify", user, {
        "identification": {"identified_date": identified.isoformat()},
        "problems": {"categories": list(area.categories), "description": area.description}}), "认定重点地区", hour=10)
    criminal, public, incidents = area.baseline
    ctx.on(identified, lambda: ctx.edit(area_id, {"problems": {"baseline": {
        "criminal_cases": criminal, "public_order_cases": public, "police_incidents": incidents,
        "period": "认定前三个月"}}}, user), "登记基线指标", hour=11)
    ctx.on(started, lambda: ctx.go(area_id, "start_rectification", user, {"rectification": {
        "plan_document": f"《{area.name}整治工作方案》", "plan_summary": _plan_summary(ctx, area),
        "measures": _measures(ctx, area, planned_end, "pending"), "planned_start": started.isoformat(),
        "planned_end": planned_end.isoformat()}}), "开始整治", hour=10)
    applied = applied_day(ctx, area)
    day = started + timedelta(days=25)
    while day < applied:
        report_day = ctx.year.working(day, back=True)
        ctx.on(report_day, lambda d=report_day: _progress(ctx, area, d), "报送月度进展", hour=17)
        day += timedelta(days=25)


def rectification_days(ctx: Context, area: Area, recommended: date) -> tuple[date, date, date]:
    """(identified, rectification started, planned end) of an area recommended on ``recommended``."""
    identified = ctx.year.add_working(recommended, 1)
    started = ctx.year.add_working(identified, 1)
    return identified, started, ctx.meeting_days[area.meeting] - timedelta(days=3)


def applied_day(ctx: Context, area: Area) -> date:
    return ctx.year.working(ctx.meeting_days[area.meeting] + timedelta(days=area.apply_after))


def after_listing(ctx: Context, area: Area, listed: date) -> None:
    """The plan within the 10 working days, then acceptance and delisting or extension."""
    township, county = ctx.staff.township(area.township), ctx.staff.county()
    area_id = ctx.areas[area.key]
    plan_day = ctx.year.add_working(listed, 4)
    ctx.on(plan_day, lambda: ctx.go(area_id, "submit_plan", township, {"rectification": {
        "plan_summary": "挂牌督办整治方案（经乡镇党委会研究，以党委文件印发）：" + _plan_summary(ctx, area),
        "measures": _measures(ctx, area, applied_day(ctx, area), "in_progress")}}), "报送整治方案", hour=16)
    applied = applied_day(ctx, area)
    accepted = ctx.year.add_working(applied, 3)
    ctx.on(applied, lambda: _measures_done(ctx, area, township), "整治措施落实情况", hour=9)
    ctx.on(applied, lambda: ctx.go(area_id, "apply_acceptance", township, {"acceptance": {
        "applied_date": applied.isoformat(), "applying_unit": ctx.county.township_name(area.township)}}),
        "申请验收", hour=10)
    ctx.on(accepted, lambda: ctx.go(area_id, "accept", county, {"acceptance": _acceptance(ctx, area, accepted)}),
           "验收", hour=15)
    if area.extend:
        approved = ctx.year.add_working(accepted, 3)
        ctx.on(approved, lambda: ctx.go(area_id, "approve_extension", township, {"delisting": {"extensions": [{
            "approved_date": approved.isoformat(), "approved_by": f"{ctx.county.township_name(area.township)}党委",
            "reason": "座谈会满意率未达标，夜间巡防和技防设施尚需完善",
            "new_deadline": add_months(approved, int(ctx.param("extension_months"))).isoformat()}]}}),
            "批准延期", hour=16)
        ctx.on(approved, lambda: _extension_filed(ctx, area_id, township), "延期整治申请", hour=17)
        return
    delisted = ctx.year.add_working(accepted, 1)
    ctx.on(delisted, lambda: _delist(ctx, area_id, county), "摘牌", hour=10)
    ctx.on(delisted, lambda: _report(ctx, area, area_id), "整治工作报告", hour=16)


def _delist(ctx: Context, area_id: int, county: Any) -> None:
    report = ctx.issue("acceptance_report", county, area_id)
    ctx.go(area_id, "delist", county, {"delisting": {"acceptance_report_number": report}} if report else {})


def _measures_done(ctx: Context, area: Area, township: Any) -> None:
    """Before applying for acceptance the township records the measures carried out (for an area that
    will need an extension, all but the last)."""
    record = ctx.record(ctx.areas[area.key])
    measures = [dict(m) for m in record.data["rectification"]["measures"]]
    for index, measure in enumerate(measures):
        measure["progress"] = "in_progress" if area.extend and index == len(measures) - 1 else "done"
    ctx.edit(record.id, {"rectification": {"measures": measures}}, township)


def _extension_filed(ctx: Context, area_id: int, township: Any) -> None:
    """The township's 延期整治申请 on file with the approval; the task to ask for it is then done."""
    number = ctx.issue("extension_request", township, area_id)
    if number:
        ctx.close_tasks(area_id, township, f"已报请党委批准延期整治（{number}）")


def _report(ctx: Context, area: Area, area_id: int) -> None:
    """The township writes its 整治工作报告 for the county office's file; the task the acceptance rule gave
    it is then done."""
    township = ctx.staff.township(area.township)
    number = ctx.issue("rectification_report", township, area_id)
    if number:
        ctx.close_tasks(area_id, township, f"已签发《整治工作报告》{number}，报县综治办备案")


def _progress(ctx: Context, area: Area, day: date) -> None:
    record = ctx.record(ctx.areas[area.key])
    if record.state not in ("rectifying", "listed", "extended"):
        return
    rows = list(record.data.get("rectification", {}).get("monthly_progress", []))
    rows.append({"month": day.strftime("%Y-%m"), "source": "self_report", "progress": _progress_text(area, len(rows))})
    ctx.go(record.id, "report_progress", ctx.staff.township(area.township), {"rectification": {"monthly_progress": rows}})


def _progress_text(area: Area, n: int) -> str:
    steps = ("召开专题会议部署，成立整治工作组，入户走访摸排", "开展集中清理整治，查处一批违法人员",
             "完善技防设施，落实巡逻防控", "巩固整治成果，建立长效管理机制")
    return f"{area.name}：{steps[min(n, len(steps) - 1)]}"


def _plan_summary(ctx: Context, area: Area) -> str:
    units = "、".join(dict.fromkeys(unit for _, unit in _measure_rows(ctx, area)))
    return f"成立由乡镇（街道）党（工）委书记任组长的整治工作组，{units}分工负责，限期解决{area.description}的问题"


def _measure_rows(ctx: Context, area: Area) -> tuple[tuple[str, str], ...]:
    if area.measures:
        return area.measures
    township = ctx.county.township_name(area.township)
    return (("开展专项整治，依法打击违法犯罪活动", ctx.county.station_name(area.township)),
            ("入户走访，排查化解矛盾纠纷和安全隐患", f"{township}综治中心"),
            ("完善视频监控等技防设施，组织群防群治力量夜间巡逻", ctx.county.place_name(area.division)))


def _measures(ctx: Context, area: Area, deadline: date, progress: str) -> list[dict[str, Any]]:
    return [{"measure": measure, "unit": unit, "deadline": deadline.isoformat(), "progress": progress}
            for measure, unit in _measure_rows(ctx, area)]


def _acceptance(ctx: Context, area: Area, day: date) -> dict[str, Any]:
    criminal, public, incidents = area.baseline
    return {
        "acceptance_date": day.isoformat(), "team_leader": ctx.clerk("acceptance_leader"),
        "team_members": f"县综治办、县公安局、{ctx.county.township_name(area.township)}综治中心",
        "methods": ["ledger_review", "site_inspection", "data_comparison", "symposium"],
        "indicators": {"criminal_cases": criminal // 4, "public_order_cases": public // 4, "police_incidents": incidents // 3},
        "satisfaction_survey": {"survey_date": day.isoformat(), "venue": f"{ctx.county.place_name(area.division)}会议室",
                                "participants": survey(ctx, area)},
        "issues": "个别群众反映夜间巡逻频次仍需增加" if area.extend else "无",
    }


def survey(ctx: Context, area: Area) -> list[dict[str, Any]]:
    """The 座谈会's answers, one row per participant: comfortably above the threshold for an area that is
    accepted, a few points below it for one that needs an extension (the rate is the rules' to compute)."""
    rng = ctx.names.rng
    threshold = float(ctx.param("satisfaction_threshold"))
    people = 18 + rng.randrange(13)
    answers = people * len(ITEMS)
    rate = threshold - 3 - rng.random() * 3 if area.extend else threshold + (100 - threshold) * (0.3 + rng.random() * 0.6)
    unhappy = set(rng.sample(range(answers), max(0, min(answers, round(answers * (100 - rate) / 100)))))
    basic = 0.0 if ctx.param("satisfaction_formula") == "satisfied_only" else 0.2  # 基本满意 counts only if the formula says
    rows = []
    for person in range(people):
        votes = {}
        for i, item in enumerate(ITEMS):
            slot = person * len(ITEMS) + i
            votes[item] = "dissatisfied" if slot in unhappy else ("basically_satisfied" if rng.random() < basic else "satisfied")
        row = {"group": SURVEY_GROUPS[person % len(SURVEY_GROUPS)], "answers": votes}
        if row["group"] == "npc_deputy":
            row["name"] = ctx.names.name()
        rows.append(row)
    return rows

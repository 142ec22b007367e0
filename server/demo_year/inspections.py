"""《县直部门月度检查报告》: every county department inspects the trades and places it regulates and files
its report for the month in the month's last working days (月报制, "谁主管、谁负责"), twelve months of
the year. The police bureau's report names the key areas under rectification at the time.
"""
from __future__ import annotations

from calendar import monthrange
from datetime import date

from server.demo_year.context import Context

#: What a department looks at, by unit code (others: their own sector in general terms).
SECTORS = {
    "GA": ("旅馆业、娱乐场所、废品收购站", "个别旅馆未落实住宿登记", "责令整改，纳入重点检查"),
    "SCJG": ("农贸市场、无证摊点", "部分摊点无照经营", "依法取缔，引导入市经营"),
    "ZJ": ("建筑工地、城区道路设施", "个别工地围挡不全、夜间施工扰民", "督促施工单位整改"),
    "WJ": ("餐饮摊点、诊所", "个别烧烤摊点从业人员无健康证", "责令办理健康证"),
    "JY": ("中小学校及周边", "个别学校门口上下学时段交通拥堵", "设置护学岗"),
    "WL": ("网吧、歌舞厅", "个别网吧接纳未成年人", "依法处罚并责令整改"),
    "JT": ("客运站、营运车辆", "站外有非法营运车辆揽客", "会同公安开展联合整治"),
    "YJ": ("采石场、危化品经营点", "个别采石场爆破作业不规范", "责令停产整改"),
    "CG": ("城区街道、夜市", "夜市摊点占道经营", "规范经营区域和时间"),
}


def schedule(ctx: Context) -> None:
    units = ctx.county.departments[:ctx.plan.department_units] if ctx.plan.department_units else ctx.county.departments
    for month in ctx.year.months():
        year, mon = map(int, month.split("-"))
        last = ctx.year.working(date(year, mon, monthrange(year, mon)[1]), back=True)
        for index, unit in enumerate(units):
            ctx.on(last, lambda u=unit.code, m=month: file(ctx, u, m), f"{unit.name}{month}月报",
                   hour=14 + index // 10, minute=(index * 6) % 60)


def file(ctx: Context, unit: str, month: str) -> None:
    places, problem, suggestion = SECTORS.get(unit, ("本系统所属行业、场所", "未发现明显治安问题", "继续做好日常检查"))
    data = {
        "report_month": month, "inspecting_unit": unit,
        "inspectors": "、".join(ctx.clerk(f"{unit}-inspector{n}") for n in range(2)),
        "other_places": places,
        "findings": [{"place": places.split("、")[0], "problem": problem, "suggestion": suggestion}],
        "previous_followup": "上月发现问题已整改到位",
        "signed_by": ctx.clerk(f"{unit}-head"),
    }
    if unit == "GA":
        under_way = [ctx.record(i) for i in ctx.areas.values()]
        numbers = [r.number for r in under_way if r.state in ("rectifying", "listed", "extended")]
        if numbers:
            data["key_areas"] = [{"key_area": n} for n in numbers]
    ctx.create("monthly_inspection", data, ctx.staff.department(unit))

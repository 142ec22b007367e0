"""《中心成员单位联席会议记录本》: the county's four joint meetings of the year (seed: 4 held, listings since
the end of April). Each records the member units the article names, reviews the 建议书 issued since the
last one and the areas whose rectification plan ran out (the agenda), and decides the listings: deciding
(workflow ``joint_meeting``) lists every named area, computes its deadline and issues its 挂牌督办通知书.
"""
from __future__ import annotations

from datetime import date

from server.demo_year import areas
from server.demo_year.context import Context
from server.demo_year.plan import MEETINGS

#: The member units the seed names (联席会议成员单位), with the post of the one who attends.
MEMBERS = (("县综治办", "主任"), ("县公安局", "副局长"), ("县委宣传部", "副部长"), ("县防范办", "主任"),
           ("县矛盾纠纷排查调处办公室", "主任"), ("县信访局", "副局长"), ("县司法局", "副局长"),
           ("县市场监督管理局", "副局长"), ("县教育局", "副局长"), ("县住房和城乡建设局", "副局长"),
           ("县公安局刑事侦查大队", "大队长"), ("县公安局治安管理大队", "大队长"), ("县公安局国内安全保卫大队", "大队长"),
           ("县公安局网络安全保卫大队", "大队长"))
LEVELS = {"county": "县级", "township": "乡镇级"}


def meeting_days(ctx: Context) -> list[date]:
    return [ctx.year.working(ctx.year.day(month, day), back=True) for month, day in MEETINGS]


def schedule(ctx: Context) -> None:
    for index, day in enumerate(ctx.meeting_days[:ctx.plan.meetings]):
        ctx.on(day, lambda i=index, d=day: hold(ctx, i, d), f"联席会议 {index + 1}", hour=9, minute=30)


def hold(ctx: Context, index: int, day: date) -> None:
    """Record the meeting in the morning, decide in the afternoon."""
    user = ctx.staff.county()
    listing = [a for a in ctx.plan.areas if a.meeting == index]
    since = ctx.meeting_days[index - 1] if index else ctx.year.start
    letters = [a for a in ctx.plan.areas if a.key in ctx.areas and since <= _recommended(ctx, a) < day]
    threshold = ctx.param("satisfaction_threshold")
    record = ctx.create("joint_meeting", {
        "session": f"{day.year}年第{index + 1}次", "meeting_type": "regular", "meeting_date": day.isoformat(),
        "venue": "县综治中心会议室", "chair": ctx.clerk("meeting_chair"), "recorder": ctx.clerk("meeting_recorder"),
        "attendees": [{"unit": unit, "name": ctx.clerk(unit), "position": post} for unit, post in MEMBERS],
        "topics": "分析全县治安形势；审议本期整治建议书；研究计划期限内未得到有效整治的重点地区，议定挂牌督办",
        "recommendation_letters": [{"key_area": _number(ctx, a.key), "opinion": "同意列为重点地区，由所在乡镇（街道）限期整治"}
                                   for a in letters],
        "discussion": "与会成员单位对各重点地区逐一“会诊”：" + "；".join(f"{a.name}，{a.description}" for a in listing),
        "listing_decisions": [{"key_area": _number(ctx, a.key), "level": a.level,
                               "grounds": "计划期限内未得到有效整治，经联席会议研究实行挂牌督办",
                               "acceptance_standard": f"案件、警情明显下降，群众座谈会满意率达到{threshold}%以上"}
                              for a in listing],
    }, user)
    ctx.on(day, lambda: _decide(ctx, record.id, index, day), "形成决议", hour=15)


def _decide(ctx: Context, record_id: int, index: int, day: date) -> None:
    ctx.go(record_id, "decide", ctx.staff.county())
    for area in (a for a in ctx.plan.areas if a.meeting == index):
        areas.after_listing(ctx, area, day)


def _number(ctx: Context, key: str) -> str:
    return ctx.record(ctx.areas[key]).number


def _recommended(ctx: Context, area) -> date:  # type: ignore[no-untyped-def]
    return ctx.held[area.k]

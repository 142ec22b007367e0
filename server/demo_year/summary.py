"""The Chinese summary printed after loading: counted from the database, not from the plan, so what it
says is what is there."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from server.demo_year.clock import Replay
from server.demo_year.context import Context, registry
from server.documents.models import IssuedDocument
from server.extensions import db
from server.records.models import Record


def counts() -> dict[str, int]:
    return dict(db.session.execute(select(Record.form_id, func.count()).group_by(Record.form_id)).all())


def _data(form_id: str) -> list[dict]:  # type: ignore[type-arg]
    return list(db.session.scalars(select(Record.data).where(Record.form_id == form_id)))


def describe(ctx: Context, replay: Replay) -> str:
    by_form = counts()
    titles = {f.id: f.title for f in registry().forms()}
    problems = _data("security_problem")
    reports = _data("officer_report")
    states = Counter(db.session.scalars(select(Record.state).where(Record.form_id == "key_area")))
    documents = Counter(db.session.scalars(select(IssuedDocument.title)))
    lines = [f"已载入示范年度 {ctx.year.year}（{ctx.year.start} 至 {ctx.year.end}，规模 {ctx.plan.scale:g}）：",
             "  " + "；".join(f"{titles.get(f, f)} {n} 条" for f, n in sorted(by_form.items(), key=lambda x: -x[1])),
             f"  乡镇综治中心受理群众反映 {sum(p.get('info_source') != 'info_officer' for p in problems)} 条"
             f"（来访 {sum(p.get('info_source') == 'visit' for p in problems)} 条）；"
             f"信息员 {by_form.get('officer_roster', 0)} 名，报送 {len(reports)} 条，其中突出治安问题 "
             f"{sum(bool(r.get('verification', {}).get('is_salient_problem')) for r in reports)} 条",
             f"  重点地区 {sum(states.values())} 处：挂牌督办后验收摘牌 {states.get('consolidating', 0)} 处，"
             f"延期整治 {states.get('extended', 0)} 处"
             + "".join(f"，{s} {n} 处" for s, n in states.items() if s not in ("consolidating", "extended")),
             "  签发公文 " + "、".join(f"《{t}》{n} 份" for t, n in documents.most_common()),
             f"  案件统计：{_change(ctx, 'criminal_cases')}；{_change(ctx, 'public_order_cases')}",
             f"  回放 {replay.events} 个事件、{replay.ticks} 次每日计时（{replay.fired} 个计时步骤，每日规则 "
             f"{replay.daily_runs} 次），用时 {replay.seconds:.0f} 秒"]
    if ctx.staff.created:
        lines.append(f"  新建示范用户 {len(ctx.staff.created)} 个（各乡镇综治中心、派出所、县直部门），密码同示范用户")
    if ctx.skipped:
        lines.append(f"  年末仍在办理中的事项 {ctx.skipped} 步留待办理")
    if ctx.warnings:
        lines.append("  警告：" + "；".join(ctx.warnings[:5]) + (f" 等 {len(ctx.warnings)} 条" if len(ctx.warnings) > 5 else ""))
    return "\n".join(lines)


def _change(ctx: Context, field: str) -> str:
    """Year-on-year change of April–September, as the article counts it, from the records."""
    title = {"criminal_cases": "刑事案件", "public_order_cases": "治安案件"}[field]
    rows = _data("case_statistics")
    months = {f"{m:02d}" for m in range(4, 10)}
    now = sum(r[field] for r in rows if r["month"][:4] == str(ctx.year.year) and r["month"][5:] in months)
    before = sum(r[field] for r in rows if r["month"][:4] == str(ctx.year.year - 1) and r["month"][5:] in months)
    if not before:
        return f"{title}无上年同期数据"
    return f"4至9月{title} {now} 起，同比 {(now - before) * 100 / before:+.0f}%"

"""统计分析: the dashboard page, its Excel export, and the list behind every number.

Thin views: :mod:`server.stats` decides the reader's viewpoint and counts; these parse the period and
unit, put a link on every number and render. A mistyped date shows its message (422) with the
figures of no period, rather than figures of a period the reader did not ask for.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from server.errors import NotFound, ValidationFailed
from server.extensions import db
from server.forms.pointers import get_path
from server.records import confidential, titles
from server.stats import counts, dashboard, export, panels
from server.stats.links import link, linked, query_args
from server.stats.figures import Figure
from server.stats.period import PRESETS, Period, parse_period, preset
from server.stats.viewpoint import Viewpoint, may_see, viewpoint
from server.timeutil import local_today

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
PER_PAGE = 50


@bp.app_context_processor
def _dashboard_nav() -> dict[str, Any]:
    """``dashboard_nav()``: whether the menu offers 统计分析 to the user."""
    def enabled() -> bool:
        return bool(current_user.is_authenticated and may_see(current_user) and dashboard.configured())
    return {"dashboard_nav": enabled}


def _inputs() -> tuple[Viewpoint, Period | None, dict[str, str]]:
    vp = viewpoint(current_user, (request.args.get("unit") or "").strip())
    if dashboard.configured() is None:
        raise NotFound("dashboard")
    try:
        return vp, parse_period(request.args, local_today()), {}
    except ValidationFailed as exc:
        return vp, None, {e.pointer: e.message for e in exc.errors}


@bp.route("/")
def page() -> Any:
    vp, period, errors = _inputs()
    sections = linked(dashboard.build(vp, period), vp, period) if period is not None else []
    today = local_today()
    presets = [(PRESETS[name], p, url_for("dashboard.page", **query_args(vp, p)))
               for name, p in ((name, preset(name, today)) for name in PRESETS)]
    export_url = url_for("dashboard.export_xlsx", **query_args(vp, period)) if period is not None else ""
    return render_template("dashboard/page.html", vp=vp, period=period, sections=sections, errors=errors,
                           presets=presets, export_url=export_url, args=request.args,
                           title=(dashboard.configured() or {}).get("title", "统计分析")), (422 if errors else 200)


@bp.route("/export.xlsx")
def export_xlsx() -> Any:
    vp, period, errors = _inputs()
    if period is None:
        return page()
    sections = linked(dashboard.build(vp, period), vp, period)
    payload = export.workbook(sections, vp, period, request.host_url.rstrip("/"))
    response = Response(payload, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    title = f"统计分析（{vp.unit_name}，{period.label}）.xlsx"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"dashboard-{period.start}-{period.end}.xlsx\"; filename*=UTF-8''{quote(title, safe='')}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/figures/<figure_id>")
def figure(figure_id: str) -> Any:
    """The records (or 待办 items, or documents) behind a figure or one line of it."""
    vp, period, errors = _inputs()
    spec = dashboard.figure_spec(figure_id)
    # not for this reader (its view, a ledger they may not read, no list behind it): as if it did not exist,
    # whatever the dates say
    probe = dashboard.compute(spec, vp, period or parse_period({}, local_today()))
    if probe is None or not probe.drill:
        raise NotFound(figure_id)
    computed = probe if period is not None else None
    key = request.args.get("key")
    page_text = request.args.get("page", "1")
    page_no = min(int(page_text), 10**6) if page_text.isascii() and page_text.isdecimal() and len(page_text) < 8 else 1
    page_no = max(page_no, 1)
    context: dict[str, Any] = {"vp": vp, "period": period, "spec": spec, "figure": computed, "errors": errors,
                               "key": key, "page": page_no, "per_page": PER_PAGE, "today": local_today()}
    if period is not None:
        link(computed, vp, period)
        context.update(_rows(spec, computed, vp, period, key, page_no))
        context["back"] = url_for("dashboard.page", **query_args(vp, period))
        overdue = "1" if request.args.get("overdue") == "1" and computed.kind == "inbox" else None
        context["page_url"] = lambda p: url_for("dashboard.figure", figure_id=spec["id"],
                                                **query_args(vp, period, key=key, overdue=overdue, page=p))
        context["overdue_only"] = bool(overdue)
    return render_template("dashboard/figure.html", **context), (422 if errors else 200)


def _rows(spec: dict[str, Any], figure: Figure, vp: Viewpoint, period: Period, key: str | None, page_no: int) -> dict[str, Any]:
    if figure.kind == "inbox":
        stmt = panels.inbox_drill(vp, key, request.args.get("overdue") == "1")
        kind = "inbox"
    elif figure.kind == "documents":
        stmt = panels.documents_select(spec["documents"]["document"], vp, period)
        kind = "documents"
    else:
        form = dashboard.registry().form(spec.get("count", spec.get("sum"))["form"])
        stmt = counts.drill_select(form, spec, vp, period, key)
        kind = "records"
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.scalars(stmt.limit(PER_PAGE).offset((page_no - 1) * PER_PAGE)))
    out: dict[str, Any] = {"kind": kind, "items": items, "total": total, "pages": max(1, -(-total // PER_PAGE)),
                           "sums": [], "values": {}}
    if kind == "records":
        seer = confidential.Sight(current_user)
        forms = dashboard.registry()
        out["titles"] = {r.id: titles.record_title(r, seer) for r in items}
        out["units"] = titles.unit_names({r.org_unit_id for r in items})
        workflow = forms.workflow_for_form(form.id)
        out["states"] = {s: st.title for s, st in workflow.states.items()} if workflow is not None else {}
        if figure.kind == "sum":  # the summed fields as columns, so the total can be checked row by row
            out["sums"] = [(g.key, g.label) for g in figure.groups]
            out["values"] = {r.id: [get_path(confidential.visible_data(r, seer), key) for key, _ in out["sums"]]
                             for r in items}
    label = next((g.label for g in figure.groups if g.key == key or (key == "-" and g.key == "")), None)
    out["group_label"] = label if label is not None else ("" if key is None else key)
    return out

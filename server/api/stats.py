"""``GET /api/v1/stats/dashboard``: the dashboard's figures as JSON, for the reader's token.

The same :func:`server.stats.dashboard.build` as the page, so the API answers the page's numbers;
scoped the same way (a township's token counts that township only; ``unit`` is for county readers,
and a unit the reader does not answer for is 404). A wrong date is 422 naming ``from`` or ``to``.
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_login import current_user

from server.api.routes import bp
from server.errors import NotFound
from server.stats import dashboard
from server.stats.period import parse_period
from server.stats.viewpoint import viewpoint
from server.timeutil import local_today
from server.stats.links import linked


@bp.get("/stats/dashboard")
def stats_dashboard() -> Any:
    vp = viewpoint(current_user, (request.args.get("unit") or "").strip())
    if dashboard.configured() is None:
        raise NotFound("dashboard")
    period = parse_period(request.args, local_today())
    sections = linked(dashboard.build(vp, period), vp, period)
    return jsonify({
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "unit": {"code": vp.unit.code, "name": vp.unit.name} if vp.unit is not None else None,
        "view": vp.view,
        "sections": [{"title": s.title, "figures": [f.as_json() for f in s.figures]} for s in sections],
        "links": {"page": url_for("dashboard.page", **period.args(), **({"unit": vp.unit_code} if vp.unit_code else {}))},
    })

"""信息员配备情况: the coverage page (quotas, officers in post, gaps) and the officers' year in figures.

Thin view: :mod:`server.records.coverage` decides which areas the user answers for and computes the
figures; this parses ``area`` and ``year`` and renders. A mistyped year shows its message (422)
rather than silently counting another year.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from server.errors import NotFound
from server.records import coverage
from server.timeutil import local_today

bp = Blueprint("coverage", __name__, url_prefix="/coverage")


@bp.app_context_processor
def _coverage_nav() -> dict[str, Any]:
    """``coverage_nav()``: whether the menu offers 信息员配备情况 to the user."""
    def enabled() -> bool:
        return bool(current_user.is_authenticated and coverage.may_see_coverage(current_user))
    return {"coverage_nav": enabled}


def _year(text: str | None) -> tuple[int, str]:
    """The year asked for (this year by default) and the message when it is not a year."""
    this_year = local_today().year
    if not text:
        return this_year, ""
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text), ""
    return this_year, "年度应为 2000 到 2100 之间的四位数字"


@bp.route("/")
def page():  # type: ignore[no-untyped-def]
    areas = coverage.coverage_for(current_user)
    code = request.args.get("area") or (areas[0].code if len(areas) == 1 else "")
    area = next((a for a in areas if a.code == code), None)
    if code and area is None:
        raise NotFound(code)  # not one of the user's areas: as if it did not exist
    year, error = _year(request.args.get("year"))
    totals = coverage.officer_totals(current_user, area, year) if area is not None and not error else None
    summary = coverage.AreaCoverage("", "合计", "", [u for a in areas for u in a.units])
    return render_template("records/coverage.html", areas=areas, area=area, totals=totals, year=year,
                           year_text=request.args.get("year", str(year)), error=error,
                           summary=summary, quotas=coverage.quotas()), (422 if error else 200)

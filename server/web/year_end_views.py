"""年度考核汇总 page and its Excel export (the county's year-end appraisal on one sheet).

Thin views: ``server.rules.year_end`` decides who may see which units (403 for information officers)
and joins the registers; these parse the year and render. A mistyped year shows its message (422)
instead of silently showing this year, since a sheet taken for the wrong year would be wrong.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from server.errors import ValidationFailed
from server.rules import year_end

bp = Blueprint("year_end", __name__, url_prefix="/year-end")


def _year() -> tuple[int | None, dict[str, str]]:
    try:
        return year_end.parse_year(request.args), {}
    except ValidationFailed as exc:
        return None, {e.pointer: e.message for e in exc.errors}


def _page(year: int | None, errors: dict[str, str]) -> Any:
    year_end.check_allowed(current_user)  # 403 before anything, whatever the year says
    rows = year_end.summary(current_user, year) if year is not None else []
    return render_template("registers/year_end.html", rows=rows, year=year, errors=errors,
                           typed_year=request.args.get("year", "") if errors else year,
                           default_year=year_end.default_year()), (422 if errors else 200)


@bp.route("")
def page() -> Any:
    return _page(*_year())


@bp.route("/export.xlsx")
def export() -> Any:
    year, errors = _year()
    if year is None:
        return _page(None, errors)
    payload = year_end.export_workbook(year_end.summary(current_user, year), year)
    response = Response(payload, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    title = f"{year}年度考核汇总.xlsx"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"year-end-{year}.xlsx\"; filename*=UTF-8''{quote(title, safe='')}")
    response.headers["Cache-Control"] = "private, no-store"
    return response

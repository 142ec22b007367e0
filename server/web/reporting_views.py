"""月报报送情况: the page listing which units have sent a month's inspection report.

Thin view: :mod:`server.records.reporting` decides who must report, who has and what the user may
see; this reads the month from the query string and renders. A malformed month shows its message
(422) instead of the default month, since a count of the wrong month would be read as the right one.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from server.errors import ValidationFailed
from server.records import reporting
from server.timeutil import local_today

bp = Blueprint("reporting", __name__, url_prefix="/reporting")


def _live():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"].live


@bp.app_context_processor
def _reporting_nav() -> dict[str, Any]:
    """``reporting_nav()``: whether the menu offers 月报报送情况 (the page's own permission test)."""
    def enabled() -> bool:
        live = _live()
        return bool(current_user.is_authenticated and reporting.may_see(current_user, live.rules, live.forms))
    return {"reporting_nav": enabled}


@bp.route("/monthly")
def monthly():  # type: ignore[no-untyped-def]
    live, asked = _live(), request.args.get("month")
    try:
        status = reporting.month_status(current_user, live.rules, live.forms, asked, local_today())
    except ValidationFailed as exc:
        return render_template("records/reporting.html", status=None, month=asked or "",
                               errors={e.pointer: e.message for e in exc.errors}), 422
    return render_template("records/reporting.html", status=status, month=status.month, errors={})

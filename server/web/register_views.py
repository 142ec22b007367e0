"""Register pages: 一票否决登记, 评先资格取消登记, 责任追究登记, each with its Excel export.

Thin views: ``server.rules.registers`` decides which rows the user may see and builds the workbook;
these parse the filters and render. A mistyped filter shows its message (422) instead of silently
listing everything, since a year-end count taken from the wrong list would be wrong.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from server.errors import NotFound, ValidationFailed
from server.rules import registers
from server.rules.registers import REGISTERS, Register

bp = Blueprint("registers", __name__, url_prefix="/registers")


@bp.app_context_processor
def _registers_nav() -> dict[str, Any]:
    """``registers_nav()``: whether to offer the 考核登记 links; ``register_links``: the three registers."""
    def enabled() -> bool:
        return bool(current_user.is_authenticated and registers.may_see_registers(current_user))
    return {"registers_nav": enabled, "register_links": list(REGISTERS.values())}


def _register(slug: str) -> Register:
    register = REGISTERS.get(slug)
    if register is None:
        raise NotFound(slug)
    return register


def _filters(register: Register) -> tuple[registers.Filters | None, dict[str, str]]:
    try:
        return registers.parse_filters(register, request.args), {}
    except ValidationFailed as exc:
        return None, {e.pointer: e.message for e in exc.errors}


def _page(register: Register, filters: registers.Filters | None,  # type: ignore[no-untyped-def]
          errors: dict[str, str]):
    rows = registers.rows_for(register, current_user, filters) if filters else []
    return render_template("registers/list.html", current_register=register, rows=rows, errors=errors,
                           args=request.args, export_args=filters.args() if filters else {},
                           units=registers.unit_choices(current_user)), (422 if errors else 200)


@bp.route("/<slug>")
def page(slug: str):  # type: ignore[no-untyped-def]
    register = _register(slug)
    return _page(register, *_filters(register))


@bp.route("/<slug>/export.xlsx")
def export(slug: str):  # type: ignore[no-untyped-def]
    register = _register(slug)
    filters, errors = _filters(register)
    if filters is None:
        return _page(register, None, errors)
    payload = registers.export_workbook(register, registers.rows_for(register, current_user, filters))
    response = Response(payload, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{register.slug}.xlsx\"; filename*=UTF-8''{quote(register.title + '.xlsx', safe='')}")
    response.headers["Cache-Control"] = "private, no-store"
    return response

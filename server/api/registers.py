"""/api/v1 registers: 一票否决 (/vetoes), 评先资格取消 (/award-ineligibility), 责任追究 (/accountability).

Thin handlers over ``server.rules.registers``, which scopes the rows exactly as the pages do; a
causing record is given (with its API link) only when the token's user may read it, else ``null``.
A mistyped filter is a 422 with the parameter as pointer, never a silently unfiltered list.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request
from flask_login import current_user

from server.api.routes import bp
from server.rules import registers
from server.rules.registers import ACCOUNTABILITY, AWARD_INELIGIBILITY, VETOES, Register, RegisterRow
from server.timeutil import as_aware


def register_row_json(register: Register, row: RegisterRow) -> dict[str, Any]:
    values = {attr: value.isoformat() if isinstance(value, date) else value for attr, value in row.values.items()}
    record = row.record
    return {
        "id": row.id, "unit": {"code": row.unit.code, "name": row.unit.name}, **values,
        **({"reason": row.reason} if register.has_reason else {}),
        "created_at": as_aware(row.created_at).isoformat(),
        "decision": {"id": row.decision.id, "title": row.decision.title, "explanation": row.decision.explanation,
                     "ruleset": row.decision.ruleset, "rule": row.decision.rule},
        "record": None if record is None else {
            "id": record.id, "number": record.number, "form_id": record.form_id,
            "links": {"self": f"{bp.url_prefix}/records/{record.id}"}},
    }


def _items(register: Register):  # type: ignore[no-untyped-def]
    filters = registers.parse_filters(register, request.args)  # ValidationFailed → 422 (routes.py)
    rows = registers.rows_for(register, current_user, filters)
    return jsonify({"items": [register_row_json(register, r) for r in rows]})


@bp.get("/vetoes")
def register_vetoes():  # type: ignore[no-untyped-def]
    return _items(VETOES)


@bp.get("/award-ineligibility")
def register_award_ineligibility():  # type: ignore[no-untyped-def]
    return _items(AWARD_INELIGIBILITY)


@bp.get("/accountability")
def register_accountability():  # type: ignore[no-untyped-def]
    return _items(ACCOUNTABILITY)

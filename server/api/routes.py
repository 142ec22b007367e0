"""The /api/v1 route table. Handlers are thin: they call the same records service as the pages."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user

from server.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from server.auth.permissions import allowed
from server.extensions import csrf
from server.forms import build_form, list_columns
from server.org.models import OrgUnit
from server.org.service import org_list
from server.records import service
from server.records.models import AuditEntry, Record
from server.records.query import list_page, parse_list_args
from server.timeutil import as_aware

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"]


@bp.before_request
def _tokens_only():  # type: ignore[no-untyped-def]
    if request.endpoint in {"api.health", "api.openapi"}:
        return None
    if getattr(g, "auth_method", None) != "token":
        return jsonify({"error": "unauthorized", "message": "需要 Authorization: Bearer <令牌>"}), 401
    return None


@bp.errorhandler(ValidationFailed)
def _invalid(exc: ValidationFailed):  # type: ignore[no-untyped-def]
    return jsonify({"errors": [e.as_dict() for e in exc.errors]}), 422


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict):  # type: ignore[no-untyped-def]
    return jsonify({"error": "conflict", "message": str(exc), "current_version": exc.current_version}), 409


@bp.errorhandler(NotAllowed)
def _not_allowed(_exc: NotAllowed):  # type: ignore[no-untyped-def]
    return jsonify({"error": "forbidden", "message": "无权进行此操作"}), 403


@bp.errorhandler(NotFound)
def _not_found(_exc: NotFound):  # type: ignore[no-untyped-def]
    return jsonify({"error": "not_found", "message": "未找到"}), 404


def org_unit_json(unit: OrgUnit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id,
            "id": unit.id, "serves_id": unit.serves_id, "posts": unit.posts}


def record_json(record: Record) -> dict[str, Any]:
    return {
        "id": record.id, "number": record.number, "form_id": record.form_id,
        "form_version": record.form_version, "org_unit_id": record.org_unit_id, "state": record.state,
        "data": record.data, "version": record.version,
        "created_by": record.created_by_id, "created_at": as_aware(record.created_at).isoformat(),
        "updated_by": record.updated_by_id, "updated_at": as_aware(record.updated_at).isoformat(),
    }


@bp.get("/health")
def health():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok", "config_version": _registry().live.version})


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    from server.api.openapi import openapi_document

    return jsonify(openapi_document(_registry().forms()))


@bp.get("/me")
def me():  # type: ignore[no-untyped-def]
    user = current_user
    unit = user.org_unit
    forms = {f.id: [a for a in ("create", "read", "update") if allowed(user, a, f)] for f in _registry().forms()}
    return jsonify({"id": user.id, "username": user.username, "display_name": user.display_name,
                    "role": user.role, "org_unit": org_unit_json(unit) if unit else None,
                    "permissions": {k: v for k, v in forms.items() if v}})


@bp.get("/org-units")
def org_units():  # type: ignore[no-untyped-def]
    kind, parent = request.args.get("kind"), request.args.get("parent")
    units = org_list(kind=kind or None, parent_code=parent or None)
    return jsonify([org_unit_json(u) for u in units])


@bp.get("/forms")
def forms():  # type: ignore[no-untyped-def]
    return jsonify([{"id": f.id, "title": f.title, "version": f.version} for f in _registry().forms()
                    if allowed(current_user, "read", f) or allowed(current_user, "create", f)])


@bp.get("/forms/<form_id>")
def form(form_id: str):  # type: ignore[no-untyped-def]
    spec = _registry().form(form_id)
    return jsonify({"id": spec.id, "title": spec.title, "version": spec.version, "schema": spec.schema})


@bp.post("/forms/<form_id>/records")
def create(form_id: str):  # type: ignore[no-untyped-def]
    _registry().form(form_id)
    record = service.create_record(form_id, _body(), current_user)
    return jsonify(record_json(record)), 201, {"Location": f"/api/v1/records/{record.id}", "ETag": f'"{record.version}"'}


@bp.get("/forms/<form_id>/records")
def list_records(form_id: str):  # type: ignore[no-untyped-def]
    spec = _registry().form(form_id)
    page = list_page(spec, parse_list_args(spec, request.args), current_user)
    return jsonify({"items": [record_json(r) for r in page.items], "total": page.total,
                    "page": page.page, "per_page": page.per_page,
                    "columns": [{"path": p, "title": t} for p, t in list_columns(build_form(spec))]})


@bp.get("/records/<int:record_id>")
def get(record_id: int):  # type: ignore[no-untyped-def]
    record = service.get_record(record_id, current_user)
    return jsonify(record_json(record)), 200, {"ETag": f'"{record.version}"'}


@bp.put("/records/<int:record_id>")
def put(record_id: int):  # type: ignore[no-untyped-def]
    expected = request.headers.get("If-Match", "").strip().strip('"')
    if not expected.isdigit():
        service.get_record(record_id, current_user)  # 404 before 428 for unknown records
        return jsonify({"error": "precondition_required", "message": "需要 If-Match: <版本号>"}), 428
    record = service.update_record(record_id, _body(), current_user, int(expected))
    return jsonify(record_json(record)), 200, {"ETag": f'"{record.version}"'}


@bp.get("/records/<int:record_id>/history")
def history(record_id: int):  # type: ignore[no-untyped-def]
    entries = service.record_history(record_id, current_user)
    return jsonify([_audit_json(e) for e in entries])


@bp.get("/records/<int:record_id>/decisions")
def decisions(record_id: int):  # type: ignore[no-untyped-def]
    from server.rules.service import decisions_for

    record = service.get_record(record_id, current_user)
    return jsonify([decision_json(d) for d in decisions_for(record)])


def decision_json(decision: Any) -> dict[str, Any]:
    return {"id": decision.id, "at": as_aware(decision.at).isoformat(), "ruleset": decision.ruleset,
            "ruleset_version": decision.ruleset_version, "rule": decision.rule, "title": decision.title,
            "explanation": decision.explanation, "facts": decision.facts, "actions": decision.actions,
            "outcome": decision.outcome, "error": decision.error}


@bp.post("/rules/<ruleset_id>/simulate")
def simulate(ruleset_id: str):  # type: ignore[no-untyped-def]
    """Body ``{"facts": {...}}`` or ``{"record_id": N}`` → the decisions it would make; nothing stored."""
    from server.rules.normalise import FactError
    from server.rules.service import record_fact, simulate as run

    if current_user.role not in ("county_admin", "county_staff"):
        raise NotAllowed("simulate")
    rules = _registry().live.rules
    if rules is None or ruleset_id not in rules.rulesets:
        raise NotFound(ruleset_id)
    ruleset, body = rules.rulesets[ruleset_id], _body()
    if isinstance(body, dict) and "record_id" in body:
        fact = record_fact(rules, ruleset, service.get_record(int(body["record_id"]), current_user))
    elif isinstance(body, dict) and isinstance(body.get("facts"), dict):
        fact = body["facts"]
    else:
        raise ValidationFailed([FieldError("", "请求体应为 {\"facts\": {...}} 或 {\"record_id\": N}")])
    try:
        return jsonify({"ruleset": ruleset_id, "decisions": run(rules, ruleset, fact)})
    except FactError as exc:
        raise ValidationFailed([FieldError(f"/facts{p}", m) for p, m in exc.problems]) from exc


def _audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": as_aware(entry.at).isoformat(), "user_id": entry.user_id,
            "action": entry.action, "record_version": entry.record_version, "diff": entry.diff}


def _body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationFailed([FieldError("", "请求体应为 JSON 对象（Content-Type: application/json）")])
    return body

"""The /api/v1 route table. Handlers are thin: they call the same records service as the pages."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user

from server.audit import action_title
from server.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from server.auth.permissions import allowed
from server.api.preconditions import if_match_version
from server.extensions import csrf
from server.ids import MAX_ID
from server.forms import build_form, list_columns
from server.org.models import OrgUnit
from server.org.service import org_list
from server.records import confidential, service
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
def _not_allowed(exc: NotAllowed):  # type: ignore[no-untyped-def]
    return jsonify({"error": "forbidden", "message": getattr(exc, "message", "无权进行此操作")}), 403


@bp.errorhandler(NotFound)
def _not_found(_exc: NotFound):  # type: ignore[no-untyped-def]
    return jsonify({"error": "not_found", "message": "未找到"}), 404


def org_unit_json(unit: OrgUnit) -> dict[str, Any]:
    return {"code": unit.code, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id,
            "id": unit.id, "serves_id": unit.serves_id, "posts": unit.posts}


def record_json(record: Record, full: bool = True, seer: confidential.Sight | None = None) -> dict[str, Any]:
    """A record as the API gives it to the current user: protected values they may not see (要求保密)
    read "（保密）" (an identity number partly masked) and ``masked`` lists their pointers. Workflow records carry their state and due date;
    ``full`` adds what the user may do next (one record's page, not a list: that costs a fact and a few
    queries)."""
    hidden = confidential.hidden_covers(record, seer or current_user)
    body = {
        "id": record.id, "number": record.number, "form_id": record.form_id,
        "form_version": record.form_version, "org_unit_id": record.org_unit_id, "state": record.state,
        "data": confidential.mask(record.data, hidden) if hidden else record.data, "masked": list(hidden),
        "version": record.version,
        "created_by": record.created_by_id, "created_at": as_aware(record.created_at).isoformat(),
        "updated_by": record.updated_by_id, "updated_at": as_aware(record.updated_at).isoformat(),
    }
    if record.workflow_id and full:
        body.update(_flow_json(record))
    elif record.workflow_id:
        body["workflow"] = {"id": record.workflow_id, "version": record.workflow_version}
        body["due"] = {"date": record.due_date.isoformat()} if record.due_date else None
    return body


def _flow_json(record: Record) -> dict[str, Any]:
    """State, due date and the transitions this user may take, for records in a workflow."""
    from server.flow.view import view as flow_view

    view = flow_view(record, current_user)
    due = None
    if view.due is not None:
        due = {"date": view.due.isoformat(), "title": view.due_title, "working_days_left": view.working_days_left,
               "overdue": view.overdue}
    return {"workflow": {"id": record.workflow_id, "version": record.workflow_version},
            "state_title": view.state.title if view.state else record.state,
            "open": bool(view.state and view.state.open), "due": due,
            "waiting_unit": {"code": view.waiting_unit.code, "name": view.waiting_unit.name} if view.waiting_unit else None,
            "transitions": [{"id": b.transition.id, "label": b.transition.label, "dialog": list(b.transition.dialog),
                             "requires": list(b.transition.requires), "reason": b.transition.reason,
                             "available": b.refusal is None, "refusal": b.refusal.message if b.refusal else None}
                            for b in view.buttons],
            "transition_counts": view.counts}


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
    seer = confidential.Sight(current_user)
    return jsonify({"items": [record_json(r, full=False, seer=seer) for r in page.items], "total": page.total,
                    "page": page.page, "per_page": page.per_page,
                    "columns": [{"path": p, "title": t} for p, t in list_columns(build_form(spec))]})


@bp.get("/records/<int:record_id>")
def get(record_id: int):  # type: ignore[no-untyped-def]
    record = service.get_record(record_id, current_user)
    return jsonify(record_json(record)), 200, {"ETag": f'"{record.version}"'}


@bp.put("/records/<int:record_id>")
def put(record_id: int):  # type: ignore[no-untyped-def]
    expected = if_match_version()
    if expected is None:
        service.get_record(record_id, current_user)  # 404 before 428 for unknown records
        return jsonify({"error": "precondition_required", "message": "需要 If-Match: <版本号>"}), 428
    record = service.update_record(record_id, _body(), current_user, expected)
    return jsonify(record_json(record)), 200, {"ETag": f'"{record.version}"'}


@bp.get("/records/<int:record_id>/history")
def history(record_id: int):  # type: ignore[no-untyped-def]
    entries = service.record_history(record_id, current_user)
    return jsonify([_audit_json(e) for e in entries])


@bp.get("/records/<int:record_id>/decisions")
def decisions(record_id: int):  # type: ignore[no-untyped-def]
    from server.rules.service import decisions_for

    record = service.get_record(record_id, current_user)
    return jsonify([decision_json(d) for d in decisions_for(record, current_user)])


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
    hidden: list[str] = []  # values of the record this user may not see (要求保密), scrubbed from the answer
    if isinstance(body, dict) and "record_id" in body:
        record_id = body["record_id"]
        if isinstance(record_id, bool) or not isinstance(record_id, int) or not 1 <= record_id <= MAX_ID:
            raise ValidationFailed([FieldError("/record_id", "应为正整数（记录 id）")])
        record = service.get_record(record_id, current_user)
        fact, hidden = record_fact(rules, ruleset.facts, record), confidential.secrets(record, current_user)
    elif isinstance(body, dict) and isinstance(body.get("facts"), dict):
        fact = body["facts"]
    else:
        raise ValidationFailed([FieldError("", "请求体应为 {\"facts\": {...}} 或 {\"record_id\": N}")])
    try:
        return jsonify({"ruleset": ruleset_id, "decisions": confidential.scrub(run(rules, ruleset, fact), hidden)})
    except FactError as exc:
        raise ValidationFailed([FieldError(f"/facts{p}", m) for p, m in exc.problems]) from exc


def _audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": as_aware(entry.at).isoformat(), "user_id": entry.user_id,
            "action": entry.action, "action_title": action_title(entry.action), "detail": entry.detail or "",
            "record_version": entry.record_version, "diff": entry.diff}


def _body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationFailed([FieldError("", "请求体应为 JSON 对象（Content-Type: application/json）")])
    return body


# -- documents (公文): issue, read, download; the service is server/documents/service.py --------------
DOCUMENT_BODY_KEYS = ("doc_id", "record_id", "month", "confirm_reissue")


def document_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "number": row.number, "doc_id": row.doc_id, "title": row.title,
            "record_id": row.record_id, "sha256": row.sha256, "pages": row.pages, "state": row.state,
            "issued_at": as_aware(row.issued_at).isoformat(), "revoked_reason": row.revoked_reason or None,
            "links": {"self": f"{bp.url_prefix}/documents/{row.id}", "pdf": f"{bp.url_prefix}/documents/{row.id}.pdf"}}


def _document_body() -> tuple[str, int | None, str | None, bool]:
    body = _body()
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("", "请求体应为 JSON 对象：{\"doc_id\", \"record_id\"} 或 {\"doc_id\", \"month\"}")])
    errors = [FieldError(f"/{k}", "不允许的字段") for k in body if k not in DOCUMENT_BODY_KEYS]
    doc_id, record_id, month = body.get("doc_id"), body.get("record_id"), body.get("month")
    if not isinstance(doc_id, str) or not doc_id:
        errors.append(FieldError("/doc_id", "请填写文书标识 doc_id（字符串）"))
    if record_id is not None and (isinstance(record_id, bool) or not isinstance(record_id, int)
                                  or not 1 <= record_id < 2**63):
        errors.append(FieldError("/record_id", "应为正整数（记录 id）"))
    if month is not None and not isinstance(month, str):
        errors.append(FieldError("/month", "应为字符串，格式如 2026-11"))
    if record_id is not None and month is not None:
        errors.append(FieldError("/month", "record_id 与 month 只能给出其一"))
    confirm = body.get("confirm_reissue", False)
    if not isinstance(confirm, bool):
        errors.append(FieldError("/confirm_reissue", "应为 true 或 false"))
    if errors:
        raise ValidationFailed(errors)
    return doc_id, record_id, month, confirm


@bp.post("/documents")
def document_issue():  # type: ignore[no-untyped-def]
    """Issue a document: ``{"doc_id", "record_id"}`` or, for a statistics document, ``{"doc_id", "month"}``;
    a second one for the same record only with ``"confirm_reissue": true`` (else 409 listing the earlier)."""
    from server.documents import service as documents
    from server.documents.pdf import RenderError

    doc_id, record_id, month, confirm = _document_body()
    try:
        row = documents.issue(doc_id, current_user, record_id=record_id, month=month, confirm_reissue=confirm)
    except RenderError as exc:
        return jsonify({"error": "render_failed", "message": str(exc)}), 422
    except documents.AlreadyIssued as exc:  # nothing issued: the client repeats with confirm_reissue
        return jsonify({"error": "already_issued", "message": str(exc),
                        "earlier": [document_json(r) for r in exc.earlier]}), 409
    body = document_json(row)
    return jsonify(body), 201, {"Location": body["links"]["self"]}


@bp.get("/documents/<int:document_id>")
def document_get(document_id: int):  # type: ignore[no-untyped-def]
    from server.documents import service as documents

    return jsonify(document_json(documents.get_issued(document_id, current_user)))


@bp.get("/documents/<int:document_id>.pdf")
def document_pdf(document_id: int):  # type: ignore[no-untyped-def]
    from urllib.parse import quote

    from flask import Response

    from server.documents import service as documents

    row, data = documents.issued_pdf(document_id, current_user)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=\"document-{row.id}.pdf\"; "
                               f"filename*=UTF-8''{quote(row.number + '.pdf', safe='')}",
        "ETag": f'"{row.sha256}"', "Cache-Control": "private, no-store"})
# -- /documents ----------------------------------------------------------------------------------------

"""The API of procedures: transitions, the timeline, the 待办 inbox. Thin handlers over ``server.flow``
and ``server.inbox``; every error is JSON, refusals say why in Chinese."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from server.api.preconditions import if_match_version
from server.api.routes import _body, bp, record_json
from server.errors import FieldError, ValidationFailed
from server.flow import service as flow
from server.flow import view as flow_view
from server.flow.service import TransitionRefused
from server.inbox import service as inbox
from server.inbox.models import KINDS, STATUSES, InboxItem
from server.timeutil import as_aware

TRANSITION_BODY_KEYS = ("fields", "reason", "version")
_REFUSAL_STATUS = {"state": 409, "role": 403, "field": 422, "guard": 422}


@bp.errorhandler(TransitionRefused)
def _refused(exc: TransitionRefused):  # type: ignore[no-untyped-def]
    refusal = exc.refusal
    status = _REFUSAL_STATUS.get(refusal.code, 422)
    body: dict[str, Any] = {"error": f"transition_{refusal.code}", "message": refusal.message}
    if status == 422:
        pointer = f"/fields{refusal.pointer}" if refusal.pointer else ""
        body["errors"] = [{"pointer": pointer, "message": refusal.message}]
    return jsonify(body), status


@bp.post("/records/<int:record_id>/transitions/<transition_id>")
def transition(record_id: int, transition_id: str):  # type: ignore[no-untyped-def]
    """Body: ``{"fields": {...the fields the transition asks for}, "reason": "...", "version": N}``
    (all optional; ``version`` guards against a concurrent change, like If-Match)."""
    body = _body()
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("", "请求体应为 JSON 对象：{\"fields\": {...}, \"reason\": \"...\"}")])
    errors = [FieldError(f"/{k}", "不允许的字段（可用：fields、reason、version）") for k in body if k not in TRANSITION_BODY_KEYS]
    version = body.get("version", if_match_version())
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or not 0 < version < 2**31):
        errors.append(FieldError("/version", "应为正整数（记录的版本号）"))
    if errors:
        raise ValidationFailed(errors)
    outcome = flow.take(record_id, transition_id, current_user, body.get("fields"), body.get("reason", ""), version)
    payload = record_json(outcome.record)
    if outcome.warnings:
        payload["warnings"] = outcome.warnings
    return jsonify(payload), 200, {"ETag": f'"{outcome.record.version}"'}


@bp.get("/records/<int:record_id>/timeline")
def record_timeline(record_id: int):  # type: ignore[no-untyped-def]
    from server.records.service import get_record, user_labels

    record = get_record(record_id, current_user)
    entries = flow_view.timeline(record)
    workflow = flow.workflow_of(record)
    names = user_labels({e.user_id for e in entries}, with_unit=True)
    return jsonify([{"at": as_aware(e.at).isoformat(), "transition": e.transition or None, "label": e.label,
                     "from": e.from_state, "from_title": workflow.state_title(e.from_state) if e.from_state else None,
                     "to": e.to_state, "to_title": workflow.state_title(e.to_state),
                     "reason": e.reason or None, "by": names.get(e.user_id) or e.actor} for e in entries])


def item_json(item: InboxItem) -> dict[str, Any]:
    return {"id": item.id, "kind": item.kind, "kind_title": KINDS.get(item.kind, item.kind), "title": item.title,
            "message": item.message or None, "due_date": item.due_date.isoformat() if item.due_date else None,
            "status": item.status, "status_title": STATUSES.get(item.status, item.status),
            "record": {"id": item.record_id, "links": {"self": f"{bp.url_prefix}/records/{item.record_id}"}}
            if item.record_id else None,
            "created_at": as_aware(item.created_at).isoformat(),
            "closed_at": as_aware(item.closed_at).isoformat() if item.closed_at else None,
            "close_note": item.close_note or None}


@bp.get("/inbox")
def inbox_list():  # type: ignore[no-untyped-def]
    """The user's unit's 待办 (``?status=open|done|withdrawn|closed``, default open): overdue first."""
    status = request.args.get("status", "open")
    if status not in STATUSES:
        raise ValidationFailed([FieldError("/status", f"应为 {'、'.join(STATUSES)} 之一")])
    today = flow.today()
    items = inbox.items_for(current_user, status, today)
    counts = inbox.counts_for(current_user, today)
    return jsonify({"items": [item_json(i) for i in items], "open": counts.open, "overdue": counts.overdue})


@bp.post("/inbox/<int:item_id>/close")
def inbox_close(item_id: int):  # type: ignore[no-untyped-def]
    """Close an item by hand: ``{"note": "..."}`` (audited)."""
    body = _body()
    note = body.get("note") if isinstance(body, dict) else None
    if not isinstance(note, str):
        raise ValidationFailed([FieldError("/note", "请填写办结说明（字符串）")])
    return jsonify(item_json(inbox.close_by_hand(item_id, current_user, note)))

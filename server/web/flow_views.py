"""Procedure pages: a transition's dialog, the 待办 inbox, and the inbox count in the navigation bar.

Thin views over ``server.flow`` and ``server.inbox``: the services decide who may do what; a refusal
comes back with its Chinese reason and the page keeps what the user typed.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from server.errors import Conflict, NotAllowed, ValidationFailed
from server.flow import dialog
from server.flow import service as flow
from server.flow import view as flow_view
from server.flow.service import TransitionRefused
from server.forms import parse_submission, render_fields
from server.inbox import service as inbox
from server.inbox.models import KINDS
from server.records import confidential
from server.records.service import user_labels

bp = Blueprint("flow", __name__)


def _lookup_url(form_id: str) -> str:
    return url_for("records.lookup", form_id=form_id)


@bp.app_context_processor
def _inbox_nav() -> dict[str, Any]:
    """``inbox_counts()``: open and overdue items of the user's unit, for the navigation bar."""
    def counts() -> inbox.Counts | None:
        if not current_user.is_authenticated or current_user.org_unit_id is None:
            return None
        return inbox.counts_for(current_user, flow.today())
    return {"inbox_counts": counts}


@bp.route("/records/<int:record_id>/transitions/<transition_id>", methods=["GET", "POST"])
def transition(record_id: int, transition_id: str):  # type: ignore[no-untyped-def]
    try:
        record, workflow, step = flow_view.transition_for(record_id, transition_id, current_user)
    except TransitionRefused as exc:
        flash(exc.refusal.message, "info")
        return redirect(url_for("records.detail", record_id=record_id))
    form = current_app.extensions["registry"].form(record.form_id)
    model = dialog.dialog_model(form, step)
    values: dict[str, Any] = dialog.dialog_values(confidential.visible_data(record, current_user), step)
    reason, errors, message, version, status = "", {}, None, record.version, 200
    if request.method == "POST":
        values = parse_submission(model, request.form) if model is not None else {}
        reason = request.form.get("reason", "")
        version = _int(request.form.get("_version"))
        try:
            outcome = flow.take(record_id, transition_id, current_user, values, reason, version)
        except ValidationFailed as exc:
            errors = {e.pointer.removeprefix("/fields"): e.message for e in exc.errors}
            message = "；".join(e.message for e in exc.errors if not e.pointer)
            status = 422
        except TransitionRefused as exc:  # a missing field is shown at the field; anything else above the form
            errors = {exc.refusal.pointer: exc.refusal.message} if exc.refusal.pointer else {}
            message = None if exc.refusal.pointer else exc.refusal.message
            status = 409 if exc.refusal.code == "state" else 422
        except Conflict as exc:
            message, status = f"{exc}。您填写的内容仍保留在下方。", 409
        else:
            flash(f"已办理“{step.label}”，当前状态：{workflow.state_title(outcome.record.state)}", "success")
            for warning in outcome.warnings:
                flash(warning, "info")
            return redirect(url_for("records.detail", record_id=record_id))
    fields = render_fields(model, values, {k: v for k, v in errors.items() if k}, lookup_url=_lookup_url) \
        if model is not None else None
    return render_template("flow/transition.html", record=record, form=form, workflow=workflow, step=step,
                           fields=fields, reason=reason, errors=errors, message=message, version=version,
                           summary=flow.summary(record)), status


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@bp.route("/inbox")
def inbox_page():  # type: ignore[no-untyped-def]
    status = request.args.get("status", "open")
    if status not in ("open", "done", "withdrawn", "closed"):
        status = "open"
    if current_user.org_unit_id is None:
        raise NotAllowed("inbox")
    today = flow.today()
    items = inbox.items_for(current_user, status, today)
    closers = user_labels({i.closed_by_id for i in items})
    return render_template("flow/inbox.html", items=items, status=status, today=today, kinds=KINDS, closers=closers)


@bp.post("/inbox/<int:item_id>/close")
def inbox_close(item_id: int):  # type: ignore[no-untyped-def]
    try:
        inbox.close_by_hand(item_id, current_user, request.form.get("note", ""))
    except ValidationFailed as exc:
        flash("；".join(e.message for e in exc.errors), "info")
    else:
        flash("已办结", "success")
    return redirect(url_for("flow.inbox_page"))

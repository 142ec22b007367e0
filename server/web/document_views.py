"""Official document pages: generate (preview / issue) from a record or for a month, the register,
one issued document, its PDF and its revocation.

Thin views: ``server.documents.service`` does the work (permissions, scope, numbering, rendering,
audit); these translate between HTML forms and it. A render failure or a record that lacks what
the document needs is shown as a page with the message (422); nothing is issued then.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable
from urllib.parse import quote

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from server.documents import service
from server.documents.models import IssuedDocument
from server.documents.pdf import RenderError
from server.errors import NotAllowed, NotFound, ValidationFailed
from server.extensions import db
from server.records.models import Record
from server.records.service import get_record, user_labels

bp = Blueprint("documents", __name__)

STATES = {"issued": "已签发", "revoked": "已撤销"}


def _registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"]


@bp.app_context_processor
def _documents_nav() -> dict[str, Any]:
    """``documents_nav``: whether to offer 文书登记 — to a user who may issue some document or can
    see an issued one, not to everyone while the register would be empty for them forever."""
    def enabled() -> bool:
        registry = current_app.extensions.get("registry")
        if not current_user.is_authenticated:
            return False
        try:
            specs = list(registry.live.documents.values()) if registry else []
        except Exception:  # no published configuration yet: no link
            return False
        return (any(service.may(current_user, s) for s in specs)
                or bool(specs and service.issued_list(current_user, limit=1)))
    return {"documents_nav": enabled, "document_states": STATES}


def record_documents(record: Record) -> dict[str, Any]:
    """What the record page's 生成文书 section shows: documents the user may make, those made already."""
    return {"record_documents": service.documents_for_record(record, current_user),
            "record_issued": service.issued_list(current_user, record_id=record.id)}


# -- PDF responses ------------------------------------------------------------------------------
def pdf_response(data: bytes, filename: str, *, inline: bool = False, fallback: str = "document.pdf") -> Response:
    """``application/pdf`` with an RFC 6266 / RFC 5987 filename (UTF-8, plus an ASCII fallback)."""
    response = Response(data, mimetype="application/pdf")
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Length"] = str(len(data))
    return response


def _failed(title: str, messages: list[str], back: str | None, status: int = 422):  # type: ignore[no-untyped-def]
    return render_template("documents/failed.html", title=title, messages=messages, back=back), status


def _messages(exc: ValidationFailed) -> list[str]:
    return [e.message for e in exc.errors]


# -- from a record ------------------------------------------------------------------------------
def _attempt(title: str, record_id: int, action: Callable[[], Any]) -> tuple[Any, Any]:
    """Run a service call for a record's document: ``(result, None)``, or ``(None, the failure page)``
    with the reason, a link back to the record, and nothing issued."""
    back = url_for("records.detail", record_id=record_id)
    try:
        return action(), None
    except service.NotOwnIssuer as exc:
        return None, _failed(title, [exc.message], back, 403)
    except ValidationFailed as exc:
        return None, _failed(title, _messages(exc), back)
    except RenderError as exc:
        return None, _failed(title, [str(exc)], back)


@bp.route("/records/<int:record_id>/documents/<doc_id>/preview.pdf")
def record_preview(record_id: int, doc_id: str):  # type: ignore[no-untyped-def]
    data, failure = _attempt("无法预览文书", record_id,
                             lambda: service.preview(doc_id, current_user, record_id=record_id))
    if failure:
        return failure
    spec = _registry().document(doc_id)
    return pdf_response(data, f"{spec.title}（草稿）.pdf", inline=True, fallback=f"{doc_id}-draft.pdf")


@bp.route("/records/<int:record_id>/documents/<doc_id>", methods=["POST"])
def record_issue(record_id: int, doc_id: str):  # type: ignore[no-untyped-def]
    """签发; when the record has this document already, a confirm page listing the earlier ones (409)
    comes first, and only its button (``confirm_reissue``) issues another."""
    confirm = request.form.get("confirm_reissue") == "1"
    try:
        row, failure = _attempt("未能签发文书", record_id, lambda: service.issue(
            doc_id, current_user, record_id=record_id, confirm_reissue=confirm))
    except service.AlreadyIssued as exc:
        return render_template("documents/reissue.html", title=exc.title, earlier=exc.earlier,
                               record_id=record_id, doc_id=doc_id), 409
    if failure:
        return failure
    flash(f"已签发《{row.title}》，文号 {row.number}", "success")
    return redirect(url_for("documents.detail", pk=row.id))


# -- statistics documents -----------------------------------------------------------------------
def _last_month() -> str:
    first = service.today().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@bp.route("/documents/new/<doc_id>", methods=["GET", "POST"])
def new_statistics(doc_id: str):  # type: ignore[no-untyped-def]
    """A statistics document for one month: 预览 (the draft PDF) or 签发 (POST, ``action``)."""
    spec = _registry().document(doc_id)
    if not spec.is_statistics:
        raise NotFound(doc_id)
    if not service.may(current_user, spec):
        raise NotAllowed(f"issue:{doc_id}")
    if request.method == "POST":
        month = (request.form.get("month") or "").strip()[:20]  # as typed: the service says what is wrong
    else:
        month = (request.args.get("month") or "").strip()[:20] or _last_month()
    errors: dict[str, str] = {}
    failure = ""
    if request.method == "POST":
        try:
            if request.form.get("action") == "preview":
                data = service.preview(doc_id, current_user, month=month)
                return pdf_response(data, f"{spec.title}（{month}，草稿）.pdf", inline=True,
                                    fallback=f"{doc_id}-{month}-draft.pdf")
            row = service.issue(doc_id, current_user, month=month)
        except ValidationFailed as exc:
            errors = {e.pointer: e.message for e in exc.errors}
        except RenderError as exc:
            failure = str(exc)
        else:
            flash(f"已签发《{row.title}》，文号 {row.number}", "success")
            return redirect(url_for("documents.detail", pk=row.id))
    status = 422 if errors or failure else 200
    return render_template("documents/new.html", spec=spec, month=month, errors=errors, failure=failure), status


# -- the register -------------------------------------------------------------------------------
def _record_numbers(rows: list[IssuedDocument]) -> dict[int, str]:
    ids = {r.record_id for r in rows if r.record_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Record.id, Record.number).where(Record.id.in_(ids))).all())


@bp.route("/documents/")
def register():  # type: ignore[no-untyped-def]
    rows = service.issued_list(current_user)
    return render_template("documents/list.html", rows=rows, records=_record_numbers(rows),
                           statistics=service.statistics_documents(current_user),
                           users=user_labels({r.issued_by_id for r in rows}))


def _detail_page(row: IssuedDocument, reason: str = "", errors: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    record = get_record(row.record_id, current_user) if row.record_id is not None else None
    users = user_labels({row.issued_by_id, row.revoked_by_id})
    return render_template("documents/detail.html", row=row, record=record, users=users,
                           may_revoke=service.may_revoke(current_user, row), reason=reason, errors=errors or {})


@bp.route("/documents/<int:pk>")
def detail(pk: int):  # type: ignore[no-untyped-def]
    return _detail_page(service.get_issued(pk, current_user))


@bp.route("/documents/<int:pk>.pdf")
def download(pk: int) -> Response:
    row, data = service.issued_pdf(pk, current_user)
    return pdf_response(data, f"{row.number}.pdf", fallback=f"document-{row.id}.pdf")


@bp.route("/documents/<int:pk>/revoke", methods=["POST"])
def revoke(pk: int):  # type: ignore[no-untyped-def]
    reason = request.form.get("reason", "")
    try:
        row = service.revoke(pk, current_user, reason)
    except ValidationFailed as exc:
        row = service.get_issued(pk, current_user)
        return _detail_page(row, reason, {e.pointer: e.message for e in exc.errors}), 422
    flash(f"已撤销 {row.number}", "success")
    return redirect(url_for("documents.detail", pk=row.id))

"""导入 Excel page of a ledger: upload → preview (a dry run) → confirm.

Thin: :mod:`server.records.importer` does the work. Between the preview and the confirmation the
uploaded file waits in ``instance/imports/`` under a random name that carries the uploader's id, so
no one else can confirm it and nothing sits in process memory (any server process on the machine
can finish the import); it is deleted when the import is confirmed or fails, and files left behind
by an abandoned preview are swept after a day.
"""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from server.records import service
from server.records.importer import ImportResult, Problem, import_sheet

bp = Blueprint("imports", __name__)
UPLOAD_ENDPOINTS = frozenset({"imports.upload", "imports.confirm", "api.import_records"})
_TOKEN = re.compile(r"[0-9a-f]{32}", re.ASCII)
STALE_SECONDS = 24 * 3600


def allow_import_uploads(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Raise the request size cap (2 MB) to ``IMPORT_MAX_MB`` for the import posts only.

    A URL value preprocessor, as for the org sheet (server/admin/units.py): those run before the
    CSRF check reads the posted form, which is where the size is enforced."""
    if endpoint in UPLOAD_ENDPOINTS:
        settings = current_app.config["SERVER_SETTINGS"]
        request.max_content_length = settings.import_max_mb * 1024 * 1024 + 64 * 1024  # + the form's own fields


@bp.route("/forms/<form_id>/import", methods=["GET", "POST"], endpoint="upload")
def upload(form_id: str):  # type: ignore[no-untyped-def]
    form = service.registry().form(form_id)
    service.require(current_user, "create", form)
    if request.method == "GET":
        return render_template("records/import.html", form=form, result=None, token=None)
    sheet = request.files.get("sheet")
    if sheet is None or not sheet.filename:
        result = ImportResult(dry_run=True, problems=[Problem(None, "", "请选择要导入的 .xlsx 文件")])
        return render_template("records/import.html", form=form, result=result, token=None), 422
    content = sheet.read()
    result = import_sheet(form_id, content, current_user, dry_run=True, filename=sheet.filename)
    token = _keep(content) if result.ok else None
    return render_template("records/import.html", form=form, result=result, token=token,
                           filename=sheet.filename), (200 if result.ok else 422)


@bp.route("/forms/<form_id>/import/confirm", methods=["POST"], endpoint="confirm")
def confirm(form_id: str):  # type: ignore[no-untyped-def]
    form = service.registry().form(form_id)
    service.require(current_user, "create", form)
    path = _kept(request.form.get("token", ""))
    filename = request.form.get("filename", "")[:200]
    if path is None:
        flash("待导入的文件已过期或已导入，请重新上传", "warning")
        return redirect(url_for("imports.upload", form_id=form_id))
    try:
        result = import_sheet(form_id, path.read_bytes(), current_user, dry_run=False, filename=filename)
    finally:
        path.unlink(missing_ok=True)
    if not result.ok:
        return render_template("records/import.html", form=form, result=result, token=None), 422
    flash(f"已导入 {len(result.created)} 条记录（编号 {result.created[0].number} 起）", "success")
    return redirect(url_for("records.form_list", form_id=form_id))


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(content: bytes) -> str:
    """Store the previewed file for the confirmation; returns its token."""
    folder = _folder()
    cutoff = time.time() - STALE_SECONDS
    for old in folder.glob("*.xlsx"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    (folder / f"{current_user.id}-{token}.xlsx").write_bytes(content)
    return token


def _kept(token: str) -> Path | None:
    """The file this user previewed under ``token`` (another user's token finds nothing)."""
    if not _TOKEN.fullmatch(token):
        return None
    path = _folder() / f"{current_user.id}-{token}.xlsx"
    return path if path.is_file() else None

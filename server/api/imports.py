"""/api/v1/forms/<form_id>/import: the Excel import of a ledger for API clients (multipart, field ``file``).

Thin over :mod:`server.records.importer`, the same code as the 导入 page: ``dry_run=1`` checks every
row and answers a preview (200) without saving; without it, all rows are saved as one write (201) or
none are (422, every problem with its sheet row and column).
"""
from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from server.api.routes import bp
from server.records.importer import ImportResult, Problem, import_sheet

DRY_RUN_VALUES = {"1": True, "true": True, "0": False, "false": False}


def import_result_json(result: ImportResult) -> dict[str, Any]:
    return {"dry_run": result.dry_run, "count": result.count, "columns": result.columns, "preview": result.preview,
            "created": [{"id": r.id, "number": r.number} for r in result.created]}


@bp.post("/forms/<form_id>/import")
def import_records(form_id: str):  # type: ignore[no-untyped-def]
    dry_run = DRY_RUN_VALUES.get(request.args.get("dry_run", "0").lower())
    if dry_run is None:
        return _refused(Problem(None, "dry_run", "只能是 1（只检查、预览）或 0（导入）"))
    upload = request.files.get("file")
    if upload is None:
        return _refused(Problem(None, "", "请以 multipart/form-data 上传 .xlsx 文件，字段名为 file"))
    result = import_sheet(form_id, upload.read(), current_user, dry_run=dry_run, filename=upload.filename or "")
    if not result.ok:
        return jsonify({"errors": [p.as_dict() for p in result.problems]}), 422
    return jsonify(import_result_json(result)), (200 if dry_run else 201)


def _refused(problem: Problem):  # type: ignore[no-untyped-def]
    return jsonify({"errors": [problem.as_dict()]}), 422

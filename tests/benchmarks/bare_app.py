"""The baseline for bench_api.py: a bare Flask app that answers like a record creation, and does nothing else.

One POST endpoint at the same path as the real API. It parses the JSON body and answers 201 with a
body of the same shape and about the same size as ``POST /api/v1/forms/<id>/records`` (the record
envelope around the posted data), the same ``Location``/``ETag`` headers and the same security headers
the server adds to every response, so both targets put the same bytes on the wire. No database, no
authentication, no validation: the gap between this and the real endpoint is the server's own work.

Served by bench_api.py as ``gunicorn -w 2 -b 127.0.0.1:PORT 'bare_app:create_app()'`` (run from this
directory), i.e. with the same gunicorn settings as the server.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

from flask import Flask, jsonify, request

# Headers the server adds to every API answer (server/web/__init__.py::_security_headers, plus Vary from
# the session machinery), copied so that both targets send the same bytes.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Vary": "Cookie",  # the server's session machinery adds it to API answers too
}


def create_app() -> Flask:
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  (as the server does)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # Ids only need to look like the server's (small integers counting up); each worker counts on its own.
    ids = itertools.count(1)

    @app.post("/api/v1/forms/<form_id>/records")
    def create(form_id: str):  # type: ignore[no-untyped-def]
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify({"errors": [{"pointer": "", "message": "请求体应为 JSON 对象"}]}), 422
        record_id = next(ids)
        now = datetime.now(timezone.utc).isoformat()
        body = {
            "id": record_id, "number": f"LF-999901000000-2026-{record_id % 10000:04d}", "form_id": form_id,
            "form_version": 1, "org_unit_id": 1, "state": "active", "data": data, "version": 1,
            "created_by": 1, "created_at": now, "updated_by": 1, "updated_at": now,
        }
        headers = {"Location": f"/api/v1/records/{record_id}", "ETag": '"1"', **_SECURITY_HEADERS}
        return jsonify(body), 201, headers

    return app


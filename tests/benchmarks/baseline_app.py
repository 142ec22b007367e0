"""The least Python that does the durable work of one record creation: the baseline of bench_write.py.

``POST /api/v1/forms/<form>/records`` with a bearer token, as a plain WSGI callable over one psycopg
connection per process (no Flask, no SQLAlchemy, no events). It does what a record creation must do and
nothing more, so that the server's figure beside it says how much the rest costs:

1. the bearer token looked up (SHA-256, not revoked, not expired, user enabled) with the user's unit;
2. the body parsed and validated against the form's own JSON Schema as published (``form_versions``),
   org fields offering the active units, with the server's format checker (dates, ID numbers): an
   invalid body answers 422 with the pointers;
3. in one transaction: the gap-free counter per form, unit and year bumped (the same upsert, so the same
   row lock serialises concurrent creates), the record row with its search text, the audit row with the
   data as its diff;
4. one commit; 201 with the record as JSON.

That work is one function, :func:`create`, given how to run a statement; ``framework_app.py`` runs the
same function on Flask and SQLAlchemy, so the two differ only in the stack.

Served by gunicorn like the server (``gunicorn -w 2 'baseline_app:app'`` from this folder) on the
server's own PostgreSQL database (``BASELINE_DATABASE_URL``), after ``flask db upgrade`` and a token.
tests/test_benchmark_baseline.py checks that it refuses an invalid body and numbers without gaps.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from typing import Any, Callable, ContextManager, Iterable

import psycopg
from jsonschema import Draft202012Validator
from psycopg.types.json import Jsonb

from server.forms.formats import make_format_checker
from server.org.fields import expand_org_fields, has_org_fields

PATH = re.compile(r"/api/v1/forms/([a-z][a-z0-9_]{1,39})/records")
CST_OFFSET_HOURS = 8  # the record number's year is China's

_conn: psycopg.Connection | None = None
_validators: dict[str, tuple[int, Draft202012Validator, str]] = {}
DEFAULT_PATTERN = "{org_code}-{year}-{seq:04d}"  # as server.records.numbering

TOKEN_SQL = """
SELECT u.id, u.org_unit_id, o.code FROM api_tokens t JOIN users u ON u.id = t.user_id
JOIN org_units o ON o.id = u.org_unit_id
WHERE t.token_hash = %s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.is_enabled
"""
COUNTER_SQL = """
INSERT INTO number_counters (form_id, org_unit_id, year, last_seq) VALUES (%s, %s, %s, 1)
ON CONFLICT (form_id, org_unit_id, year) DO UPDATE SET last_seq = number_counters.last_seq + 1 RETURNING last_seq
"""
RECORD_SQL = """
INSERT INTO records (form_id, form_version, number, org_unit_id, data, search_text, search_protected, state,
                     created_by_id, created_at, updated_by_id, updated_at, version)
VALUES (%s, %s, %s, %s, %s, %s, '', 'active', %s, %s, %s, %s, 1) RETURNING id
"""
AUDIT_SQL = """
INSERT INTO audit_log (at, user_id, action, subject, object_type, object_id, form_id, record_version, diff, detail)
VALUES (%s, %s, 'create', %s, 'record', %s, %s, 1, %s, '')
"""


#: How each stack runs SQL: one statement and its parameters → its first row (None when it returns none),
#: or → all its rows.
Query = Callable[[str, tuple[Any, ...]], Any]
Rows = Callable[[str, tuple[Any, ...]], list[Any]]


def connection() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        # autocommit: the token lookup is a statement of its own, the writes one transaction (one commit)
        _conn = psycopg.connect(os.environ["BASELINE_DATABASE_URL"], autocommit=True)
    return _conn


def validator(query: Rows, form_id: str) -> tuple[int, Draft202012Validator, str] | None:
    """The form's latest published version, its schema compiled once per process (like the server's),
    and its number pattern. ``query`` returns all rows (used on a form's first request only)."""
    if form_id not in _validators:
        rows = query("SELECT seq, schema FROM form_versions WHERE form_id = %s ORDER BY seq DESC LIMIT 1",
                     (form_id,))
        if not rows:
            return None
        seq, schema = rows[0]
        schema = schema if isinstance(schema, dict) else json.loads(schema)
        if has_org_fields(schema):  # org fields offer the active units as choices, as the server's do
            units = {code: (name, kind, "") for code, name, kind in query(
                "SELECT code, name, kind FROM org_units WHERE is_active ORDER BY id", ())}
            schema = expand_org_fields(schema, units)
        _validators[form_id] = (seq, Draft202012Validator(schema, format_checker=make_format_checker()),
                                schema.get("x-form", {}).get("number_pattern", DEFAULT_PATTERN))
    return _validators[form_id]


def create(query: Query, rows: Rows, transaction: Callable[[], ContextManager[Any]], authorization: str,
           form_id: str, raw_body: bytes) -> tuple[int, dict[str, Any]]:
    """The whole durable work of one creation → (HTTP status, JSON body), on whatever runs the SQL.

    Shared by this WSGI app (plain psycopg) and ``framework_app.py`` (Flask and SQLAlchemy Core), so
    that the two do the same work and differ only in the stack around it.
    """
    if not authorization.startswith("Bearer "):
        return 401, {"error": "unauthorized"}
    user = query(TOKEN_SQL, (hashlib.sha256(authorization[7:].strip().encode()).hexdigest(),))
    if user is None:
        return 401, {"error": "unauthorized"}
    found = validator(rows, form_id)
    if found is None:
        return 404, {"error": "not found"}
    version, check, pattern = found
    try:
        body = json.loads(raw_body or b"null")
    except ValueError:
        return 400, {"error": "invalid JSON"}
    errors = [{"pointer": "/" + "/".join(map(str, e.absolute_path)), "message": e.message}
              for e in check.iter_errors(body)]
    if errors:
        return 422, {"errors": errors}
    user_id, unit_id, unit_code = user
    now = datetime.now(timezone.utc)
    year = int(datetime.fromtimestamp(now.timestamp() + CST_OFFSET_HOURS * 3600, timezone.utc).year)
    with transaction():
        seq = query(COUNTER_SQL, (form_id, unit_id, year))[0]
        number = pattern.format(org_code=unit_code, year=year, seq=seq)
        search = " ".join([number, *_texts(body)])
        record_id = query(RECORD_SQL, (form_id, version, number, unit_id, Jsonb(body), search, user_id, now,
                                       user_id, now))[0]
        diff = [{"op": "add", "path": f"/{key}", "value": value} for key, value in body.items()]
        query(AUDIT_SQL, (now, user_id, number, record_id, form_id, Jsonb(diff)))
    return 201, {"id": record_id, "number": number, "form_id": form_id, "form_version": version, "version": 1,
                 "data": body}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    match = PATH.fullmatch(environ.get("PATH_INFO", ""))
    if environ["REQUEST_METHOD"] != "POST" or match is None:
        return _answer(start_response, 404, {"error": "not found"})
    conn = connection()
    status, body = create(lambda sql, params: _first(conn.execute(sql, params)),
                          lambda sql, params: conn.execute(sql, params).fetchall(), conn.transaction,
                          environ.get("HTTP_AUTHORIZATION", ""), match.group(1),
                          environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    return _answer(start_response, status, body)


def _first(cursor: psycopg.Cursor[Any]) -> Any:
    return cursor.fetchone() if cursor.description is not None else None


def _texts(value: Any) -> Iterable[str]:
    """The text a list search finds a record by: every value, as the server's search column holds it."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif value is not None:
        yield str(value)


def _answer(start_response: Callable[..., Any], status: int, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    reason = {201: "CREATED", 400: "BAD REQUEST", 401: "UNAUTHORIZED", 404: "NOT FOUND", 422: "UNPROCESSABLE ENTITY"}
    start_response(f"{status} {reason[status]}", [("Content-Type", "application/json"),
                                                  ("Content-Length", str(len(payload)))])
    return [payload]

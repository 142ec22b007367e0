"""Refusing, once and for every route, input that no handler could store or even parse safely.

- A NUL character (U+0000) in the path, a query or form parameter (name or value), or a string or
  key of a JSON body: PostgreSQL cannot hold it in text, so it used to fail deep inside a query as a
  500 (login form, search ``q``, list filters, org-unit parameters, record data). The API answers 422
  with the parameter or the JSON pointer; a page answers 400 naming the parameter.
- A lone surrogate (``"\\ud800"``) in a JSON string: valid JSON, but no character, so no driver can
  encode it (a 500 on both databases). 422 with the pointer.
- ``NaN``/``Infinity`` (and ``1e999``) in a JSON body: Python's ``json`` reads them, no database
  stores them, and JSON cannot carry them back. 422 with the pointer.
- A JSON body nested past ``jsonsafe.MAX_DEPTH``: 400 "请求体嵌套过深". Parsing 100,000 levels
  raises ``RecursionError`` inside ``json``; the provider below turns that into the same 400.

The checks run after authentication (``server.web``'s guard comes first), so an anonymous client
cannot make the server parse a body; the login form is public and is checked like any other.
"""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, NotFound

from server import jsonsafe
from server.errors import FieldError
from server.http.errors import error_response, wants_json

TOO_DEEP = f"请求体嵌套过深（最多 {jsonsafe.MAX_DEPTH} 层）"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class BodyTooDeep(BadRequest):
    description = TOO_DEEP


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON with our defaults: Chinese as is, keys in the order given (forms are ordered),
    and a body too deep for the parser refused as a 400 instead of a ``RecursionError``."""

    ensure_ascii = False
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise BodyTooDeep() from None


def refuse_unstorable_input() -> Response | None:
    """``before_request``: None to go on, or the refusal."""
    if jsonsafe.NUL in request.path:
        raise NotFound()  # no route, record or form has a name with a NUL in it
    problems = _parameter_problems(request.args)
    if request.method in BODY_METHODS:
        problems += _parameter_problems(request.form)
    if problems:
        return _refuse(problems)
    if request.method in BODY_METHODS and request.is_json:
        body = request.get_json(silent=True)  # cached for the handler; invalid JSON is the handler's 422
        try:
            found = [FieldError(p.pointer, p.message) for p in jsonsafe.problems(body)]
        except jsonsafe.TooDeep:
            raise BodyTooDeep() from None
        if found:
            return _refuse(found)
    return None


def _parameter_problems(params: MultiDict[str, str]) -> list[FieldError]:
    """A NUL in a parameter's name or value; the pointer names the parameter (``/q``)."""
    found = []
    for name, values in params.lists():
        pointer = f"/{jsonsafe.escape_token(name.replace(jsonsafe.NUL, ''))}"
        if jsonsafe.NUL in name:
            found.append(FieldError(pointer, "参数名" + jsonsafe.NUL_MESSAGE))
        elif any(jsonsafe.NUL in value for value in values):
            found.append(FieldError(pointer, jsonsafe.NUL_MESSAGE))
    return found


def _refuse(problems: list[FieldError]) -> Response:
    if wants_json():
        return error_response(422, errors=problems)
    named = "；".join(f"参数 {p.pointer[1:] or '（空）'} {p.message}" for p in problems)
    return error_response(400, f"{named}。请删除后重新提交")

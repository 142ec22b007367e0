"""Error responses for every status: JSON under ``/api``, a Chinese page everywhere else.

Under ``/api`` a client always gets ``{"error": <status name>, "message": <Chinese>}`` (or, for field
problems, the ``{"errors": [{"pointer", "message"}]}`` of a 422), never Werkzeug's English HTML; a
browser always gets a page in Chinese. Werkzeug's own descriptions are English, so they are replaced
by the messages below unless the code that raised the error gave a Chinese one.

Unexpected exceptions are not caught here with a handler for ``Exception``: Flask turns every one
into an ``InternalServerError`` (after logging it with its traceback) and hands that to the handler
for HTTP errors, so production answers the same 500 body while tests and the debugger still see the
exception itself. The 500 handler rolls the session back first: on PostgreSQL a failed statement
leaves the transaction aborted, and the page drawn next would fail again.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from server.errors import Conflict, FieldError, ValidationFailed
from server.extensions import db

log = logging.getLogger(__name__)

TITLES = {
    400: "请求无效", 401: "需要登录", 403: "无权操作", 404: "未找到", 405: "不支持的请求方法",
    406: "无法提供所需格式", 408: "请求超时", 409: "操作冲突", 410: "已不存在", 411: "缺少内容长度",
    412: "前提条件不成立", 413: "提交的内容过大", 414: "网址过长", 415: "不支持的内容类型",
    416: "请求的范围无效", 422: "提交的内容有误", 428: "缺少前提条件", 429: "请求过于频繁",
    431: "请求头过大", 500: "服务器内部错误", 501: "功能未提供", 502: "网关错误", 503: "服务暂不可用",
    504: "网关超时",
}
MESSAGES = {
    400: "请求的格式不正确，请检查后重试",
    401: "需要登录或有效的 API 令牌",
    403: "无权进行此操作",
    404: "您要访问的页面或记录不存在，或您无权查看",
    409: "与当前状态冲突，请刷新后重试",
    415: "不支持该内容类型，请以 application/json 提交",
    422: "提交的内容无法处理，请检查后重试",
    428: "缺少前提条件：更新记录需要 If-Match: <版本号>",
    429: "请求过于频繁，请稍后再试",
    500: "服务器处理请求时出错，错误已记录。请稍后重试；如仍出错，请联系县综治办管理员",
    503: "服务暂不可用，请稍后再试",
}
CSRF_MESSAGE = "页面已过期或缺少安全令牌，请刷新页面后重新提交"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ValidationFailed, _invalid)
    app.register_error_handler(Conflict, _conflict)


def wants_json() -> bool:
    """Whether this request is the API's (JSON errors) rather than a page's."""
    return request.path == "/api" or request.path.startswith("/api/")


def status_name(status: int) -> str:
    """``405`` → ``method_not_allowed``: the ``error`` of a JSON error body."""
    return re.sub(r"[^a-z0-9]+", "_", HTTP_STATUS_CODES.get(status, "error").lower()).strip("_")


def error_response(status: int, message: str | None = None, errors: list[FieldError] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The error response for this request: JSON under /api, a Chinese page elsewhere.

    ``errors`` (field problems) make the API body ``{"errors": [...]}``; a page lists them.
    """
    message = message or MESSAGES.get(status) or TITLES.get(status) or _generic(status)
    if wants_json():
        body: dict[str, Any] = ({"errors": [e.as_dict() for e in errors]} if errors is not None
                                else {"error": status_name(status), "message": message})
        response = jsonify(body)
    else:
        response = current_app.make_response(_page(status, message, errors or []))
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
    if exc.code is None or exc.code < 400:  # redirects raised as exceptions pass through
        return exc
    if exc.code >= 500:
        _rollback()
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(exc.code, _message(exc), headers=headers)


def _invalid(exc: ValidationFailed):  # type: ignore[no-untyped-def]
    return error_response(422, errors=exc.errors)


def _conflict(exc: Conflict):  # type: ignore[no-untyped-def]
    if wants_json():
        return jsonify({"error": "conflict", "message": str(exc), "current_version": exc.current_version}), 409
    return error_response(409, str(exc))


def _message(exc: HTTPException) -> str | None:
    """A Chinese description given by the raiser, else ours for the status (with details we know)."""
    if isinstance(exc, CSRFError):
        return CSRF_MESSAGE
    if exc.description and _CJK.search(exc.description):
        return exc.description
    if exc.code == 405:
        return f"此地址不接受 {request.method} 请求"
    if exc.code == 413:
        limit = request.max_content_length
        if limit and (request.content_length or 0) > limit:
            return f"提交的内容过大（上限 {_size(limit)}），请减小后重试"
        return "提交的内容过大，请减小后重试"
    return None


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:g} KB" if limit >= 1024 else f"{limit} 字节"


def _generic(status: int) -> str:
    return "服务器出错，请稍后再试" if status >= 500 else "请求无法处理"


def _page(status: int, message: str, errors: list[FieldError]) -> str:
    """The site's error page; a page without the site's frame when that cannot be drawn (a 500 may
    mean the database is gone, and the frame reads the user's menu and inbox from it)."""
    context = {"status": status, "title": TITLES.get(status) or _generic(status), "message": message,
               "errors": errors}
    if status < 500:
        try:
            return render_template("error.html", **context)
        except Exception:  # noqa: BLE001 — the plain page below is the fallback for any failure here
            log.exception("错误页面无法绘制，改用简单页面")
            _rollback()
    try:
        return render_template("error_plain.html", **context)
    except Exception:  # noqa: BLE001
        log.exception("简单错误页面也无法绘制")
        return f"<!doctype html><meta charset=utf-8><title>{status}</title><p>{status} {context['title']}</p>"


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 — a lost connection: the next request gets a fresh one
        log.exception("回滚数据库会话失败")

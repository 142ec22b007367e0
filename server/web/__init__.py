"""Staff HTML pages: registration, request guards and security headers for the web side."""
from __future__ import annotations

from pathlib import Path

import flask_admin
from flask import Blueprint, Flask, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from server.auth.permissions import allowed
from server.errors import NotAllowed, NotFound
from server.records.query import visible_forms
from server.specs.model import FormSpec

PUBLIC_ENDPOINTS = {"auth.login", "api.health", "static", "vendor.static"}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def register_web(app: Flask) -> None:
    from server.web.auth_views import bp as auth_bp
    from server.web.coverage_views import bp as coverage_bp
    from server.web.dashboard_views import bp as dashboard_bp
    from server.web.document_views import bp as documents_bp
    from server.web.flow_views import bp as flow_bp
    from server.web.import_views import allow_import_uploads, bp as imports_bp
    from server.web.record_views import bp as records_bp
    from server.web.register_views import bp as registers_bp
    from server.web.reporting_views import bp as reporting_bp
    from server.web.year_end_views import bp as year_end_bp

    vendor = Blueprint("vendor", __name__, static_folder=str(Path(flask_admin.__file__).parent / "static"),
                       static_url_path="/vendor")
    app.register_blueprint(vendor)
    app.register_blueprint(auth_bp)
    app.register_blueprint(records_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(registers_bp)
    app.register_blueprint(coverage_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(reporting_bp)
    app.register_blueprint(year_end_bp)
    app.register_blueprint(flow_bp)
    app.register_blueprint(imports_bp)
    app.url_value_preprocessor(allow_import_uploads)  # the Excel import may post more than 2 MB
    app.before_request(_before_request)
    app.after_request(_security_headers)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(NotAllowed, _forbidden)
    app.jinja_env.globals["menu_forms"] = lambda: visible_forms(current_user) if current_user.is_authenticated else []
    app.jinja_env.globals["may"] = _may
    from server.timeutil import local

    app.jinja_env.filters["local"] = local


def _may(action: str, form: FormSpec) -> bool:
    """``may('create', form)`` in templates: the very check the records service makes, so a page
    offers only the buttons and links that will not answer 403 (a leader sees no 登记)."""
    return bool(current_user.is_authenticated and allowed(current_user, action, form))


def _before_request():  # type: ignore[no-untyped-def]
    if request.endpoint in {"static", "vendor.static"}:
        return None
    errors = current_app.extensions.get("config_errors")
    if errors:
        return ("配置无效，服务未启动：\n" + "\n".join(map(str, errors)), 503, {"Content-Type": "text/plain; charset=utf-8"})
    current_app.extensions["registry"].refresh()
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.path.startswith("/api/"):
        return jsonify({"error": "unauthorized", "message": "需要登录或有效的 API 令牌"}), 401
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def _security_headers(response):  # type: ignore[no-untyped-def]
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _forbidden(exc):  # type: ignore[no-untyped-def]
    message = getattr(exc, "message", None)  # a service's reason, when it gives one
    if request.path.startswith("/api/"):
        return jsonify({"error": "forbidden", "message": message or "无权进行此操作"}), 403
    return render_template("forbidden.html", message=message), 403


def _not_found(_exc):  # type: ignore[no-untyped-def]
    if request.path.startswith("/api/"):
        return jsonify({"error": "not_found", "message": "未找到"}), 404
    return render_template("not_found.html"), 404

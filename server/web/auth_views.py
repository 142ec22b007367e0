"""Login, logout and the change-password page, and the first-login gate.

A user marked ``must_change_password`` (the demo users, whose password is published) reaches nothing
but the change-password page and logout until they have chosen a password, outside development; the
API answers such a user's token 403.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, ValidationError
from wtforms.validators import EqualTo, InputRequired

import server.auth.service as auth_service
from server.audit import log_event
from server.auth.login import begin_session, end_session
from server.auth.passwords import RULES_TEXT, password_problems
from server.auth.throttle import attempt_login, locked_until
from server.extensions import db
from server.timeutil import local

bp = Blueprint("auth", __name__)

MUST_CHANGE_MESSAGE = "首次登录须先修改初始密码"
# What a user who must change their password can still reach.
GATE_OPEN = {"auth.login", "auth.logout", "auth.change_password", "api.health", "api.openapi"}
NEW_PASSWORD = {"autocomplete": "new-password"}


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing."""
    if not target:
        return url_for("records.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("records.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    error = None
    username = request.form.get("username", "")
    if request.method == "POST":
        outcome = attempt_login(username, request.form.get("password", ""), request.remote_addr or "")
        if outcome.user is not None:
            begin_session(outcome.user)
            return redirect(_safe_next(request.args.get("next")))
        if outcome.locked_until is not None:
            error = f"登录失败次数过多，账号已暂时锁定，请于 {local(outcome.locked_until)} 后再试"
        else:
            error = "用户名或密码错误"
    return render_template("login.html", error=error, username=username), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    end_session()
    return redirect(url_for("auth.login"))


class ChangePasswordForm(FlaskForm):
    """Old password, new one twice. Passwords are never written back into the page (they would sit in
    the HTML and the browser's cache); each field says what is wrong with it."""

    old_password = PasswordField("原密码", [InputRequired("请填写原密码")],
                                 render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("新密码", [InputRequired("请填写新密码")], description=RULES_TEXT,
                                 render_kw=NEW_PASSWORD)
    confirm = PasswordField("确认新密码", [InputRequired("请再输入一次新密码"),
                                           EqualTo("new_password", "两次输入的新密码不一致")], render_kw=NEW_PASSWORD)

    def validate_new_password(self, field: PasswordField) -> None:
        problems = password_problems(field.data or "", current_user.username, current_user.display_name)
        if problems:
            raise ValidationError("；".join(problems))
        if field.data == self.old_password.data:
            raise ValidationError("新密码不能与原密码相同")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    if form.validate_on_submit():
        until = locked_until(current_user.username)
        if until is not None:
            form.old_password.errors.append(f"尝试次数过多，请于 {local(until)} 后再试")
        elif _change(form):
            flash("密码已修改，其他设备上的登录已全部退出", "success")
            return redirect(url_for("records.home"))
    must = current_user.must_change_password and _gate_enforced()
    return render_template("change_password.html", pw_form=form, must_change=must), (422 if form.errors else 200)


def _change(form: ChangePasswordForm) -> bool:
    """The change through the service; a wrong old password counts as a failed login (the page must
    not be a way round the lock)."""
    user = current_user._get_current_object()
    try:
        auth_service.change_own_password(user, form.old_password.data, form.new_password.data)
    except auth_service.WrongPassword as exc:
        log_event("login_failed", "user", object_id=user.id, user_id=user.id, subject=user.username,
                  detail=f"修改密码：原密码错误；{request.remote_addr or ''}")
        db.session.commit()
        form.old_password.errors.append(str(exc))
        return False
    except auth_service.UserError as exc:
        db.session.rollback()
        form.new_password.errors.append(str(exc))
        return False
    log_event("password_change", "user", object_id=user.id, user_id=user.id, subject=user.username)
    db.session.commit()
    begin_session(user)  # the change ended every session, this one too: a fresh one for this browser
    return True


def _gate_enforced() -> bool:
    return current_app.config["SERVER_SETTINGS"].env != "development"


@bp.before_app_request
def _first_login_gate():  # type: ignore[no-untyped-def]
    """Outside development, a user still on an initial password may do nothing but change it."""
    endpoint = request.endpoint or ""
    if endpoint in GATE_OPEN or endpoint == "static" or endpoint.endswith(".static"):
        return None
    if not (current_user.is_authenticated and current_user.must_change_password and _gate_enforced()):
        return None
    if request.path.startswith("/api/"):
        return jsonify({"error": "password_change_required", "message": f"{MUST_CHANGE_MESSAGE}，请在网页上修改后再使用 API"}), 403
    return redirect(url_for("auth.change_password"))

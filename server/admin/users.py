"""用户: list, create (through the auth service, so the password rules apply), edit, disable/enable,
password reset, API tokens. Every change is audited with the administrator as the user and the
username as the subject; passwords and tokens never reach the log. Users are never deleted:
records and the audit log point at them. Disabling and a password reset end the user's sessions, and
a reset revokes their API tokens too (the service does it, see ``server.auth.service``).
"""
from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual
from flask_admin.form import BaseForm
from flask_admin.helpers import get_form_data, get_redirect_target
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Regexp

import server.auth.service as auth_service
from server.admin.base import ADMIN_ROLE, AdminModelView, LazyOptions
from server.admin.filters import CstDateBetween, IdEqualFilter
from server.admin.lookups import active_units, role_title, unit_label, unit_options
from server.audit import log_event
from server.auth.models import ApiToken, User
from server.auth.passwords import RULES_TEXT, password_problems
from server.auth.roles import ROLES
from server.extensions import db
from server.ids import parse_id
from server.records.diff import json_diff

ROLE_CHOICES = list(ROLES.items())  # (value, title), as filter options take them
try:  # WTForms 3.3 deprecates (value, label) tuples as SelectField choices
    from wtforms.fields.choices import SelectChoice

    ROLE_FIELD_CHOICES: list = [SelectChoice(value, title) for value, title in ROLES.items()]
except ImportError:  # older WTForms
    ROLE_FIELD_CHOICES = ROLE_CHOICES
NEW_PASSWORD = {"autocomplete": "new-password"}
PASSWORD_HELP = RULES_TEXT


def _password_rules(names_of):  # type: ignore[no-untyped-def]
    """The password rules as a field validator; ``names_of(form)`` gives the username and display name."""
    def check(form: BaseForm, field: PasswordField) -> None:
        problems = password_problems(field.data or "", *names_of(form))
        if problems:
            raise ValidationError("；".join(problems))
    return check


def _unit_field() -> QuerySelectField:
    return QuerySelectField("所属单位", [DataRequired("请选择所属单位")], query_factory=active_units,
                            get_label=unit_label, allow_blank=True, blank_text="请选择单位（可输入名称或代码搜索）")


class UserCreateForm(BaseForm):
    username = StringField("用户名", [
        InputRequired("请填写用户名"), Length(max=64, message="用户名不超过 64 个字符"),
        Regexp(r"^[A-Za-z0-9_.@-]+$", message="用户名只能由字母、数字和 _ . @ - 组成"),
    ], description="登录时使用，创建后不能修改")
    display_name = StringField("姓名", [Length(max=64, message="姓名不超过 64 个字符")])
    role = SelectField("角色", choices=ROLE_FIELD_CHOICES, default="county_staff")
    org_unit = _unit_field()
    password = PasswordField("密码", [InputRequired("请填写密码"),
                                      _password_rules(lambda form: (form.username.data or "",
                                                                    form.display_name.data or ""))],
                             description=PASSWORD_HELP, render_kw=NEW_PASSWORD)
    confirm = PasswordField("确认密码", [InputRequired("请再输入一次密码"),
                                         EqualTo("password", "两次输入的密码不一致")], render_kw=NEW_PASSWORD)

    def validate_username(self, field: StringField) -> None:
        if db.session.scalar(select(func.count()).select_from(User).where(User.username == field.data.strip())):
            raise ValidationError(f"用户名 {field.data.strip()} 已被使用")


class UserEditForm(BaseForm):
    display_name = StringField("姓名", [Length(max=64, message="姓名不超过 64 个字符")])
    role = SelectField("角色", choices=ROLE_FIELD_CHOICES)
    org_unit = _unit_field()
    is_enabled = BooleanField("启用", description="停用后，该用户的登录会话和 API 令牌立即失效")


class PasswordForm(BaseForm):
    account = ("", "")  # the username and display name the rules compare against, set by the view
    password = PasswordField("新密码", [InputRequired("请填写新密码"), _password_rules(lambda form: form.account)],
                             description=PASSWORD_HELP, render_kw=NEW_PASSWORD)
    confirm = PasswordField("确认新密码", [InputRequired("请再输入一次新密码"),
                                           EqualTo("password", "两次输入的密码不一致")], render_kw=NEW_PASSWORD)


class TokenForm(BaseForm):
    name = StringField("令牌名称", [InputRequired("请填写令牌名称"), Length(max=64, message="名称不超过 64 个字符")],
                       description="用途，例如“移动端上报”“数据对接”")
    days = IntegerField("有效天数", [InputRequired("请填写有效天数"),
                                     NumberRange(1, 3650, "有效天数应在 1 到 3650 之间")], default=365)


def snapshot(user: User) -> dict[str, Any]:
    """What the audit diff shows of a user (never the password hash)."""
    return {"display_name": user.display_name, "role": user.role,
            "org_unit": user.org_unit.code if user.org_unit else None, "is_enabled": user.is_enabled}


def _fmt_role(_view: Any, _context: Any, model: User, _name: str) -> str:
    return role_title(model.role)


def _fmt_unit(_view: Any, _context: Any, model: User, _name: str) -> str:
    return unit_label(model.org_unit) if model.org_unit else ""


class UserView(AdminModelView):
    can_create = True
    can_edit = True
    column_list = ("username", "display_name", "role", "org_unit", "is_enabled", "created_at")
    column_labels = {"username": "用户名", "display_name": "姓名", "role": "角色", "org_unit": "所属单位",
                     "is_enabled": "启用", "created_at": "创建时间"}
    column_sortable_list = ("username", "display_name", "role", ("org_unit", "org_unit.name"), "is_enabled",
                            "created_at")
    column_default_sort = ("username", False)
    column_searchable_list = ("username", "display_name")
    column_formatters = {"role": _fmt_role, "org_unit": _fmt_unit}
    column_filters = (
        FilterEqual(User.role, "角色", options=ROLE_CHOICES),
        IdEqualFilter(User.org_unit_id, "所属单位", options=LazyOptions(unit_options)),
        BooleanEqualFilter(User.is_enabled, "启用"),
        CstDateBetween(User.created_at, "创建时间"),
    )
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-key", ".password_view", title="重置密码"),
        EndpointLinkRowAction("fa fa-ticket", ".token_view", title="创建 API 令牌"),
    ]
    create_template = "admin/user_create.html"
    edit_template = "admin/user_edit.html"

    def get_create_form(self):  # type: ignore[no-untyped-def]
        return UserCreateForm

    def get_edit_form(self):  # type: ignore[no-untyped-def]
        return UserEditForm

    # -- create and edit ----------------------------------------------------------------------------
    def create_model(self, form: UserCreateForm):  # type: ignore[no-untyped-def, override]
        try:
            user = auth_service.create_user(
                form.username.data.strip(), form.password.data, role=form.role.data,
                org_code=form.org_unit.data.code, display_name=(form.display_name.data or "").strip())
        except auth_service.UserError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        log_event("user_create", "user", object_id=user.id, user_id=current_user.id, subject=user.username,
                  diff=json_diff({}, snapshot(user)), detail=f"{role_title(user.role)}，{_unit_text(user)}")
        db.session.commit()
        return user

    def update_model(self, form: UserEditForm, model: User) -> bool:  # type: ignore[override]
        if model.id == current_user.id:
            if not form.is_enabled.data:
                flash("不能停用自己的账号", "error")
                return False
            if form.role.data != ADMIN_ROLE:
                flash("不能取消自己的管理员角色，请由另一位管理员操作", "error")
                return False
        before = snapshot(model)
        model.display_name = (form.display_name.data or "").strip()
        model.role = form.role.data
        model.org_unit = form.org_unit.data
        auth_service.set_enabled(model, bool(form.is_enabled.data))
        after = snapshot(model)
        changes = json_diff(before, after)
        fields = [c for c in changes if c["path"] != "/is_enabled"]
        if fields:
            log_event("user_update", "user", object_id=model.id, user_id=current_user.id, subject=model.username,
                      diff=fields)
        if before["is_enabled"] != after["is_enabled"]:
            self._log_enabled(model)
        db.session.commit()
        return True

    @staticmethod
    def _log_enabled(user: User) -> None:
        log_event("user_enable" if user.is_enabled else "user_disable", "user", object_id=user.id,
                  user_id=current_user.id, subject=user.username,
                  diff=[{"op": "replace", "path": "/is_enabled", "old": not user.is_enabled, "new": user.is_enabled}])

    # -- bulk actions -------------------------------------------------------------------------------
    @staticmethod
    def _selected(ids: list[str]) -> list[User]:
        numbers = [n for n in map(parse_id, ids) if n is not None]
        return list(db.session.scalars(select(User).where(User.id.in_(numbers)).order_by(User.username)))

    def _set_enabled(self, ids: list[str], enabled: bool) -> None:
        changed = []
        for user in self._selected(ids):
            if user.is_enabled == enabled:
                continue
            if user.id == current_user.id and not enabled:
                flash("不能停用自己的账号，已跳过", "error")
                continue
            auth_service.set_enabled(user, enabled)
            self._log_enabled(user)
            changed.append(user.username)
        db.session.commit()
        if changed:
            flash(f"已{'启用' if enabled else '停用'} {len(changed)} 个用户：{'、'.join(changed)}", "success")
        else:
            flash("没有需要更改的用户", "info")

    @action("disable", "禁用", "确定禁用所选用户？其登录会话和 API 令牌将立即失效。")
    def action_disable(self, ids: list[str]) -> None:
        self._set_enabled(ids, False)

    @action("enable", "启用", "确定启用所选用户？")
    def action_enable(self, ids: list[str]) -> None:
        self._set_enabled(ids, True)

    @action("revoke_tokens", "吊销全部令牌", "确定吊销所选用户的全部 API 令牌？吊销后不能恢复。")
    def action_revoke_tokens(self, ids: list[str]) -> None:
        total = 0
        for user in self._selected(ids):
            active = db.session.scalar(select(func.count()).select_from(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
            log_event("tokens_revoke", "user", object_id=user.id, user_id=current_user.id, subject=user.username,
                      detail=f"吊销 {active} 个令牌")
            total += auth_service.revoke_tokens(user)  # commits the audit row with the revocation
        flash(f"已吊销 {total} 个令牌", "success")

    # -- one user's pages ---------------------------------------------------------------------------
    def _user_or_none(self) -> User | None:
        user_id = parse_id(request.args.get("id", ""))
        user = db.session.get(User, user_id) if user_id is not None else None
        if user is None:
            flash("用户不存在", "error")
        return user

    def _return_url(self) -> str:
        return get_redirect_target() or self.get_url(".index_view")

    @expose("/password/", methods=("GET", "POST"))
    def password_view(self):  # type: ignore[no-untyped-def]
        user = self._user_or_none()
        if user is None:
            return redirect(self._return_url())
        form = PasswordForm(get_form_data())
        form.account = (user.username, user.display_name)
        if request.method == "POST" and form.validate():
            revoked = auth_service.reset_password(user, form.password.data)
            log_event("password_reset", "user", object_id=user.id, user_id=current_user.id, subject=user.username,
                      detail=f"登录会话已全部退出；吊销 {revoked} 个令牌")
            db.session.commit()
            flash(f"已重置用户 {user.username} 的密码；其登录会话已全部退出，吊销 {revoked} 个 API 令牌", "success")
            return redirect(self._return_url())
        return self.render("admin/user_password.html", form=form, user=user, return_url=self._return_url())

    @expose("/token/", methods=("GET", "POST"))
    def token_view(self):  # type: ignore[no-untyped-def]
        user = self._user_or_none()
        if user is None:
            return redirect(self._return_url())
        form = TokenForm(get_form_data())
        if request.method == "POST" and form.validate():
            if not user.is_enabled:
                flash("该用户已停用，不能为其创建令牌", "error")
            else:
                return self._new_token(user, form.name.data.strip(), form.days.data)
        return self.render("admin/user_token.html", form=form, user=user, token=None,
                           return_url=self._return_url())

    def _new_token(self, user: User, name: str, days: int):  # type: ignore[no-untyped-def]
        token = auth_service.create_token(user.username, name, days)
        row = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                 .order_by(ApiToken.id.desc()).limit(1)).first()
        log_event("token_create", "api_token", object_id=row.id if row else None, user_id=current_user.id,
                  subject=user.username, detail=f"名称：{name}；有效期 {days} 天")
        db.session.commit()
        response = make_response(self.render("admin/user_token.html", form=None, user=user, token=token, row=row,
                                             return_url=self._return_url()))
        response.headers["Cache-Control"] = "no-store"
        return response


def _unit_text(user: User) -> str:
    return unit_label(user.org_unit) if user.org_unit else "无单位"

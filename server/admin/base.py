"""What every admin page shares: county_admin only, read-only by default, China time, Chinese values.

Access is checked in each view (``is_accessible``), not only by the site-wide login guard: a
logged-out visitor is sent to the login page, everyone but a county administrator gets 403, and a
bearer token does not open the admin (it is for browsers, with sessions and CSRF tokens).
Endpoints a view does not offer (create/edit/delete/details/actions) answer 403 instead of
flask-admin's silent redirect, so that a hand-made POST is refused visibly.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask import g, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_login import current_user
from markupsafe import Markup

from server.errors import NotAllowed
from server.ids import parse_id
from server.timeutil import CST, as_aware

ADMIN_ROLE = "county_admin"
BRAND = "综治工作台账管理系统 · 管理"
FORBIDDEN_MESSAGE = "仅县综治办管理员可使用管理后台"


def is_admin() -> bool:
    return (current_user.is_authenticated and current_user.role == ADMIN_ROLE
            and g.get("auth_method") != "token")


class AdminAccess:
    """Mixin for every admin view: county_admin in a browser session, or nothing."""

    def is_accessible(self) -> bool:
        return is_admin()

    def inaccessible_callback(self, name: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        if not current_user.is_authenticated:
            target = request.full_path if request.query_string else request.path
            return redirect(url_for("auth.login", next=target))
        raise NotAllowed(FORBIDDEN_MESSAGE)


class AdminPage(AdminAccess, BaseView):
    """A plain admin page (forms that are not a model's list)."""


class AdminHome(AdminAccess, AdminIndexView):
    pass


# --- formatting ------------------------------------------------------------------------------------


def cst(value: datetime | None, seconds: bool = False) -> str:
    if value is None:
        return ""
    return as_aware(value).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def pretty_json(value: Any) -> Markup:
    return Markup('<pre class="admin-json">{}</pre>').format(json.dumps(value, ensure_ascii=False, indent=2))


def _datetime(_view: Any, value: datetime, _name: str) -> str:
    return cst(value)


def _bool(_view: Any, value: bool, _name: str) -> Markup:
    if value:
        return Markup('<span class="badge badge-success">是</span>')
    return Markup('<span class="badge badge-secondary">否</span>')


def _json(_view: Any, value: Any, _name: str) -> str:
    return json.dumps(value, ensure_ascii=False)


FORMATTERS = dict(typefmt.BASE_FORMATTERS)
FORMATTERS.update({type(None): typefmt.empty_formatter, bool: _bool, datetime: _datetime,
                   date: lambda _v, value, _n: value.isoformat(), dict: _json, list: _json})


def muted(text: str) -> Markup:
    return Markup('<small class="text-muted">{}</small>').format(text)


class LazyOptions:
    """Filter options read from the database when the page is drawn (flask-admin reads them at start)."""

    def __init__(self, load):  # type: ignore[no-untyped-def]
        self.load = load

    def __bool__(self) -> bool:
        return True

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.load())


# --- model views -----------------------------------------------------------------------------------


class AdminModelView(AdminAccess, ModelView):
    can_delete = False
    can_export = False
    can_set_page_size = True
    page_size = 50
    column_type_formatters = FORMATTERS
    column_type_formatters_detail = FORMATTERS

    def _handle_view(self, name: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        offered = {
            "create_view": self.can_create,
            "edit_view": self.can_edit,
            "delete_view": self.can_delete,
            "details_view": self.can_view_details,
            "action_view": bool(self.get_actions_list()[0]),
            "export": self.can_export,
            "ajax_update": bool(self.column_editable_list),
        }
        if not offered.get(name, True):
            raise NotAllowed("此页面为只读，不能进行该操作")
        return None

    def get_one(self, id: Any):  # type: ignore[no-untyped-def]
        """Every model here has an integer id: ``?id=`` text that names none (``²``, 10**30) finds no
        row, where PostgreSQL would refuse the statement (a 500)."""
        ident = parse_id(id)
        return None if ident is None else super().get_one(str(ident))

    def get_list(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        count, rows = super().get_list(*args, **kwargs)
        self.prefetch(rows)
        return count, rows

    def prefetch(self, rows: Any) -> None:
        """Load what the formatters of these rows will look up, in one query each (override)."""


class ReadOnlyModelView(AdminModelView):
    can_create = False
    can_edit = False
    can_delete = False

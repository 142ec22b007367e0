"""审计日志: the append-only log, read-only (no create, edit or delete endpoint answers), newest first."""
from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.filters import FilterEqual, FilterLike
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from server.admin.base import LazyOptions, ReadOnlyModelView, cst, pretty_json
from server.admin.filters import CstDateBetween, UsernameEqual, UsernameLike
from server.admin.lookups import form_title, remember_users, user_label
from server.audit import action_title
from server.extensions import db
from server.records.models import AuditEntry
from server.records.service import audit_entry_as_read

OBJECT_TITLES = {"record": "记录", "user": "用户", "api_token": "令牌", "org": "单位表"}


def _action_options() -> list[tuple[str, str]]:
    actions = db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    return [(action, action_title(action)) for action in actions]


def _fmt_action(_view: Any, _context: Any, model: AuditEntry, _name: str) -> Markup:
    return Markup('<span title="{}">{}</span>').format(model.action, action_title(model.action))  # the id on hover


def _fmt_object(_view: Any, _context: Any, model: AuditEntry, _name: str) -> str:
    kind = OBJECT_TITLES.get(model.object_type, model.object_type)
    return f"{kind} #{model.object_id}" if model.object_id is not None else kind


def _fmt_diff(_view: Any, _context: Any, model: AuditEntry, _name: str) -> Markup | str:
    """The diff as the administrator may read it: values a form protects (要求保密) are masked."""
    seen = audit_entry_as_read(model, current_user)
    diff = seen.diff if seen is not None else model.diff
    return pretty_json(diff) if diff else ""


def _fmt_detail(_view: Any, _context: Any, model: AuditEntry, _name: str) -> str:
    seen = audit_entry_as_read(model, current_user)
    return seen.detail if seen is not None else model.detail


class AuditLogView(ReadOnlyModelView):
    can_view_details = True
    column_list = ("at", "user_id", "action", "subject", "object_type", "form_id", "record_version", "detail")
    column_details_list = ("id", "at", "user_id", "action", "subject", "object_type", "form_id", "record_version",
                           "detail", "diff")
    column_labels = {"id": "编号", "at": "时间（北京时间）", "user_id": "操作人", "action": "操作", "subject": "对象名称",
                     "object_type": "对象", "form_id": "表单", "record_version": "版本", "detail": "说明",
                     "diff": "变更内容"}
    column_sortable_list = ("at", "action", "subject")
    column_default_sort = [("at", True), ("id", True)]
    column_searchable_list = ("subject", "detail")
    column_formatters = {
        "at": lambda _v, _c, m, _n: cst(m.at, seconds=True),
        "user_id": lambda _v, _c, m, _n: user_label(m.user_id),
        "action": _fmt_action,
        "object_type": _fmt_object,
        "form_id": lambda _v, _c, m, _n: form_title(m.form_id),
        "diff": _fmt_diff,
        "detail": _fmt_detail,
    }
    column_filters = (
        FilterEqual(AuditEntry.action, "操作", options=LazyOptions(_action_options)),
        UsernameEqual(AuditEntry.user_id, "操作人用户名"),
        UsernameLike(AuditEntry.user_id, "操作人用户名"),
        CstDateBetween(AuditEntry.at, "日期"),
        FilterEqual(AuditEntry.subject, "对象名称"),
        FilterLike(AuditEntry.subject, "对象名称"),
        FilterEqual(AuditEntry.object_type, "对象类型", options=list(OBJECT_TITLES.items())),
        FilterEqual(AuditEntry.form_id, "表单"),
    )

    def prefetch(self, rows: Any) -> None:
        if isinstance(rows, list):
            remember_users(entry.user_id for entry in rows)

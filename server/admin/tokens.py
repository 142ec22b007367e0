"""令牌: the API tokens of every user, read-only, with one action: 吊销 (revoke). Only hashes are stored,
so no page can show a token again; a new one is made from the user's row (shown once)."""
from __future__ import annotations

from typing import Any

from flask import flash
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select

from server.admin.base import ReadOnlyModelView, cst
from server.admin.filters import CstDateBetween, UsernameEqual, UsernameLike
from server.audit import log_event
from server.auth.models import ApiToken
from server.extensions import db
from server.ids import parse_id
from server.timeutil import as_aware, utcnow

STATES = [("valid", "有效"), ("revoked", "已吊销"), ("expired", "已过期")]


def token_state(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and as_aware(token.expires_at) <= utcnow():
        return "expired"
    return "valid"


class TokenStateFilter(BaseSQLAFilter):
    def __init__(self) -> None:
        super().__init__(ApiToken.revoked_at, "状态", options=STATES)

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        now = utcnow()
        if value == "revoked":
            return query.filter(ApiToken.revoked_at.is_not(None))
        if value == "expired":
            return query.filter(ApiToken.revoked_at.is_(None), ApiToken.expires_at <= now)
        return query.filter(ApiToken.revoked_at.is_(None),
                            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))

    def operation(self) -> str:
        return "为"


def _fmt_user(_view: Any, _context: Any, model: ApiToken, _name: str) -> str:
    user = model.user
    return f"{user.username}（{user.display_name}）" if user.display_name else user.username


def _fmt_state(_view: Any, _context: Any, model: ApiToken, _name: str) -> Markup:
    state = token_state(model)
    badge = {"valid": "success", "revoked": "secondary", "expired": "warning"}[state]
    return Markup('<span class="badge badge-{}">{}</span>').format(badge, dict(STATES)[state])


class TokenView(ReadOnlyModelView):
    column_display_actions = False
    column_list = ("user", "name", "created_at", "expires_at", "revoked_at", "state")
    column_labels = {"user": "用户", "name": "名称", "created_at": "创建时间", "expires_at": "到期时间",
                     "revoked_at": "吊销时间", "state": "状态"}
    column_sortable_list = (("user", "user.username"), "name", "created_at", "expires_at", "revoked_at")
    column_default_sort = ("created_at", True)
    column_searchable_list = ("name",)
    column_formatters = {"user": _fmt_user, "state": _fmt_state,
                         "created_at": lambda _v, _c, m, _n: cst(m.created_at),
                         "expires_at": lambda _v, _c, m, _n: cst(m.expires_at),
                         "revoked_at": lambda _v, _c, m, _n: cst(m.revoked_at)}
    column_filters = (
        UsernameEqual(ApiToken.user_id, "用户名"),
        UsernameLike(ApiToken.user_id, "用户名"),
        TokenStateFilter(),
        CstDateBetween(ApiToken.created_at, "创建时间"),
    )

    @action("revoke", "吊销", "确定吊销所选令牌？吊销后不能恢复。")
    def action_revoke(self, ids: list[str]) -> None:
        numbers = [n for n in map(parse_id, ids) if n is not None]
        revoked = 0
        now = utcnow()
        for token in db.session.scalars(select(ApiToken).where(ApiToken.id.in_(numbers),
                                                               ApiToken.revoked_at.is_(None))):
            token.revoked_at = now
            log_event("token_revoke", "api_token", object_id=token.id, user_id=current_user.id,
                      subject=token.user.username, detail=f"名称：{token.name}")
            revoked += 1
        db.session.commit()
        flash(f"已吊销 {revoked} 个令牌" if revoked else "所选令牌均已吊销，无需操作", "success" if revoked else "info")

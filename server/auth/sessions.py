"""Browser sessions kept on the server, so that they can end.

The login used to live only in the signed cookie, and a copy of the cookie saved before a logout kept
working after it. Now the cookie carries only a random 256-bit session id; the server keeps a row per
session (only the id's SHA-256, so a leaked database opens no session) and a request is logged in only
while its row is open. A row ends at logout, when the password changes (by the user or an admin
reset), when the user is disabled, after ``SESSION_IDLE_MINUTES`` without a request and
``SESSION_MAX_HOURS`` after the login. The rows live in the database, so every app process sees the
same sessions.

``last_seen_at`` is written at most once a minute per session (``TOUCH_EVERY``), not on every
request; the idle time is therefore measured to within that minute.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from server.auth.models import User, UserSession
from server.db import write_transaction
from server.extensions import db
from server.timeutil import as_aware, utcnow

TOUCH_EVERY = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 100  # ours are 43 characters; anything much longer is not one of ours

# Why a session ended, as the login page tells the person whose cookie still names it.
ENDED = {
    "logout": "您已退出登录，请重新登录",
    "password": "密码已修改，请用新密码重新登录",
    "reset": "管理员已重置您的密码，请重新登录",
    "disabled": "账号已停用，登录已失效",
    "idle": "长时间未操作，登录已超时，请重新登录",
    "expired": "登录时间已超过上限，请重新登录",
    "replaced": "登录已失效，请重新登录",
}


@dataclass(frozen=True)
class SessionCheck:
    """The outcome of looking a cookie's session up: its user, or why there is none."""

    user: User | None = None
    session: UserSession | None = None
    ended: str | None = None  # a key of ENDED when the session exists but is over


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    settings = current_app.config["SERVER_SETTINGS"]
    return timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_max_hours)


def start(user: User, user_agent: str = "", ip: str = "") -> str:
    """Open a session for a user who has just proved who they are; returns the id for the cookie, once."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(user_id=user.id, token_hash=_hash(token), created_at=now, last_seen_at=now,
                               user_agent=user_agent[:200], ip=ip[:45]))
    db.session.commit()
    return token


def check(token: str) -> SessionCheck:
    """The user behind a cookie's session id. An open session past its idle time or lifetime is
    ended here; an open one not seen for a minute is marked seen."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return SessionCheck()
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if row is None:
        return SessionCheck()
    if row.ended_at is not None:
        return SessionCheck(ended=row.end_reason or "replaced")
    if not row.user.is_enabled:  # disabling ends sessions; this covers a row a crash left open
        return SessionCheck(ended="disabled")
    now = utcnow()
    idle, lifetime = _limits()
    over = "expired" if now - as_aware(row.created_at) >= lifetime else (
        "idle" if now - as_aware(row.last_seen_at) >= idle else None)
    if over is not None:
        _close(row.id, over)
        return SessionCheck(ended=over)
    if now - as_aware(row.last_seen_at) >= TOUCH_EVERY:
        session_id = row.id
        with write_transaction():
            db.session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
        row = db.session.get(UserSession, session_id)
        if row is None:
            return SessionCheck()
    return SessionCheck(user=row.user, session=row)


def _close(session_id: int, reason: str) -> None:
    with write_transaction():
        db.session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                           .values(ended_at=utcnow(), end_reason=reason))


def end(token: str | None, reason: str = "logout") -> None:
    """End the session behind a cookie (logout), if it is still open."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return
    with write_transaction():
        db.session.execute(update(UserSession).where(UserSession.token_hash == _hash(token),
                                                     UserSession.ended_at.is_(None))
                           .values(ended_at=utcnow(), end_reason=reason))


def end_all(user: User, reason: str) -> int:
    """End every open session of a user (password change, reset, disabling); the caller commits,
    so the sessions end together with the change that ends them."""
    result = db.session.execute(update(UserSession).where(UserSession.user_id == user.id,
                                                          UserSession.ended_at.is_(None))
                                .values(ended_at=utcnow(), end_reason=reason))
    return result.rowcount or 0

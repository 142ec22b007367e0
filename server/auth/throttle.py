"""Login throttling: after N failed attempts within a window an account is locked for that window.

Counted from the audit log (``login_failed`` rows for the username since its last successful login),
so every process sees the same count and every attempt is on record.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from server.audit import log_event
from server.auth.models import User
from server.auth.service import authenticate
from server.extensions import db
from server.records.models import AuditEntry
from server.timeutil import as_aware, utcnow


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None = None
    locked_until: datetime | None = None


def _limits() -> tuple[int, timedelta]:
    settings = current_app.config["SERVER_SETTINGS"]
    return settings.login_max_failures, timedelta(minutes=settings.login_lock_minutes)


def locked_until(username: str) -> datetime | None:
    max_failures, window = _limits()
    # A successful login or a password reset by the admin starts the count afresh.
    last_ok = db.session.scalar(select(func.max(AuditEntry.at)).where(
        AuditEntry.subject == username, AuditEntry.action.in_(("login", "password_reset"))))
    since = utcnow() - window
    if last_ok is not None and as_aware(last_ok) > since:
        since = as_aware(last_ok)
    failures = db.session.scalars(
        select(AuditEntry.at).where(AuditEntry.subject == username, AuditEntry.action == "login_failed",
                                    AuditEntry.at > since)
        .order_by(AuditEntry.at.desc()).limit(max_failures)
    ).all()
    if len(failures) < max_failures:
        return None
    return as_aware(failures[-1]) + window


def attempt_login(username: str, password: str, ip: str) -> LoginOutcome:
    """Check the password unless the account is locked; record the attempt either way."""
    username = username.strip()[:100]
    until = locked_until(username)
    if until is not None:
        log_event("login_locked", "user", subject=username, detail=ip)
        db.session.commit()
        return LoginOutcome(locked_until=until)
    user = authenticate(username, password)
    log_event("login" if user else "login_failed", "user", object_id=user.id if user else None,
              user_id=user.id if user else None, subject=username, detail=ip)
    db.session.commit()
    return LoginOutcome(user=user)

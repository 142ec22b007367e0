"""Flask-Login wiring: sessions for pages, ``Authorization: Bearer`` for the API."""
from __future__ import annotations

from flask import Request, g

from server.auth.models import User
from server.auth.service import user_for_token
from server.extensions import db, login_manager


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session, unless disabled or the password changed since the session began."""
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_enabled or user.session_version != int(version):
        return None
    return user


@login_manager.request_loader
def load_user_from_request(request: Request) -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = user_for_token(header[len("Bearer "):].strip())
    if user is not None:
        g.auth_method = "token"
    return user

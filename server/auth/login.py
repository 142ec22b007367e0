"""Flask-Login wiring: sessions for pages, ``Authorization: Bearer`` for the API."""
from __future__ import annotations

from flask import Request, g

from server.auth.models import User
from server.auth.service import user_for_token
from server.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_enabled else None


@login_manager.request_loader
def load_user_from_request(request: Request) -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = user_for_token(header[len("Bearer "):].strip())
    if user is not None:
        g.auth_method = "token"
    return user

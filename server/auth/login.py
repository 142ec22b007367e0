"""Flask-Login wiring: server-side sessions for pages, ``Authorization: Bearer`` for the API.

Flask-Login keeps ``_user_id`` in the signed cookie; here that value is the id of a server-side
session (``server.auth.sessions``), never a user id, so a cookie outlives nothing the server ended.
"""
from __future__ import annotations

from flask import Request, flash, g, request, session
from flask_login import login_user, logout_user

from server.auth import sessions
from server.auth.models import User
from server.auth.service import user_for_token
from server.extensions import login_manager

SESSION_KEY = "_user_id"  # where Flask-Login keeps the identity in the cookie


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of the cookie's session while it is open. A session found ended (logout elsewhere,
    password change, disabling, idle time, lifetime) is forgotten by the cookie, and the next page,
    the login page, says why."""
    outcome = sessions.check(session_id)
    if outcome.ended is not None:
        session.pop(SESSION_KEY, None)
        if not request.path.startswith("/api/"):
            flash(sessions.ENDED[outcome.ended], "warning")
    g.user_session = outcome.session
    return outcome.user


@login_manager.request_loader
def load_user_from_request(request: Request) -> User | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = user_for_token(header[len("Bearer "):].strip())
    if user is not None:
        g.auth_method = "token"
    return user


def begin_session(user: User) -> None:
    """Log a browser in: a new server-side session (ending the one this browser had, if any), its id
    in the cookie."""
    sessions.end(session.get(SESSION_KEY), "replaced")
    token = sessions.start(user, request.user_agent.string or "", request.remote_addr or "")
    login_user(user)
    session[SESSION_KEY] = token  # Flask-Login wrote the user id; the cookie carries the session id


def end_session() -> None:
    """Log this browser out: its server-side session ends, so a saved copy of the cookie is dead too."""
    sessions.end(session.get(SESSION_KEY), "logout")
    logout_user()

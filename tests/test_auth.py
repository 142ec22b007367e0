"""Login throttling, password rules, session cookie flags, tokens, /me and /org-units."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.auth.passwords import password_problems
from server.auth.service import UserError, create_token, create_user, revoke_tokens
from server.extensions import db
from server.records.models import AuditEntry
from tests.conftest import PASSWORD, login_session, user_named


def _login(client, username, password):  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


def test_five_failures_lock_the_account_for_the_window(app, anon, monkeypatch):
    for _ in range(4):
        assert _login(anon, "clerk", "wrong").status_code == 401
    assert _login(anon, "clerk", PASSWORD).status_code == 302  # success before the 5th resets the count
    anon.post("/logout")
    for _ in range(5):
        _login(anon, "clerk", "wrong")
    locked = _login(anon, "clerk", PASSWORD)
    assert locked.status_code == 401 and "已暂时锁定" in locked.get_data(as_text=True)
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.subject == "clerk")).all()
    assert actions.count("login_failed") == 9 and actions[-1] == "login_locked" and "login" in actions
    # other accounts are not affected
    assert _login(app.test_client(), "county", PASSWORD).status_code == 302
    # 15 minutes later the lock is over
    import server.auth.throttle as throttle

    later = throttle.utcnow() + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr(throttle, "utcnow", lambda: later)
    assert _login(app.test_client(), "clerk", PASSWORD).status_code == 302


def test_lock_threshold_is_a_setting(make_app):
    app = make_app()
    app.config["SERVER_SETTINGS"].login_max_failures = 2
    with app.app_context():
        from tests.conftest import _seed_org_and_users

        _seed_org_and_users()
    client = app.test_client()
    _login(client, "clerk", "wrong")
    assert "锁定" not in _login(client, "clerk", "wrong").get_data(as_text=True)
    assert "锁定" in _login(client, "clerk", PASSWORD).get_data(as_text=True)


@pytest.mark.parametrize("password, problem", [
    ("short1", "密码至少 8 位"),
    ("onlyletters", "密码须同时包含字母和数字"),
    ("12345678", "密码太容易被猜到：“12345678”是常见密码"),
    ("wang2026x", "密码不能包含用户名或姓名"),
])
def test_password_rules(password, problem):
    assert problem in password_problems(password, "wang")


def test_good_password_passes_and_bad_one_is_refused(app):
    assert password_problems("Huai-2026-shu", "wang") == []
    with pytest.raises(UserError, match="密码须同时包含字母和数字"):
        create_user("wang", "onlyletters", org_code="999901000000")
    with pytest.raises(UserError, match="未知角色"):
        create_user("wang", "Huai-2026-shu", role="boss")


def test_session_cookie_flags(app, anon):
    response = _login(anon, "clerk", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookie_behind_https(make_app):
    app = make_app(session_cookie_secure=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_revoked_and_expired_tokens_stop_working(app):
    user = user_named("clerk")
    token = create_token("clerk")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    revoke_tokens(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    from server.auth.models import ApiToken
    from server.timeutil import utcnow

    short = create_token("clerk")
    row = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id.desc())).first()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {short}"}).status_code == 401


def test_tokens_are_stored_hashed(app):
    from server.auth.models import ApiToken

    token = create_token("clerk")
    stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)


def test_me_names_user_unit_and_permissions(app, api):
    me = api.get("/api/v1/me").get_json()
    assert me["username"] == "clerk" and me["role"] == "township_staff"
    assert me["org_unit"]["code"] == "999901001000" and me["org_unit"]["kind"] == "township"
    assert me["permissions"]["incident"] == ["create", "read", "update"]


def test_org_units_filter_by_kind_and_parent(app, api):
    townships = api.get("/api/v1/org-units?kind=township").get_json()
    assert [u["name"] for u in townships] == ["城关镇", "河口镇"]
    villages = api.get("/api/v1/org-units?parent=999901001000").get_json()
    assert [u["code"] for u in villages] == ["999901001201"]
    assert api.get("/api/v1/org-units?parent=nope").get_json() == []


def test_password_change_ends_older_sessions_and_lifts_the_lock(app, client):
    from server.audit import log_event
    from server.auth.service import set_password

    assert client.get("/").status_code == 200
    for _ in range(5):
        _login(app.test_client(), "clerk", "wrong")
    user = user_named("clerk")
    set_password(user, "New-pass-2026")
    log_event("password_reset", "user", object_id=user.id, subject="clerk")
    db.session.commit()
    assert client.get("/").status_code == 302  # the old session is over
    assert _login(app.test_client(), "clerk", "New-pass-2026").status_code == 302  # lock lifted by the reset
    with pytest.raises(UserError, match="密码至少 8 位"):
        set_password(user, "short1")


def test_admin_link_only_for_county_admin(app, client):
    assert "管理后台" not in client.get("/").get_data(as_text=True)
    admin = app.test_client()
    with admin.session_transaction() as session:
        session["_user_id"] = login_session(user_named("admin"))
    assert "管理后台" in admin.get("/").get_data(as_text=True)

"""Server-side sessions: a copy of the cookie is dead once the session ends (logout, password change,
disabling, an admin reset), sessions end after idle time and an absolute lifetime, ``last_seen_at``
is written at most once a minute, and only the session id's hash is stored.

The replay tests save a browser's cookie, end the session, and send the saved cookie from another
client, as an attacker holding a copy would.
"""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

import server.auth.sessions as sessions
from server.auth.models import UserSession
from server.auth.service import create_token
from server.extensions import db
from server.settings import Settings
from tests.conftest import PASSWORD, csrf_token, login_session, user_named

NEW_PASSWORD = "Xiaohe-ting-417"


def _login(client, username: str = "clerk", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _logged_in(app, username: str = "clerk"):  # type: ignore[no-untyped-def]
    client = app.test_client()
    _login(client, username)
    return client


def _saved_cookie(client) -> str:  # type: ignore[no-untyped-def]
    return client.get_cookie("session").value


def _replay(app, cookie: str):  # type: ignore[no-untyped-def]
    """A fresh client sending a saved session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def _is_login_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _open_sessions(username: str) -> int:
    user = user_named(username)
    return db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)))


def test_a_cookie_saved_before_logout_is_dead_after_it(app):
    browser = _logged_in(app)
    cookie = _saved_cookie(browser)
    assert _replay(app, cookie).get("/").status_code == 200  # the copy works while the session is open
    assert browser.post("/logout", data={"csrf_token": csrf_token(browser)}).status_code == 302
    thief = _replay(app, cookie)
    response = thief.get("/")
    assert _is_login_redirect(response)
    assert "您已退出登录" in thief.get(response.headers["Location"]).get_data(as_text=True)
    assert _replay(app, cookie).get("/forms/incident/").status_code == 302
    assert _open_sessions("clerk") == 0


def test_logout_ends_only_this_browsers_session(app):
    office, phone = _logged_in(app), _logged_in(app)
    office.post("/logout", data={"csrf_token": csrf_token(office)})
    assert phone.get("/").status_code == 200 and _open_sessions("clerk") == 1


def test_own_password_change_ends_every_other_session_and_keeps_this_browser(app):
    here, elsewhere = _logged_in(app), _logged_in(app)
    before = _saved_cookie(here)
    response = here.post("/account/password", data={"csrf_token": csrf_token(here), "old_password": PASSWORD,
                                                     "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _is_login_redirect(elsewhere.get("/"))
    assert _is_login_redirect(_replay(app, before).get("/"))  # this browser's old session ended too …
    assert here.get("/").status_code == 200  # … and it carries on in a new one
    assert _open_sessions("clerk") == 1


def test_password_change_through_the_service_ends_every_session(app):
    from server.auth.service import set_password

    browser = _logged_in(app)
    cookie = _saved_cookie(browser)
    set_password(user_named("clerk"), NEW_PASSWORD)
    db.session.commit()
    response = _replay(app, cookie).get("/")
    assert _is_login_redirect(response)
    assert "密码已修改" in _replay(app, cookie).get(response.headers["Location"]).get_data(as_text=True)


def _admin(app):  # type: ignore[no-untyped-def]
    admin = app.test_client()
    with admin.session_transaction() as session:
        session["_user_id"] = login_session(user_named("admin"))
    return admin


def test_disabling_a_user_ends_their_sessions(app):
    cookie = _saved_cookie(_logged_in(app))
    admin = _admin(app)
    response = admin.post("/admin/users/action/", data={"csrf_token": csrf_token(admin), "action": "disable",
                                                        "rowid": str(user_named("clerk").id)})
    assert response.status_code == 302
    assert _is_login_redirect(_replay(app, cookie).get("/"))
    # enabling the user again does not bring the old session back
    admin.post("/admin/users/action/", data={"csrf_token": csrf_token(admin), "action": "enable",
                                             "rowid": str(user_named("clerk").id)})
    assert _is_login_redirect(_replay(app, cookie).get("/"))
    row = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user_named("clerk").id)).one()
    assert row.end_reason == "disabled"


def test_disabling_in_the_edit_form_ends_their_sessions(app):
    cookie = _saved_cookie(_logged_in(app))
    admin = _admin(app)
    clerk = user_named("clerk")
    url = f"/admin/users/edit/?id={clerk.id}"
    form = {"csrf_token": csrf_token(admin), "display_name": clerk.display_name, "role": clerk.role,
            "org_unit": str(clerk.org_unit_id)}  # the 启用 box left unticked
    assert admin.post(url, data=form).status_code == 302
    assert _is_login_redirect(_replay(app, cookie).get("/"))


def test_admin_reset_ends_sessions_and_revokes_tokens(app):
    cookie = _saved_cookie(_logged_in(app))
    token = create_token("clerk", "phone")
    other = create_token("police", "other")
    bearer = app.test_client()
    assert bearer.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    admin = _admin(app)
    response = admin.post(f"/admin/users/password/?id={user_named('clerk').id}",
                          data={"csrf_token": csrf_token(admin), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    thief = _replay(app, cookie)
    redirect = thief.get("/")
    assert _is_login_redirect(redirect)
    assert "管理员已重置您的密码" in thief.get(redirect.headers["Location"]).get_data(as_text=True)
    assert bearer.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert bearer.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    assert admin.get("/admin/").status_code == 200  # the administrator's own session is untouched
    from tests.test_admin import audit

    assert "吊销 1 个令牌" in audit("password_reset")[-1].detail


def _clock(monkeypatch, delta: timedelta) -> None:
    later = sessions.utcnow() + delta
    monkeypatch.setattr(sessions, "utcnow", lambda: later)


def test_a_session_ends_after_the_idle_time(app, monkeypatch):
    browser = _logged_in(app)
    _clock(monkeypatch, timedelta(minutes=29, seconds=50))
    assert browser.get("/").status_code == 200  # within the 30 minutes: still in (and seen now)
    _clock(monkeypatch, timedelta(minutes=30))
    response = browser.get("/")
    assert _is_login_redirect(response)
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "长时间未操作，登录已超时，请重新登录" in page
    assert browser.get("/").status_code == 302  # and stays out
    assert db.session.scalars(sa.select(UserSession.end_reason)).one() == "idle"


def test_a_session_ends_after_its_lifetime_however_busy(app, monkeypatch):
    browser = _logged_in(app)
    for _ in range(24):  # a request every 29 minutes, within the idle time, for 11.6 hours …
        _clock(monkeypatch, timedelta(minutes=29))
        assert browser.get("/").status_code == 200
    _clock(monkeypatch, timedelta(minutes=29))  # … until 12 hours after the login
    response = browser.get("/")
    assert _is_login_redirect(response)
    assert "登录时间已超过上限" in browser.get(response.headers["Location"]).get_data(as_text=True)


def test_limits_are_settings(make_app, monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("SESSION_MAX_HOURS", "1")
    settings = Settings.from_env()
    assert (settings.session_idle_minutes, settings.session_max_hours) == (5, 1)
    app = make_app(session_idle_minutes=5)
    with app.app_context():
        from tests.conftest import _seed_org_and_users

        _seed_org_and_users()
    browser = app.test_client()
    _login(browser)
    _clock(monkeypatch, timedelta(minutes=5))
    assert _is_login_redirect(browser.get("/"))


def test_last_seen_is_written_at_most_once_a_minute(app, monkeypatch):
    browser = _logged_in(app)
    row = db.session.scalars(sa.select(UserSession)).one()
    first_seen = row.last_seen_at
    writes = []
    real_update = sessions.update
    monkeypatch.setattr(sessions, "update", lambda *a: writes.append(a) or real_update(*a))
    for _ in range(5):
        assert browser.get("/").status_code == 200
    assert writes == []
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen_at == first_seen
    _clock(monkeypatch, timedelta(minutes=1))
    browser.get("/")
    browser.get("/")
    assert len(writes) == 1
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen_at > first_seen


def test_only_the_hash_of_the_session_id_is_stored(app):
    browser = _logged_in(app)
    with browser.session_transaction() as session:
        session_id = session["_user_id"]
    assert len(session_id) >= 43  # 32 random bytes (256 bits), URL-safe base64
    stored = db.session.scalars(sa.select(UserSession.token_hash)).all()
    assert stored == [hashlib.sha256(session_id.encode()).hexdigest()] and session_id not in stored


@pytest.mark.parametrize("forged", ["{id}", "{id}.0", "{id}.1", "x" * 500, ""])
def test_a_cookie_naming_a_user_is_no_login(app, forged):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = forged.format(id=user_named("clerk").id)
    assert _is_login_redirect(client.get("/"))


def test_a_new_login_in_the_same_browser_ends_its_previous_session(app):
    browser = _logged_in(app)
    first = _saved_cookie(browser)
    _login(browser, "county")
    assert _is_login_redirect(_replay(app, first).get("/"))
    assert _open_sessions("clerk") == 0 and _open_sessions("county") == 1


def test_the_api_takes_no_session_cookie(app):
    browser = _logged_in(app)
    response = browser.get("/api/v1/me")
    assert response.status_code == 401 and response.is_json


def test_migration_0007_up_and_down_keeps_users(tmp_path):
    """0007 adds the sessions table and the first-login flag and drops the session version; both
    ways keep the users (on a SQLite file of its own; the suite's schema runs it on PostgreSQL)."""
    from flask_migrate import downgrade, upgrade

    from server import create_app

    app = create_app({"database_url": f"sqlite:///{tmp_path / 'm.db'}", "instance_dir": tmp_path / "instance",
                      "secret_key": "test"})
    with app.app_context():
        upgrade(revision="0006")
        db.session.execute(sa.text(
            "INSERT INTO users (id, username, display_name, password_hash, role, is_enabled, org_unit_id, "
            "session_version, created_at) VALUES (1, 'county', '', 'x', 'county_staff', 1, NULL, 3, "
            "'2026-05-01 00:00:00')"))
        db.session.commit()
        upgrade(revision="0007")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("users")}
        assert "must_change_password" in columns and "session_version" not in columns
        assert db.session.execute(sa.text("SELECT username, must_change_password FROM users")).one() == ("county", 0)
        db.session.execute(sa.text("INSERT INTO user_sessions (user_id, token_hash, created_at, last_seen_at) "
                                   "VALUES (1, 'h', '2026-05-01 00:00:00', '2026-05-01 00:00:00')"))
        db.session.commit()
        downgrade(revision="0006")
        inspector = sa.inspect(db.engine)
        assert "user_sessions" not in inspector.get_table_names()
        assert "session_version" in {c["name"] for c in inspector.get_columns("users")}
        assert db.session.execute(sa.text("SELECT username FROM users")).scalars().all() == ["county"]
        db.engine.dispose()

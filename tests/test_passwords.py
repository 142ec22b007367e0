"""Password rules (zxcvbn behind ``server.auth.passwords``), the demo users' first-login change, the
change-password page, and a login that takes as long for an unknown name as for a real one."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

import server.auth.service as auth_service
from server.auth.passwords import password_problems
from server.auth.service import UserError, create_demo_user, create_token, create_user
from server.demo import DEMO_PASSWORD
from server.extensions import db
from server.records.models import AuditEntry
from tests.conftest import PASSWORD, csrf_token, user_named

# Common passwords, Chinese favourites first; every one was accepted by the old rules or is the
# published demo password.
COMMON = ["qq123456", "woaini520", "5201314a", "1q2w3e4r", "abc123456", "p@ssw0rd", "123456789", "11111111",
          "a123456789", "woaini1314", "iloveyou", "admin123", "password1", "zxcvbnm1", "qwerty123", "1qaz2wsx",
          "aa123456", "5201314520", "asd123456", "147258369", "123qwe!@#", "Aa123456", "88888888a", "abcd1234",
          DEMO_PASSWORD]
STRONG = ["Xiaohe-ting-417", "Qinghe-shuiku-7", "lv3#Kp9!zr2x", "Jx7-Fenqu-Lu", "Huai-2026-shu"]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("password", COMMON)
def test_common_passwords_are_refused_with_a_chinese_reason(password):
    problems = password_problems(password, "wang", "王伟")
    assert problems, f"{password} was accepted"
    assert all(CJK.search(p) for p in problems)


def test_the_reason_names_what_is_guessable():
    assert password_problems("qq123456") == ["密码太容易被猜到：“qq123456”是常见密码"]
    assert password_problems("p@ssw0rd") == ["密码太容易被猜到：“p@ssw0rd”是常见密码的变形"]
    assert password_problems("88888888a") == ["密码太容易被猜到：“88888888”是重复的字符"]
    assert password_problems(DEMO_PASSWORD) == ["密码太容易被猜到：含有与本系统或本人相关的词“demo-2026”"]


@pytest.mark.parametrize("password", STRONG)
def test_strong_passwords_are_accepted(password):
    assert password_problems(password, "wang", "王伟") == []


@pytest.mark.parametrize("password, username, display_name", [
    ("Zhangsan-2026-x", "zhangsan", ""),
    ("Hk-Zhangsan-77x", "clerk", "zhangsan"),
    ("王伟Hekou-2026x", "wang7", "王伟"),
])
def test_username_or_display_name_in_the_password_is_refused(password, username, display_name):
    assert password_problems(password, username, display_name) == ["密码不能包含用户名或姓名"]
    assert password_problems(password, "someone", "") == []


def test_length_limits():
    assert "密码至少 8 位" in password_problems("Xy-7")
    assert password_problems("Xy7-" * 19) == ["密码不能超过 72 位"]


def test_every_creation_path_but_the_demo_enforces_the_rules(app):
    with pytest.raises(UserError, match="是常见密码"):
        create_user("wang", "woaini1314", org_code="999901000000")
    with pytest.raises(UserError, match="demo-2026"):
        create_user("wang", DEMO_PASSWORD, org_code="999901000000")
    result = app.test_cli_runner().invoke(args=["user", "create", "wang", "--org", "999901000000",
                                                "--password-stdin"], input="1qaz2wsx\n")
    assert result.exit_code != 0 and "是常见密码" in result.output
    assert user_named("wang") is None
    demo = create_demo_user("demo1", DEMO_PASSWORD, role="county_staff", org_code="999901000000",
                            display_name="示范")
    assert demo.must_change_password and auth_service.authenticate("demo1", DEMO_PASSWORD) is not None


def test_the_admin_refuses_a_weak_password(app):
    from tests.test_admin import logged_in

    admin = logged_in(app, "admin")
    form = {"csrf_token": csrf_token(admin), "username": "zhangsan", "display_name": "张三", "role": "county_staff",
            "org_unit": str(user_named("county").org_unit_id), "password": "woaini520", "confirm": "woaini520"}
    page = admin.post("/admin/users/new/", data=form).get_data(as_text=True)
    assert "“woaini”是常见密码" in page and user_named("zhangsan") is None


def test_the_demo_load_marks_its_users(make_app):
    from server.settings import PROJECT_ROOT

    app = make_app(config_dir=PROJECT_ROOT / "config")
    with app.app_context():
        from server.demo import load_demo

        assert "首次登录须修改密码" in load_demo()
        assert all(db.session.scalars(sa.select(auth_service.User.must_change_password)).all())


# --- the demo users' first login -------------------------------------------------------------------


def _login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password})


def _demo_user() -> None:
    create_demo_user("demo1", DEMO_PASSWORD, role="township_staff", org_code="999901001000", display_name="示范")


def test_outside_development_a_demo_user_must_change_the_password_first(app):
    _demo_user()
    browser = app.test_client()
    response = _login(browser, "demo1", DEMO_PASSWORD)
    assert response.status_code == 302
    for path in ("/", "/forms/incident/", "/inbox", "/admin/"):
        gate = browser.get(path)
        assert gate.status_code == 302 and gate.headers["Location"].endswith("/account/password"), path
    page = browser.get("/account/password").get_data(as_text=True)
    assert "您正在使用初始密码" in page
    token = create_token("demo1")
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403 and "首次登录须先修改初始密码" in api.get_json()["message"]
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    changed = browser.post("/account/password", data={"csrf_token": form_token, "old_password": DEMO_PASSWORD,
                                                      "new_password": "Xiaohe-ting-417", "confirm": "Xiaohe-ting-417"})
    assert changed.status_code == 302
    assert browser.get("/").status_code == 200
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    db.session.expire_all()
    assert not user_named("demo1").must_change_password


def test_logout_stays_open_to_a_user_who_must_change(app):
    _demo_user()
    browser = app.test_client()
    _login(browser, "demo1", DEMO_PASSWORD)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/account/password").get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token.group(1)}).headers["Location"].endswith("/login")
    assert browser.get("/").headers["Location"].startswith("/login")


def test_in_development_the_demo_password_still_logs_in(make_app):
    app = make_app(env="development")
    with app.app_context():
        from tests.conftest import _seed_org_and_users

        _seed_org_and_users()
        _demo_user()
    browser = app.test_client()
    assert _login(browser, "demo1", DEMO_PASSWORD).status_code == 302
    assert browser.get("/").status_code == 200


# --- the change-password page ----------------------------------------------------------------------


def _change(client, old: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return client.post("/account/password", data={"csrf_token": csrf_token(client), "old_password": old,
                                                   "new_password": new, "confirm": new if confirm is None else confirm})


def test_every_user_has_a_change_password_page(app, client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/account/password"' in page
    form = client.get("/account/password").get_data(as_text=True)
    assert all(label in form for label in ("原密码", "新密码", "确认新密码"))


@pytest.mark.parametrize("old, new, confirm, field, message", [
    ("wrong-Pass-1", "Xiaohe-ting-417", None, "old_password", "原密码不正确"),
    (PASSWORD, "woaini1314", None, "new_password", "“woaini”是常见密码"),
    (PASSWORD, "Xiaohe-ting-417", "Xiaohe-ting-418", "confirm", "两次输入的新密码不一致"),
    (PASSWORD, PASSWORD, None, "new_password", "新密码不能与原密码相同"),
    ("", "", "", "old_password", "请填写原密码"),
])
def test_change_password_errors_are_chinese_and_per_field(app, client, old, new, confirm, field, message):
    response = _change(client, old, new, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error and message in error.group(1)
    assert not re.search(r'type="password"[^>]*value="[^"]', html)  # passwords are never written back
    assert auth_service.authenticate("clerk", PASSWORD) is not None


def test_a_wrong_old_password_counts_towards_the_lock(app, client):
    for _ in range(5):
        _change(client, "wrong-Pass-1", "Xiaohe-ting-417")
    html = _change(client, PASSWORD, "Xiaohe-ting-417").get_data(as_text=True)
    assert "尝试次数过多" in html and auth_service.authenticate("clerk", PASSWORD) is not None
    failures = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "login_failed")).all()
    assert len(failures) == 5 and all(e.subject == "clerk" for e in failures)


def test_a_successful_change_is_audited(app, client):
    assert _change(client, PASSWORD, "Xiaohe-ting-417").status_code == 302
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "password_change")).one()
    assert entry.subject == "clerk" and "Xiaohe" not in entry.detail
    assert auth_service.authenticate("clerk", "Xiaohe-ting-417") is not None


# --- login timing ----------------------------------------------------------------------------------


def test_an_unknown_username_costs_a_password_check_too(app, monkeypatch):
    """Without a check for unknown names, their failed login came back 10 times faster than a real
    user's and told which usernames exist; both now verify a hash made the same way."""
    checked: list[str] = []
    real_check = auth_service.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real_check(pwhash, password)

    monkeypatch.setattr(auth_service, "check_password_hash", spy)
    assert auth_service.authenticate("nobody-here", "Xiaohe-ting-417") is None
    assert auth_service.authenticate("clerk", "Xiaohe-ting-417") is None
    user_named("police").is_enabled = False
    db.session.commit()
    assert auth_service.authenticate("police", PASSWORD) is None
    assert len(checked) == 3
    method = user_named("clerk").password_hash.split("$")[0]
    assert all(h.split("$")[0] == method for h in checked)  # the dummy is made like the real hashes

"""The administration site (/admin): county administrators only, CSRF on every post, every change
audited, read-only where the data is not the admin's to change (audit log, records, org units)."""
from __future__ import annotations

import io
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.auth.models import ApiToken
from server.auth.service import authenticate, create_token, create_user
from server.extensions import db
from server.org.models import OrgUnit
from server.org.service import unit_by_code
from server.records.models import AuditEntry, Record
from server.settings import PROJECT_ROOT
from server.timeutil import CST, as_aware, utcnow
from tests.conftest import PASSWORD, USERS, login_session, user_named

PAGES = ["/admin/", "/admin/users/", "/admin/users/new/", "/admin/tokens/", "/admin/units/", "/admin/org-import/",
         "/admin/audit/", "/admin/records/"]
OTHER_ROLES = sorted({name for name, role, _org, _label in USERS if role != "county_admin"})


def logged_in(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
        session["_fresh"] = True
    return client


@pytest.fixture
def admin(app):  # type: ignore[no-untyped-def]
    return logged_in(app, "admin")


def token_of(client, url: str = "/admin/users/") -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def new_user_form(csrf: str, **fields: str) -> dict[str, str]:
    form = {"csrf_token": csrf, "username": "zhangsan", "display_name": "张三", "role": "township_staff",
            "org_unit": str(unit_by_code("999901002000").id), "password": "Zhang-2026x", "confirm": "Zhang-2026x"}
    form.update(fields)
    return form


# --- access ------------------------------------------------------------------------------------------


def test_pages_open_for_county_admin_in_chinese(app, admin):
    for url in PAGES:
        response = admin.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "综治工作台账管理系统 · 管理" in html and "返回工作台" in html, url
        assert 'href="/vendor/' not in html and "//cdn" not in html and "https://" not in html, url
    users = admin.get("/admin/users/").get_data(as_text=True)
    assert "列表" in users and "添加筛选器" in users and "选中的" in users  # flask-admin's own zh_Hans_CN
    assert "乡镇（街道）综治中心工作人员" in users and "城关镇（乡镇 999901001000）" in users


def test_pages_have_no_inline_scripts_for_the_csp(app, admin):
    record_id = _record(app).id
    for url in [*PAGES, f"/admin/users/edit/?id={user_named('clerk').id}", f"/admin/records/details/?id={record_id}",
                f"/admin/users/password/?id={user_named('clerk').id}", f"/admin/users/token/?id={user_named('clerk').id}"]:
        response = admin.get(url)
        html = response.get_data(as_text=True)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, url
        assert not re.search(r"\son(click|change|submit|load)=", html), url
    assert admin.get("/admin/assets/admin.js").status_code == 200
    assert admin.get("/admin/static/vendor/jquery.min.js").status_code == 200


@pytest.mark.parametrize("username", OTHER_ROLES)
def test_every_other_role_is_forbidden(app, username):
    client = logged_in(app, username)
    for url in PAGES + ["/admin/users/password/?id=1"]:
        assert client.get(url).status_code == 403, (username, url)
    csrf = token_of(client, "/")
    response = client.post("/admin/users/new/", data=new_user_form(csrf))
    assert response.status_code == 403
    assert user_named("zhangsan") is None


def test_anonymous_is_sent_to_login(app, anon):
    for url in PAGES:
        response = anon.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_api_token_does_not_open_the_admin(app):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token('admin', 'tests')}"
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/admin/users/").status_code == 403


# --- users -------------------------------------------------------------------------------------------


def test_create_user_through_the_form(app, admin):
    response = admin.post("/admin/users/new/", data=new_user_form(token_of(admin)))
    assert response.status_code == 302
    user = user_named("zhangsan")
    assert user.role == "township_staff" and user.org_unit.code == "999901002000" and user.display_name == "张三"
    assert authenticate("zhangsan", "Zhang-2026x") is not None
    entry = audit("user_create")[-1]
    assert entry.user_id == user_named("admin").id and entry.subject == "zhangsan" and entry.object_id == user.id
    assert {"op": "add", "path": "/role", "new": "township_staff"} in entry.diff
    assert "Zhang-2026x" not in json.dumps([entry.diff, entry.detail], ensure_ascii=False)
    listing = admin.get("/admin/users/?search=zhangsan").get_data(as_text=True)
    assert "张三" in listing and "河口镇" in listing


def test_weak_password_shows_the_rules_in_chinese(app, admin):
    response = admin.post("/admin/users/new/", data=new_user_form(token_of(admin), password="abc", confirm="abc"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "密码至少 8 位" in html and "密码须同时包含字母和数字" in html
    assert "创建失败" in html  # our catalog fills the gap in flask-admin's
    assert 'value="zhangsan"' in html and "abc" not in re.findall(r'type="password"[^>]*', html).__str__()
    response = admin.post("/admin/users/new/", data=new_user_form(token_of(admin), password="zhangsan-1",
                                                                  confirm="zhangsan-1"))
    assert "密码不能包含用户名" in response.get_data(as_text=True)
    response = admin.post("/admin/users/new/", data=new_user_form(token_of(admin), username="clerk"))
    assert "用户名 clerk 已被使用" in response.get_data(as_text=True)
    assert user_named("zhangsan") is None and audit("user_create") == []


def test_posts_without_csrf_token_are_refused(app, admin):
    form = new_user_form("")
    del form["csrf_token"]
    assert admin.post("/admin/users/new/", data=form).status_code == 400
    assert admin.post("/admin/users/new/", data=new_user_form("forged")).status_code == 400
    clerk = user_named("clerk")
    response = admin.post("/admin/users/action/", data={"action": "disable", "rowid": str(clerk.id)})
    assert response.status_code == 400
    db.session.expire_all()
    assert user_named("zhangsan") is None and user_named("clerk").is_enabled


def test_disabling_a_user_ends_token_and_session_at_once(app, admin, client, api):
    assert api.get("/api/v1/me").status_code == 200
    assert client.get("/").status_code == 200
    clerk = user_named("clerk")
    response = admin.post("/admin/users/action/",
                          data={"csrf_token": token_of(admin), "action": "disable", "rowid": str(clerk.id)})
    assert response.status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    page = client.get("/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    entry = audit("user_disable")[-1]
    assert entry.subject == "clerk" and entry.user_id == user_named("admin").id

    admin.post("/admin/users/action/", data={"csrf_token": token_of(admin), "action": "enable", "rowid": str(clerk.id)})
    assert api.get("/api/v1/me").status_code == 200
    assert audit("user_enable")[-1].subject == "clerk"


def test_edit_user_and_disable_through_the_form(app, admin, api):
    clerk = user_named("clerk")
    form = {"csrf_token": token_of(admin), "display_name": "城关镇综治中心（新）", "role": "county_staff",
            "org_unit": str(unit_by_code("999901000000").id), "is_enabled": "y"}
    assert admin.post(f"/admin/users/edit/?id={clerk.id}", data=form).status_code == 302
    db.session.expire_all()
    clerk = user_named("clerk")
    assert clerk.role == "county_staff" and clerk.org_unit.code == "999901000000"
    entry = audit("user_update")[-1]
    assert {"op": "replace", "path": "/role", "old": "township_staff", "new": "county_staff"} in entry.diff
    assert {"op": "replace", "path": "/org_unit", "old": "999901001000", "new": "999901000000"} in entry.diff
    del form["is_enabled"]  # an unchecked box is not sent
    assert admin.post(f"/admin/users/edit/?id={clerk.id}", data=form).status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    assert audit("user_disable")[-1].subject == "clerk"


def test_admin_cannot_lock_themselves_out(app, admin):
    me = user_named("admin")
    form = {"csrf_token": token_of(admin), "display_name": "管理员", "role": "county_admin",
            "org_unit": str(me.org_unit_id)}
    response = admin.post(f"/admin/users/edit/?id={me.id}", data=form)
    assert response.status_code == 200 and "不能停用自己的账号" in response.get_data(as_text=True)
    response = admin.post(f"/admin/users/edit/?id={me.id}", data=dict(form, role="county_staff", is_enabled="y"))
    assert "不能取消自己的管理员角色" in response.get_data(as_text=True)
    admin.post("/admin/users/action/", data={"csrf_token": token_of(admin), "action": "disable", "rowid": str(me.id)})
    db.session.expire_all()
    assert user_named("admin").is_enabled and user_named("admin").role == "county_admin"
    assert admin.get("/admin/").status_code == 200


def test_reset_password(app, admin):
    clerk = user_named("clerk")
    url = f"/admin/users/password/?id={clerk.id}"
    page = admin.get(url).get_data(as_text=True)
    assert "重置 clerk" in page and "至少 8 位" in page
    weak = admin.post(url, data={"csrf_token": token_of(admin), "password": "12345678", "confirm": "12345678"})
    assert weak.status_code == 200 and "密码须同时包含字母和数字" in weak.get_data(as_text=True)
    mismatch = admin.post(url, data={"csrf_token": token_of(admin), "password": "New-pass-9", "confirm": "New-pass-8"})
    assert "两次输入的密码不一致" in mismatch.get_data(as_text=True)
    assert admin.post(url, data={"password": "New-pass-9", "confirm": "New-pass-9"}).status_code == 400  # no token
    assert authenticate("clerk", PASSWORD) is not None
    done = admin.post(url, data={"csrf_token": token_of(admin), "password": "New-pass-9", "confirm": "New-pass-9"})
    assert done.status_code == 302
    db.session.expire_all()
    assert authenticate("clerk", "New-pass-9") is not None and authenticate("clerk", PASSWORD) is None
    entry = audit("password_reset")[-1]
    assert entry.subject == "clerk" and entry.user_id == user_named("admin").id
    assert "New-pass-9" not in json.dumps([e.detail for e in db.session.scalars(sa.select(AuditEntry))] +
                                          [e.diff for e in db.session.scalars(sa.select(AuditEntry))])


def test_revoke_all_tokens_of_users(app, admin, api):
    other = create_token("police", "other")  # another user's token is not touched
    response = admin.post("/admin/users/action/", data={"csrf_token": token_of(admin), "action": "revoke_tokens",
                                                        "rowid": str(user_named("clerk").id)})
    assert response.status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    entry = audit("tokens_revoke")[-1]
    assert entry.subject == "clerk" and entry.detail == "吊销 1 个令牌"
    assert user_named("clerk").is_enabled  # revoking tokens does not disable the account


def test_create_token_shown_once_and_audited(app, admin):
    clerk = user_named("clerk")
    url = f"/admin/users/token/?id={clerk.id}"
    response = admin.post(url, data={"csrf_token": token_of(admin), "name": "移动端", "days": "30"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="(ptk_[^"]+)"', response.get_data(as_text=True)).group(1)
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == "clerk"
    row = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == clerk.id)).one()
    assert row.name == "移动端" and row.expires_at is not None
    entry = audit("token_create")[-1]
    assert entry.subject == "clerk" and entry.object_id == row.id and token not in entry.detail
    assert token not in admin.get("/admin/tokens/").get_data(as_text=True)
    bad = admin.post(url, data={"csrf_token": token_of(admin), "name": "x", "days": "0"})
    assert "有效天数应在 1 到 3650 之间" in bad.get_data(as_text=True)


def test_token_list_and_revoke(app, admin, token, api):
    listing = admin.get("/admin/tokens/").get_data(as_text=True)
    assert "clerk（城关镇综治中心）" in listing and "有效" in listing
    row = db.session.scalars(sa.select(ApiToken)).one()
    response = admin.post("/admin/tokens/action/", data={"csrf_token": token_of(admin), "action": "revoke",
                                                         "rowid": str(row.id)})
    assert response.status_code == 302
    assert api.get("/api/v1/me").status_code == 401
    entry = audit("token_revoke")[-1]
    assert entry.object_id == row.id and entry.subject == "clerk"
    assert "已吊销" in admin.get("/admin/tokens/").get_data(as_text=True)
    for url in ("/admin/tokens/new/", f"/admin/tokens/edit/?id={row.id}"):
        assert admin.get(url).status_code == 403
    assert admin.post("/admin/tokens/delete/", data={"csrf_token": token_of(admin), "id": str(row.id)}).status_code == 403
    assert count(ApiToken) == 1


def test_users_are_never_deleted(app, admin):
    clerk = user_named("clerk")
    assert admin.post("/admin/users/delete/", data={"csrf_token": token_of(admin), "id": str(clerk.id)}).status_code == 403
    response = admin.post("/admin/users/action/", data={"csrf_token": token_of(admin), "action": "delete",
                                                        "rowid": str(clerk.id)})
    assert response.status_code == 302
    assert user_named("clerk") is not None
    assert 'data-admin-action="delete"' not in admin.get("/admin/users/").get_data(as_text=True)


def test_user_list_filters(app, admin):
    page = admin.get("/admin/users/?flt0_0=info_officer").get_data(as_text=True)  # 角色 = 治安信息员
    assert "officer2" in page and "clerk_b" not in page
    unit = unit_by_code("999901002000")
    page = admin.get(f"/admin/users/?flt0_1={unit.id}").get_data(as_text=True)  # 所属单位
    assert "clerk_b" in page and "officer2" not in page


# --- audit log ---------------------------------------------------------------------------------------


def test_audit_log_is_read_only(app, admin):
    admin.post("/admin/users/new/", data=new_user_form(token_of(admin)))
    entry = audit("user_create")[-1]
    before = count(AuditEntry)
    csrf = token_of(admin)
    assert admin.get("/admin/audit/new/").status_code == 403
    assert admin.post("/admin/audit/new/", data={"csrf_token": csrf, "action": "x"}).status_code == 403
    assert admin.get(f"/admin/audit/edit/?id={entry.id}").status_code == 403
    assert admin.post(f"/admin/audit/edit/?id={entry.id}", data={"csrf_token": csrf, "action": "x"}).status_code == 403
    assert admin.post("/admin/audit/delete/", data={"csrf_token": csrf, "id": str(entry.id)}).status_code == 403
    assert admin.post("/admin/audit/action/", data={"csrf_token": csrf, "action": "delete",
                                                    "rowid": str(entry.id)}).status_code == 403
    db.session.expire_all()
    assert count(AuditEntry) == before and db.session.get(AuditEntry, entry.id).action == "user_create"
    listing = admin.get("/admin/audit/").get_data(as_text=True)
    assert 'data-admin-action' not in listing and "/admin/audit/edit/" not in listing


def test_audit_log_shows_newest_first_in_china_time_with_filters(app, admin):
    admin.post("/admin/users/new/", data=new_user_form(token_of(admin)))
    entry = audit("user_create")[-1]
    listing = admin.get("/admin/audit/").get_data(as_text=True)
    assert "新建用户" in listing and "admin（管理员）" in listing
    assert as_aware(entry.at).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S") in listing
    details = admin.get(f"/admin/audit/details/?id={entry.id}").get_data(as_text=True)
    assert "/role" in details and "township_staff" in details
    only = admin.get("/admin/audit/?flt0_0=user_create").get_data(as_text=True)  # 操作 = user_create
    assert "zhangsan" in only and "列表 (1)" in only
    today = utcnow().astimezone(CST).date()
    day = today.isoformat()
    assert "列表 (1)" in admin.get(f"/admin/audit/?flt0_0=user_create&flt1_3={day}+to+{day}").get_data(as_text=True)
    old = (today - timedelta(days=3)).isoformat()
    empty = admin.get(f"/admin/audit/?flt1_3={old}+to+{old}").get_data(as_text=True)
    assert "zhangsan" not in empty
    by_user = admin.get("/admin/audit/?flt0_1=admin").get_data(as_text=True)  # 操作人用户名 = admin
    assert "zhangsan" in by_user
    assert "zhangsan" not in admin.get("/admin/audit/?flt0_1=clerk").get_data(as_text=True)
    subject = admin.get("/admin/audit/?flt0_4=zhangsan").get_data(as_text=True)  # 对象名称 = zhangsan
    assert "列表 (1)" in subject


# --- org units ---------------------------------------------------------------------------------------


def test_org_units_read_only(app, admin):
    listing = admin.get("/admin/units/").get_data(as_text=True)
    assert "城关派出所" in listing and "派出所" in listing and "示范县" in listing
    township = unit_by_code("999901001000")
    only = admin.get(f"/admin/units/?flt0_1={township.id}").get_data(as_text=True)  # 上级单位（含其下级）
    assert "东街村" in only and "河西村" not in only
    township.phone = "0311-80016801"  # 联系电话 (configured in units.json, synced on publish)
    db.session.commit()
    listing = admin.get(f"/admin/units/?flt0_1={township.id}").get_data(as_text=True)
    assert "<th" in listing and "联系电话" in listing and "0311-80016801" in listing
    assert admin.get("/admin/units/new/").status_code == 403
    assert admin.get(f"/admin/units/edit/?id={township.id}").status_code == 403
    assert admin.post("/admin/units/delete/", data={"csrf_token": token_of(admin), "id": str(township.id)}).status_code == 403


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


def _rows(xlsx: bytes) -> list[list[str]]:
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def _xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_org_import_all_or_nothing(make_app, config_copy):
    app = make_app(config_dir=config_copy)
    with app.app_context():
        create_user("admin", PASSWORD, role="county_admin", org_code="139901000000")
        client = logged_in(app, "admin")
        units_file = config_copy / "org" / "units.json"
        before = units_file.read_bytes()
        download = client.get("/admin/org-import/export.xlsx")
        assert download.status_code == 200 and "spreadsheetml" in download.headers["Content-Type"]
        rows = _rows(download.data)
        header = rows[0]
        rows[5][header.index("名称")] = "新名字村"
        bad = [list(r) for r in rows]
        bad[9][header.index("上级代码")] = "139901999000"

        response = client.post("/admin/org-import/", data={"csrf_token": token_of(client, "/admin/org-import/"),
                                                           "sheet": (io.BytesIO(_xlsx(bad)), "单位表.xlsx")},
                               content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "导入失败，未做任何改动" in html and "第 10 行「上级代码」" in html and "139901999000" in html
        assert units_file.read_bytes() == before
        db.session.expire_all()
        assert db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "新名字村")) is None
        assert audit("org_import") == []

        no_token = client.post("/admin/org-import/", data={"sheet": (io.BytesIO(_xlsx(rows)), "good.xlsx")},
                               content_type="multipart/form-data")
        assert no_token.status_code == 400 and units_file.read_bytes() == before

        response = client.post("/admin/org-import/", data={"csrf_token": token_of(client, "/admin/org-import/"),
                                                           "sheet": (io.BytesIO(_xlsx(rows)), "good.xlsx")},
                               content_type="multipart/form-data")
        assert response.status_code == 200 and "已导入 560 个单位" in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.scalar(sa.select(OrgUnit).where(OrgUnit.name == "新名字村")) is not None
        entry = audit("org_import")[-1]
        assert entry.subject == "good.xlsx" and entry.user_id == user_named("admin").id
        wrong = client.post("/admin/org-import/", data={"csrf_token": token_of(client, "/admin/org-import/"),
                                                        "sheet": (io.BytesIO(b"x"), "units.xls")},
                            content_type="multipart/form-data")
        assert "请上传 .xlsx 或 .csv 文件" in wrong.get_data(as_text=True)


# --- records -----------------------------------------------------------------------------------------


def _record(app) -> Record:  # type: ignore[no-untyped-def]
    from server.records import service
    from tests.test_records import GOOD

    return service.create_record("incident", GOOD, user_named("clerk"))


def test_records_are_read_only(app, admin):
    record = _record(app)
    listing = admin.get("/admin/records/").get_data(as_text=True)
    assert record.number in listing and "城关镇" in listing and "clerk（城关镇综治中心）" in listing
    assert "/admin/records/edit/" not in listing and "data-admin-action" not in listing
    details = admin.get(f"/admin/records/details/?id={record.id}").get_data(as_text=True)
    assert "夜市噪音扰民" in details and "summary" in details
    viewed = audit("record_view")[-1]
    assert viewed.object_id == record.id and viewed.user_id == user_named("admin").id
    csrf = token_of(admin)
    assert admin.get("/admin/records/new/").status_code == 403
    assert admin.post(f"/admin/records/edit/?id={record.id}", data={"csrf_token": csrf, "state": "x"}).status_code == 403
    assert admin.post("/admin/records/delete/", data={"csrf_token": csrf, "id": str(record.id)}).status_code == 403
    db.session.expire_all()
    stored = db.session.get(Record, record.id)
    assert stored.version == 1 and stored.state == "active" and count(Record) == 1
    by_form = admin.get("/admin/records/?flt0_0=transfer").get_data(as_text=True)  # 表单 = transfer
    assert record.number not in by_form


# --- translations ------------------------------------------------------------------------------------


def test_compiled_catalog_matches_its_source():
    from babel.messages.pofile import read_po
    from babel.support import Translations

    folder = PROJECT_ROOT / "server" / "translations"
    with open(folder / "zh_Hans_CN" / "LC_MESSAGES" / "admin.po", "rb") as source:
        catalog = read_po(source)
    compiled = Translations.load(str(folder), ["zh_Hans_CN"], domain="admin")
    messages = [m for m in catalog if m.id]
    assert messages
    for message in messages:
        assert compiled.gettext(message.id) == message.string, f"run pybabel compile ({message.id})"

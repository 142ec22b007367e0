"""Staff pages: fill, errors in Chinese without losing input, save, find, edit, history, export."""
from __future__ import annotations

import io
import re

import openpyxl

from tests.conftest import csrf_token
from tests.test_records import GOOD

FORM_POST = {
    "reported_on": "2026-05-01", "source": "visit", "summary": "夜市噪音扰民", "people": "3",
    "visitor/name": "王五", "steps/0/what": "约谈摊主", "steps/0/due": "2026-05-10",
}


def _post(client, url, data):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def test_login_required_and_login_flow(anon, app):
    response = anon.get("/forms/incident/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = anon.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    wrong = anon.post("/login", data={"csrf_token": token, "username": "clerk", "password": "bad"})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    assert 'value="clerk"' in wrong.get_data(as_text=True)
    ok = anon.post("/login?next=/forms/incident/", data={"csrf_token": token, "username": "clerk", "password": "Jiangbei-qiao-88"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/forms/incident/")
    assert anon.get("/forms/incident/").status_code == 200


def test_login_does_not_redirect_off_site(anon):
    page = anon.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = anon.post("/login?next=//evil.example/x", data={"csrf_token": token, "username": "clerk", "password": "Jiangbei-qiao-88"})
    assert response.headers["Location"] == "/"


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/forms/incident/new", data=FORM_POST)
    assert response.status_code == 400
    assert client.get("/api/v1/health").status_code == 200


def test_new_page_is_chinese_and_has_the_fields(client):
    html = client.get("/forms/incident/new").get_data(as_text=True)
    assert "登记：测试登记簿" in html and 'name="visitor/name"' in html
    # 处置措施 is optional: no blank row, only the template that 添加一行 copies
    assert 'name="steps/0/what"' not in html and 'name="steps/__index__/what"' in html
    assert "<script>" not in html  # CSP: no inline scripts
    assert not re.search(r"\sstyle=", html)  # CSP: no inline styles either


def test_layout_navbar_sidebar_title_and_favicon(client):
    html = client.get("/forms/incident/new").get_data(as_text=True)
    assert "<title>测试登记簿 · 综治工作台账管理系统</title>" in html
    navbar = html[html.index("<header"):html.index("</header>")]
    assert "bg-dark" in navbar and "综治工作台账管理系统" in navbar
    assert "城关镇综治中心" in navbar and "城关镇" in navbar and ">退出</button>" in navbar
    assert "测试登记簿" not in navbar  # the ledgers moved to the sidebar
    sidebar = html[html.index('<nav class="app-sidebar"'):html.index("</nav>")]
    links = [link for link in re.findall(r'<a class="([^"]+)"( aria-current="page")? href="([^"]+)">([^<]+)</a>', sidebar)
             if link[2].startswith("/forms/")]
    assert [(href, title) for _, _, href, title in links] == [
        ("/forms/incident/", "测试登记簿"), ("/forms/transfer/", "测试转办簿")]
    assert [("active" in css.split(), bool(current)) for css, current, _, _ in links] == [(True, True), (False, False)]
    assert all("list-group-item" in css.split() for css, _, _, _ in links)
    icon = re.search(r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', html).group(1)
    response = client.get(icon)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml" and b"<svg" in response.data


def test_login_page_uses_the_system_name(anon):
    html = anon.get("/login").get_data(as_text=True)
    assert "<title>登录 · 综治工作台账管理系统</title>" in html and "登录综治工作台账管理系统</h1>" in html
    assert 'class="app-sidebar"' not in html and ">退出<" not in html
    assert anon.get(re.search(r'rel="icon"[^>]* href="([^"]+)"', html).group(1)).status_code == 200


def test_home_cards_put_count_and_button_at_the_bottom(client, user):
    from server.records import service

    service.create_record("incident", GOOD, user)
    html = client.get("/").get_data(as_text=True)
    cards = re.findall(r'<div class="card-body d-flex flex-column">(.*?)</div></div>', html, re.S)
    assert len(cards) == 2
    footer = re.search(r'<div class="mt-auto[^"]*">(.*?)</div>', cards[0], re.S).group(1)
    assert "共 1 条" in footer and ">登记</a>" in footer


def test_errors_in_chinese_keep_everything_typed(client):
    data = dict(FORM_POST, people="三个", phone="12345", summary="")
    response = _post(client, "/forms/incident/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "此项为必填项" in html and "应为整数" in html and "请填写 11 位手机号" in html
    for value in ("三个", "12345", "王五", "约谈摊主", "2026-05-10"):
        assert f'value="{value}"' in html, value


def test_error_summary_lists_each_error_once_with_links(client):
    data = dict(FORM_POST, people="三个", phone="12345", summary="")
    html = _post(client, "/forms/incident/new", data).get_data(as_text=True)
    assert html.count('role="alert"') == 1 and html.count("处需要修改") == 1  # one summary, not two
    summary = html[html.index('id="error-summary"'):html.index("</ul>")]
    assert "有 3 处需要修改" in summary
    assert re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary) == [
        ("f-summary", "事由摘要：此项为必填项"), ("f-people", "人数：应为整数"), ("f-phone", "联系电话：请填写 11 位手机号")]
    for message in ("此项为必填项", "应为整数", "请填写 11 位手机号"):
        assert html.count(message) == 2, message  # once in the summary, once at the field
    people = re.search(r'<input [^>]*name="people"[^>]*>', html).group(0)
    assert 'aria-describedby="f-people-error"' in people and 'aria-invalid="true"' in people
    assert '<div id="f-people-error" class="invalid-feedback d-block">应为整数</div>' in html


def test_save_round_trips_data_unchanged_and_finds_it(client, app):
    response = _post(client, "/forms/incident/new", FORM_POST)
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "夜市噪音扰民" in detail and "来访" in detail and "王五" in detail
    from server.records.models import Record
    from server.extensions import db

    record = db.session.scalars(db.select(Record)).one()
    assert record.data == GOOD
    edit = client.get(f"/records/{record.id}/edit").get_data(as_text=True)
    saved = _post(client, f"/records/{record.id}/edit", dict(FORM_POST, _version="1"))
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Record, record.id).version == 1  # nothing changed, nothing written
    assert 'value="王五"' in edit

    listing = client.get("/forms/incident/?q=噪音").get_data(as_text=True)
    assert record.number in listing
    assert record.number not in client.get("/forms/incident/?q=不存在").get_data(as_text=True)


def test_conditional_section_values_dropped_when_inactive(client, app):
    from server.extensions import db
    from server.records.models import Record

    response = _post(client, "/forms/incident/new", dict(FORM_POST, handling="on_site", unit="县公安局"))
    assert response.status_code == 302
    assert "unit" not in db.session.scalars(db.select(Record)).one().data
    missing = _post(client, "/forms/incident/new", dict(FORM_POST, handling="transfer"))
    assert missing.status_code == 422 and "此项为必填项" in missing.get_data(as_text=True)


def test_stale_edit_shows_conflict_and_keeps_input(client, app, user):
    from server.records import service

    record = service.create_record("incident", GOOD, user)
    service.update_record(record.id, dict(GOOD, people=4), user, 1)
    response = _post(client, f"/records/{record.id}/edit", dict(FORM_POST, people="9", _version="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "已被他人修改" in html and 'value="9"' in html
    assert service.get_record(record.id, user).data["people"] == 4


def test_list_filters_sort_and_paging(client, app, user):
    from server.records import service

    service.create_record("incident", dict(GOOD, source="phone", reported_on="2026-03-01", summary="甲"), user)
    service.create_record("incident", dict(GOOD, source="visit", reported_on="2026-04-01", summary="乙"), user)
    service.create_record("incident", dict(GOOD, source="visit", reported_on="2026-05-01", summary="丙"), user)
    html = client.get("/forms/incident/?f.source=visit").get_data(as_text=True)
    assert "乙" in html and "丙" in html and ">甲<" not in html
    html = client.get("/forms/incident/?from.reported_on=2026-03-15&to.reported_on=2026-04-30").get_data(as_text=True)
    assert "共 1 条" in html and "乙" in html
    html = client.get("/forms/incident/?sort=reported_on&per_page=2").get_data(as_text=True)
    assert html.index("甲") < html.index("乙") and "丙" not in html and "共 3 条，第 1/2 页" in html
    assert "丙" in client.get("/forms/incident/?sort=reported_on&per_page=2&page=2").get_data(as_text=True)


def test_export_uses_the_same_filters(client, app, user):
    from server.records import service

    service.create_record("incident", dict(GOOD, source="phone", summary="=1+1"), user)
    service.create_record("incident", dict(GOOD, source="visit", summary="乙"), user)
    response = client.get("/forms/incident/export.xlsx?f.source=phone")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "登记日期", "来源", "事由摘要")
    assert len(rows) == 2 and rows[1][2] == "电话" and rows[1][3] == "'=1+1"


def test_history_page_shows_who_and_what(client, app, user):
    from server.records import service

    record = service.create_record("incident", GOOD, user)
    service.update_record(record.id, dict(GOOD, people=4), user, 1)
    html = client.get(f"/records/{record.id}/history").get_data(as_text=True)
    assert "城关镇综治中心" in html and "修改" in html
    assert "<td title=\"/people\">人数</td><td>3</td><td>4</td>" in html


def test_reference_lookup_and_picker(client, app, user):
    from server.records import service

    target = service.create_record("incident", GOOD, user)
    items = client.get("/forms/incident/lookup?q=噪音").get_json()
    assert items[0]["number"] == target.number
    html = client.get("/forms/transfer/new").get_data(as_text=True)
    assert 'data-lookup="/forms/incident/lookup"' in html
    bad = _post(client, "/forms/transfer/new", {"incident": "T-NOPE"})
    assert bad.status_code == 422 and "找不到编号为 T-NOPE" in bad.get_data(as_text=True)


def test_unknown_things_are_404(client):
    assert client.get("/forms/nope/").status_code == 404
    assert client.get("/records/424242").status_code == 404


def test_security_headers(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_vendor_bootstrap_is_served_locally(client):
    html = client.get("/").get_data(as_text=True)
    href = re.search(r'href="(/vendor/[^"]+bootstrap\.min\.css)"', html).group(1)
    assert client.get(href).status_code == 200


def test_lookup_label_is_every_list_column(client, user):
    from server.records import service

    full = service.create_record("incident", GOOD, user)
    without_people = {k: v for k, v in GOOD.items() if k != "people"}
    partial = service.create_record("incident", dict(without_people, summary="河道采砂"), user)
    items = client.get("/forms/incident/lookup?q=噪音").get_json()
    # list columns: 登记日期, 来源 (its title), 事由摘要, 人数
    assert items == [{"number": full.number, "label": "2026-05-01 · 来访 · 夜市噪音扰民 · 3"}]
    newest = client.get("/forms/incident/lookup?q=").get_json()
    assert [i["number"] for i in newest] == [partial.number, full.number]  # empty query: newest first
    assert newest[0]["label"] == "2026-05-01 · 来访 · 河道采砂"  # empty columns are skipped


def test_lookup_returns_at_most_ten(client, user):
    from server.records import service

    for i in range(12):
        service.create_record("incident", dict(GOOD, summary=f"事项{i}"), user)
    assert len(client.get("/forms/incident/lookup").get_json()) == 10


def test_detail_page_leaves_out_empty_fields_and_names_the_form_version(client, user):
    from server.records import service

    record = service.create_record("incident", {k: v for k, v in GOOD.items() if k not in ("people", "steps")}, user)
    html = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "表单第 1 版" in html and "表单版本" not in html
    assert html.count("未填写的项目不显示") == 1
    labels = re.findall(r'<th scope="row" class="x-label">([^<]*)</th>', html)
    assert labels == ["登记日期", "来源", "事由摘要", "来访人", "姓名"]


def test_optional_rows_left_empty_are_not_saved(client, app):
    from server.extensions import db
    from server.records.models import Record

    posted = {k: v for k, v in FORM_POST.items() if not k.startswith("steps/")}
    assert _post(client, "/forms/incident/new", posted).status_code == 302
    assert "steps" not in db.session.scalars(db.select(Record)).one().data


def test_key_area_township_is_picked_from_the_townships():
    """No typed code (the old placeholder was not even a code of the county): a picker of townships."""
    import json

    from server.settings import PROJECT_ROOT

    schema = json.loads((PROJECT_ROOT / "config" / "forms" / "key_area.json").read_text("utf-8"))
    township = schema["properties"]["township_code"]
    assert township["x-ui"]["org"] == {"kinds": ["township", "subdistrict"], "scoped": True, "route": True}
    assert "placeholder" not in township["x-ui"]


def test_login_refuses_backslash_redirects(anon):
    page = anon.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = anon.post("/login?next=/\\evil.example", data={"csrf_token": token, "username": "clerk",
                                                              "password": "Jiangbei-qiao-88"})
    assert response.headers["Location"] == "/"

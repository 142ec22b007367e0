"""Never a 500: ids past 32 bits, NUL characters, non-finite numbers, deep bodies, bad If-Match headers;
every error as JSON under /api and as a Chinese page elsewhere; no-store on everything but static assets.

Issue 13, findings 2, 3, 4 and 9. Run on PostgreSQL too (TEST_DATABASE_URL): that is where a 32-bit id
column or a NUL in a query used to fail inside the database.
"""
from __future__ import annotations

import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, abort

from server.errors import ValidationFailed
from server.extensions import db
from server.org.models import OrgUnit
from server.records import service
from server.settings import PROJECT_ROOT
from tests.conftest import PASSWORD, csrf_token
from tests.test_records import GOOD

BIG_IDS = (2**31, 2**63 - 1)
PAST_64_BITS = 2**63
# Werkzeug's English titles and descriptions: none may reach a user.
ENGLISH = re.compile(r"Bad Request|Not Found|Method Not Allowed|Request Entity Too Large|Internal Server Error|"
                     r"Unsupported Media Type|Too Many Requests|Unprocessable|Forbidden|Unauthorized|Conflict|"
                     r"The (?:server|browser|method|requested|data value|CSRF)")
STRING_ARGS = {"transition_id": "accept", "doc_id": "recommendation_letter"}


def browser(app: Flask, username: str):  # type: ignore[no-untyped-def]
    """A test client logged in through the login form, as a person would."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _id_routes(app: Flask, prefix: str) -> list[tuple[str, str]]:
    """(rule, method) of every route with an ``<int:…>`` part under ``prefix``."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule and rule.rule.startswith(prefix):
            found += [(rule.rule, m) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def _url(rule: str, number: int | str) -> str:
    url = re.sub(r"<int:\w+>", str(number), rule)
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: STRING_ARGS.get(m.group(1), "x"), url)


def _call(client, method: str, url: str, **kwargs: Any):  # type: ignore[no-untyped-def]
    return client.open(url, method=method, **kwargs)


def test_every_id_route_answers_404_for_ids_past_32_bits(app, client, api):
    pages = [r for r in _id_routes(app, "/") if not r[0].startswith(("/api/", "/admin/"))]
    api_routes = _id_routes(app, "/api/")
    assert len(pages) >= 8 and len(api_routes) >= 8  # records, history, documents, transitions, inbox …
    token = csrf_token(client)
    for number in (*BIG_IDS, PAST_64_BITS, "9" * 5000):
        for rule, method in pages:
            response = _call(client, method, _url(rule, number), data={"csrf_token": token})
            assert response.status_code == 404, (method, rule, number, response.status_code)
            assert "未找到" in response.get_data(as_text=True)
        for rule, method in api_routes:
            body = {"note": "办结"} if "/inbox/" in rule else {}  # a valid body: the id decides
            response = _call(api, method, _url(rule, number), json=body, headers={"If-Match": "1"})
            assert response.status_code == 404, (method, rule, number, response.status_code)
            assert response.get_json() == {"error": "not_found", "message": "未找到"}, (method, rule)


def test_admin_pages_with_ids_that_cannot_exist_are_no_500(app):
    """flask-admin takes ids as ``?id=`` and in list filters: 2**31, 2**63 - 1, past 64 bits, and digits
    ``int()`` refuses or PostgreSQL cannot hold."""
    admin = browser(app, "admin")
    views = [r.rule for r in app.url_map.iter_rules()
             if r.rule.startswith("/admin/") and r.endpoint.rsplit(".", 1)[-1]
             in {"details_view", "edit_view", "password_view", "token_view"}]
    assert {"/admin/users/password/", "/admin/records/details/"} <= set(views)
    for url in views:
        for raw in (*map(str, BIG_IDS), str(PAST_64_BITS), "9" * 40, "²", "٣", ""):
            response = admin.get(f"{url}?id={raw}")
            assert response.status_code < 500, (url, raw, response.status_code)
    lists = [r.rule for r in app.url_map.iter_rules()
             if r.rule.startswith("/admin/") and r.endpoint.endswith(".index_view")]
    seen = 0
    for url in lists:  # list filters, some by unit id: flask-admin's ``flt<n>_<filter>=value``
        filters = set(re.findall(r'"arg":\s*"([^"]+)"', admin.get(url).get_data(as_text=True)))
        seen += len(filters)
        for arg in filters:
            for raw in ("9" * 30, "²", "-1"):
                response = admin.get(f"{url}?flt1_{arg}={raw}")
                assert response.status_code < 500, (url, arg, raw, response.status_code)
    assert seen >= 10


def test_a_real_record_is_still_found(app, client, api):
    """The other side of the 404s above: ids are compared as numbers, not refused wholesale."""
    record = api.post("/api/v1/forms/incident/records", json=GOOD).get_json()
    assert api.get(f"/api/v1/records/{record['id']}").status_code == 200
    assert client.get(f"/records/{record['id']}").status_code == 200


# -- NUL characters -------------------------------------------------------------------------------------


def test_nul_in_the_login_form_is_refused_before_login(anon):
    page = anon.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = anon.post("/login", data={"csrf_token": token, "username": "ad\x00min", "password": "x"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "参数 username 含有不允许的空字符" in text and not ENGLISH.search(text)


@pytest.mark.parametrize("query, name", [
    ("q=%E5%99%AA%00", "q"),                       # search
    ("from.reported_on=2026-05-01%00", "from.reported_on"),  # a list filter
    ("sort=%00", "sort"),
    ("x%00y=1", "xy"),                             # in a parameter's name
])
def test_nul_in_page_parameters_is_a_chinese_400(client, query, name):
    response = client.get(f"/forms/incident/?{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert f"参数 {name} " in text and "空字符" in text and not ENGLISH.search(text)


@pytest.mark.parametrize("url, pointer", [
    ("/api/v1/forms/incident/records?q=%00", "/q"),
    ("/api/v1/forms/incident/records?f.source=visit%00", "/f.source"),
    ("/api/v1/org-units?parent=%00", "/parent"),
    ("/api/v1/org-units?kind=village%00", "/kind"),
    ("/api/v1/vetoes?unit=%00", "/unit"),
])
def test_nul_in_api_parameters_is_a_422_naming_the_parameter(api, url, pointer):
    response = api.get(url)
    assert response.status_code == 422
    assert response.get_json() == {"errors": [{"pointer": pointer, "message": "含有不允许的空字符（U+0000）"}]}


def test_nul_in_json_strings_and_keys_is_a_422_with_pointers(api):
    body = dict(GOOD, summary="夜市\x00噪音", visitor={"name": "王\x00五"}, steps=[{"what": "约谈", "due\x00": "x"}])
    response = api.post("/api/v1/forms/incident/records", json=body)
    assert response.status_code == 422
    assert response.get_json() == {"errors": [
        {"pointer": "/summary", "message": "含有不允许的空字符（U+0000）"},
        {"pointer": "/visitor/name", "message": "含有不允许的空字符（U+0000）"},
        {"pointer": "/steps/0", "message": "字段名含有不允许的空字符（U+0000）"},
    ]}
    assert api.get("/api/v1/forms/incident/records").get_json()["total"] == 0
    note = api.post("/api/v1/inbox/1/close", json={"note": "\x00"})
    assert note.status_code == 422 and note.get_json()["errors"][0]["pointer"] == "/note"


def test_a_lone_surrogate_is_a_422_not_an_encoding_error(api):
    """``"\\ud800"`` is valid JSON but no character: neither database driver can encode it."""
    body = '{"reported_on": "2026-05-01", "source": "visit", "summary": "\\ud800", "people": 3, "x\\udfff": 1}'
    response = api.post("/api/v1/forms/incident/records", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json() == {"errors": [
        {"pointer": "/summary", "message": "含有无效的字符（不成对的 UTF-16 代理项）"},
        {"pointer": "", "message": "字段名含有无效的字符（不成对的 UTF-16 代理项）"},
    ]}


def test_nul_in_a_path_is_not_found(client, api):
    assert client.get("/forms/inci%00dent/").status_code == 404
    assert api.get("/api/v1/forms/inci%00dent/records").get_json()["error"] == "not_found"


def test_record_validation_refuses_what_no_database_stores(app, user):
    """The service is the one write path (imports, CLI, pages): it refuses NUL and NaN by itself."""
    for data, pointer in ((dict(GOOD, summary="a\x00"), "/summary"), (dict(GOOD, people=float("nan")), "/people"),
                          (dict(GOOD, visitor={"name": float("inf")}), "/visitor/name")):
        with pytest.raises(ValidationFailed) as refused:
            service.create_record("incident", data, user)
        assert [e.pointer for e in refused.value.errors] == [pointer]


# -- numbers, depth, simulate, If-Match --------------------------------------------------------------------


def test_numbers_of_thousands_of_digits_are_refused_not_a_500(client, api):
    """``int()`` refuses more than 4,300 digits with a ValueError."""
    digits = "9" * 5000
    refused = api.get(f"/api/v1/vetoes?record_id={digits}")
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["pointer"] == "/record_id"
    assert client.get(f"/registers/vetoes?record_id={digits}").status_code < 500
    form = {"reported_on": "2026-05-01", "source": "visit", "summary": "夜市噪音扰民", "people": digits}
    page = client.post("/forms/incident/new", data={"csrf_token": csrf_token(client), **form})
    assert page.status_code == 422 and "应为整数" in page.get_data(as_text=True)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_a_422_naming_the_field(api, literal):
    body = '{"reported_on": "2026-05-01", "source": "visit", "summary": "夜市噪音", "people": %s}' % literal
    response = api.post("/api/v1/forms/incident/records", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json() == {"errors": [{"pointer": "/people", "message": "应为有限的数字（不接受 NaN、Infinity）"}]}


@pytest.mark.parametrize("depth", [100, 100_000])
def test_a_body_nested_too_deep_is_a_400(api, depth):
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        response = api.post("/api/v1/forms/incident/records", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.get_json() == {"error": "bad_request", "message": "请求体嵌套过深（最多 64 层）"}


@pytest.fixture
def county_api(make_app):  # type: ignore[no-untyped-def]
    """County staff's API client on the shipped configuration (it has the rulesets)."""
    app = make_app(config_dir=PROJECT_ROOT / "config")
    with app.app_context():
        from server.auth.service import create_token, create_user

        create_user("county", PASSWORD, role="county_staff", org_code="139901000000")
        token = create_token("county")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_simulate_refuses_a_record_id_that_is_not_one(county_api):
    for record_id in ("abc", "7", 1.5, True, 0, -3, PAST_64_BITS, None, [1]):
        response = county_api.post("/api/v1/rules/acceptance/simulate", json={"record_id": record_id})
        assert response.status_code == 422, record_id
        assert response.get_json() == {"errors": [{"pointer": "/record_id", "message": "应为正整数（记录 id）"}]}
    for record_id in BIG_IDS:
        missing = county_api.post("/api/v1/rules/acceptance/simulate", json={"record_id": record_id})
        assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_if_match_is_read_or_refused_never_ignored(api):
    record = api.post("/api/v1/forms/incident/records", json=GOOD).get_json()
    url = f"/api/v1/records/{record['id']}"
    for header in ("²", '"²"', "abc", '"1", "2"', "W/", '"1'):
        response = api.put(url, json=GOOD, headers={"If-Match": header})
        assert response.status_code == 400, header
        assert response.get_json()["error"] == "bad_request" and "If-Match" in response.get_json()["message"]
        transition = api.post(f"{url}/transitions/accept", json={}, headers={"If-Match": header})
        assert transition.status_code == 400, header
    assert api.put(url, json=GOOD, headers={"If-Match": "*"}).status_code == 428
    assert api.put(url, json=GOOD, headers={"If-Match": '"99999999999"'}).status_code == 409
    weak = api.put(url, json=dict(GOOD, people=4), headers={"If-Match": 'W/"1"'})
    assert weak.status_code == 200 and weak.headers["ETag"] == '"2"'
    stale = api.put(url, json=dict(GOOD, people=5), headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 2
    assert api.put(url, json=dict(GOOD, people=5), headers={"If-Match": "2"}).status_code == 200


# -- every error in the right language and format ------------------------------------------------------


@pytest.fixture
def probe(app):  # type: ignore[no-untyped-def]
    """Routes raising each status (and one failing after a write), under /api and outside it."""
    def fail(code: int):  # type: ignore[no-untyped-def]
        abort(code)

    def boom():  # type: ignore[no-untyped-def]
        db.session.add(OrgUnit(code="BOOM", name="炸", kind="county", path="/", posts={}))
        db.session.flush()
        raise RuntimeError("boom")

    for prefix in ("/api/v1/_probe", "/_probe"):
        app.add_url_rule(f"{prefix}/<int:code>", f"probe{prefix}", fail, methods=["GET"])
        app.add_url_rule(f"{prefix}/boom", f"boom{prefix}", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 handler answers
    return app


STATUSES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 428, 429, 500)


def test_every_api_error_is_json_in_chinese(probe, api):
    for code in STATUSES:
        response = api.get(f"/api/v1/_probe/{code}")
        assert response.status_code == code and response.is_json, code
        body = response.get_json()
        assert set(body) == {"error", "message"} and re.search(r"[\u4e00-\u9fff]", body["message"]), body
        assert not ENGLISH.search(body["message"])
    assert api.get("/api/v1/_probe/405").get_json()["error"] == "method_not_allowed"
    assert api.get("/api/v1/_probe/413").get_json()["error"] == "request_entity_too_large"


def test_every_page_error_is_a_chinese_page(probe, client):
    for code in STATUSES:
        if code == 401:
            continue  # pages send the login form instead
        response = client.get(f"/_probe/{code}")
        assert response.status_code == code and response.mimetype == "text/html", code
        text = response.get_data(as_text=True)
        assert 'lang="zh-CN"' in text and not ENGLISH.search(text), (code, text)


def test_wrong_method_and_too_large_bodies_answer_in_kind(app, api, client, anon):
    wrong = api.delete("/api/v1/records/1")
    assert wrong.status_code == 405 and wrong.get_json()["error"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"] and "DELETE" in wrong.get_json()["message"]
    page = client.post("/inbox")
    assert page.status_code == 405 and "不接受 POST 请求" in page.get_data(as_text=True)
    assert not ENGLISH.search(page.get_data(as_text=True))

    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        big = api.post("/api/v1/forms/incident/records", data="[" + "1," * 2000 + "1]", content_type="application/json")
        assert big.status_code == 413
        assert big.get_json() == {"error": "request_entity_too_large", "message": "提交的内容过大（上限 1 KB），请减小后重试"}
        form = anon.post("/login", data={"username": "x" * 4000, "password": "y"})
        assert form.status_code == 413 and "提交的内容过大" in form.get_data(as_text=True)
        assert not ENGLISH.search(form.get_data(as_text=True))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit


def test_a_missing_csrf_token_is_explained_in_chinese(client):
    response = client.post("/inbox/1/close", data={"note": "x"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "安全令牌" in text and not ENGLISH.search(text)


def test_a_500_is_logged_rolled_back_and_answered_in_kind(probe, api, client, caplog):
    with caplog.at_level(logging.ERROR):
        response = api.get("/api/v1/_probe/boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal_server_error",
                                   "message": "服务器处理请求时出错，错误已记录。请稍后重试；如仍出错，请联系县综治办管理员"}
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], RuntimeError)]
    assert logged and "/api/v1/_probe/boom" in logged[0].getMessage()
    assert db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "BOOM")) is None  # rolled back

    page = client.get("/_probe/boom")
    assert page.status_code == 500 and "服务器内部错误" in page.get_data(as_text=True)
    assert not ENGLISH.search(page.get_data(as_text=True))
    assert client.get("/").status_code == 200  # the session works again afterwards


# -- caching -------------------------------------------------------------------------------------------


def test_no_store_on_pages_api_and_exports_not_on_static_assets(app, client, api, anon):
    record = api.post("/api/v1/forms/incident/records", json=GOOD).get_json()
    for response in (client.get(f"/records/{record['id']}"), client.get("/forms/incident/"),
                     client.get(f"/records/{record['id']}/history"), client.get("/forms/incident/export.xlsx"),
                     api.get(f"/api/v1/records/{record['id']}"), api.get("/api/v1/forms/incident/records"),
                     api.get("/api/v1/records/999"), anon.get("/login")):
        assert response.status_code in (200, 404)
        assert "no-store" in response.headers.get("Cache-Control", ""), response.request.path
    for asset in ("/static/app.css", "/vendor/bootstrap/bootstrap4/css/bootstrap.min.css"):
        response = anon.get(asset)
        assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")


def test_http_exceptions_raised_as_redirects_pass_through(client):
    """Werkzeug raises the trailing-slash redirect as an exception; it must stay a redirect."""
    assert client.get("/forms/incident").status_code == 308

"""The JSON API under /api/v1 (runs on SQLite and, in CI, on PostgreSQL)."""
from __future__ import annotations

from tests.test_records import GOOD


def test_health_needs_no_user_and_names_the_config_version(anon):
    body = anon.get("/api/v1/health").get_json()
    assert body["status"] == "ok" and body["config_version"].startswith("1-")


def test_everything_else_needs_a_token(anon, client):
    assert anon.get("/api/v1/forms").status_code == 401
    # a browser session is not enough: the API takes bearer tokens only (no CSRF surface)
    assert client.get("/api/v1/forms").status_code == 401
    bad = anon.get("/api/v1/forms", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_forms_and_form(api):
    forms = api.get("/api/v1/forms").get_json()
    assert forms == [{"id": "incident", "title": "测试登记簿", "version": 1},
                     {"id": "transfer", "title": "测试转办簿", "version": 1}]
    form = api.get("/api/v1/forms/incident").get_json()
    assert form["schema"]["properties"]["source"]["title"] == "来源"
    assert api.get("/api/v1/forms/nope").status_code == 404


def test_create_get_list_update_history(api):
    created = api.post("/api/v1/forms/incident/records", json=GOOD)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert {"id", "number", "form_id", "form_version", "data", "version", "created_at"} <= set(body)
    assert body["data"] == GOOD and body["version"] == 1 and body["form_id"] == "incident"
    record_id = body["id"]
    assert api.get(f"/api/v1/records/{record_id}").get_json()["number"] == body["number"]

    listed = api.get("/api/v1/forms/incident/records?q=噪音").get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == record_id
    assert api.get("/api/v1/forms/incident/records?q=没有的词").get_json()["total"] == 0

    put = api.put(f"/api/v1/records/{record_id}", json=dict(GOOD, people=7), headers={"If-Match": "1"})
    assert put.status_code == 200 and put.get_json()["version"] == 2
    stale = api.put(f"/api/v1/records/{record_id}", json=dict(GOOD, people=8), headers={"If-Match": "1"})
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 2
    assert api.get(f"/api/v1/records/{record_id}").get_json()["data"]["people"] == 7

    history = api.get(f"/api/v1/records/{record_id}/history").get_json()
    assert [h["action"] for h in history] == ["create", "update"]
    assert history[1]["diff"] == [{"op": "replace", "path": "/people", "old": 3, "new": 7}]


def test_invalid_body_gets_422_with_pointers(api):
    bad = dict(GOOD, people="many", extra="x")
    response = api.post("/api/v1/forms/incident/records", json=bad)
    assert response.status_code == 422
    assert response.get_json() == {"errors": [
        {"pointer": "/people", "message": "应为整数"},
        {"pointer": "/extra", "message": "不允许的字段"},
    ]}
    assert api.post("/api/v1/forms/incident/records", data="not json",
                    content_type="application/json").status_code == 422
    assert api.post("/api/v1/forms/incident/records", json=[1, 2]).status_code == 422
    assert api.get("/api/v1/forms/incident/records").get_json()["total"] == 0


def test_put_needs_if_match_and_valid_data(api):
    record_id = api.post("/api/v1/forms/incident/records", json=GOOD).get_json()["id"]
    assert api.put(f"/api/v1/records/{record_id}", json=GOOD).status_code == 428
    assert api.put(f"/api/v1/records/{record_id}", json={"source": "nope"}, headers={"If-Match": "1"}).status_code == 422
    assert api.put("/api/v1/records/999999", json=GOOD, headers={"If-Match": "1"}).status_code == 404
    assert api.get("/api/v1/records/999999/history").status_code == 404


def test_paging(api):
    for n in range(5):
        assert api.post("/api/v1/forms/incident/records", json=dict(GOOD, people=n + 1)).status_code == 201
    page = api.get("/api/v1/forms/incident/records?page=2&per_page=2&sort=people").get_json()
    assert page["total"] == 5 and [i["data"]["people"] for i in page["items"]] == [3, 4]


def test_disabled_user_token_stops_working(app, api, user):
    from server.extensions import db

    assert api.get("/api/v1/forms").status_code == 200
    user.is_enabled = False
    db.session.commit()
    assert api.get("/api/v1/forms").status_code == 401

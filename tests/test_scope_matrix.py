"""Scope on every record path: each role × each path × an in-scope and an out-of-scope record.

Out-of-scope records must answer exactly like records that do not exist (404, absent from lists,
searches, exports and pickers); in-scope records are visible; updates also need the form's update
permission (403 when the record is visible but the role may not change it).
"""
from __future__ import annotations

import io

import openpyxl
import pytest

from server.auth.service import create_token
from server.extensions import db
from server.org.service import unit_by_code
from server.records import service
from tests.conftest import login_session, user_named

BASE = {"reported_on": "2026-05-01", "source": "visit", "visitor": {"name": "王五"}}

# record key -> (creator, unique search word, unit the record is routed to)
RECORDS = {
    "town_a": ("clerk", "甲镇夜市", None),
    "town_b": ("clerk_b", "乙镇码头", None),
    "officer": ("officer", "信息员报告", None),
    "officer2": ("officer2", "另一信息员", None),
    "to_justice": ("county", "转司法局", "SF"),
    "to_police": ("county", "转派出所", "GA-PCS01"),
}

# user -> (a record in scope, a record out of scope, may update the in-scope one)
MATRIX = {
    "county": ("town_b", None, True),
    "admin": ("to_police", None, False),
    "leader": ("town_a", None, False),
    "clerk": ("officer", "town_b", True),
    "clerk_b": ("town_b", "town_a", True),
    "leader_a": ("town_a", "to_justice", False),
    "police": ("to_police", "town_a", True),
    "justice": ("to_justice", "to_police", True),
    "officer": ("officer", "officer2", False),
}

PATHS = ["list", "search", "detail", "history", "export", "api_list", "api_detail", "api_update", "picker",
         "reference"]


@pytest.fixture
def records(app):  # type: ignore[no-untyped-def]
    made = {}
    for key, (creator, word, routed_to) in RECORDS.items():
        record = service.create_record("incident", dict(BASE, summary=word), user_named(creator))
        if routed_to:
            service.route_record(record, unit_by_code(routed_to), "test")
        made[key] = record
    return made


def _web(app, username):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
    return client


def _api(app, username):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token(username)}"
    return client


def visible(app, username: str, record, word: str, path: str):  # type: ignore[no-untyped-def]
    """What ``path`` reveals of ``record`` to ``username``: True (visible), False (hidden), or a status."""
    web, number = _web(app, username), record.number
    if path == "list":
        return number in web.get("/forms/incident/?per_page=100").get_data(as_text=True)
    if path == "search":
        return number in web.get(f"/forms/incident/?q={word}").get_data(as_text=True)
    if path in ("detail", "history"):
        suffix = "" if path == "detail" else "/history"
        status = web.get(f"/records/{record.id}{suffix}").status_code
        return {200: True, 404: False}.get(status, status)
    if path == "export":
        book = openpyxl.load_workbook(io.BytesIO(web.get("/forms/incident/export.xlsx").data))
        return number in [row[0] for row in book.active.iter_rows(values_only=True)]
    if path == "picker":
        return number in [i["number"] for i in web.get(f"/forms/incident/lookup?q={word}").get_json()]
    if path == "reference":
        response = _api(app, username).post("/api/v1/forms/transfer/records", json={"incident": number})
        return {201: True, 422: False, 403: "forbidden"}.get(response.status_code, response.status_code)
    api = _api(app, username)
    if path == "api_list":
        return record.id in [i["id"] for i in api.get("/api/v1/forms/incident/records?per_page=100").get_json()["items"]]
    if path == "api_detail":
        status = api.get(f"/api/v1/records/{record.id}").status_code
        return {200: True, 404: False}.get(status, status)
    current = api.get(f"/api/v1/records/{record.id}")
    version = current.get_json()["version"] if current.status_code == 200 else 1
    body = dict(BASE, summary=word, people=7)
    status = api.put(f"/api/v1/records/{record.id}", json=body, headers={"If-Match": str(version)}).status_code
    return {200: True, 404: False, 403: "forbidden"}.get(status, status)


def _expected(path: str, in_scope: bool, may_update: bool, username: str):  # type: ignore[no-untyped-def]
    if path == "reference" and username not in ("county", "clerk", "clerk_b"):
        return "forbidden"  # the transfer form (default permissions) is filled by county and township staff
    if not in_scope:
        return False
    if path == "api_update" and not may_update:
        return "forbidden"
    return True


@pytest.mark.parametrize("username", list(MATRIX))
def test_every_path_obeys_scope(app, records, username):
    in_key, out_key, may_update = MATRIX[username]
    cases = [(in_key, True)] + ([(out_key, False)] if out_key else [])
    failures = []
    for key, in_scope in cases:
        for path in PATHS:
            got = visible(app, username, records[key], RECORDS[key][1], path)
            want = _expected(path, in_scope, may_update, username)
            if got != want:
                failures.append(f"{username} {path} {key}: got {got!r}, want {want!r}")
    assert failures == []


def test_out_of_scope_answers_like_a_missing_record(app, records):
    web = _web(app, "clerk_b")
    hidden, missing = web.get(f"/records/{records['town_a'].id}"), web.get("/records/987654")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()


def test_officer_may_report_but_not_read_other_forms(app, records):
    web = _web(app, "officer")
    assert web.get("/forms/transfer/").status_code == 403
    assert web.get("/forms/incident/new").status_code == 200
    html = web.get("/").get_data(as_text=True)
    assert "测试登记簿" in html and "测试转办簿" not in html


def test_leader_is_read_only(app, records):
    web = _web(app, "leader")
    assert web.get("/forms/incident/new").status_code == 403
    assert web.get(f"/records/{records['town_a'].id}/edit").status_code == 403
    assert _api(app, "leader").post("/api/v1/forms/incident/records", json=dict(BASE, summary="x")).status_code == 403


def test_township_home_counts_only_its_records(app, records):
    html = _web(app, "clerk_b").get("/").get_data(as_text=True)
    assert "共 1 条" in html


def test_org_field_routes_the_record_to_its_unit(app, records):
    transfer = _api(app, "clerk").post("/api/v1/forms/transfer/records",
                                       json={"incident": records["town_a"].number, "unit": "SF"})
    assert transfer.status_code == 201, transfer.get_json()
    record_id = transfer.get_json()["id"]
    assert _api(app, "justice").get(f"/api/v1/records/{record_id}").status_code == 200
    assert _api(app, "police").get(f"/api/v1/records/{record_id}").status_code == 404
    assert _api(app, "clerk_b").get(f"/api/v1/records/{record_id}").status_code == 404
    html = _web(app, "justice").get("/forms/transfer/").get_data(as_text=True)
    assert "县司法局" in html  # the list shows the unit's name, not its code
    page = _web(app, "clerk").get("/forms/transfer/new").get_data(as_text=True)
    assert '<option value="GA-PCS01"' in page and "城关派出所" in page and '"999901001000"' not in page
    bad = _api(app, "clerk").post("/api/v1/forms/transfer/records",
                                  json={"incident": records["town_a"].number, "unit": "999901001000"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["pointer"] == "/unit"


def test_routed_unit_can_save_despite_a_reference_it_cannot_see(app, records):
    created = _api(app, "clerk").post("/api/v1/forms/transfer/records",
                                      json={"incident": records["town_a"].number, "unit": "SF"}).get_json()
    justice = _api(app, "justice")
    assert justice.get(f"/api/v1/records/{records['town_a'].id}").status_code == 404
    saved = justice.put(f"/api/v1/records/{created['id']}",
                        json={"incident": records["town_a"].number, "unit": "SF", "note": "已受理"},
                        headers={"If-Match": str(created["version"])})
    assert saved.status_code == 200, saved.get_json()
    changed = justice.put(f"/api/v1/records/{created['id']}",
                          json={"incident": records["town_b"].number, "unit": "SF", "note": "已受理"},
                          headers={"If-Match": "2"})
    assert changed.status_code == 422  # a new reference must still be one the user may refer to


def test_correcting_a_routing_field_withdraws_the_record(app, records):
    created = _api(app, "clerk").post("/api/v1/forms/transfer/records",
                                      json={"incident": records["town_a"].number, "unit": "GA-PCS01"}).get_json()
    assert _api(app, "police").get(f"/api/v1/records/{created['id']}").status_code == 200
    fixed = _api(app, "clerk").put(f"/api/v1/records/{created['id']}",
                                   json={"incident": records["town_a"].number, "unit": "SF"},
                                   headers={"If-Match": "1"})
    assert fixed.status_code == 200
    assert _api(app, "police").get(f"/api/v1/records/{created['id']}").status_code == 404
    assert _api(app, "justice").get(f"/api/v1/records/{created['id']}").status_code == 200


def test_officer_may_refer_to_records_of_their_own_village(app, records):
    from server.auth.service import create_user

    create_user("villager", "Jiangbei-qiao-88", role="township_staff", org_code="999901001201")
    roster_like = service.create_record("incident", dict(BASE, summary="村里的记录"), user_named("villager"))
    officer = _api(app, "officer")
    ok = officer.post("/api/v1/forms/incident/records", json=dict(BASE, summary="x"))
    assert ok.status_code == 201
    from server.records.scope import reference_scope
    from server.records.models import Record
    import sqlalchemy as sa

    visible = db.session.scalars(sa.select(Record.number).where(reference_scope(user_named("officer")))).all()
    assert roster_like.number in visible and records["town_b"].number not in visible

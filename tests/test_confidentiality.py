"""要求保密 on every path: role × path × a confidential and an open record.

The form (``tests/configs/confidential/forms/report.json``) protects the reporter's name and phone while
``/reporter/confidential`` is true and the information officer's identity always; county staff, the
receiving centre (the township that registered the record) and the officer who registered it may see
them. The 派出所 and the 司法局 the matter is routed to, the leaders and the administrator read "（保密）"
on the API (record, list, history), the pages (detail, list, history, edit, picker), the Excel export,
in search and in the data documents are made from. Saves by a reader who cannot see the values keep them.
"""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from server.auth.service import create_token
from server.errors import ConfigInvalid
from server.extensions import db
from server.org.service import unit_by_code
from server.records import service
from server.records.confidential import PLACEHOLDER
from server.records.models import AuditEntry, Record
from server.specs.loader import load_config
from tests.conftest import _seed_org_and_users, csrf_token, login_session, user_named
from tests.test_flow_intake import FOLLOW_UP_OK, PROBLEM, at, clients, config_copy, get, go, register  # noqa: F401 (fixtures)

CONFIG = Path(__file__).parent / "configs" / "confidential"
SUMMARY = "东街村出租屋内聚众赌博"

# record key -> (creator, reporter, informant)
RECORDS: dict[str, tuple[str, dict[str, Any], str]] = {
    "secret": ("clerk", {"name": "赵保密", "phone": "13900000001", "confidential": True}, "孙信息员"),
    "open": ("clerk", {"name": "钱公开", "phone": "13900000002", "confidential": False}, "李信息员"),
    "own": ("officer", {"name": "周自报", "phone": "13900000003", "confidential": True}, "吴本人"),
}
# user -> (the records the user reads, whether they may see the protected values of those records)
READERS = {
    "county": (("secret", "open", "own"), True),      # county staff
    "clerk": (("secret", "open", "own"), True),       # the receiving centre (城关镇; the officer's village is beneath it)
    "officer": (("own",), True),                      # the information officer who registered it
    "police": (("secret", "open", "own"), False),     # the 派出所 the matter is routed to
    "justice": (("secret", "open"), False),           # the 司法局 it is also routed to
    "leader": (("secret", "open", "own"), False),     # county leader (read-only)
    "leader_a": (("secret", "open", "own"), False),   # the township's leader
    "admin": (("secret", "open", "own"), False),      # county_admin: configures, does not handle matters
}
LIST_COLUMNS_ONLY = {"page_list", "picker"}  # they show the list columns: the name and the informant, not the phone
PATHS = ["api_record", "api_list", "api_history", "page_detail", "page_list", "page_history", "page_edit",
         "picker", "export", "search", "documents"]


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    app = make_app(config_dir=CONFIG)
    with app.app_context():
        _seed_org_and_users()
        app.extensions["registry"].reload_org()
        yield app


@pytest.fixture
def records(app) -> dict[str, Record]:  # type: ignore[no-untyped-def]
    made = {}
    for key, (creator, reporter, informant) in RECORDS.items():
        data = {"summary": f"{SUMMARY}（{key}）", "reporter": reporter, "informant": informant, "route_unit": "GA-PCS01"}
        record = service.create_record("report", data, user_named(creator))
        if key != "own":
            service.route_record(record, unit_by_code("SF"), "test")
        made[key] = record
    # a second version, so that history holds an update too
    secret = made["secret"]
    changed = dict(secret.data, reporter=dict(secret.data["reporter"], phone="13900000009"))
    made["secret"] = service.update_record(secret.id, changed, user_named("clerk"), secret.version)
    return made


def _web(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named(username))
    return client


def _api(app, username: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token(username)}"
    return client


def _ok(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _text(app, username: str, record: Record, path: str) -> str | None:
    """What ``path`` shows ``username`` of ``record`` (None: the path is not open to this role)."""
    web, api = _web(app, username), _api(app, username)
    if path == "api_record":
        return json.dumps(api.get(f"/api/v1/records/{record.id}").get_json()["data"], ensure_ascii=False)
    if path == "api_list":
        items = api.get("/api/v1/forms/report/records?per_page=100").get_json()["items"]
        return json.dumps([i for i in items if i["id"] == record.id], ensure_ascii=False)
    if path == "api_history":
        return _ok(api.get(f"/api/v1/records/{record.id}/history"))
    if path == "page_detail":
        return _ok(web.get(f"/records/{record.id}"))
    if path == "page_list":  # the names differ from record to record, so the whole page will do
        return _ok(web.get("/forms/report/?per_page=100"))
    if path == "page_history":
        return _ok(web.get(f"/records/{record.id}/history"))
    if path == "page_edit":
        response = web.get(f"/records/{record.id}/edit")
        return None if response.status_code == 403 else _ok(response)
    if path == "picker":
        items = web.get(f"/forms/report/lookup?q={record.number}").get_json()
        return json.dumps(items, ensure_ascii=False)
    if path == "export":
        book = openpyxl.load_workbook(io.BytesIO(web.get("/forms/report/export.xlsx").data))
        rows = [row for row in book.active.iter_rows(values_only=True) if row[0] == record.number]
        return json.dumps(rows, ensure_ascii=False, default=str)
    if path == "documents":
        from server.documents.service import prepare
        from server.errors import NotAllowed

        try:
            return json.dumps(prepare("report_notice", user_named(username), record_id=record.id).data, ensure_ascii=False)
        except NotAllowed:
            return None
    raise AssertionError(path)


def _found(app, username: str, record: Record, word: str) -> bool:
    """Whether a search for ``word`` finds the record, on the page and in the API (which must agree)."""
    page = record.number in _ok(_web(app, username).get(f"/forms/report/?q={word}"))
    items = _api(app, username).get(f"/api/v1/forms/report/records?q={word}").get_json()["items"]
    api = record.id in [i["id"] for i in items]
    assert page == api, (username, word)
    return page


def _cell(app, username: str, key: str, record: Record, path: str, sees: bool) -> list[str]:
    """Failures of one cell: each protected value must appear exactly when the reader may see it."""
    _creator, reporter, informant = RECORDS[key]
    reporter_open = sees or not reporter["confidential"]
    phone = record.data["reporter"]["phone"]
    expected = {reporter["name"]: reporter_open, phone: reporter_open, informant: sees}
    failures = []
    if path == "search":
        for word, shown in expected.items():
            if _found(app, username, record, word) != shown:
                failures.append(f"{username} search {key} {word}: found={not shown}")
        return failures
    text = _text(app, username, record, path)
    if text is None:
        return []
    if path == "documents":  # documents are read by every unit that sees the record: masked whoever makes them
        expected = {reporter["name"]: not reporter["confidential"], phone: not reporter["confidential"], informant: False}
    if path in ("api_history", "page_history"):
        expected[reporter["phone"]] = reporter_open  # the phone before the update, in the diffs
    if path in LIST_COLUMNS_ONLY:
        expected = {v: shown for v, shown in expected.items() if v not in (phone, reporter["phone"])}
    for value, shown in expected.items():
        if (value in text) != shown:
            failures.append(f"{username} {path} {key} {value}: shown={not shown}")
    if not all(expected.values()) and PLACEHOLDER not in text:
        failures.append(f"{username} {path} {key}: no {PLACEHOLDER}")
    return failures


@pytest.mark.parametrize("username", list(READERS))
def test_every_path_hides_protected_values_from_readers_who_may_not_see_them(app, records, username):
    keys, sees = READERS[username]
    failures = []
    for key in keys:
        for path in PATHS:
            failures += _cell(app, username, key, records[key], path, sees)
    assert failures == []


def test_the_matrix_would_notice_a_leak(app, records):
    """The cells can fail: a reader granted sight sees what the others are refused."""
    assert _cell(app, "police", "secret", records["secret"], "api_record", sees=True) != []
    assert _cell(app, "county", "secret", records["secret"], "api_record", sees=False) != []


def test_the_api_names_the_masked_fields(app, records):
    body = _api(app, "police").get(f"/api/v1/records/{records['secret'].id}").get_json()
    assert body["masked"] == ["/reporter/name", "/reporter/phone", "/informant"]
    assert body["data"]["reporter"] == {"name": PLACEHOLDER, "phone": PLACEHOLDER, "confidential": True}
    assert _api(app, "county").get(f"/api/v1/records/{records['secret'].id}").get_json()["masked"] == []
    opened = _api(app, "police").get(f"/api/v1/records/{records['open'].id}").get_json()
    assert opened["masked"] == ["/informant"] and opened["data"]["reporter"]["name"] == "钱公开"


def test_history_stays_masked_after_the_reporter_asked_for_it_later(app, records):
    """Diffs from before the reporter asked for confidentiality are masked too."""
    record = records["open"]
    asked = dict(record.data, reporter=dict(record.data["reporter"], confidential=True))
    service.update_record(record.id, asked, user_named("clerk"), record.version)
    history = _ok(_api(app, "police").get(f"/api/v1/records/{record.id}/history"))
    assert "钱公开" not in history and "13900000002" not in history and PLACEHOLDER in history
    assert "钱公开" in _ok(_api(app, "county").get(f"/api/v1/records/{record.id}/history"))


def test_an_editor_who_cannot_see_keeps_the_stored_values(app, records):
    record = records["secret"]
    police = _api(app, "police")
    shown = police.get(f"/api/v1/records/{record.id}").get_json()
    body = dict(shown["data"], summary="已联合清查")
    body["reporter"] = dict(body["reporter"], confidential=False)  # may not lift the protection either
    saved = police.put(f"/api/v1/records/{record.id}", json=body, headers={"If-Match": str(shown["version"])})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["data"]["reporter"]["name"] == PLACEHOLDER
    db.session.expire_all()
    stored = db.session.get(Record, record.id).data
    assert stored["summary"] == "已联合清查" and stored["informant"] == "孙信息员"
    assert stored["reporter"] == {"name": "赵保密", "phone": "13900000009", "confidential": True}
    left_out = {k: v for k, v in stored.items() if k not in ("reporter", "informant")}
    again = police.put(f"/api/v1/records/{record.id}", json=dict(left_out, summary="再次修改"),
                       headers={"If-Match": str(saved.get_json()["version"])})
    assert again.status_code == 200, again.get_json()
    db.session.expire_all()
    assert db.session.get(Record, record.id).data["reporter"]["name"] == "赵保密"


def test_a_page_edit_by_an_editor_who_cannot_see_keeps_the_stored_values(app, records):
    record = records["secret"]
    web = _web(app, "police")
    form = _ok(web.get(f"/records/{record.id}/edit"))
    assert "赵保密" not in form and f'value="{PLACEHOLDER}"' in form
    posted = {"csrf_token": csrf_token(web), "_version": str(record.version), "summary": "派出所已处置",
              "reporter/name": PLACEHOLDER, "reporter/phone": PLACEHOLDER, "reporter/confidential": "y",
              "informant": PLACEHOLDER, "route_unit": "GA-PCS01"}
    assert web.post(f"/records/{record.id}/edit", data=posted).status_code == 302
    db.session.expire_all()
    stored = db.session.get(Record, record.id).data
    assert stored["summary"] == "派出所已处置" and stored["reporter"]["name"] == "赵保密"
    assert stored["informant"] == "孙信息员"


def test_a_reader_who_may_see_changes_the_values(app, records):
    record = records["secret"]
    changed = dict(record.data, reporter=dict(record.data["reporter"], name="赵更正"))
    service.update_record(record.id, changed, user_named("clerk"), record.version)
    db.session.expire_all()
    assert db.session.get(Record, record.id).data["reporter"]["name"] == "赵更正"


def test_the_admin_views_mask_what_the_administrator_may_not_see(app, records):
    """county_admin is not among the readers: the admin's record view and audit log mask the values too."""
    admin, record = _web(app, "admin"), records["secret"]
    details = _ok(admin.get(f"/admin/records/details/?id={record.id}"))
    assert "赵保密" not in details and "孙信息员" not in details and PLACEHOLDER in details
    assert "钱公开" in _ok(admin.get(f"/admin/records/details/?id={records['open'].id}"))
    audit = db.session.scalars(db.select(AuditEntry).where(AuditEntry.object_id == record.id,
                                                          AuditEntry.action == "update")).one()
    shown = _ok(admin.get(f"/admin/audit/details/?id={audit.id}"))
    assert "13900000009" not in shown and "13900000001" not in shown and PLACEHOLDER in shown


def test_search_texts_keep_protected_values_apart(app, records):
    secret, opened = records["secret"], records["open"]
    assert "赵保密" not in secret.search_text and "赵保密" in secret.search_protected
    assert "孙信息员" not in secret.search_text and "13900000009" in secret.search_protected
    assert "钱公开" in opened.search_text and "李信息员" in opened.search_protected
    assert SUMMARY in secret.search_text  # the rest stays searchable for everyone


def test_protections_added_later_redo_the_search_texts(make_app, tmp_path):
    """A form that gains x-confidential on a publish: records saved before stop matching hidden readers."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    form_file = config / "forms" / "report.json"
    protected = form_file.read_text(encoding="utf-8")
    plain = json.loads(protected)
    del plain["x-confidential"]
    form_file.write_text(json.dumps(plain, ensure_ascii=False), encoding="utf-8")
    app = make_app(config_dir=config)
    with app.app_context():
        _seed_org_and_users()
        app.extensions["registry"].reload_org()
        data = {"summary": SUMMARY, "reporter": {"name": "赵保密", "confidential": True}, "route_unit": "GA-PCS01"}
        record = service.create_record("report", data, user_named("clerk"))
        assert "赵保密" in record.search_text
        form_file.write_text(protected, encoding="utf-8")
        app.extensions["registry"].publish_files("test")
        db.session.expire_all()
        assert _found(app, "county", record, "赵保密") and not _found(app, "police", record, "赵保密")
        assert "赵保密" not in db.session.get(Record, record.id).search_text


def test_config_check_refuses_a_protection_naming_no_field(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config, ignore=shutil.ignore_patterns("documents"))
    form_file = config / "forms" / "report.json"
    form_file.write_text(form_file.read_text(encoding="utf-8").replace('"/reporter/phone"', '"/reporter/mobile"'),
                         encoding="utf-8")
    with pytest.raises(ConfigInvalid) as caught:
        load_config(config)
    line = next(n for n, text in enumerate(form_file.read_text(encoding="utf-8").splitlines(), 1) if "/reporter/mobile" in text)
    column = form_file.read_text(encoding="utf-8").splitlines()[line - 1].index('"/reporter/mobile"') + 1
    assert [str(e) for e in caught.value.errors] == [
        f'forms/report.json:{line}:{column}: /x-confidential/0/fields/1: x-confidential 中的字段 "/reporter/mobile" '
        "不存在（应指向本表单的字段，经由对象字段，不经过数组）"]


# -- the shipped configuration: 群众反映治安问题登记簿 through the intake loop, 信息员 reports ---------------------

ROSTER = {"name": "张海涛", "gender": "male", "id_number": "130121198203114239", "phone": "15932112345",
          "quota_category": "village", "appointed_date": "2026-05-01", "status": "active"}


def test_a_confidential_reporter_stays_hidden_from_the_station_through_the_loop(clients):
    """Routed to the 派出所: it handles the matter without ever reading the reporter; the rules' "why"
    (whose facts name the reporter) is scrubbed for it; the 跟踪回访 record the loop writes stays protected."""
    confidential = dict(PROBLEM, reporter={"name": "李秀英", "phone": "13931120002", "confidential": True})
    with at("2026-11-02"):
        pid = register(clients["chengguan"], "security_problem", confidential)["id"]
        go(clients["chengguan"], pid, "route", {"route_unit": "GA-PCS01"})
        station = get(clients["pcs01"], pid)
        assert station["data"]["reporter"] == {"name": PLACEHOLDER, "phone": PLACEHOLDER, "confidential": True}
        why = clients["pcs01"].get(f"/api/v1/records/{pid}/decisions").get_json()
        assert why and "李秀英" not in json.dumps(why, ensure_ascii=False)
        assert "李秀英" in json.dumps(clients["chengguan"].get(f"/api/v1/records/{pid}/decisions").get_json(),
                                   ensure_ascii=False)  # the facts hold the reporter (回访对象)
        page = clients["pcs01"].get(f"/api/v1/forms/security_problem/records?q=李秀英").get_json()
        assert page["items"] == []
        go(clients["pcs01"], pid, "report_result", {"measures": "联合清查", "result": "查处赌博人员 5 人",
                                                    "completed_date": "2026-11-02"})
        go(clients["chengguan"], pid, "approve")
        go(clients["chengguan"], pid, "follow_up", FOLLOW_UP_OK)
    assert get(clients["chengguan"], pid)["data"]["reporter"]["name"] == "李秀英"  # kept through the station's step
    admin = clients.app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {clients.run(_county_admin_token)}"
    simulated = admin.post("/api/v1/rules/routing/simulate", json={"record_id": pid})
    assert simulated.status_code == 200 and "李秀英" not in simulated.get_data(as_text=True)
    county = clients["county"].post("/api/v1/rules/routing/simulate", json={"record_id": pid})
    assert "李秀英" in county.get_data(as_text=True)
    follow_ups = clients["leader"].get("/api/v1/forms/follow_up/records").get_json()["items"]
    (follow_up,) = follow_ups
    assert follow_up["data"]["confidential"] is True
    assert (follow_up["data"]["visitee"], follow_up["data"]["phone"]) == (PLACEHOLDER, PLACEHOLDER)
    assert get(clients["chengguan"], follow_up["id"])["data"]["visitee"] == "李秀英"


def test_an_information_officers_identity_is_hidden_from_leaders(clients):
    with at("2026-11-02"):
        roster = register(clients["chengguan"], "officer_roster", dict(
            ROSTER, quota_category="community", community_code="139901001001", estate_name="东风小区"))
        report = {"officer": roster["number"], "reported_at": "2026-11-02T09:00", "report_method": "phone",
                  "info_category": "crime_clue", "content": "东风小区地下室夜间聚赌"}
        rid = register(clients["chengguan"], "officer_report", report)["id"]
    assert get(clients["chengguan"], rid)["data"]["officer"] == roster["number"]
    assert get(clients["county"], rid)["data"]["officer"] == roster["number"]
    assert get(clients["leader"], rid)["data"]["officer"] == PLACEHOLDER
    listed = clients["leader"].get(f"/api/v1/forms/officer_report/records?q={roster['number']}").get_json()
    assert listed["items"] == []


def _county_admin_token() -> str:
    from server.auth.service import create_user

    create_user("admin", "Jiangbei-qiao-88", role="county_admin", org_code="139901000000", display_name="管理员")
    return create_token("admin")

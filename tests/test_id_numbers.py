"""身份证号 (issue 12 item 8): a wrong check digit or birth date is refused with a Chinese field error,
and the number reads ``130121********4239`` on every read path (API record, list, history, search,
pages, Excel export) for everyone but the readers the form's ``x-ui`` names — in the shipped forms the
county office and the township centre that registered the record, not leaders, routed departments or
other townships. A field inside a table (the parties of a 矛盾纠纷) is masked row by row."""
from __future__ import annotations

import io
import json

import openpyxl
import pytest

from server.forms.formats import id_check_char, is_id_number
from tests.conftest import login_session, user_named
from tests.test_flow_intake import VISIT, at, clients, config_copy, get, go, register  # noqa: F401 (fixtures)

ID = "130121198203114239"
MASKED = "130121********4239"


@pytest.mark.parametrize("value, ok", [
    ("11010519491231002X", True), ("11010519491231002x", True), (ID, True),
    ("130121198203114233", False),   # wrong check digit (accepted before: only the pattern was checked)
    ("130121198202304237", False),   # 30 February
    ("13012121000101423X", False),   # born in the future
    ("13012119820311423", False),    # 17 characters
])
def test_the_check_digit_and_birth_date_are_checked(value: str, ok: bool) -> None:
    assert is_id_number(value) is ok


def test_check_characters_of_iso_7064():
    assert id_check_char("11010519491231002") == "X" and id_check_char("13012119820311423") == "9"


def test_a_wrong_check_digit_is_a_chinese_field_error(clients):
    visit = dict(VISIT, visitor=dict(VISIT["visitor"], id_number="130121198203114233"))
    response = clients["chengguan"].post("/api/v1/forms/visit_register/records", json=visit)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"pointer": "/visitor/id_number", "message": "身份证号有误：出生日期不存在或最后一位校验码不符，请核对"}]


def _web(clients, username: str):  # type: ignore[no-untyped-def]
    client = clients.app.test_client()
    session_id = clients.run(lambda: login_session(user_named(username)))
    with client.session_transaction() as session:
        session["_user_id"] = session_id
    return client


def _export(clients, username: str, form: str) -> str:
    response = _web(clients, username).get(f"/forms/{form}/export.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return json.dumps([[c.value for c in row] for row in sheet.iter_rows()], ensure_ascii=False)


def test_the_number_is_masked_for_all_but_the_named_readers_on_every_path(clients):
    visit = dict(VISIT, visitor=dict(VISIT["visitor"], id_number=ID))
    with at("2026-11-02"):
        rid = register(clients["chengguan"], data=visit)["id"]
        go(clients["chengguan"], rid, "route", {"handling_unit": "GA-PCS01"})
        changed = get(clients["chengguan"], rid)
        fixed = dict(changed["data"], visitor=dict(changed["data"]["visitor"], id_number="11010519491231002X"))
        updated = clients["chengguan"].put(f"/api/v1/records/{rid}", json=fixed, headers={"If-Match": str(changed["version"])})
        assert updated.status_code == 200, updated.get_json()
        clients["chengguan"].put(f"/api/v1/records/{rid}", json=changed["data"] | {"visitor": visit["visitor"]},
                                 headers={"If-Match": str(updated.get_json()["version"])})
    for reader in ("county", "chengguan"):  # the county office, the centre that registered it
        assert get(clients[reader], rid)["data"]["visitor"]["id_number"] == ID
        assert ID in _web(clients, reader).get(f"/records/{rid}").get_data(as_text=True)
        found = clients[reader].get(f"/api/v1/forms/visit_register/records?q={ID}").get_json()["items"]
        assert [r["id"] for r in found] == [rid]
    for reader in ("leader", "pcs01"):  # read-only leaders; the 派出所 the matter is routed to
        record = get(clients[reader], rid)
        assert record["data"]["visitor"]["id_number"] == MASKED and "/visitor/id_number" in record["masked"]
        assert record["data"]["visitor"]["name"] == "王建华"  # only the number is personal data here
        listed = clients[reader].get("/api/v1/forms/visit_register/records").get_json()["items"]
        assert [r["data"]["visitor"]["id_number"] for r in listed] == [MASKED]
        history = json.dumps(clients[reader].get(f"/api/v1/records/{rid}/history").get_json(), ensure_ascii=False)
        assert ID not in history and "11010519491231002X" not in history and MASKED in history
        assert clients[reader].get(f"/api/v1/forms/visit_register/records?q={ID}").get_json()["items"] == []
        assert clients[reader].get("/api/v1/forms/visit_register/records?q=4239").get_json()["items"] == []
        web = _web(clients, reader)
        for page in (f"/records/{rid}", f"/records/{rid}/history", "/forms/visit_register/records"):
            text = web.get(page).get_data(as_text=True)
            assert ID not in text and "11010519491231002X" not in text, page
        assert MASKED in web.get(f"/records/{rid}").get_data(as_text=True)
        exported = _export(clients, reader, "visit_register")
        assert ID not in exported and MASKED in exported
    assert ID in _export(clients, "county", "visit_register")


def test_an_id_number_in_a_table_row_is_masked_row_by_row(clients):
    other = "11010519491231002X"
    dispute = {"screening_date": "2026-11-02", "screener": "王建军", "source": "screening", "dispute_type": "homestead",
               "summary": "兄弟二人因宅基地界墙位置发生争执", "risk_level": "serious", "involved_count": 2,
               "parties": [{"role": "applicant", "name": "杨树林", "id_number": ID},
                           {"role": "respondent", "name": "杨树森", "id_number": other}]}
    with at("2026-11-02"):
        rid = register(clients["chengguan"], "dispute", dispute)["id"]
    assert [p["id_number"] for p in get(clients["chengguan"], rid)["data"]["parties"]] == [ID, other]
    assert [p["id_number"] for p in get(clients["leader"], rid)["data"]["parties"]] == [MASKED, "110105********002X"]
    assert clients["leader"].get(f"/api/v1/forms/dispute/records?q={other}").get_json()["items"] == []
    assert [r["id"] for r in clients["county"].get(f"/api/v1/forms/dispute/records?q={other}").get_json()["items"]] == [rid]

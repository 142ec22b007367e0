"""The chains between ledgers, as shipped: a 研判 that recommends rectification registers key areas at 线索 and
issues each a 建议书 addressed to its township's party committee; a 联席会议 that decides listings lists every
named area (deadline computed, 挂牌督办通知书 issued); nothing is retyped, and a decision that cannot be carried
out is refused whole."""
from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from tests.test_flow_intake import at, clients, config_copy, get, go, register  # noqa: F401 (fixtures)
from tests.test_key_area_flow import IDENTIFY, PLAN

CHENGGUAN, HEKOU = "139901001000", "139901101000"
ASSESSMENT = {
    "session": "2026年3月上半月", "date": "2026-03-16", "chair": "贾艳", "period_start": "2026-03-01",
    "period_end": "2026-03-15",
    "salient_problems": [
        {"place": "陉山大道建设路口", "area_type": "street", "division_code": "139901001001",
         "category": "public_order_chaos", "description": "夜间烧烤摊占道，酒后斗殴多发", "evidence": "半月警情 11 起",
         "recommend": True},
        {"place": "东风市场", "division_code": "139901001001", "category": "theft_robbery",
         "description": "扒窃 2 起，尚未形成规律"},
    ],
}


def said(body: dict) -> str:
    """Everything a refusal says (its message and its field errors)."""
    return " ".join([body.get("message", "")] + [e["message"] for e in body.get("errors", [])])


def issued(clients) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    from server.documents.models import IssuedDocument

    return clients.run(lambda: [(d.doc_id, d.record_id, d.number) for d in db.session.scalars(
        sa.select(IssuedDocument).order_by(IssuedDocument.id))])


def pdf_text(clients, number: str) -> str:  # type: ignore[no-untyped-def]
    from server.documents.models import IssuedDocument
    from tests import pdfcheck

    def read() -> str:
        row = db.session.scalars(sa.select(IssuedDocument).where(IssuedDocument.number == number)).one()
        from server.documents.service import issued_pdf
        from tests.conftest import user_named

        return pdfcheck.Pdf(issued_pdf(row.id, user_named("county"))[1]).text()

    return clients.run(read)


def test_an_assessment_that_recommends_registers_the_area_and_issues_the_letter(clients):
    with at("2026-03-16"):
        assessment = register(clients["chengguan"], "assessment", ASSESSMENT)
        assert assessment["state"] == "open"
        concluded = go(clients["chengguan"], assessment["id"], "conclude", {
            "conclusion": "陉山大道建设路口治安秩序混乱，建议列为重点地区", "recommended_measures": "取缔占道摊点"})
    assert concluded["state"] == "concluded" and not concluded.get("warnings"), concluded.get("warnings")
    rows = concluded["data"]["salient_problems"]
    assert "key_area" in rows[0] and "key_area" not in rows[1]  # only the recommended problem
    areas = clients["county"].get("/api/v1/forms/key_area/records").get_json()["items"]
    (area,) = areas
    area = get(clients["county"], area["id"])
    assert area["number"] == rows[0]["key_area"] and area["state"] == "clue"
    data = area["data"]
    assert (data["name"], data["area_type"], data["township_code"], data["village_code"]) == \
        ("陉山大道建设路口", "street", CHENGGUAN, "139901001001")
    assert data["identification"]["discovery_source"] == "assessment"
    assert data["identification"]["assessment"] == assessment["number"]
    assert data["problems"] == {"categories": ["public_order_chaos"], "description": "夜间烧烤摊占道，酒后斗殴多发"}
    ((doc_id, record_id, number),) = issued(clients)
    assert (doc_id, record_id) == ("recommendation_letter", area["id"])
    assert data["identification"]["recommendation_letter_number"] == number
    text = pdf_text(clients, number)
    assert "城关街道党工委：" in text and "陉山大道建设路口" in text and "治安秩序混乱" in text
    assert "联席会议：" not in text  # addressed to the area's party committee, not the meeting

    # concluded again after a correction: the area is not registered twice
    with at("2026-03-17"):
        go(clients["chengguan"], assessment["id"], "reopen", reason="补充研判依据")
        go(clients["chengguan"], assessment["id"], "conclude", {"conclusion": "同前，补充依据"})
    assert len(clients["county"].get("/api/v1/forms/key_area/records").get_json()["items"]) == 1
    assert len(issued(clients)) == 1


def test_a_recommended_problem_needs_its_place_and_type(clients):
    problem = dict(ASSESSMENT["salient_problems"][0])
    del problem["area_type"]
    with at("2026-03-16"):
        response = clients["chengguan"].post("/api/v1/forms/assessment/records",
                                             json=dict(ASSESSMENT, salient_problems=[problem]))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"] == "/salient_problems/0/area_type"


def area_in(clients, state: str, township: str = HEKOU, name: str = "东岗村废弃砖厂周边") -> dict:  # type: ignore[no-untyped-def]
    user = "county"
    with at("2026-03-02"):
        rid = register(clients[user], "key_area", {"name": name, "area_type": "complex_village", "township_code": township,
                                                   "identification": {"discovery_source": "screening"}})["id"]
        go(clients[user], rid, "identify", IDENTIFY)
        if state == "rectifying":
            go(clients[user], rid, "start_rectification", PLAN)
    return get(clients[user], rid)


MEETING = {"session": "2026年第3次", "meeting_type": "regular", "meeting_date": "2026-03-27", "venue": "县综治中心",
           "chair": "孙卫东", "recorder": "马丽", "topics": "议定挂牌督办地区",
           "attendees": [{"unit": "县综治办", "name": "孙卫东", "position": "主任"},
                         {"unit": "县公安局", "name": "郝建国", "position": "副局长"}]}


def test_a_meeting_decision_lists_every_named_area(clients):
    first, second = area_in(clients, "rectifying"), area_in(clients, "identified", CHENGGUAN, "南关农贸市场周边")
    decisions = [{"key_area": first["number"], "level": "county", "grounds": "期限内未得到有效整治"},
                 {"key_area": second["number"], "level": "township", "grounds": "盗窃案件高发"}]
    with at("2026-03-27"):
        meeting = register(clients["county"], "joint_meeting", dict(MEETING, listing_decisions=decisions))
        decided = go(clients["county"], meeting["id"], "decide")
    assert decided["state"] == "decided" and not decided.get("warnings"), decided.get("warnings")
    listed = [get(clients["county"], a["id"]) for a in (first, second)]
    assert [a["state"] for a in listed] == ["listed", "listed"]
    assert [a["data"]["listing"]["rectification_deadline"] for a in listed] == ["2026-09-27", "2026-06-27"]
    assert all(a["data"]["listing"]["meeting"] == meeting["number"] for a in listed)
    notices = [(d, r, n) for d, r, n in issued(clients) if d == "listing_notice"]
    assert [r for _, r, _ in notices] == [first["id"], second["id"]]
    assert [a["data"]["listing"]["notice_number"] for a in listed] == [n for _, _, n in notices]
    timeline = clients["county"].get(f"/api/v1/records/{first['id']}/timeline").get_json()
    assert timeline[-1]["label"] == "挂牌督办" and meeting["number"] in timeline[-1]["reason"]


def test_a_decision_that_cannot_be_carried_out_is_refused_whole(clients):
    ready, clue = area_in(clients, "rectifying"), None
    with at("2026-03-02"):
        clue = register(clients["county"], "key_area", {"name": "北关网吧", "area_type": "venue", "township_code": CHENGGUAN,
                                                        "identification": {"discovery_source": "screening"}})
    decisions = [{"key_area": ready["number"], "level": "county", "grounds": "逾期"},
                 {"key_area": clue["number"], "level": "county", "grounds": "线索"}]
    with at("2026-03-27"):
        meeting = register(clients["county"], "joint_meeting", dict(MEETING, listing_decisions=decisions))
        refused = go(clients["county"], meeting["id"], "decide", status=422)
    assert clue["number"] in said(refused) and "线索" in said(refused)
    assert get(clients["county"], ready["id"])["state"] == "rectifying"  # nothing happened
    assert get(clients["county"], meeting["id"])["state"] == "open"
    assert issued(clients) == []


def test_a_township_meeting_cannot_list(clients):
    area = area_in(clients, "rectifying", CHENGGUAN, "南关农贸市场周边")
    with at("2026-03-27"):
        meeting = register(clients["chengguan"], "joint_meeting", dict(MEETING, listing_decisions=[
            {"key_area": area["number"], "level": "township", "grounds": "逾期"}]))
        refused = go(clients["chengguan"], meeting["id"], "decide", status=422)
    assert "挂牌督办" in said(refused)
    assert get(clients["county"], area["id"])["state"] == "rectifying"


def test_an_area_past_its_planned_end_is_put_before_the_next_meeting(clients):
    from tests.conftest import login_session, user_named

    late = area_in(clients, "rectifying")  # planned end 2026-04-30 (PLAN)
    on_time = area_in(clients, "rectifying", CHENGGUAN, "南关农贸市场周边")
    with at("2026-04-20"):
        go(clients["county"], on_time["id"], "apply_acceptance",
           {"acceptance": {"applied_date": "2026-04-20", "applying_unit": "城关街道"}})
    clients.tick("2026-04-30")
    assert "proposed_date" not in get(clients["county"], late["id"])["data"].get("listing", {})
    clients.tick("2026-05-01")
    assert get(clients["county"], late["id"])["data"]["listing"]["proposed_date"] == "2026-05-01"
    with at("2026-05-20"):
        meeting = register(clients["county"], "joint_meeting", MEETING)
    web = clients.app.test_client()
    with web.session_transaction() as session:
        session["_user_id"] = clients.run(lambda: login_session(user_named("county")))
    page = web.get(f"/records/{meeting['id']}").get_data(as_text=True)
    section = page.split("待审议事项", 1)[1].split("办理过程", 1)[0]
    overdue, letters = section.split("已发出整治建议书", 1)
    assert "提请挂牌督办的重点地区（1 项）" in overdue and "东岗村废弃砖厂周边" in overdue
    assert "南关农贸市场周边" not in section  # applied for acceptance in time
    assert "（0 项）" in letters
    with at("2026-05-20"):
        go(clients["county"], meeting["id"], "decide")
    assert "待审议事项" not in web.get(f"/records/{meeting['id']}").get_data(as_text=True)  # the meeting is closed


def test_a_county_assessment_registers_the_area_with_its_township(clients):
    """The county centre's 研判 recommends an area of 城关街道: the area is 城关街道's to rectify, the 建议书
    is the county centre's."""
    with at("2026-03-16"):
        assessment = register(clients["county"], "assessment", ASSESSMENT)
        go(clients["county"], assessment["id"], "conclude", {"conclusion": "建议列为重点地区"})
    (area,) = clients["chengguan"].get("/api/v1/forms/key_area/records").get_json()["items"]
    with at("2026-03-17"):  # the township takes its own steps
        assert go(clients["chengguan"], area["id"], "identify", IDENTIFY)["state"] == "identified"
    ((_, _, number),) = issued(clients)
    text = pdf_text(clients, number)
    assert "示范县社会治安综合治理中心治安信息研判会议" in text and "城关街道党工委：" in text

"""The key-area lifecycle as shipped (config/workflows/key_area.json), through the API: 线索 → 已认定 → 整治中 →
挂牌督办 → 申请验收 → 验收 → 摘牌 → 巩固期 → 销号, with 延期整治 below the satisfaction threshold and 复发 in the
巩固期; deadlines computed from parameters, timers that chase the plan and the monthly progress, sections and
documents that belong to states."""
from __future__ import annotations

import pytest

from tests.test_flow_intake import at, clients, config_copy, get, go, inbox, register  # noqa: F401 (fixtures)

CHENGGUAN = "139901001000"
AREA = {"name": "陉山大道与建设路交叉口周边", "area_type": "street", "township_code": CHENGGUAN,
        "identification": {"discovery_source": "screening"}}
IDENTIFY = {"identification": {"identified_date": "2026-03-02", "basis": "近三月盗窃案件 12 起，占道烧烤扰民"},
            "problems": {"categories": ["theft_robbery", "public_order_chaos"], "description": "夜间烧烤摊占道，打架斗殴、盗窃多发"}}
PLAN = {"rectification": {"plan_summary": "取缔无证摊点，安装红绿灯和视频监控", "planned_start": "2026-03-03",
                          "planned_end": "2026-04-30"}}


def survey(satisfied: int, basically: int, dissatisfied: int) -> dict:
    """The accept dialog's fields: a 座谈会 of one person per vote, each answering every item alike
    (tests/test_survey.py), so the rate is that of the numbers given."""
    from tests.test_survey import survey as symposium

    return {"acceptance": {"acceptance_date": "2026-06-01", "team_leader": "县综治中心副主任",
                           "satisfaction_survey": symposium(satisfied, basically, dissatisfied)}}


def rectifying(clients, day: str = "2026-03-02") -> int:  # type: ignore[no-untyped-def]
    with at(day):
        rid = register(clients["chengguan"], "key_area", AREA)["id"]
        go(clients["chengguan"], rid, "identify", IDENTIFY)
        go(clients["chengguan"], rid, "start_rectification", PLAN)
    return rid


def listed(clients, level: str = "county", day: str = "2026-03-10") -> dict:  # type: ignore[no-untyped-def]
    rid = rectifying(clients)
    with at(day):
        return go(clients["county"], rid, "list", {"listing": {"level": level, "report_cycle": "monthly"}})


def documents_for(clients, record_id: int, username: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The documents the record page offers this user (the documents of the record's state)."""
    from server.documents.service import documents_for_record
    from server.extensions import db
    from server.records.models import Record
    from tests.conftest import user_named

    return clients.run(lambda: [s.id for s in documents_for_record(db.session.get(Record, record_id), user_named(username))])


def timers_of(clients, record_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The record's running timers and their due dates."""
    from server.flow.timers import live_timers

    return clients.run(lambda: {t.timer: t.due_date.isoformat() for t in live_timers(record_id)})


def test_a_new_area_is_a_clue_and_shows_only_what_identification_fills(clients):
    with at("2026-03-02"):
        record = register(clients["chengguan"], "key_area", AREA)
        assert (record["state"], record["state_title"]) == ("clue", "线索")
        assert [t["id"] for t in record["transitions"]] == ["identify", "dismiss"]
        early = clients["chengguan"].post("/api/v1/forms/key_area/records",
                                          json=dict(AREA, acceptance={"conclusion": "passed"}))
    assert early.status_code == 422
    assert early.get_json()["errors"] == [{"pointer": "/acceptance", "message": "「验收」在「线索」阶段不能填写（可填写的阶段：申请验收）"}]
    page = clients["chengguan"].get(f"/records/{record['id']}/edit")
    assert page.status_code in (200, 302)


def test_listing_computes_the_deadline_by_level_and_issues_the_notice(clients):
    area = listed(clients, "county")
    assert area["state"] == "listed"
    listing = area["data"]["listing"]
    assert listing["is_listed"] is True and listing["listed_date"] == "2026-03-10"
    assert listing["rectification_deadline"] == "2026-09-10"  # 县级 6 个月 (parameter)
    assert listing["notice_number"].endswith("号") and "综治督〔2026〕" in listing["notice_number"]
    assert not area.get("warnings")
    township_level = listed(clients, "township")
    assert township_level["data"]["listing"]["rectification_deadline"] == "2026-06-10"  # 乡镇级 3 个月


def test_listing_is_the_county_s_decision(clients):
    rid = rectifying(clients)
    with at("2026-03-10"):
        refused = go(clients["chengguan"], rid, "list", {"listing": {"level": "county", "report_cycle": "monthly"}}, status=403)
    assert "挂牌督办" in refused["message"]


def test_the_plan_is_chased_and_stops_when_submitted(clients):
    area = listed(clients)
    rid = area["id"]
    # 10 working days after Tuesday 2026-03-10 → 2026-03-24; chased 3 working days before (03-19)
    out = clients.tick("2026-03-19")
    assert "催报整治方案" in out
    titles = [i["title"] for i in inbox(clients["chengguan"])]
    assert f"催报整治方案：{area['number']}" in titles
    out = clients.tick("2026-03-25")
    assert "整治方案逾期未报" in out
    assert f"整治方案逾期未报：城关街道" in [i["title"] for i in inbox(clients["county"])]
    with at("2026-03-26"):
        done = go(clients["chengguan"], rid, "submit_plan", {"rectification": {"plan_summary": "方案已印发"}})
    assert done["state"] == "listed" and done["data"]["listing"]["first_report_date"] == "2026-03-26"
    assert done["due"]["date"] == "2026-04-02"  # what runs now is the monthly progress, not the plan


def test_a_submitted_plan_in_time_is_not_chased(clients):
    area = listed(clients)
    with at("2026-03-12"):
        go(clients["chengguan"], area["id"], "submit_plan", {"rectification": {"plan_summary": "方案已印发"}})
    assert "整治方案" not in clients.tick("2026-03-30")


def test_monthly_progress_rearms_the_chase(clients):
    rid = rectifying(clients, "2026-03-02")
    # the progress clock runs a month from entering 整治中 (2026-03-02 → 04-02), reminded 3 working days before
    assert "月度进展提醒" in clients.tick("2026-03-30")
    with at("2026-03-31"):
        go(clients["chengguan"], rid, "report_progress",
           {"rectification": {"monthly_progress": [{"month": "2026-03", "progress": "取缔摊点 6 处"}]}})
    assert "月度进展逾期" not in clients.tick("2026-04-03")  # re-armed: due 2026-04-30 now
    assert "月度进展逾期" in clients.tick("2026-05-01")
    assert any(i["title"].startswith("月度进展逾期未报") for i in inbox(clients["county"]))


@pytest.mark.parametrize("votes, state, conclusion", [
    ((8, 1, 1), "accepted", "passed"),              # 9 / 10 = 90.00 %: the threshold itself passes
    ((7, 1, 1), "extension_pending", "extended"),   # 8 / 9 = 88.89 %
    ((899, 0, 100), "extension_pending", "extended"),  # 89.99 %
])
def test_acceptance_at_the_threshold(clients, votes, state, conclusion):
    rid = rectifying(clients)
    with at("2026-05-20"):
        go(clients["chengguan"], rid, "apply_acceptance", {"acceptance": {"applied_date": "2026-05-20", "applying_unit": "城关街道"}})
    with at("2026-06-01"):
        done = go(clients["county"], rid, "accept", survey(*votes))
    assert done["state"] == state
    assert get(clients["county"], rid)["data"]["acceptance"]["conclusion"] == conclusion


def test_acceptance_without_votes_is_refused(clients):
    rid = rectifying(clients)
    with at("2026-05-20"):
        go(clients["chengguan"], rid, "apply_acceptance", {"acceptance": {"applied_date": "2026-05-20", "applying_unit": "城关街道"}})
        refused = go(clients["county"], rid, "accept", survey(0, 0, 0), status=422)
    assert "有效票数" in refused["message"]


def test_extension_needs_an_approved_later_deadline_and_is_counted(clients):
    area = listed(clients)
    rid = area["id"]
    with at("2026-05-20"):
        go(clients["chengguan"], rid, "apply_acceptance", {"acceptance": {"applied_date": "2026-05-20", "applying_unit": "城关街道"}})
    with at("2026-06-01"):
        pending = go(clients["county"], rid, "accept", survey(5, 2, 3))
        assert pending["state"] == "extension_pending"
        assert documents_for(clients, rid, "chengguan") == ["extension_request"]
        unapproved = {"delisting": {"extensions": [{"reason": "夜市摊点反弹", "new_deadline": "2026-09-30"}]}}
        refused = go(clients["chengguan"], rid, "approve_extension", unapproved, status=422)
        assert "批准日期" in refused["message"]
        approved = {"delisting": {"extensions": [{"reason": "夜市摊点反弹", "new_deadline": "2026-09-30",
                                                  "approved_date": "2026-06-03", "approved_by": "城关街道党工委"}]}}
        extended = go(clients["chengguan"], rid, "approve_extension", approved)
    assert extended["state"] == "extended"
    assert timers_of(clients, rid) == {"extension": "2026-09-30", "progress": "2026-07-01"}


def test_delisting_opens_the_consolidation_year_which_closes_itself(clients):
    area = listed(clients)
    rid = area["id"]
    with at("2026-05-20"):
        go(clients["chengguan"], rid, "apply_acceptance", {"acceptance": {"applied_date": "2026-05-20", "applying_unit": "城关街道"}})
    with at("2026-06-01"):
        accepted = go(clients["county"], rid, "accept", survey(9, 1, 0))
        assert accepted["state"] == "accepted"
        assert [t["id"] for t in accepted["transitions"] if t["available"]] == ["delist"]
        assert documents_for(clients, rid, "county") == ["acceptance_report", "rectification_report", "survey_sheet"]
    with at("2026-06-02"):
        delisted = go(clients["county"], rid, "delist")
    assert delisted["state"] == "consolidating" and not delisted.get("warnings")
    data = delisted["data"]
    assert data["delisting"]["delisted_date"] == "2026-06-02"
    assert (data["consolidation"]["period_start"], data["consolidation"]["period_end"]) == ("2026-06-02", "2027-06-02")
    with at("2026-12-01"):
        early = go(clients["county"], rid, "close", status=422)
    assert "期满后方可销号" in early["message"]
    clients.tick("2027-06-02")
    assert get(clients["county"], rid)["state"] == "consolidating"
    clients.tick("2027-06-03")
    assert get(clients["county"], rid)["state"] == "closed"


def delisted_area(clients) -> int:  # type: ignore[no-untyped-def]
    """A county-listed area accepted on 2026-06-01 and delisted on 2026-06-02 (巩固期 to 2027-06-02)."""
    rid = listed(clients)["id"]
    with at("2026-05-20"):
        go(clients["chengguan"], rid, "apply_acceptance", {"acceptance": {"applied_date": "2026-05-20", "applying_unit": "城关街道"}})
    with at("2026-06-01"):
        go(clients["county"], rid, "accept", survey(9, 1, 0))
    with at("2026-06-02"):
        go(clients["county"], rid, "delist")
    return rid


RECUR = {"consolidation": {"veto_proposal": "veto_and_accountability"}, "listing": {"level": "county"}}


@pytest.mark.parametrize("day", ["2026-06-03", "2027-06-02"])  # day 1 and day 365 after delisting
def test_recurrence_in_the_consolidation_year_relists_with_a_veto(clients, day):
    rid = delisted_area(clients)
    with at(day):
        fields = {"consolidation": dict(RECUR["consolidation"], recurrence_date=day), "listing": RECUR["listing"]}
        relisted = go(clients["county"], rid, "recur", fields)
    assert relisted["state"] == "listed" and relisted["data"]["consolidation"]["recurrence"] is True
    assert relisted["data"]["listing"]["listed_date"] == day
    vetoes = clients["county"].get("/api/v1/vetoes").get_json()["items"]
    assert [(v["unit"]["code"], v["record"]["id"]) for v in vetoes] == [(CHENGGUAN, rid)]
    accountable = clients["county"].get("/api/v1/accountability").get_json()["items"]
    assert {a["unit"]["code"] for a in accountable} == {CHENGGUAN, "GA-PCS01"}


def test_after_the_consolidation_year_a_recurrence_is_a_new_area(clients):
    rid = delisted_area(clients)
    with at("2027-06-03"):  # day 366
        fields = {"consolidation": dict(RECUR["consolidation"], recurrence_date="2027-06-03"), "listing": RECUR["listing"]}
        refused = go(clients["county"], rid, "recur", fields, status=422)
    assert "巩固期已于 2027-06-02 届满" in refused["message"]
    assert clients["county"].get("/api/v1/vetoes").get_json()["items"] == []


def test_the_police_station_of_the_township_sees_the_area_and_reports_progress(clients):
    rid = rectifying(clients)
    assert clients["pcs04"].get(f"/api/v1/records/{rid}").status_code == 404  # another township's station
    seen = get(clients["pcs01"], rid)  # 城关派出所, 直接责任人 by the responsibility rules
    assert [t["id"] for t in seen["transitions"] if t["available"]] == ["report_progress"]
    with at("2026-03-31"):
        reported = go(clients["pcs01"], rid, "report_progress", {"rectification": {"monthly_progress": [
            {"month": "2026-03", "source": "self_report", "progress": "清查烧烤摊点 6 处，抓获盗窃嫌疑人 2 名"}]}})
    assert reported["state"] == "rectifying"
    assert clients["pcs01"].put(f"/api/v1/records/{rid}", json=reported["data"],
                                headers={"If-Match": str(reported["version"])}).status_code == 403  # no editing


def test_a_progress_report_while_listed_does_not_rearm_the_submitted_plan(clients):
    area = listed(clients)
    with at("2026-03-12"):
        go(clients["chengguan"], area["id"], "submit_plan", {"rectification": {"plan_summary": "方案已印发"}})
    with at("2026-03-20"):
        go(clients["chengguan"], area["id"], "report_progress", {"rectification": {"monthly_progress": [
            {"month": "2026-03", "progress": "取缔摊点 6 处"}]}})
    assert "plan" not in timers_of(clients, area["id"])
    assert "整治方案" not in clients.tick("2026-04-07")

"""The intake loop as shipped (config/workflows/visit_intake.json, problem_intake.json), through the API:
首问受理 → 归口分流 → 办理 → 审核办结 → 回访（不满意重新交办）→ 归档, the ledgers it writes (转办、催办督办、
跟踪回访), deadlines in Chinese working days, the escalation ladder on the tick, refusals, the 待办 inbox."""
from __future__ import annotations

import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from server.extensions import db
from server.settings import PROJECT_ROOT

VISIT = {"received_at": "2026-11-02T09:30", "source": "visit", "first_accept_person": "贾艳",
         "visitor": {"name": "王建华", "phone": "13931120001"}, "problem_category": "public_security",
         "matter_type": "complaint", "summary": "东风小区夜间烧烤摊占道经营、噪音扰民", "demand": "请求取缔",
         "location": {"division_code": "139901001001"}}
PROBLEM = {"received_at": "2026-11-02T10:00", "info_source": "phone", "reporter": {"name": "李秀英", "phone": "13931120002"},
           "location": {"division_code": "139901001001"}, "problem_category": "porn_gambling_drugs",
           "description": "东风小区地下室夜间聚赌"}
USERS = [("county", "county_staff", "139901000000"), ("chengguan", "township_staff", "139901001000"),
         ("hekou", "township_staff", "139901101000"), ("pcs01", "department_staff", "GA-PCS01"),
         ("pcs04", "department_staff", "GA-PCS04"), ("leader", "leader", "139901000000")]
FOLLOW_UP_OK = {"follow_up": {"date": "2026-11-20", "person": "贾艳", "method": "phone", "satisfaction": "satisfied"}}
RESULT = {"result": "已取缔占道摊点，夜间巡逻", "reply_date": "2026-11-10", "reply_method": "phone"}


def at(day: str):  # type: ignore[no-untyped-def]
    """Freeze the clock at 10:00 China time on ``day``."""
    return freeze_time(f"{day} 02:00:00")


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


class Clients(dict):
    """Bearer-token API clients by username; ``app`` is the application."""

    app = None

    def run(self, fn):  # type: ignore[no-untyped-def]
        with self.app.app_context():
            return fn()

    def tick(self, day: str, *extra: str) -> str:
        result = self.app.test_cli_runner().invoke(args=["tick", "--date", day, *extra])
        assert result.exit_code == 0, result.output
        return result.output


@pytest.fixture
def clients(make_app, config_copy):  # type: ignore[no-untyped-def]
    app = make_app(config_dir=config_copy)
    out = Clients()
    out.app = app
    with app.app_context():
        from server.auth.service import create_token, create_user

        tokens = {}
        for name, role, org in USERS:
            create_user(name, "Jiangbei-qiao-88", role=role, org_code=org, display_name=name)
            tokens[name] = create_token(name)
    for name, token in tokens.items():
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        out[name] = client
    return out


def go(client, record_id, transition, fields=None, reason=None, status=200):  # type: ignore[no-untyped-def]
    body = {"fields": fields or {}}
    if reason is not None:
        body["reason"] = reason
    response = client.post(f"/api/v1/records/{record_id}/transitions/{transition}", json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def register(client, form="visit_register", data=VISIT) -> dict:  # type: ignore[no-untyped-def]
    response = client.post(f"/api/v1/forms/{form}/records", json=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def get(client, record_id: int) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/records/{record_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def inbox(client, status="open") -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/inbox?status={status}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def records_of(clients: Clients, form: str) -> list:  # type: ignore[no-untyped-def]
    from server.records.models import Record

    return clients.run(lambda: [(r.number, r.data) for r in db.session.scalars(
        sa.select(Record).where(Record.form_id == form).order_by(Record.id))])


def routed_visit(clients: Clients, day: str = "2026-11-02", unit: str = "GA-PCS01", data=VISIT) -> int:  # type: ignore[no-untyped-def]
    with at(day):
        rid = register(clients["chengguan"], data=data)["id"]
        go(clients["chengguan"], rid, "route", {"handling_unit": unit})
    return rid


# -- the loop -------------------------------------------------------------------------------------------
def test_a_visit_from_registration_to_archive(clients):
    with at("2026-11-02"):
        record = register(clients["chengguan"])
        rid = record["id"]
        assert (record["state"], record["state_title"], record["version"]) == ("registered", "待分流", 1)
        assert record["waiting_unit"]["name"] == "城关街道" and record["due"] is None
        assert [t["id"] for t in record["transitions"]] == ["answer", "route", "reject"]
        assert [i["title"] for i in inbox(clients["chengguan"])] == [f"来信来访登记簿 {record['number']}（待分流）"]

        routed = go(clients["chengguan"], rid, "route", {"handling_unit": "GA-PCS01"})
    assert (routed["state"], routed["version"]) == ("handling", 2)
    # 13 working days after Monday 2026-11-02 (投诉): no holiday in between
    assert routed["data"]["deadline"] == "2026-11-19" and routed["due"]["date"] == "2026-11-19"
    assert routed["data"]["handling"] == "transfer" and routed["waiting_unit"]["code"] == "GA-PCS01"
    transfer_number, transfer = records_of(clients, "visit_transfer")[0]
    assert routed["data"]["transfer_number"] == transfer_number
    assert transfer["original_record"] == routed["number"] and transfer["handling_unit"] == "GA-PCS01"
    assert transfer["deadline"] == "2026-11-19" and transfer["transferred_by"] == "chengguan"
    assert inbox(clients["chengguan"]) == []
    assert [(i["title"], i["message"]) for i in inbox(clients["pcs01"])] == [
        (f"来信来访登记簿 {routed['number']}（办理中）", f"城关街道受理：{VISIT['summary']}")]
    # the 派出所 sees the matter and records its result on it (it may not edit the ledger itself)
    assert clients["pcs01"].put(f"/api/v1/records/{rid}", json=routed["data"], headers={"If-Match": "2"}).status_code == 403

    with at("2026-11-10"):
        reported = go(clients["pcs01"], rid, "report_result", RESULT)
        assert reported["state"] == "reported" and reported["data"]["result"] == RESULT["result"]
        assert records_of(clients, "visit_transfer")[0][1]["status"] == "completed"
        approved = go(clients["chengguan"], rid, "approve")
    assert approved["state"] == "awaiting_follow_up" and approved["data"]["closed_date"] == "2026-11-10"
    assert approved["due"]["date"] == "2026-11-11"  # 回访 the next working day
    assert records_of(clients, "visit_transfer")[0][1]["centre_review"] == "approve_close"

    with at("2026-11-11"):
        archived = go(clients["chengguan"], rid, "follow_up", FOLLOW_UP_OK)
    assert (archived["state"], archived["open"], archived["due"], archived["transitions"]) == ("archived", False, None, [])
    (number, follow_up), = records_of(clients, "follow_up")
    assert follow_up["original_visit"] == archived["number"] and follow_up["satisfaction"] == "satisfied"
    assert follow_up["visitee"] == "王建华" and follow_up["item_type"] == "visit_register"
    assert records_of(clients, "visit_transfer")[0][1]["follow_up_result"] == "satisfied"
    timeline = clients["chengguan"].get(f"/api/v1/records/{rid}/timeline").get_json()
    assert [(e["label"], e["to_title"], e["by"]) for e in timeline] == [
        ("登记", "待分流", "chengguan（城关街道）"), ("转办", "办理中", "chengguan（城关街道）"),
        ("报告办理结果", "待审核", "pcs01（城关派出所）"), ("审核办结", "待回访", "chengguan（城关街道）"),
        ("回访", "已归档", "chengguan（城关街道）")]
    history = clients["chengguan"].get(f"/api/v1/records/{rid}/history").get_json()
    assert [e["action"] for e in history].count("transition") == 4
    assert inbox(clients["chengguan"]) == [] and inbox(clients["pcs01"]) == []


def test_dissatisfied_follow_up_reopens_with_the_same_unit(clients):
    rid = routed_visit(clients)
    with at("2026-11-05"):
        go(clients["pcs01"], rid, "report_result", RESULT)
        go(clients["chengguan"], rid, "approve")
        unhappy = {"follow_up": {"date": "2026-11-06", "person": "贾艳", "method": "phone", "satisfaction": "dissatisfied"}}
        refused = go(clients["chengguan"], rid, "follow_up", unhappy, status=422)
        assert "不满意原因" in refused["message"]
        unhappy["follow_up"]["reason"] = "夜间仍有摊点"
        reopened = go(clients["chengguan"], rid, "follow_up", unhappy)
    assert reopened["state"] == "handling" and reopened["waiting_unit"]["code"] == "GA-PCS01"
    assert reopened["due"]["date"] == "2026-11-24"  # a new 13 working days from 11-05
    (_, follow_up), = records_of(clients, "follow_up")
    assert follow_up["satisfaction"] == "dissatisfied" and follow_up["dissatisfaction_reason"] == "夜间仍有摊点"
    assert [i["record"]["id"] for i in inbox(clients["pcs01"])] == [rid]


def test_answered_at_once_and_rejected(clients):
    with at("2026-11-02"):
        answered = register(clients["chengguan"], data=dict(VISIT, matter_type="consultation"))
        done = go(clients["chengguan"], answered["id"], "answer", {"result": "已当场解答", "reply_method": "in_person"})
        assert (done["state"], done["data"]["handling"], done["data"]["closed_date"]) == ("awaiting_follow_up", "answered", "2026-11-02")
        rejected = register(clients["chengguan"])
        gone = go(clients["chengguan"], rejected["id"], "reject", {"rejection_reason": "属诉讼程序，告知向法院反映"})
    assert (gone["state"], gone["open"], gone["data"]["handling"]) == ("rejected", False, "rejected")


# -- deadlines in Chinese working days --------------------------------------------------------------------
@pytest.mark.parametrize("day, matter, due", [
    ("2026-09-29", "complaint", "2026-10-22"),      # 13 wd over National Day (10-01..07 off, 10-10 Sat worked)
    ("2026-09-30", "consultation", "2026-10-10"),   # 3 wd: 10-08, 10-09 and the 调休 Saturday 10-10
    ("2026-09-18", "consultation", "2026-09-22"),   # 3 wd from Friday: Sunday 09-20 is a 调休 working day
])
def test_due_dates_follow_holidays_and_make_up_days(clients, day, matter, due):
    rid = routed_visit(clients, day, data=dict(VISIT, matter_type=matter))
    with at(day):
        record = get(clients["chengguan"], rid)
    assert record["data"]["deadline"] == due and record["due"]["date"] == due


# -- the escalation ladder on the tick -------------------------------------------------------------------
def _steps(clients: Clients) -> list[tuple[str, date]]:
    from server.flow.models import TimerStep

    return clients.run(lambda: [(s.step, s.fired_on) for s in db.session.scalars(sa.select(TimerStep).order_by(TimerStep.id))])


def test_each_ladder_step_fires_exactly_once_over_a_month_of_daily_ticks(clients):
    rid = routed_visit(clients, "2026-11-02")  # due 2026-11-19
    day = date(2026, 11, 2)
    while day <= date(2026, 12, 2):
        for _ in range(2):  # the tick runs every minute: twice a day changes nothing
            clients.tick(day.isoformat())
        day = date.fromordinal(day.toordinal() + 1)
    # 催办 3 working days before, 督办 the working day after, 通报 6 working days after (5 after 督办)
    assert _steps(clients) == [("chase", date(2026, 11, 16)), ("supervise", date(2026, 11, 20)),
                               ("circular", date(2026, 11, 27))]
    supervision = [data for _, data in records_of(clients, "supervision")]
    assert [(s["supervision_type"], s["supervised_unit"], s["source_visit"], s["deadline"]) for s in supervision] == [
        ("chase", "GA-PCS01", get(clients["county"], rid)["number"], "2026-11-19"),
        ("supervise", "GA-PCS01", get(clients["county"], rid)["number"], "2026-11-19")]
    def about_it(client):  # type: ignore[no-untyped-def]  (the daily rules raise other notices too)
        return sorted((i["kind"], i["title"].split("：")[0]) for i in inbox(client)
                      if (i["record"] or {}).get("id") == rid and i["kind"] == "escalation")

    assert about_it(clients["pcs01"]) == [("escalation", "催办"), ("escalation", "督办"), ("escalation", "通报")]
    assert about_it(clients["chengguan"]) == [("escalation", "已督办")]
    assert about_it(clients["county"]) == [("escalation", "拟通报")]
    with at("2026-12-02"):
        overdue = get(clients["pcs01"], rid)
        assert overdue["due"]["overdue"] is True and overdue["due"]["working_days_left"] < 0
        go(clients["pcs01"], rid, "report_result", RESULT)
    assert about_it(clients["pcs01"]) == []  # the matter moved on: escalations are done
    assert len([i for i in inbox(clients["pcs01"], "done") if i["record"]["id"] == rid]) == 4  # with the step


def test_a_paused_timer_gives_back_the_days(clients):
    rid = routed_visit(clients, "2026-11-02")  # due 11-19
    with at("2026-11-05"):
        go(clients["pcs01"], rid, "report_result", RESULT)  # paused while the centre reviews
    with at("2026-11-09"):  # two working days later the centre returns it
        back = go(clients["chengguan"], rid, "return_redo", reason="未说明巡逻安排")
    # paused Thursday 11-05 to Monday 11-09: two working days (11-06, 11-09) given back
    assert back["state"] == "handling" and back["data"]["deadline"] == "2026-11-23" and back["due"]["date"] == "2026-11-23"


def test_two_ticks_at_once_make_each_effect_once(clients, make_app, config_copy):
    for unit in ("GA-PCS01", "GA-PCS04", "GA-PCS01"):
        routed_visit(clients, "2026-11-02", unit)
    second = make_app(config_dir=config_copy)  # another process on the same database
    barrier, errors = threading.Barrier(2), []

    def run(app) -> None:  # type: ignore[no-untyped-def]
        try:
            with app.app_context():
                app.extensions["registry"].adopt_published()
                from server.flow.tick import tick

                barrier.wait()
                tick(date(2026, 11, 30))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(app,)) for app in (clients.app, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(s for s, _ in _steps(clients)) == sorted(["chase", "supervise", "circular"] * 3)
    assert len(records_of(clients, "supervision")) == 6
    from server.inbox.models import InboxItem

    escalations = clients.run(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(InboxItem).where(
        InboxItem.kind == "escalation")))
    assert escalations == 3 * 3 + 3 + 3  # per matter: 3 to the station, 1 copy to the centre, 1 to the county


# -- refusals ---------------------------------------------------------------------------------------------
def test_each_kind_of_refusal_says_why(clients):
    rid = routed_visit(clients, "2026-11-02")
    with at("2026-11-03"):
        state = go(clients["chengguan"], rid, "approve", status=409)
        assert state["error"] == "transition_state" and "待审核" in state["message"] and "办理中" in state["message"]
        role = go(clients["pcs01"], rid, "reassign", {"handling_unit": "GA-PCS04"}, reason="x", status=403)
        assert role["error"] == "transition_role"
        leader = go(clients["leader"], rid, "report_result", RESULT, status=403)
        assert "只能查看" in leader["message"]
        field = go(clients["pcs01"], rid, "report_result", {"reply_date": "2026-11-03", "reply_method": "phone"}, status=422)
        assert field["errors"] == [{"pointer": "/fields/result", "message": "办理“报告办理结果”前须填写此项"}]
        unknown = go(clients["pcs01"], rid, "report_result", dict(RESULT, summary="改摘要"), status=422)
        assert unknown["errors"][0]["pointer"] == "/fields/summary"
        no_reason = go(clients["chengguan"], rid, "reassign", {"handling_unit": "GA-PCS04"}, status=422)
        assert no_reason["errors"] == [{"pointer": "/reason", "message": "办理“改派”须写明理由"}]
        bad_value = go(clients["pcs01"], rid, "report_result", dict(RESULT, reply_date="11月3日"), status=422)
        assert bad_value["errors"][0]["pointer"] == "/fields/reply_date"
    with at("2026-11-06"):  # 4 working days after routing: too late to send it back
        guard = go(clients["pcs01"], rid, "send_back", reason="不属本所辖区", status=422)
        assert guard["error"] == "transition_guard"
        assert guard["message"] == "须在转办后 2 个工作日内说明理由退回（现已 4 个工作日），请与受理中心协商改派"
    assert get(clients["county"], rid)["state"] == "handling"  # nothing was changed by any refusal
    outsider = clients["pcs04"].post(f"/api/v1/records/{rid}/transitions/report_result", json={"fields": RESULT})
    assert outsider.status_code == 404  # not routed there: the record does not exist for it


def test_stale_version_is_a_conflict(clients):
    rid = routed_visit(clients, "2026-11-02")
    response = clients["pcs01"].post(f"/api/v1/records/{rid}/transitions/report_result",
                                     json={"fields": RESULT, "version": 1})
    assert response.status_code == 409 and get(clients["county"], rid)["state"] == "handling"


# -- 退回、改派、延期 -------------------------------------------------------------------------------------------
def test_send_back_and_reassign_are_counted(clients):
    rid = routed_visit(clients, "2026-11-02", "GA-PCS04")
    with at("2026-11-03"):
        back = go(clients["pcs04"], rid, "send_back", reason="不属本所辖区")
        assert back["state"] == "registered" and back["transition_counts"] == {"route": 1, "send_back": 1}
        assert any(i["title"].startswith("事项被退回") for i in inbox(clients["chengguan"]))
        go(clients["chengguan"], rid, "route", {"handling_unit": "GA-PCS01"})
        moved = go(clients["chengguan"], rid, "reassign", {"handling_unit": "SF-SFS01"}, reason="属矛盾纠纷，由司法所调处")
    assert moved["waiting_unit"]["code"] == "SF-SFS01"
    assert moved["transition_counts"] == {"route": 2, "send_back": 1, "reassign": 1}
    transfers = records_of(clients, "visit_transfer")  # routed twice: two 转办 entries; 改派 updates the current one
    assert [t["handling_unit"] for _, t in transfers] == ["GA-PCS04", "SF-SFS01"]
    assert moved["data"]["transfer_number"] == transfers[1][0]


def test_an_approved_extension_moves_the_deadline_and_rearms_the_ladder(clients):
    rid = routed_visit(clients, "2026-11-02")  # due 11-19
    with at("2026-11-16"):
        clients.tick("2026-11-16")  # 催办 fired
        go(clients["pcs01"], rid, "request_extension", {"extension": {"reason": "需协调城管联合执法", "new_deadline": "2026-12-10"}})
        too_long = go(clients["chengguan"], rid, "approve_extension", {"extension": {"approver": "易永刚", "new_deadline": "2026-12-10"}}, status=422)
        assert "最多延长 10 个工作日（现为 15 个工作日）" in too_long["message"]
        approved = go(clients["chengguan"], rid, "approve_extension", {"extension": {"approver": "易永刚", "new_deadline": "2026-12-03"}})
    assert approved["state"] == "handling" and approved["data"]["deadline"] == "2026-12-03"
    assert records_of(clients, "visit_transfer")[0][1]["status"] == "extended"
    clients.tick("2026-11-20")
    assert [s for s, _ in _steps(clients)] == ["chase"]  # no 督办 on the old deadline
    clients.tick("2026-11-30")
    assert [s for s, _ in _steps(clients)] == ["chase", "chase"]  # the new timer chases 3 working days before 12-03


# -- the 治安问题 loop ----------------------------------------------------------------------------------------
def test_a_security_problem_routed_by_the_rules_and_handled_by_the_station(clients):
    with at("2026-11-02"):
        problem = register(clients["chengguan"], "security_problem", PROBLEM)
        pid = problem["id"]
        suggested = get(clients["chengguan"], pid)
        assert suggested["data"]["routing"]["suggested_unit"] == "GA-PCS01"
        assert suggested["data"]["route_unit"] == "GA-PCS01"  # filled in by the routing rule, not typed
        elsewhere = go(clients["chengguan"], pid, "route", {"route_unit": "SF-SFS01"}, status=422)
        assert elsewhere["message"] == "分流单位与规则建议的单位不同，须选择改变分流单位的理由"
        routed = go(clients["chengguan"], pid, "route", {"route_unit": "GA-PCS01"})
        assert routed["state"] == "handling" and routed["data"]["deadline"] == "2026-11-19"
        done = go(clients["pcs01"], pid, "report_result",
                  {"measures": "联合清查", "result": "查处赌博人员 5 人", "completed_date": "2026-11-02"})
        assert done["state"] == "reported"
        go(clients["chengguan"], pid, "approve")
        archived = go(clients["chengguan"], pid, "follow_up", FOLLOW_UP_OK)
    assert archived["state"] == "archived"
    (_, follow_up), = records_of(clients, "follow_up")
    assert follow_up["original_problem"] == archived["number"] and follow_up["visitee"] == "李秀英"


def test_an_unfounded_report_is_closed_after_verification(clients):
    with at("2026-11-02"):
        pid = register(clients["chengguan"], "security_problem", PROBLEM)["id"]
        early = go(clients["chengguan"], pid, "close_unfounded", {"result": "经核查不属实"}, status=422)
        assert "先登记初核情况" in early["message"]
        go(clients["chengguan"], pid, "verify", {"verification": {"verifier": "贾艳", "date": "2026-11-02", "result": "unconfirmed"}})
        closed = go(clients["chengguan"], pid, "close_unfounded", {"result": "经核查不属实"})
    assert closed["state"] == "awaiting_follow_up" and closed["transition_counts"]["verify"] == 1


# -- the inbox --------------------------------------------------------------------------------------------
def test_a_station_sees_exactly_its_units_items(clients):
    mine = routed_visit(clients, "2026-11-02", "GA-PCS01")
    routed_visit(clients, "2026-11-02", "GA-PCS04")
    with at("2026-11-02"):
        other = register(clients["chengguan"], "security_problem", PROBLEM)["id"]  # waits on the centre
    with at("2026-11-02"):
        items = inbox(clients["pcs01"])
        assert [(i["kind"], i["record"]["id"]) for i in items] == [("step", mine)]
        assert mine not in [i["record"]["id"] for i in inbox(clients["pcs04"])]
        assert other in [i["record"]["id"] for i in inbox(clients["chengguan"])]
        counts = clients["pcs01"].get("/api/v1/inbox").get_json()
    assert (counts["open"], counts["overdue"]) == (1, 0)
    with at("2026-11-20"):
        overdue = clients["pcs01"].get("/api/v1/inbox").get_json()
    assert overdue["items"][0]["kind"] == "step" and overdue["items"][0]["due_date"] == "2026-11-19"  # overdue first
    assert overdue["overdue"] == 1


def test_closing_an_item_by_hand_needs_a_note_and_is_audited(clients):
    rid = routed_visit(clients, "2026-11-02")
    clients.tick("2026-11-16")
    chase = next(i for i in inbox(clients["pcs01"]) if i["kind"] == "escalation")
    step = next(i for i in inbox(clients["pcs01"]) if i["kind"] == "step")
    assert clients["pcs01"].post(f"/api/v1/inbox/{chase['id']}/close", json={"note": " "}).status_code == 422
    assert clients["pcs01"].post(f"/api/v1/inbox/{step['id']}/close", json={"note": "x"}).status_code == 422
    assert clients["pcs04"].post(f"/api/v1/inbox/{chase['id']}/close", json={"note": "x"}).status_code == 404
    closed = clients["pcs01"].post(f"/api/v1/inbox/{chase['id']}/close", json={"note": "已电话回复中心，正在办理"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    from server.records.models import AuditEntry

    notes = clients.run(lambda: [e.detail for e in db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "inbox.close"))])
    assert notes == ["已电话回复中心，正在办理"]
    assert get(clients["county"], rid)["state"] == "handling"


def test_the_assignee_changes_only_by_a_transition(clients):
    rid = routed_visit(clients, "2026-11-02")
    with at("2026-11-03"):
        record = get(clients["chengguan"], rid)
        moved = dict(record["data"], handling_unit="GA-PCS04")
        response = clients["chengguan"].put(f"/api/v1/records/{rid}", json=moved,
                                            headers={"If-Match": str(record["version"])})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"pointer": "/handling_unit", "message": "承办单位只能通过办理流转（如“改派”）改变，不能直接修改"}]
    assert get(clients["county"], rid)["waiting_unit"]["code"] == "GA-PCS01"


def test_a_transition_racing_another_process_is_a_conflict(clients, make_app, config_copy):
    rid = routed_visit(clients, "2026-11-02")
    other = make_app(config_dir=config_copy)  # a second server process on the same database
    with other.app_context():
        from server.auth.service import create_token

        token = create_token("pcs01")
    elsewhere = other.test_client()
    elsewhere.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with at("2026-11-03"):
        get(clients["pcs01"], rid)  # this process has read the record (version 2)
        go(elsewhere, rid, "report_result", RESULT)  # the other process moves it on (version 3)
        stale = clients["pcs01"].post(f"/api/v1/records/{rid}/transitions/report_result",
                                      json={"fields": RESULT, "version": 2})
    assert stale.status_code == 409 and stale.get_json()["error"] in ("conflict", "transition_state")
    assert get(clients["county"], rid)["state"] == "reported"

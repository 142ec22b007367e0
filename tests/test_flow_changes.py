"""Changing procedure by editing configuration: the escalation ladder, the listing period per level;
simulating a draft before it is published; moving open records to a new workflow version."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from server.extensions import db
from tests.test_flow_intake import (  # noqa: F401  (fixtures)
    RESULT, Clients, at, clients, config_copy, get, go, register, routed_visit,
)


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def _reload(clients: Clients) -> None:
    result = clients.app.test_cli_runner().invoke(args=["config", "reload"])
    assert result.exit_code == 0, result.output


def _steps(clients: Clients) -> list[tuple[str, date]]:
    from server.flow.models import TimerStep

    return clients.run(lambda: [(s.step, s.fired_on) for s in db.session.scalars(sa.select(TimerStep).order_by(TimerStep.id))])


def _tick_month(clients: Clients, start: date, days: int = 30) -> None:
    for offset in range(days):
        clients.tick(date.fromordinal(start.toordinal() + offset).isoformat(), "--no-daily")


def _ladder_at_due_and_five_after(doc: dict) -> None:
    """催办 3 working days before the due date, 督办 at it, 通报 5 working days after."""
    steps = {s["id"]: s for s in doc["timers"]["handling"]["steps"]}
    steps["chase"]["before"] = {"working_days": 3}
    del steps["supervise"]["after"]
    steps["supervise"]["at"] = "due"
    steps["circular"]["after"] = {"working_days": 5}


def test_the_ladder_is_configuration(clients, config_copy, tmp_path):
    workflow = config_copy / "workflows" / "visit_intake.json"
    _edit(workflow, _ladder_at_due_and_five_after)
    _reload(clients)
    routed_visit(clients, "2026-11-02")  # due Thursday 2026-11-19
    _tick_month(clients, date(2026, 11, 2))
    assert _steps(clients) == [("chase", date(2026, 11, 16)), ("supervise", date(2026, 11, 19)),
                               ("circular", date(2026, 11, 26))]


def test_a_draft_ladder_is_simulated_before_it_is_published(clients, config_copy, tmp_path):
    import shutil

    number = get(clients["county"], routed_visit(clients, "2026-11-02"))["number"]  # live: 督办 the day after 11-19
    draft = tmp_path / "draft"
    shutil.copytree(config_copy, draft)
    _edit(draft / "workflows" / "visit_intake.json", _ladder_at_due_and_five_after)
    _edit(draft / "rules" / "parameters.json",
          lambda d: d["parameters"]["handling_days_complaint"].update(value=10))
    result = clients.app.test_cli_runner().invoke(
        args=["workflows", "simulate", "--config", str(draft), "--date", "2026-11-19"])
    assert result.exit_code == 0, result.output
    # 10 working days from 11-02 is 11-16; by 11-19 the draft would have chased and supervised
    assert f"{number}（办理中）  办理时限：到期日 2026-11-19 → 2026-11-16；至 2026-11-19 应触发：催办 → 催办、督办" in result.output
    assert _steps(clients) == []  # nothing was stored
    assert get(clients["county"], 1)["due"]["date"] == "2026-11-19"


# -- the listing period per level is a parameter ----------------------------------------------------------
AREA = {"name": "东岗村废弃砖厂周边", "area_type": "complex_village", "township_code": "139901101000",
        "identification": {"discovery_source": "screening"}}
IDENTIFY = {"identification": {"identified_date": "2026-04-20", "basis": "近两月发案 5 起"},
            "problems": {"categories": ["porn_gambling_drugs"], "description": "砖厂夜间聚赌"}}
LISTING = {"listing": {"level": "township", "report_cycle": "monthly"}}


def _identified(clients: Clients, name: str = AREA["name"]) -> int:
    record = register(clients["county"], "key_area", dict(AREA, name=name))
    go(clients["county"], record["id"], "identify", IDENTIFY)
    return record["id"]


def _township_months(config: Path, months: int) -> None:
    _edit(config / "rules" / "parameters.json", lambda d: d["parameters"]["listing_months_township"].update(value=months))


def test_township_listings_last_three_months_by_configuration(clients, config_copy):
    _township_months(config_copy, 6)
    _reload(clients)
    with at("2026-05-10"):
        first = _identified(clients)
        listed = go(clients["county"], first, "list", LISTING)
    assert listed["data"]["listing"]["rectification_deadline"] == "2026-11-10"  # computed, not typed

    _township_months(config_copy, 3)
    _reload(clients)
    with at("2026-05-10"):
        three = go(clients["county"], _identified(clients, "南关农贸市场周边"), "list", LISTING)
        six = go(clients["county"], _identified(clients, "县城汽车站周边"), "list", {"listing": dict(LISTING["listing"], level="county")})
    assert three["data"]["listing"]["rectification_deadline"] == "2026-08-10"
    assert six["data"]["listing"]["rectification_deadline"] == "2026-11-10"
    assert get(clients["county"], first)["data"]["listing"]["rectification_deadline"] == "2026-11-10"  # started before


def _timers(clients: Clients, record_id: int) -> dict[str, str]:
    from server.flow.timers import live_timers

    return clients.run(lambda: {t.timer: t.due_date.isoformat() for t in live_timers(record_id)})


PLAN = {"rectification": {"plan_summary": "拆除砖厂围墙，夜间巡逻", "planned_start": "2026-05-11", "planned_end": "2026-07-31"}}


def test_editing_the_date_a_timer_counts_from_moves_the_deadline(clients, config_copy):
    with at("2026-05-10"):
        area = _identified(clients)
        started = go(clients["county"], area, "start_rectification", PLAN)
        assert _timers(clients, area)["rectification"] == "2026-07-31"  # the 整治期限 counts from the plan's end
        data = dict(started["data"], rectification=dict(started["data"]["rectification"], planned_end="2026-08-31"))
        saved = clients["county"].put(f"/api/v1/records/{area}", json=data, headers={"If-Match": str(started["version"])})
    assert saved.status_code == 200, saved.get_json()
    assert _timers(clients, area)["rectification"] == "2026-08-31"


def test_an_approved_extension_stays_when_the_timer_counts_from_a_date_field(clients, config_copy):
    def extend(doc: dict) -> None:
        doc["transitions"]["extend_plan"] = {
            "label": "批准延长整治期限", "from": "rectifying", "to": "rectifying", "roles": [{"role": "county_staff"}],
            "dialog": ["/delisting/extensions"], "requires": ["/delisting/extensions"],
            "actions": [{"do": "start_timer", "timer": "rectification", "due_from": "/delisting/extensions/-/new_deadline"}]}

    _edit(config_copy / "workflows" / "key_area.json", extend)
    _reload(clients)
    with at("2026-05-10"):
        area = _identified(clients)
        go(clients["county"], area, "start_rectification", PLAN)  # due 2026-07-31
    with at("2026-07-01"):
        extension = {"approved_date": "2026-07-01", "approved_by": "河口镇党委", "reason": "汛期停工", "new_deadline": "2026-12-31"}
        extended = go(clients["county"], area, "extend_plan", {"delisting": {"extensions": [extension]}})
        assert _timers(clients, area)["rectification"] == "2026-12-31"
        data = dict(extended["data"], rectification=dict(extended["data"]["rectification"], planned_end="2026-09-30"))
        saved = clients["county"].put(f"/api/v1/records/{area}", json=data, headers={"If-Match": str(extended["version"])})
    assert saved.status_code == 200, saved.get_json()
    assert _timers(clients, area)["rectification"] == "2026-12-31"  # a later edit does not undo the approval


# -- moving open records to a new version --------------------------------------------------------------
def test_open_records_keep_their_version_until_migrated(clients, config_copy):
    waiting = routed_visit(clients, "2026-11-02")                      # 办理中
    with at("2026-11-03"):
        reviewed = routed_visit(clients, "2026-11-02")
        go(clients["pcs01"], reviewed, "report_result", RESULT)        # 待审核
        fresh = register(clients["chengguan"])["id"]                   # 待分流

    def rename(doc: dict) -> None:  # 待审核 becomes 中心审核 (state id "review")
        doc["states"]["review"] = doc["states"].pop("reported")
        doc["states"]["review"]["title"] = "中心审核"
        for transition in doc["transitions"].values():
            if transition["to"] == "reported":
                transition["to"] = "review"
            if transition["from"] == "reported":
                transition["from"] = "review"
        doc["timers"]["handling"]["paused_in"] = ["review"]

    _edit(config_copy / "workflows" / "visit_intake.json", rename)
    _reload(clients)
    assert get(clients["county"], reviewed)["workflow"]["version"] == 1  # still on the version it started under
    assert get(clients["county"], reviewed)["state_title"] == "待审核"
    runner = clients.app.test_cli_runner()
    unmapped = runner.invoke(args=["workflows", "migrate", "visit_intake"])
    assert unmapped.exit_code == 2 and "状态 reported" in unmapped.output and "已迁移 2 条，无法映射 1 条" in unmapped.output
    assert get(clients["county"], waiting)["workflow"]["version"] == 2  # same state id: moved
    assert get(clients["county"], reviewed)["workflow"]["version"] == 1  # listed and left alone
    moved = runner.invoke(args=["workflows", "migrate", "visit_intake", "--map", "reported=review"])
    assert moved.exit_code == 0, moved.output
    assert "已迁移 1 条，无法映射 0 条" in moved.output
    for record_id, state in ((waiting, "handling"), (reviewed, "review"), (fresh, "registered")):
        record = get(clients["county"], record_id)
        assert (record["workflow"]["version"], record["state"]) == (2, state)
    migrated = get(clients["chengguan"], reviewed)
    assert migrated["state_title"] == "中心审核" and [t["id"] for t in migrated["transitions"]] == ["approve", "return_redo"]
    with at("2026-11-04"):
        assert go(clients["chengguan"], reviewed, "approve")["state"] == "awaiting_follow_up"
    timeline = clients["county"].get(f"/api/v1/records/{reviewed}/timeline").get_json()
    assert timeline[-2]["label"] == "流程迁移" and timeline[-2]["reason"] == "流程版本 1 → 2"


def test_records_saved_before_the_form_opted_in_are_taken_in(clients):
    from server.records.models import Record

    with at("2026-11-02"):
        rid = register(clients["chengguan"])["id"]

    def before_the_workflow() -> None:  # as a record saved before x-form.workflow was added
        record = db.session.get(Record, rid)
        record.workflow_id, record.workflow_version, record.state, record.waiting_unit_id = None, None, "active", None
        db.session.commit()

    clients.run(before_the_workflow)
    assert "workflow" not in get(clients["county"], rid)
    runner = clients.app.test_cli_runner()
    listed = runner.invoke(args=["workflows", "migrate", "visit_intake", "--dry-run"])
    assert listed.exit_code == 2 and "状态 active" in listed.output
    taken = runner.invoke(args=["workflows", "migrate", "visit_intake", "--map", "active=registered"])
    assert taken.exit_code == 0 and "已迁移 1 条" in taken.output, taken.output
    record = get(clients["chengguan"], rid)
    assert (record["state"], record["workflow"]["version"]) == ("registered", 1)
    assert [t["id"] for t in record["transitions"]] == ["answer", "route", "reject"]
    timeline = clients["county"].get(f"/api/v1/records/{rid}/timeline").get_json()
    assert timeline[-1]["label"] == "纳入流程"


def test_a_transition_issues_its_document_and_writes_the_number_back(clients, config_copy):
    """挂牌督办 issues the 挂牌督办通知书 as the person who lists the area; its 发文字号 goes into the record
    (nobody types a 文号 before the document exists)."""
    with at("2026-05-10"):
        record = _identified(clients)
        listed = go(clients["county"], record, "list", LISTING)
    assert "warnings" not in listed, listed.get("warnings")
    from server.documents.models import IssuedDocument

    issued = clients.run(lambda: [(d.number, d.doc_id, d.record_id) for d in db.session.scalars(sa.select(IssuedDocument))])
    assert len(issued) == 1 and issued[0][1:] == ("listing_notice", record)
    assert get(clients["county"], record)["data"]["listing"]["notice_number"] == issued[0][0]

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


# -- township listings last 3 months -------------------------------------------------------------------
LISTING_WORKFLOW = {
    "title": "挂牌督办",
    "facts": "key_area",
    "initial": "identified",
    "states": {"identified": {"title": "已认定", "waits_on": "owner"},
               "listed": {"title": "挂牌督办", "waits_on": "owner"},
               "delisted": {"title": "已摘牌", "open": False}},
    "transitions": {
        "list": {"label": "挂牌督办", "from": "identified", "to": "listed", "roles": [{"role": "county_staff"}],
                 "dialog": ["/listing/is_listed", "/listing/listed_date", "/listing/level", "/listing/notice_number",
                            "/listing/report_cycle"],
                 "requires": ["/listing/is_listed", "/listing/listed_date", "/listing/level"]},
        "delist": {"label": "摘牌", "from": "listed", "to": "delisted", "roles": [{"role": "county_staff"}],
                   "dialog": ["/delisting/delisted_date"], "requires": ["/delisting/delisted_date"]}},
    "timers": {"rectification": {"title": "整改期限", "runs_in": ["listed"], "from": "/listing/listed_date",
                                 "due": {"months": {"$fact": "listing_months"}},
                                 "write_due": "/listing/rectification_deadline"}},
}


def _listing_procedure(config: Path, township_months: int) -> None:
    """The listing as configuration: a workflow on the key-area ledger, the period per level a parameter."""
    (config / "workflows" / "key_area_listing.json").write_text(json.dumps(LISTING_WORKFLOW, ensure_ascii=False))
    _edit(config / "forms" / "key_area.json", lambda d: d["x-form"].update(workflow="key_area_listing"))

    def params(doc: dict) -> None:
        doc["parameters"]["listing_months_county"] = {"title": "县级挂牌整改期限", "unit": "个月", "value": 6,
                                                      "minimum": 1, "maximum": 24}
        doc["parameters"]["listing_months_township"] = {"title": "乡镇级挂牌整改期限", "unit": "个月",
                                                        "value": township_months, "minimum": 1, "maximum": 24}

    def facts(doc: dict) -> None:
        doc["attributes"]["listing_level"] = {"field": "/listing/level"}
        doc["attributes"]["listing_months"] = {"switch": "listing_level", "cases": {
            "county": {"param": "listing_months_county"}, "township": {"param": "listing_months_township"}}}

    _edit(config / "rules" / "parameters.json", params)
    _edit(config / "facts" / "key_area.json", facts)


AREA = {"name": "东岗村废弃砖厂周边", "area_type": "complex_village", "township_code": "139901101000", "stage": "identified",
        "identification": {"discovery_source": "screening", "identified_date": "2026-04-20", "basis": "近两月发案 5 起"}}
LISTING = {"listing": {"is_listed": True, "listed_date": "2026-05-10", "level": "township",
                       "notice_number": "河综治督〔2026〕1号", "report_cycle": "monthly"}}


def test_township_listings_last_three_months_by_configuration(clients, config_copy):
    _listing_procedure(config_copy, township_months=6)
    _reload(clients)
    with at("2026-05-10"):
        first = register(clients["county"], "key_area", AREA)
        listed = go(clients["county"], first["id"], "list", LISTING)
    assert listed["data"]["listing"]["rectification_deadline"] == "2026-11-10"  # computed, not typed

    _edit(config_copy / "rules" / "parameters.json",
          lambda d: d["parameters"]["listing_months_township"].update(value=3))
    _reload(clients)
    with at("2026-05-10"):
        second = register(clients["county"], "key_area", dict(AREA, name="南关农贸市场周边"))
        three = go(clients["county"], second["id"], "list", LISTING)
        county_level = register(clients["county"], "key_area", dict(AREA, name="县城汽车站周边"))
        six = go(clients["county"], county_level["id"], "list",
                 {"listing": dict(LISTING["listing"], level="county")})
    assert three["data"]["listing"]["rectification_deadline"] == "2026-08-10"
    assert six["data"]["listing"]["rectification_deadline"] == "2026-11-10"
    assert get(clients["county"], first["id"])["data"]["listing"]["rectification_deadline"] == "2026-11-10"  # started before


def test_editing_the_date_a_timer_counts_from_moves_the_deadline(clients, config_copy):
    _listing_procedure(config_copy, township_months=3)
    _reload(clients)
    with at("2026-05-10"):
        area = register(clients["county"], "key_area", AREA)
        listed = go(clients["county"], area["id"], "list", LISTING)
        data = dict(listed["data"], listing=dict(listed["data"]["listing"], listed_date="2026-06-01",
                                                 rectification_deadline="2027-01-01"))
        saved = clients["county"].put(f"/api/v1/records/{area['id']}", json=data,
                                      headers={"If-Match": str(listed["version"])})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["data"]["listing"]["rectification_deadline"] == "2026-09-01"  # typed value replaced
    assert saved.get_json()["due"]["date"] == "2026-09-01"


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


def test_an_approved_extension_stays_when_the_timer_counts_from_a_date_field(clients, config_copy):
    _listing_procedure(config_copy, township_months=3)

    def extend(doc: dict) -> None:
        doc["transitions"]["extend"] = {
            "label": "批准延期整治", "from": "listed", "to": "listed", "roles": [{"role": "county_staff"}],
            "dialog": ["/delisting/extensions"], "requires": ["/delisting/extensions"],
            "actions": [{"do": "start_timer", "timer": "rectification", "due_from": "/delisting/extensions/-/new_deadline"}]}

    _edit(config_copy / "workflows" / "key_area_listing.json", extend)
    _reload(clients)
    with at("2026-05-10"):
        area = register(clients["county"], "key_area", AREA)
        go(clients["county"], area["id"], "list", LISTING)  # due 2026-08-10
    with at("2026-07-01"):
        extension = {"approved_date": "2026-07-01", "approved_by": "河口镇党委", "new_deadline": "2026-12-31"}
        extended = go(clients["county"], area["id"], "extend", {"delisting": {"extensions": [extension]}})
        assert extended["due"]["date"] == "2026-12-31"
        assert extended["data"]["listing"]["rectification_deadline"] == "2026-12-31"
        data = dict(extended["data"], scope="东岗村及周边 500 米")  # a later edit does not undo the approval
        saved = clients["county"].put(f"/api/v1/records/{area['id']}", json=data,
                                      headers={"If-Match": str(extended["version"])})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["data"]["listing"]["rectification_deadline"] == "2026-12-31"


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
    _listing_procedure(config_copy, township_months=3)

    def issue_on_listing(doc: dict) -> None:
        doc["transitions"]["list"]["actions"] = [
            {"do": "issue_document", "doc_id": "listing_notice", "number_to": "/listing/notice_number"}]

    def number_not_typed(doc: dict) -> None:
        doc["properties"]["listing"]["then"]["required"].remove("notice_number")

    _edit(config_copy / "workflows" / "key_area_listing.json", issue_on_listing)
    _edit(config_copy / "forms" / "key_area.json", number_not_typed)
    _reload(clients)
    area = dict(AREA, problems={"categories": ["porn_gambling_drugs"], "description": "砖厂夜间聚赌"})
    listing = {"listing": {k: v for k, v in LISTING["listing"].items() if k != "notice_number"}}
    with at("2026-05-10"):
        record = register(clients["county"], "key_area", area)
        listed = go(clients["county"], record["id"], "list", listing)
    assert "warnings" not in listed, listed.get("warnings")
    from server.documents.models import IssuedDocument

    issued = clients.run(lambda: [(d.number, d.doc_id, d.record_id) for d in db.session.scalars(sa.select(IssuedDocument))])
    assert len(issued) == 1 and issued[0][1:] == ("listing_notice", record["id"])
    assert get(clients["county"], record["id"])["data"]["listing"]["notice_number"] == issued[0][0]

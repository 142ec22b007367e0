"""The county's policies as shipped (config/rules/), end to end: record saved → decisions → effects.

Boundaries: 89.99 % vs 90.00 %; the formula parameter; a parameter edit + reload changes decisions with
no code change or restart; broken rule files are refused with file and pointer, the old version serving.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.inbox.models import InboxItem
from server.rules.models import AwardIneligibility, Decision
from server.settings import PROJECT_ROOT

KEY_AREA = {
    "name": "东岗村废弃砖厂周边", "area_type": "complex_village", "township_code": "139901101000",
    "identification": {"discovery_source": "screening", "identified_date": "2026-04-20", "basis": "近两月发案 5 起"},
    "listing": {"is_listed": True, "listed_date": "2026-05-10", "level": "county",
                "notice_number": "示综治督〔2026〕3号", "rectification_deadline": "2026-11-10",
                "report_cycle": "monthly"},
}


def _survey(satisfied: int, basic: int, dissatisfied: int, per: str = "participant") -> dict:
    """The acceptance section with a 座谈会 giving these votes (tests/test_survey.py: one person per vote
    answering every item alike, or ``per="answer"``: the votes dealt out six answers to a person)."""
    from tests.test_survey import survey

    return {"satisfaction_survey": survey(satisfied, basic, dissatisfied, per)}


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    return target


@pytest.fixture
def county(make_app, config_copy):  # type: ignore[no-untyped-def]
    app = make_app(config_dir=config_copy)
    with app.app_context():
        from server.auth.service import create_token, create_user

        create_user("county", "Jiangbei-qiao-88", role="county_staff", org_code="139901000000")
        token = create_token("county")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.application = app
    return client


def _save(api, data, day: str | None = None):  # type: ignore[no-untyped-def]
    """A key area holding ``data`` at the stage that data belongs to (tests/keyareas.py), saved on ``day``
    (default: the day it was listed)."""
    from tests.conftest import user_named
    from tests.keyareas import area_at, state_for
    from tests.test_flow_intake import at

    # saved on the day it was listed: the 整改期限 is computed from that day (6 months for a county listing)
    with api.application.app_context(), at(day or data.get("listing", {}).get("listed_date") or "2026-05-10"):
        record = area_at(data, state_for(data), user_named("county"))
        return {"id": record.id}


def _simulate(api, ruleset, facts):  # type: ignore[no-untyped-def]
    response = api.post(f"/api/v1/rules/{ruleset}/simulate", json={"facts": facts})
    assert response.status_code == 200, response.get_json()
    return [d["rule"] for d in response.get_json()["decisions"]]


@pytest.mark.parametrize("satisfied, dissatisfied, rule, conclusion", [
    (9017, 1003, "extension", "extended"),   # 89.99 % of 10 020 answers (1 670 people × 6 items)
    (9018, 1002, "accepted", "passed"),      # 90.00 %
])
def test_acceptance_boundary_on_a_saved_record(county, satisfied, dissatisfied, rule, conclusion):
    record = _save(county, dict(KEY_AREA, acceptance=_survey(satisfied, 0, dissatisfied, per="answer")))
    decisions = county.get(f"/api/v1/records/{record['id']}/decisions").get_json()
    fired = {d["rule"] for d in decisions if d["ruleset"] == "acceptance"}
    assert fired == {rule}
    explanation = next(d["explanation"] for d in decisions if d["rule"] == rule)
    assert ("89.99%" if rule == "extension" else "90.0%") in explanation
    current = county.get(f"/api/v1/records/{record['id']}").get_json()
    assert current["data"]["acceptance"]["conclusion"] == conclusion
    with county.application.app_context():
        task = db.session.scalars(sa.select(InboxItem).where(InboxItem.kind == "task")).one()
        assert task.title.startswith("撰写整治工作报告" if rule == "accepted" else "提请批准延期整治")


def test_saving_again_does_not_repeat_decisions_or_tasks(county):
    record = _save(county, dict(KEY_AREA, acceptance=_survey(95, 5, 0)))
    current = county.get(f"/api/v1/records/{record['id']}").get_json()
    again = county.put(f"/api/v1/records/{record['id']}", json=current["data"] | {"name": "东岗村砖厂"},
                       headers={"If-Match": str(current["version"])})
    assert again.status_code == 200, again.get_json()
    with county.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboxItem).where(InboxItem.kind == "task")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision).where(
            Decision.ruleset == "acceptance")) == 1


def test_listed_area_makes_its_township_ineligible(county):
    _save(county, KEY_AREA)
    with county.application.app_context():
        row = db.session.scalars(sa.select(AwardIneligibility)).one()
        assert row.award == "综治工作先进单位" and str(row.from_date) == "2026-05-10"


def test_satisfied_only_formula_is_a_parameter(county, config_copy):
    facts = {"acceptance_held": True, "satisfaction_rate": 90.0, "valid_votes": 10}
    assert _simulate(county, "acceptance", facts) == ["accepted"]
    params = config_copy / "rules" / "parameters.json"
    doc = json.loads(params.read_text())
    doc["parameters"]["satisfaction_threshold"]["value"] = 85
    params.write_text(json.dumps(doc, ensure_ascii=False))
    result = county.application.test_cli_runner().invoke(args=["config", "reload"])
    assert result.exit_code == 0, result.output
    assert _simulate(county, "acceptance", dict(facts, satisfaction_rate=86.0)) == ["accepted"]
    assert _simulate(county, "acceptance", dict(facts, satisfaction_rate=84.99)) == ["extension"]


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["rules"]["accepted"]["if"]["$and"].append({"$like": {"stage": "x"}}),
     "rules/acceptance.json:"),
    (lambda d: d["rules"]["accepted"]["actions"].append({"do": "launch_rocket"}), "/rules/accepted/actions/2/do"),
    (lambda d: d["rules"]["accepted"]["if"]["$and"][1]["$gte"].update({"satisfaction_rate": {"$param": "nope"}}),
     "参数 \"nope\" 不存在"),
    (lambda d: d["rules"]["accepted"]["if"]["$and"].__setitem__(0, {"acceptance_held": "yes"}),
     "/rules/accepted/if/$and/0/acceptance_held"),
])
def test_broken_rule_file_is_refused_and_old_version_serves(county, config_copy, monkeypatch, edit, expected):
    path = config_copy / "rules" / "acceptance.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    result = county.application.test_cli_runner().invoke(args=["config", "reload"])
    assert result.exit_code == 1
    assert "rules/acceptance.json:" in result.output and expected in result.output
    facts = {"acceptance_held": True, "satisfaction_rate": 95.0, "valid_votes": 10}
    assert _simulate(county, "acceptance", facts) == ["accepted"]


def test_simulate_refuses_badly_typed_facts_and_other_roles(county):
    response = county.post("/api/v1/rules/acceptance/simulate", json={"facts": {"satisfaction_rate": "very"}})
    assert response.status_code == 422 and response.get_json()["errors"][0]["pointer"] == "/facts/satisfaction_rate"
    assert county.post("/api/v1/rules/nope/simulate", json={"facts": {}}).status_code == 404


def test_responsibility_from_org_posts(county):
    record = _save(county, KEY_AREA)
    data = county.get(f"/api/v1/records/{record['id']}").get_json()["data"]
    with county.application.app_context():
        from server.org.service import unit_by_code

        township, station = unit_by_code("139901101000"), unit_by_code("GA-PCS04")
        assert data["responsibility"]["first_responsible"] == township.posts["party_secretary"]
        assert data["responsibility"]["lead_unit"] == township.name
        assert data["responsibility"]["direct_responsible"] == [
            {"name": station.posts["station_head"], "unit": station.name, "position": "派出所所长"}]


@pytest.mark.parametrize("code, position", [("139901101000", "党委书记"), ("139901001000", "党工委书记")])
def test_first_responsible_post_follows_the_kind_of_unit(county, code, position):
    """A township's 党委书记, a subdistrict's (街道) 党工委书记."""
    record = _save(county, dict(KEY_AREA, township_code=code))
    data = county.get(f"/api/v1/records/{record['id']}").get_json()["data"]
    assert data["responsibility"]["first_responsible_position"] == position


@pytest.mark.parametrize("days, vetoed", [(365, True), (366, False)])
def test_relisting_within_a_year_is_vetoed(county, days, vetoed):
    from datetime import date, timedelta

    from server.rules.models import Accountability, Veto

    earlier = dict(KEY_AREA, name="旧区域", problems={"categories": ["porn_gambling_drugs"], "description": "聚赌"},
                   delisting={"delisted_date": "2025-05-10"})
    _save(county, dict(earlier, listing={"is_listed": False}))
    listed = (date(2025, 5, 10) + timedelta(days=days)).isoformat()
    again = dict(KEY_AREA, problems={"categories": ["porn_gambling_drugs", "theft_robbery"], "description": "聚赌、盗窃"},
                 listing=dict(KEY_AREA["listing"], listed_date=listed))
    record = _save(county, again)
    with county.application.app_context():
        vetoes = db.session.scalars(sa.select(Veto)).all()
        assert len(vetoes) == (1 if vetoed else 0)
        if vetoed:
            assert vetoes[0].year == int(listed[:4]) and str(days) in vetoes[0].reason
            people = {a.post for a in db.session.scalars(sa.select(Accountability))}
            assert people == {"party_secretary", "station_head"}
    why = county.get(f"/api/v1/records/{record['id']}/decisions").get_json()
    assert any(d["rule"] == "relisted_within_window" for d in why) is vetoed


def test_the_tick_of_a_fresh_process_runs_the_published_rules(county, make_app, config_copy):
    """``flask rules tick`` from cron is a new process that has served no request: it must adopt the
    published rules itself (and publish nothing)."""
    from server.specs.registry import LiveConfig

    _save(county, KEY_AREA)
    cron = make_app(config_dir=config_copy)
    cron.extensions["registry"].live = LiveConfig()  # as a process that has not adopted anything
    result = cron.test_cli_runner().invoke(args=["rules", "tick", "--date", "2026-11-11"])
    assert result.exit_code == 0 and "overdue.deadline_passed：1 项" in result.output


def test_overdue_listing_vetoed_by_the_daily_tick(county):
    from server.rules.models import Veto

    _save(county, KEY_AREA)  # deadline 2026-11-10, not accepted
    runner = county.application.test_cli_runner()
    on_time = runner.invoke(args=["rules", "tick", "--date", "2026-11-10"])
    assert on_time.exit_code == 0 and "deadline_passed" not in on_time.output
    late = runner.invoke(args=["rules", "tick", "--date", "2026-11-11"])
    assert "overdue.deadline_passed：1 项" in late.output
    with county.application.app_context():
        assert db.session.scalars(sa.select(Veto)).one().year == 2026


def test_security_problem_routed_by_category(county):
    from server.records.models import RecordRoute

    problem = {"received_at": "2026-05-06T09:00", "info_source": "visit",
               "location": {"division_code": "139901101201"}, "problem_category": "porn_gambling_drugs",
               "description": "村东砖厂夜间聚赌"}
    response = county.post("/api/v1/forms/security_problem/records", json=problem)
    assert response.status_code == 201, response.get_json()
    record = county.get(f"/api/v1/records/{response.get_json()['id']}").get_json()
    assert record["data"]["routing"]["suggested_unit"] == "GA-PCS04" and record["data"]["route_unit"] == "GA-PCS04"
    with county.application.app_context():
        from server.org.service import unit_by_code

        route = db.session.scalars(sa.select(RecordRoute)).one()  # the suggested 派出所 may see it
        assert route.org_unit_id == unit_by_code("GA-PCS04").id and route.source == "field:/route_unit"


def test_simulate_a_draft_configuration_against_records(county, config_copy, tmp_path):
    _save(county, dict(KEY_AREA, acceptance=_survey(87, 0, 13)))
    draft = tmp_path / "draft"
    shutil.copytree(config_copy, draft)
    params = draft / "rules" / "parameters.json"
    doc = json.loads(params.read_text())
    doc["parameters"]["satisfaction_threshold"]["value"] = 85
    params.write_text(json.dumps(doc, ensure_ascii=False))
    result = county.application.test_cli_runner().invoke(args=["rules", "simulate", "--config", str(draft)])
    assert result.exit_code == 0, result.output
    assert "acceptance：extension → accepted" in result.output and "共 1 条记录或单位的决定会改变" in result.output


def _id_number(first17: str) -> str:
    from server.forms.formats import id_check_char

    return first17 + id_check_char(first17)


def _officer(village: str, n: int) -> dict:
    return {"name": f"信息员{n}", "gender": "male", "id_number": _id_number(f"13990119800101{n:03d}"), "phone": f"1393112{n:04d}",
            "quota_category": "village", "village_code": village, "appointed_date": "2026-05-01", "status": "active"}


def test_officer_coverage_boundary_two_versus_three(county):
    village = "139901101201"
    for n in range(2):
        assert county.post("/api/v1/forms/officer_roster/records", json=_officer(village, n)).status_code == 201
    runner = county.application.test_cli_runner()
    first = runner.invoke(args=["rules", "tick", "--date", "2026-06-01"])
    assert first.exit_code == 0, first.output
    with county.application.app_context():
        from server.org.service import unit_by_code

        note = db.session.scalars(sa.select(InboxItem).where(
            InboxItem.source_key.startswith(f"officer_coverage:gap:unit:{village}:"))).one()
        assert "缺 1 名" in note.message and "现有 2 名" in note.message
        assert note.unit_id == unit_by_code("139901101000").id  # the township recruits its villages' officers
        before = db.session.scalar(sa.select(sa.func.count()).select_from(Decision))
    assert county.post("/api/v1/forms/officer_roster/records", json=_officer(village, 2)).status_code == 201
    runner.invoke(args=["rules", "tick", "--date", "2026-06-02"])
    with county.application.app_context():
        gaps = db.session.scalars(sa.select(Decision).where(Decision.rule == "gap")).all()
        assert not any(d.facts["unit_code"] == village and d.facts["officers"] == 3 for d in gaps)
        # units whose facts did not change were not decided again
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == before


def test_monthly_report_chased_after_the_due_day(county):
    runner = county.application.test_cli_runner()
    with county.application.app_context():
        from server.auth.service import create_token, create_user
        from server.org.service import unit_by_code

        create_user("gaj", "Jiangbei-qiao-88", role="department_staff", org_code="GA")
        police_token = create_token("gaj")
        bureau = unit_by_code("GA")

    def tasks_for_bureau() -> list[str]:
        with county.application.app_context():
            return [t.title for t in db.session.scalars(sa.select(InboxItem).where(
                InboxItem.unit_id == bureau.id, InboxItem.kind == "task"))]

    assert "monthly_report.missing" not in runner.invoke(args=["rules", "tick", "--date", "2026-06-05"]).output
    assert tasks_for_bureau() == []
    assert "monthly_report.missing" in runner.invoke(args=["rules", "tick", "--date", "2026-06-06"]).output
    assert tasks_for_bureau() == ["报送 2026-05 月度检查报告（已逾期）"]
    report = {"report_month": "2026-06", "inspecting_unit": "GA", "inspectors": "王警官"}
    posted = county.application.test_client().post("/api/v1/forms/monthly_inspection/records", json=report,
                                                   headers={"Authorization": f"Bearer {police_token}"})
    assert posted.status_code == 201, posted.get_json()
    runner.invoke(args=["rules", "tick", "--date", "2026-07-05"])
    assert len(tasks_for_bureau()) == 1  # June's report came in time: nothing new for July


def test_relevant_department_heads_are_direct_responsible(county):
    record = _save(county, dict(KEY_AREA, problems={"categories": ["campus_surroundings"], "description": "校门口摊点"}))
    people = county.get(f"/api/v1/records/{record['id']}").get_json()["data"]["responsibility"]["direct_responsible"]
    assert [p["unit"] for p in people] == ["河口派出所", "县教育局"]


def test_ineligibility_ends_on_delisting(county):
    from tests.conftest import user_named
    from tests.keyareas import advance

    record = _save(county, KEY_AREA)
    with county.application.app_context():
        advance(record["id"], "consolidating", {"delisting": {"delisted_date": "2026-10-01"}}, user_named("county"))
        row = db.session.scalars(sa.select(AwardIneligibility)).one()
        assert (str(row.from_date), str(row.until_date)) == ("2026-05-10", "2026-10-01")
    with county.application.app_context():
        row = db.session.scalars(sa.select(AwardIneligibility)).one()
        assert (str(row.from_date), str(row.until_date)) == ("2026-05-10", "2026-10-01")


def test_a_request_holding_the_old_rules_finishes_on_them_after_a_reload(county, config_copy):
    from server.rules.engine import ENGINE
    from server.rules.service import simulate

    app = county.application
    facts = {"acceptance_held": True, "satisfaction_rate": 87.0, "valid_votes": 10}
    with app.app_context():
        old = app.extensions["registry"].live.rules
    params = config_copy / "rules" / "parameters.json"
    for threshold in (85, 80):
        doc = json.loads(params.read_text())
        doc["parameters"]["satisfaction_threshold"]["value"] = threshold
        params.write_text(json.dumps(doc, ensure_ascii=False))
        assert app.test_cli_runner().invoke(args=["config", "reload"]).exit_code == 0
        if threshold == 85:
            with app.app_context():  # one reload later, the old version still answers as before
                assert [d["rule"] for d in simulate(old, old.rulesets["acceptance"], facts)] == ["extension"]
    assert not any(name.endswith(f".{old.tag}") for name in ENGINE.loaded())  # two reloads later: freed
    assert _simulate(county, "acceptance", facts) == ["accepted"]

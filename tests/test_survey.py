"""The 座谈会 satisfaction survey as data (issue 10, item 4): one row per participant (a group from the form,
a name only if given) with an answer 满意/基本满意/不满意 to each questionnaire item of the form. The counts,
the number of participants and the rate are computed from the answers (fact operator ``count_values``):
every answer is one vote. The rate decides the ``accept`` transition (验收合格 or 延期待批) and the
acceptance rule at the threshold, under both formulas; typed totals are refused; an empty survey is refused;
the 验收报告 and the 满意度测评表 print the same figures.

The helpers (``participants``, ``survey``) build surveys for other test modules too; they import nothing
from other test modules, so those may import them at their top.
"""
from __future__ import annotations

import json
from typing import Any

from server.settings import PROJECT_ROOT

_FORM = json.loads((PROJECT_ROOT / "config" / "forms" / "key_area.json").read_text(encoding="utf-8"))
_ROW = _FORM["properties"]["acceptance"]["properties"]["satisfaction_survey"]["properties"]["participants"]["items"]
#: The questionnaire items and participant groups, in form order (configuration: an edit of the form changes them).
ITEMS: tuple[str, ...] = tuple(_ROW["properties"]["answers"]["properties"])
GROUPS: tuple[str, ...] = tuple(c["const"] for c in _ROW["properties"]["group"]["oneOf"])


def participants(satisfied: int, basically: int, dissatisfied: int, per: str = "participant") -> list[dict[str, Any]]:
    """Survey rows giving these votes.

    ``per="participant"``: one person per vote, answering every item alike, so the counts are the numbers
    given times the number of items and the rate is the rate of the numbers given. ``per="answer"``: the votes
    dealt out in order, one item after the other, ``len(ITEMS)`` answers to a person (the total must divide).
    Groups rotate through the configured ones.
    """
    votes = ["satisfied"] * satisfied + ["basically_satisfied"] * basically + ["dissatisfied"] * dissatisfied
    if per == "participant":
        rows = [dict.fromkeys(ITEMS, vote) for vote in votes]
    else:
        assert len(votes) % len(ITEMS) == 0, f"{len(votes)} votes do not make whole rows of {len(ITEMS)} answers"
        rows = [dict(zip(ITEMS, votes[i:i + len(ITEMS)])) for i in range(0, len(votes), len(ITEMS))]
    return [{"group": GROUPS[i % len(GROUPS)], "answers": answers} for i, answers in enumerate(rows)]


def survey(satisfied: int, basically: int, dissatisfied: int, per: str = "participant", **extra: Any) -> dict[str, Any]:
    """The ``/acceptance/satisfaction_survey`` object of a 座谈会 held on 2026-06-01."""
    return {"survey_date": "2026-06-01", "venue": "城关街道办事处会议室",
            "participants": participants(satisfied, basically, dissatisfied, per), **extra}


# -- the tests (fixtures from the flow and document tests) ----------------------------------------------
import pytest  # noqa: E402

from tests.test_documents_shipped import assert_contains, env, issued_text, key_area, sample  # noqa: E402,F401
from tests.test_flow_intake import at, clients, config_copy, get, go, register  # noqa: E402,F401

CHENGGUAN = "139901001000"
AREA = {"name": "陉山大道与建设路交叉口周边", "area_type": "street", "township_code": CHENGGUAN,
        "identification": {"discovery_source": "screening"}}
IDENTIFY = {"identification": {"identified_date": "2026-03-02", "basis": "近三月盗窃案件 12 起，占道烧烤扰民"},
            "problems": {"categories": ["theft_robbery", "public_order_chaos"], "description": "夜间烧烤摊占道，打架斗殴多发"}}
PLAN = {"rectification": {"plan_summary": "取缔无证摊点，安装红绿灯和视频监控", "planned_start": "2026-03-03",
                          "planned_end": "2026-04-30"}}
#: Four people of a real 座谈会, answering item by item: 18 满意, 4 基本满意, 2 不满意 of 24 answers.
MIXED = [
    {"group": "residents", "name": "张桂兰", "answers": dict(dict.fromkeys(ITEMS, "satisfied"), patrol="basically_satisfied")},
    {"group": "info_officer", "answers": dict.fromkeys(ITEMS, "satisfied")},
    {"group": "victim", "name": "李志强", "answers": dict(dict.fromkeys(ITEMS, "satisfied"), patrol="dissatisfied",
                                                          disputes="basically_satisfied")},
    {"group": "business", "answers": dict(dict.fromkeys(ITEMS, "basically_satisfied"), overall="dissatisfied",
                                          security_change="satisfied", measures="satisfied", salient_problems="satisfied")},
]


def applied(clients) -> int:  # type: ignore[no-untyped-def]
    """A key area of 城关街道 whose acceptance was applied for (申请验收)."""
    with at("2026-03-02"):
        rid = register(clients["chengguan"], "key_area", AREA)["id"]
        go(clients["chengguan"], rid, "identify", IDENTIFY)
        go(clients["chengguan"], rid, "start_rectification", PLAN)
    with at("2026-05-20"):
        go(clients["chengguan"], rid, "apply_acceptance",
           {"acceptance": {"applied_date": "2026-05-20", "applying_unit": "城关街道"}})
    return rid


def accept(clients, rid: int, symposium: dict[str, Any], status: int = 200) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    fields = {"acceptance": {"acceptance_date": "2026-06-01", "team_leader": "县综治中心副主任",
                             "satisfaction_survey": symposium}}
    with at("2026-06-01"):
        return go(clients["county"], rid, "accept", fields, status=status)


def fact_of(clients, symposium: dict[str, Any], formula: str | None = None) -> tuple[dict[str, Any], list[str]]:  # type: ignore[no-untyped-def]
    """The key-area fact of a record holding this survey (not stored) and the acceptance rules it fires,
    under the shipped parameters or with ``formula`` for 满意率计算口径."""
    from server.extensions import db
    from server.org.service import unit_by_code
    from server.records.models import Record
    from server.rules import service

    def run() -> tuple[dict[str, Any], list[str]]:
        rules = service.live_rules()
        ctx = service.context(rules)
        if formula:
            ctx.parameters = {**rules.values, "satisfaction_formula": formula}
        data = dict(AREA, acceptance={"acceptance_date": "2026-06-01", "satisfaction_survey": symposium})
        record = Record(form_id="key_area", data=data, org_unit_id=unit_by_code(CHENGGUAN).id)
        fact = service.record_fact(rules, "key_area", record, ctx)
        db.session.rollback()
        fired = [d["rule"] for d in service.simulate(rules, rules.rulesets["acceptance"], fact)]
        return fact, fired

    return clients.run(run)


# -- the operator ---------------------------------------------------------------------------------------
def test_count_values_counts_the_values_in_every_row():
    from server.rules.facts import count_values

    rows = [{"answers": {"a": "satisfied", "b": "dissatisfied", "c": "satisfied"}}, {"answers": {"a": "satisfied"}},
            {"group": "residents"}, "not a row", {"answers": None}]
    assert count_values(rows, "/answers", ["satisfied"]) == 3
    assert count_values(rows, "/answers", ["satisfied", "dissatisfied"]) == 4
    assert count_values([{"tags": ["x", "y", "x"]}, {"tags": "x"}], "/tags", ["x"]) == 3  # a list's items, a scalar
    assert count_values(["x", "y", "x"], None, ["x"]) == 2  # the rows themselves
    assert count_values(None, "/answers", ["satisfied"]) == 0 and count_values([], "/answers", ["x"]) == 0
    assert count_values([{"v": True}, {"v": 1}], "/v", [1]) == 1  # True is not 1


def test_config_check_names_what_is_wrong_in_count_values(tmp_path):
    from server.specs.facts_loader import load_facts

    (tmp_path / "facts").mkdir()
    survey_rows = "/acceptance/satisfaction_survey/participants"
    (tmp_path / "facts" / "survey.json").write_text(json.dumps({"title": "测评", "form": "key_area", "attributes": {
        "good": {"count_values": survey_rows, "at": "/answers", "values": ["satisfied"]},
        "not_rows": {"count_values": "/name", "values": ["x"]},
        "bad_at": {"count_values": survey_rows, "at": "/answer", "values": ["satisfied"]},
        "typo": {"count_values": survey_rows, "at": "/answers", "values": ["satisifed"]},
        "no_values": {"count_values": survey_rows, "at": "/answers"},
        "extra": {"count_values": survey_rows, "at": "/answers", "values": ["satisfied"], "percent": True},
    }}, ensure_ascii=False), encoding="utf-8")
    specs, errors = load_facts(tmp_path, {"key_area": _FORM}, None)
    found = {e.pointer: e.message for e in errors}
    assert found["/attributes/not_rows/count_values"].startswith("count_values 只能数数组字段的行")
    assert "没有字段" in found["/attributes/bad_at/at"] and "/answer" in found["/attributes/bad_at/at"]
    assert found["/attributes/typo/values/0"].startswith('"satisifed" 不是可选的值') and '"satisfied"' in found["/attributes/typo/values/0"]
    assert "须有 values" in found["/attributes/no_values"]
    assert "不接受选项 \"percent\"" in found["/attributes/extra/percent"]
    assert "/attributes/good" not in " ".join(found)


# -- answers → counts → rate ----------------------------------------------------------------------------
def test_the_counts_and_the_participants_come_from_the_answers(clients):
    fact, fired = fact_of(clients, {"participants": MIXED})
    assert (fact["survey_participants"], fact["satisfied"], fact["basically_satisfied"], fact["dissatisfied"],
            fact["valid_votes"]) == (4, 18, 4, 2, 24)
    assert round(fact["satisfaction_rate"], 4) == round(22 / 24 * 100, 4) and fired == ["accepted"]  # 91.67 %
    fact, fired = fact_of(clients, {"participants": MIXED}, "satisfied_only")
    assert fact["satisfaction_rate"] == 75.0 and fired == ["extension"]


@pytest.mark.parametrize("formula, good, basic, bad, fired", [
    # 10 020 answers: 1 670 people × 6 items, dealt out answer by answer
    ("satisfied_plus_basic", 9000, 18, 1002, "accepted"),   # 9 018 / 10 020 = 90.00 %
    ("satisfied_plus_basic", 9000, 17, 1003, "extension"),  # 9 017 / 10 020 = 89.99 %
    ("satisfied_only", 9018, 500, 502, "accepted"),         # 9 018 / 10 020 = 90.00 %
    ("satisfied_only", 9017, 1003, 0, "extension"),         # 89.99 %, though no one is 不满意
])
def test_the_threshold_from_the_answers_under_both_formulas(clients, formula, good, basic, bad, fired):
    fact, rules = fact_of(clients, {"participants": participants(good, basic, bad, per="answer")}, formula)
    assert fact["survey_participants"] == 1670 and fact["valid_votes"] == 10020
    assert (fact["satisfaction_rate"] >= 90) == (fired == "accepted") and rules == [fired]


# -- the accept transition ------------------------------------------------------------------------------
def test_accept_leads_to_accepted_or_extension_from_the_answers(clients):
    rid = applied(clients)
    done = accept(clients, rid, {"survey_date": "2026-06-01", "venue": "城关街道办事处", "participants": MIXED})
    assert (done["state"], done["state_title"]) == ("accepted", "验收合格")  # 22 / 24 = 91.67 %
    record = get(clients["county"], rid)
    assert record["data"]["acceptance"]["conclusion"] == "passed"
    decisions = clients["county"].get(f"/api/v1/records/{rid}/decisions").get_json()
    explanation = next(d["explanation"] for d in decisions if d["rule"] == "accepted")
    assert "91.66%（参评 4 人，有效票 24 张）" in explanation

    rid = applied(clients)  # the fourth person is 不满意 throughout: 18 / 24 = 75 %
    unhappy = MIXED[:3] + [{"group": "business", "answers": dict.fromkeys(ITEMS, "dissatisfied")}]
    done = accept(clients, rid, {"survey_date": "2026-06-01", "participants": unhappy})
    assert (done["state"], done["state_title"]) == ("extension_pending", "延期待批")
    assert get(clients["county"], rid)["data"]["acceptance"]["conclusion"] == "extended"


def test_the_formula_parameter_decides_the_transition(clients, config_copy):
    rid = applied(clients)
    path = config_copy / "rules" / "parameters.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["parameters"]["satisfaction_formula"]["value"] = "satisfied_only"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    result = clients.app.test_cli_runner().invoke(args=["config", "reload"])
    assert result.exit_code == 0, result.output
    done = accept(clients, rid, survey(8, 1, 1))  # 满意 only: 8 / 10 = 80 % (with 基本满意 it would be 90 %)
    assert done["state"] == "extension_pending"


def test_typed_totals_are_refused(clients):
    rid = applied(clients)
    typed = dict(survey(40, 0, 0), participants_count=40, satisfied=41, basically_satisfied=0, dissatisfied=0)
    refused = accept(clients, rid, typed, status=422)
    pointers = {e["pointer"]: e["message"] for e in refused["errors"]}
    base = "/fields/acceptance/satisfaction_survey"
    assert {f"{base}/satisfied", f"{base}/participants_count"} <= set(pointers)
    assert pointers[f"{base}/satisfied"] == "不允许的字段"
    assert get(clients["county"], rid)["state"] == "acceptance_applied"


def test_every_participant_answers_every_item(clients):
    rid = applied(clients)
    rows = participants(3, 1, 0)
    del rows[1]["answers"]["patrol"]  # an item left blank on the sheet
    rows[2] = {"name": "王强", "answers": rows[2]["answers"]}  # no group
    refused = accept(clients, rid, {"participants": rows}, status=422)
    found = {e["pointer"]: e["message"] for e in refused["errors"]}
    base = "/fields/acceptance/satisfaction_survey/participants"
    assert found == {f"{base}/1/answers/patrol": "此项为必填项", f"{base}/2/group": "此项为必填项"}
    rows = participants(3, 1, 0)
    rows[3]["answers"]["patrol"] = "ok"  # not one of the three answers
    refused = accept(clients, rid, {"participants": rows}, status=422)
    assert refused["errors"] == [{"pointer": f"{base}/3/answers/patrol", "message": "请从给定选项中选择"}]
    assert get(clients["county"], rid)["state"] == "acceptance_applied"


def test_an_empty_survey_is_refused(clients):
    rid = applied(clients)
    refused = accept(clients, rid, {"survey_date": "2026-06-01", "participants": []}, status=422)
    assert "有效票数须大于 0" in refused["message"] and "逐人登记" in refused["message"]
    assert get(clients["county"], rid)["state"] == "acceptance_applied"


# -- the documents --------------------------------------------------------------------------------------
def test_the_acceptance_report_prints_the_figures_of_the_answers(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue

    record = key_area(env["township"])  # the ledger sample: 30 people, 144 / 24 / 12 of 180 answers
    text = issued_text(issue("acceptance_report", env["county"], record_id=record.id), "acceptance_report", "示范")
    assert_contains(text, "河口镇东岗村废弃砖厂周边整治工作验收报告", "河口镇党委于2026年8月25日提出验收申请",
                    "组长：孙卫东", "整治措施2项，验收时已完成2项", "刑事案件（起）", "东岗村委会",
                    "参加测评30人，其中区域群众19人、治安信息员4人、涉案受害人3人、人大代表1人、企业/商户代表3人",
                    "对6个测评项逐项评价", "共180票，其中满意144票、基本满意24票、不满意12票",
                    "满意率为93.33%，达到90%的验收标准", "希望夜间巡逻常态化", "验收结论为合格（建议摘牌）",
                    "摘牌后设12个月巩固期", "抄送：县委政法委、河口镇、")
    assert record.number not in text

    low = {**sample("key_area")["acceptance"], "satisfaction_survey": {"participants": participants(18, 6, 6)}}
    low.pop("conclusion")
    failed = key_area(env["township"], acceptance=low, delisting=None, consolidation=None)
    text = issued_text(issue("acceptance_report", env["county"], record_id=failed.id), "acceptance_report", "示范")
    assert_contains(text, "参加测评30人", "共180票，其中满意108票、基本满意36票、不满意36票",
                    "满意率为80%，低于90%的验收标准", "验收结论为不合格（延期整治）", "提请河口镇党委批准延期整治")


def test_the_survey_sheet_is_a_table_of_people_and_items(env):  # type: ignore[no-untyped-def]
    from tests.keyareas import issue

    acceptance = {**sample("key_area")["acceptance"],
                  "satisfaction_survey": {"survey_date": "2026-09-05", "venue": "东岗村委会", "participants": MIXED}}
    acceptance.pop("conclusion")
    record = key_area(env["township"], acceptance=acceptance, delisting=None, consolidation=None)
    text = issued_text(issue("survey_sheet", env["county"], record_id=record.id), "survey_sheet", "示范")
    assert_contains(text, "河口镇东岗村废弃砖厂周边群众满意度测评表", "测评对象：河口镇东岗村废弃砖厂周边（河口镇）",
                    "测评时间：2026年9月5日；座谈会地点：东岗村委会", "组长：孙卫东",
                    "1区域群众张桂兰满意满意满意基本满意满意满意", "2治安信息员—满意满意满意满意满意满意",
                    "3涉案受害人李志强满意满意满意不满意基本满意满意",
                    "满意（票）444123", "基本满意（票）000220", "不满意（票）000101",
                    "满意率100%100%100%75%100%75%",
                    "合计：参评4人，有效票24票，其中满意18票、基本满意4票、不满意2票，满意率91.66%",
                    "本次测评满意率91.66%，达到验收标准")
    for heading in ("治安状况", "变化", "整治措施", "落实", "黄赌毒等", "突出问题", "消除", "巡逻", "防范", "矛盾纠纷", "化解",
                    "整治工作", "总体评价", "企业/", "商户代表"):  # headings and groups wrap between their phrases
        assert heading in text, heading


def test_the_documents_follow_the_formula_parameter(make_app, tmp_path):  # type: ignore[no-untyped-def]
    import shutil

    from server.auth.service import create_user
    from tests.keyareas import preview
    from tests import pdfcheck

    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    path = config / "rules" / "parameters.json"
    params = json.loads(path.read_text(encoding="utf-8"))
    params["parameters"]["satisfaction_formula"]["value"] = "satisfied_only"
    path.write_text(json.dumps(params, ensure_ascii=False, indent=2), encoding="utf-8")
    app = make_app(config_dir=config)
    with app.app_context():
        county = create_user("county", "Jiangbei-qiao-88", role="county_staff", org_code="139901000000")
        township = create_user("hekou", "Jiangbei-qiao-88", role="township_staff", org_code="139901101000")
        record = key_area(township)  # 144 满意 of 180: 80 % when only 满意 counts
        sheet = pdfcheck.Pdf(preview("survey_sheet", county, record_id=record.id)).text()
        report = pdfcheck.Pdf(preview("acceptance_report", county, record_id=record.id)).text()
    assert "满意率80%" in sheet and "“满意”票数占有效票数的比例" in sheet
    assert "满意率为80%，低于90%的验收标准" in report

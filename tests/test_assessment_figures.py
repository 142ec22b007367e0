"""The 研判 opens with the period's figures counted from the ledgers; a missed 研判 is chased (issue 10, item 2).

Shipped configuration: the ``count_in_period`` lookup (config/facts/assessment_figures.json) counts each
ledger's records dated within the assessment's period, both days included, registered in the assessing
unit's subtree (a township its own; the county all); the ``assessment_figures`` rule writes them into
``/info_summary`` with typed ``{"$fact"}`` values in overwrite mode. The daily ``assessment_cadence`` rule
notifies each centre without an assessment for the half-month (parameter ``assessment_cadence``) whose
deadline passed. Ledger records are registered through the records service's one write path.
"""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.inbox.models import InboxItem
from tests.test_flow_intake import at
from tests.test_rules_policies import config_copy  # noqa: F401 (fixture)

COUNTY, HEKOU, QINGSHAN = "139901000000", "139901101000", "139901102000"
HEKOU_VILLAGE, QINGSHAN_VILLAGE = "139901101201", "139901102201"
PASSWORD = "Jiangbei-qiao-88"
FIGURES_RULE = "规则『信息汇总按台账统计』已将"


@pytest.fixture
def county(make_app, config_copy):  # type: ignore[no-untyped-def]
    """The shipped county with the county centre and two township centres, each with an API client."""
    app = make_app(config_dir=config_copy)
    clients = {}
    with app.app_context():
        from server.auth.service import create_token, create_user

        for name, org in (("county", COUNTY), ("hekou", HEKOU), ("qingshan", QINGSHAN)):
            create_user(name, PASSWORD, role="county_staff" if org == COUNTY else "township_staff", org_code=org)
            client = app.test_client()
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token(name)}"
            clients[name] = client
    return SimpleNamespace(app=app, config=config_copy, **clients)


def _ledger(county, form_id: str, unit_code: str, data: dict[str, Any], on: str = "2026-05-10") -> None:
    """A ledger record registered by ``unit_code`` on ``on`` (the registering day is what 月报 count by)."""
    from server.db import write_transaction
    from server.org.service import unit_by_code
    from server.records.service import insert_record, registry
    from server.rules.apply import system_user

    with county.app.app_context(), at(on), write_transaction():
        insert_record(registry().form(form_id), data, system_user(), unit_by_code(unit_code))


def _visit(county, unit: str, day: str) -> None:
    _ledger(county, "visit_register", unit, {"received_at": f"{day}T16:30", "source": "visit", "first_accept_person": "张敏",
                                             "summary": "反映夜市噪声", "matter_type": "complaint"})


def _problem(county, unit: str, day: str, source: str) -> None:
    _ledger(county, "security_problem", unit, {
        "received_at": f"{day}T09:00", "info_source": source, "location": {"division_code": HEKOU_VILLAGE},
        "problem_category": "public_order_chaos", "description": "路口烧烤摊占道经营，深夜聚集"})


def _officer_report(county, unit: str, day: str, salient_on: str | None = None) -> None:
    data: dict[str, Any] = {"officer": "HC-0001", "reported_at": f"{day}T20:15", "report_method": "app",
                            "info_category": "security_hazard", "content": "废品收购站夜间收购来路不明电缆"}
    if salient_on:
        data["verification"] = {"verification_unit": "河口派出所", "verified_date": salient_on,
                                "verification_result": "confirmed", "is_first_report": True, "is_salient_problem": True}
    _ledger(county, "officer_report", unit, data)


def _dispute(county, unit: str, day: str) -> None:
    _ledger(county, "dispute", unit, {"screening_date": day, "screener": "李调解", "source": "screening",
                                      "dispute_type": "neighbour", "parties": [{"name": "王某"}], "summary": "宅基地边界"})


def _assessment(client, start: str, end: str, **extra: Any) -> dict[str, Any]:
    body = {"session": "2026年5月上半月", "date": end, "chair": "高冬梅", "period_start": start, "period_end": end,
            **extra}
    response = client.post("/api/v1/forms/assessment/records", json=body)
    assert response.status_code == 201, response.get_json()
    return client.get(f"/api/v1/records/{response.get_json()['id']}").get_json()


def _save(client, record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    response = client.put(f"/api/v1/records/{record['id']}", json=record["data"] | changes,
                          headers={"If-Match": str(record["version"])})
    assert response.status_code == 200, response.get_json()
    return client.get(f"/api/v1/records/{record['id']}").get_json()


def _figures(record: dict[str, Any]) -> dict[str, Any]:
    return record["data"]["info_summary"]


# -- figures ------------------------------------------------------------------------------------------
def test_a_record_on_the_last_day_counts_the_day_after_does_not(county):
    _visit(county, HEKOU, "2026-04-30")          # the day before the period
    _visit(county, HEKOU, "2026-05-01")          # first day
    _visit(county, HEKOU, "2026-05-15")          # last day, late in the evening
    _visit(county, HEKOU, "2026-05-16")          # the day after
    _dispute(county, HEKOU, "2026-05-15")
    _dispute(county, HEKOU, "2026-05-16")
    figures = _figures(_assessment(county.hekou, "2026-05-01", "2026-05-15"))
    assert (figures["visits"], figures["disputes"]) == (2, 1)
    # typed figures from outside the ledgers are kept as typed
    record = _assessment(county.hekou, "2026-05-01", "2026-05-15", info_summary={"criminal_cases": 4})
    assert _figures(record)["criminal_cases"] == 4 and _figures(record)["visits"] == 2


def test_a_township_counts_its_own_area_and_the_county_counts_all(county):
    _visit(county, HEKOU, "2026-05-03")
    _visit(county, HEKOU_VILLAGE, "2026-05-04")  # registered beneath the township
    _visit(county, QINGSHAN, "2026-05-05")       # another township
    _problem(county, HEKOU, "2026-05-06", "info_officer")
    _problem(county, HEKOU, "2026-05-07", "info_officer")
    _problem(county, HEKOU, "2026-05-07", "phone")
    _problem(county, QINGSHAN, "2026-05-08", "media")
    hekou = _figures(_assessment(county.hekou, "2026-05-01", "2026-05-15"))
    assert (hekou["visits"], hekou["security_problems"]) == (2, 3)
    assert hekou["security_problem_sources"] == {"visit": 0, "phone": 1, "info_officer": 2, "grid_worker": 0,
                                                 "department_inspection": 0, "higher_assigned": 0, "media": 0}
    qingshan = _figures(_assessment(county.qingshan, "2026-05-01", "2026-05-15"))
    assert (qingshan["visits"], qingshan["security_problems"], qingshan["security_problem_sources"]["media"]) == (1, 1, 1)
    whole = _figures(_assessment(county.county, "2026-05-01", "2026-05-15"))
    assert (whole["visits"], whole["security_problems"]) == (3, 4)


def test_salient_officer_reports_count_in_the_period_they_were_found_salient(county):
    _officer_report(county, HEKOU_VILLAGE, "2026-05-02")                            # not (yet) verified
    _officer_report(county, HEKOU_VILLAGE, "2026-05-03", salient_on="2026-05-06")
    _officer_report(county, HEKOU_VILLAGE, "2026-05-14", salient_on="2026-05-18")  # found salient in the next period
    _ledger(county, "monthly_inspection", "GA", {"report_month": "2026-04", "inspecting_unit": "GA", "inspectors": "王警官"},
            on="2026-05-05")
    first = _figures(_assessment(county.hekou, "2026-05-01", "2026-05-15"))
    assert (first["officer_reports"], first["salient_reports"], first["department_reports"]) == (3, 1, 0)
    second = _figures(_assessment(county.hekou, "2026-05-16", "2026-05-31"))
    assert (second["officer_reports"], second["salient_reports"]) == (0, 1)
    # the department reports come to the county centre
    assert _figures(_assessment(county.county, "2026-05-01", "2026-05-15"))["department_reports"] == 1


def test_figures_are_recounted_when_the_period_is_edited(county):
    for day in ("2026-05-03", "2026-05-20", "2026-05-21"):
        _visit(county, HEKOU, day)
    record = _assessment(county.hekou, "2026-05-01", "2026-05-15")
    assert _figures(record)["visits"] == 1
    record = _save(county.hekou, record, period_start="2026-05-16", period_end="2026-05-31")
    assert _figures(record)["visits"] == 2
    _visit(county, HEKOU, "2026-05-25")  # registered late: the next save counts it
    record = _save(county.hekou, record, chair="王建军")
    assert _figures(record)["visits"] == 3


def test_a_typed_figure_different_from_the_count_is_overwritten_and_told(county):
    _visit(county, HEKOU, "2026-05-03")
    _visit(county, HEKOU, "2026-05-04")
    record = _assessment(county.hekou, "2026-05-01", "2026-05-15", info_summary={"visits": 99})
    assert _figures(record)["visits"] == 2
    for attempt in (1, 2):  # typing the same wrong figure again does not make it stick
        record = _save(county.hekou, record, info_summary=_figures(record) | {"visits": 7})
        assert _figures(record)["visits"] == 2, attempt
    history = county.hekou.get(f"/api/v1/records/{record['id']}/history").get_json()
    told = [line for entry in history if entry["action"] == "rule_update" for line in entry["detail"].splitlines()
            if line.startswith(FIGURES_RULE)]
    assert len(told) == 3 and all(line.endswith(" 改为 2") for line in told)
    assert any("由 99 改为 2" in line for line in told) and any("由 7 改为 2" in line for line in told)
    assert all(entry["user_id"] is None for entry in history if entry["action"] == "rule_update")


def test_a_concluded_assessment_keeps_the_figures_it_was_held_on(county):
    _visit(county, HEKOU, "2026-05-03")
    record = _assessment(county.hekou, "2026-05-01", "2026-05-15")
    concluded = county.hekou.post(f"/api/v1/records/{record['id']}/transitions/conclude",
                                  json={"fields": {"conclusion": "治安形势总体平稳"}, "version": record["version"]})
    assert concluded.status_code == 200, concluded.get_json()
    _visit(county, HEKOU, "2026-05-04")  # registered after the meeting
    record = county.hekou.get(f"/api/v1/records/{record['id']}").get_json()
    assert record["state"] == "concluded"
    record = _save(county.hekou, record, chair="王建军")
    assert _figures(record)["visits"] == 1


def test_the_form_says_the_figures_are_counted_and_the_page_shows_them(county):
    from tests.conftest import login_session, user_named
    from tests.test_no_english import english_words

    _visit(county, HEKOU, "2026-05-03")
    record = _assessment(county.hekou, "2026-05-01", "2026-05-15")
    web = county.app.test_client()
    with county.app.app_context():
        session_id = login_session(user_named("hekou"))
    with web.session_transaction() as session:
        session["_user_id"] = session_id
    new = web.get("/forms/assessment/new").get_data(as_text=True)
    assert "手工改动会被统计数覆盖" in new and "公安机关统计数，由研判单位手工填写" in new
    page = web.get(f"/records/{record['id']}")
    assert page.status_code == 200 and "治安问题按信息来源" in page.get_data(as_text=True)
    assert english_words(new) == [] and english_words(page.get_data(as_text=True)) == []


def test_an_assessment_without_a_period_has_no_figures_written(county):
    from server.rules.service import live_rules, record_fact

    _visit(county, HEKOU, "2026-05-03")
    record = _assessment(county.hekou, "2026-05-01", "2026-05-15")
    with county.app.app_context():
        from server.records.models import Record

        row = db.session.get(Record, record["id"])
        fact = record_fact(live_rules(), "assessment_figures", row, data=dict(row.data, period_end=None))
    assert "visits" not in fact and fact["period_start"] == "2026-05-01"


# -- the missed 研判 is chased ------------------------------------------------------------------------------
def _notices(county, code: str) -> list[str]:
    from server.org.service import unit_by_code

    with county.app.app_context():
        unit = unit_by_code(code)
        return sorted(item.title for item in db.session.scalars(sa.select(InboxItem).where(
            InboxItem.unit_id == unit.id, InboxItem.status == "open", InboxItem.kind == "notice",
            InboxItem.decision_id.is_not(None))) if "研判" in item.title)


def _tick(county, day: str) -> None:
    from server.rules.service import run_daily

    with county.app.app_context(), at(day):
        run_daily()


def test_a_township_without_an_assessment_for_the_half_month_is_chased_the_day_after(county):
    with at("2026-05-12"):
        for client in (county.hekou, county.qingshan, county.county):  # everyone held the second half of April
            _assessment(client, "2026-04-16", "2026-04-30")
        _assessment(county.hekou, "2026-05-01", "2026-05-15")  # only 河口镇 for the first half of May
    _tick(county, "2026-05-15")   # the period has not ended
    assert _notices(county, QINGSHAN) == [] and _notices(county, COUNTY) == []
    _tick(county, "2026-05-16")
    assert _notices(county, QINGSHAN) == ["2026年5月上半月治安信息研判逾期未召开"]
    assert _notices(county, COUNTY) == ["2026年5月上半月治安信息研判逾期未召开"]  # the county centre too
    assert _notices(county, HEKOU) == []
    with at("2026-05-17"):  # held late, for that period: the chase is withdrawn
        _assessment(county.qingshan, "2026-05-01", "2026-05-15")
    _tick(county, "2026-05-17")
    assert _notices(county, QINGSHAN) == []
    assert _notices(county, COUNTY) == ["2026年5月上半月治安信息研判逾期未召开"]


def test_the_cadence_and_its_grace_are_parameters(county):
    path = county.config / "rules" / "parameters.json"
    doc = json.loads(path.read_text())
    doc["parameters"]["assessment_grace_days"]["value"] = 3
    path.write_text(json.dumps(doc, ensure_ascii=False))
    assert county.app.test_cli_runner().invoke(args=["config", "reload"]).exit_code == 0
    with at("2026-05-12"):
        _assessment(county.qingshan, "2026-04-16", "2026-04-30")
    _tick(county, "2026-05-18")
    assert _notices(county, QINGSHAN) == []
    _tick(county, "2026-05-19")
    assert _notices(county, QINGSHAN) == ["2026年5月上半月治安信息研判逾期未召开"]


def test_periods_of_each_cadence():
    from datetime import date

    from server.rules.periods import last_passed

    def passed(day: str, cadence: str, grace: int = 0) -> tuple[str, str, str]:
        p = last_passed(date.fromisoformat(day), cadence, grace)
        return p.start.isoformat(), p.end.isoformat(), p.label

    assert passed("2026-05-15", "半月") == ("2026-04-16", "2026-04-30", "2026年4月下半月")
    assert passed("2026-05-16", "半月") == ("2026-05-01", "2026-05-15", "2026年5月上半月")
    assert passed("2026-03-01", "半月") == ("2026-02-16", "2026-02-28", "2026年2月下半月")
    assert passed("2026-01-01", "月") == ("2025-12-01", "2025-12-31", "2025年12月")
    assert passed("2026-05-21", "旬") == ("2026-05-11", "2026-05-20", "2026年5月中旬")
    assert passed("2026-05-18", "半月", 3) == ("2026-04-16", "2026-04-30", "2026年4月下半月")


# -- configuration is checked -----------------------------------------------------------------------------
def _check(county) -> str:
    result = county.app.test_cli_runner().invoke(args=["config", "check"])
    assert result.exit_code != 0
    return result.output


@pytest.mark.parametrize("edit, message", [
    (lambda facts, rules: facts["attributes"]["visits"]["inputs"].update(date_field="/summary"),
     "/attributes/visits/inputs/date_field: 应为表单 \"visit_register\" 中日期字段的指针或 created_date，实际为 \"/summary\""),
    (lambda facts, rules: facts["attributes"]["disputes"]["inputs"].update(scope="county"),
     "/attributes/disputes/inputs/scope: 应为 subtree、unit 之一，实际为 \"county\""),
    (lambda facts, rules: rules["rules"]["figures"]["actions"][0]["value"].update({"$fact": "unit_name"}),
     "/rules/figures/actions/0/value/$fact: 字段 \"/info_summary/visits\" 的值应为整数，属性 \"unit_name\" 是字符串"),
    (lambda facts, rules: rules["rules"]["figures"]["actions"][0]["value"].update({"$fact": "nope"}),
     "/rules/figures/actions/0/value/$fact: 属性 \"nope\" 未定义"),
])
def test_config_check_refuses_wrong_figures(county, edit, message):
    facts_path = county.config / "facts" / "assessment_figures.json"
    rules_path = county.config / "rules" / "assessment_figures.json"
    facts, rules = json.loads(facts_path.read_text()), json.loads(rules_path.read_text())
    edit(facts, rules)
    facts_path.write_text(json.dumps(facts, ensure_ascii=False, indent=2))
    rules_path.write_text(json.dumps(rules, ensure_ascii=False, indent=2))
    output = _check(county)
    assert message in output, output


def test_config_check_refuses_an_unknown_cadence(county):
    path = county.config / "facts" / "assessment_cadence.json"
    doc = json.loads(path.read_text())
    doc["attributes"]["period_start"]["inputs"]["cadence"] = "季"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    output = _check(county)
    assert "/attributes/period_start/inputs/cadence: 应为月、半月、旬 之一或 {\"$param\": 参数名}，实际为 \"季\"" in output, output

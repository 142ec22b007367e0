"""Policy over time: decisions in force are not stored again each day, lifted decisions withdraw their
notices, an approved extension moves the deadline the veto reads, thresholds compare unrounded values,
task deadlines take parameters and count Chinese working days."""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from server.extensions import db
from server.inbox.models import InboxItem
from server.rules.models import Decision, Veto
from tests.test_rules_policies import KEY_AREA, _officer, _save, _survey, config_copy, county  # noqa: F401


def _decisions(app, rule: str) -> list[Decision]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Decision).where(Decision.rule == rule).order_by(Decision.id)))
        db.session.expunge_all()
        return rows


def _tick(app, day: str) -> str:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["rules", "tick", "--date", day])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_decision_in_force_is_not_stored_again_each_day(county):
    app = county.application
    _save(county, KEY_AREA)  # deadline 2026-11-10, not accepted
    for day in ("2026-11-11", "2026-11-12", "2026-11-20"):
        _tick(app, day)
    (decision,) = _decisions(app, "deadline_passed")
    assert decision.lifted_at is None and decision.explanation.endswith("已过 1 天仍未验收合格，实行一票否决并追究责任")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Veto)) == 1


def test_an_approved_extension_is_read_as_the_deadline(county):
    app = county.application
    extended = dict(KEY_AREA, delisting={"extensions": [
        {"approved_date": "2026-11-05", "approved_by": "河口镇党委", "reason": "满意率未达标", "new_deadline": "2026-12-31"}]})
    record = _save(county, extended)
    _tick(app, "2026-11-11")
    assert _decisions(app, "deadline_passed") == []  # the original deadline passed, the extended one did not
    _tick(app, "2027-01-04")
    (decision,) = _decisions(app, "deadline_passed")
    assert decision.record_id == record["id"] and decision.facts["deadline"] == "2026-12-31"
    with app.app_context():
        assert db.session.scalars(sa.select(Veto)).one().year == 2026


def test_a_lifted_decision_withdraws_its_notice(county):
    app = county.application
    village = "139901101201"
    for n in range(2):
        assert county.post("/api/v1/forms/officer_roster/records", json=_officer(village, n)).status_code == 201
    _tick(app, "2026-06-01")

    def notice() -> tuple[str, int | None]:
        with app.app_context():
            from server.org.service import unit_by_code

            item = db.session.scalars(sa.select(InboxItem).where(
                InboxItem.source_key.startswith(f"officer_coverage:gap:unit:{village}:"))).one()
            assert item.unit_id == unit_by_code("139901101000").id  # 河口镇 recruits for its village
            return item.status, item.decision_id

    status, decision_id = notice()
    assert status == "open"
    assert county.post("/api/v1/forms/officer_roster/records", json=_officer(village, 2)).status_code == 201
    _tick(app, "2026-06-02")
    assert notice() == ("withdrawn", decision_id)  # the gap is filled: its cause is gone
    lifted = [d for d in _decisions(app, "gap") if d.id == decision_id]
    assert lifted[0].lifted_at is not None
    # dismissed again: the rule fires again, the same notice opens again (no duplicate)
    data = county.get("/api/v1/forms/officer_roster/records").get_json()["items"][0]
    dismissed = dict(data["data"], status="dismissed", dismissed_date="2026-06-02", dismissal_reason="迁出本村")
    put = county.put(f"/api/v1/records/{data['id']}", json=dismissed, headers={"If-Match": str(data["version"])})
    assert put.status_code == 200, put.get_json()
    _tick(app, "2026-06-03")
    assert notice()[0] == "open"


def test_thresholds_compare_unrounded_values(county):
    # 89.995 %: rounded to two places it would read 90.0 and pass. (A saved survey with that rate needs
    # 20,000 answers; the facts' ratio is tested on saved records at 89.99 % in test_rules_policies.)
    facts = {"acceptance_held": True, "satisfaction_rate": 89.995, "valid_votes": 20000, "survey_participants": 20000}
    response = county.post("/api/v1/rules/acceptance/simulate", json={"facts": facts})
    assert response.status_code == 200, response.get_json()
    (decision,) = response.get_json()["decisions"]
    assert decision["rule"] == "extension" and "89.99%" in decision["explanation"]


def test_a_task_deadline_takes_its_parameter_and_working_days(county, config_copy):  # noqa: F811
    params = config_copy / "rules" / "parameters.json"
    doc = json.loads(params.read_text())
    doc["parameters"]["report_task_working_days"]["value"] = 3
    params.write_text(json.dumps(doc, ensure_ascii=False))
    assert county.application.test_cli_runner().invoke(args=["config", "reload"]).exit_code == 0
    _save(county, dict(KEY_AREA, acceptance=_survey(95, 5, 0)), day="2026-09-29")  # Tuesday before National Day
    with county.application.app_context():
        task = db.session.scalars(sa.select(InboxItem).where(InboxItem.kind == "task")).one()
        assert task.title.startswith("撰写整治工作报告") and task.due_date == date(2026, 10, 9)  # 9-30, 10-8, 10-9


def test_the_daily_rules_run_once_a_day_however_often_the_tick_runs(county):
    app = county.application
    _save(county, KEY_AREA)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tick", "--date", "2026-11-11"])
    again = runner.invoke(args=["tick", "--date", "2026-11-11"])
    assert "每日规则作出" in first.output and "每日规则作出" not in again.output
    forced = runner.invoke(args=["tick", "--date", "2026-11-11", "--daily"])
    assert "每日规则作出 0 项决定" in forced.output  # nothing new: the decisions are in force
    assert len(_decisions(app, "deadline_passed")) == 1


def test_one_record_that_cannot_be_judged_does_not_stop_the_daily_rules(county, monkeypatch):
    import server.rules.service as rules_service

    first = _save(county, KEY_AREA)
    second = _save(county, dict(KEY_AREA, name="南关农贸市场周边"))
    real = rules_service.record_fact

    def broken_for_the_first(rules, facts_id, record, ctx=None, data=None):  # type: ignore[no-untyped-def]
        if record.id == first["id"]:
            raise ValueError("数据损坏")
        return real(rules, facts_id, record, ctx, data)

    monkeypatch.setattr(rules_service, "record_fact", broken_for_the_first)
    _tick(county.application, "2026-11-11")
    (vetoed,) = _decisions(county.application, "deadline_passed")
    assert vetoed.record_id == second["id"]
    failed = [d for d in _decisions(county.application, "") if d.record_id == first["id"]]
    assert failed and failed[0].outcome == "failed" and failed[0].error == "数据损坏"

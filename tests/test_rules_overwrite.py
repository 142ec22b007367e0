"""Rules do not overwrite silently (issue 12 item 4).

A record-writing action fills only an empty field unless its configuration says ``"mode": "overwrite"``;
an overwrite of a filled-in value is told to the person who saved ("规则『…』已将 验收结论 由 X 改为 Y") and
kept in the history; every change made by policy is credited to the ruleset and its rules, not to the
clerk whose save set them off. A post is written only together with the name it belongs to.
"""
from __future__ import annotations

import json

import sqlalchemy as sa

from server.extensions import db
from server.records.models import AuditEntry
from tests.conftest import login_session, user_named
from tests.test_rules_policies import KEY_AREA, _save, _survey, config_copy, county  # noqa: F401 (fixtures)


def _history(api, record_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    response = api.get(f"/api/v1/records/{record_id}/history")
    assert response.status_code == 200
    return response.get_json()


def test_typed_values_are_kept_unless_the_rule_says_overwrite_and_changes_are_the_rules(county):
    typed = dict(KEY_AREA, responsibility={"lead_unit": "河口镇综治中心", "first_responsible": "李建国",
                                           "first_responsible_position": "党委副书记"})
    record = _save(county, typed)
    data = county.get(f"/api/v1/records/{record['id']}").get_json()["data"]["responsibility"]
    # 牵头单位 as typed (filled only when empty; before, the rule replaced it); the 第一责任人 is by policy the
    # township's party secretary ("mode": "overwrite"), written together with the post that is his
    assert (data["lead_unit"], data["first_responsible"], data["first_responsible_position"]) == (
        "河口镇综治中心", "高冬梅", "党委书记")
    assert data["direct_responsible"]  # an empty list of people is still filled by the rule
    (by_rules,) = [e for e in _history(county, record["id"]) if e["action"] == "rule_update"]
    assert by_rules["user_id"] is None and by_rules["action_title"] == "按规则修改"
    lines = by_rules["detail"].splitlines()
    assert "规则集『责任人』规则『乡镇党委书记为第一责任人』、『辖区派出所所长为直接责任人』" in lines[0]
    assert lines[1:] == ["规则『乡镇党委书记为第一责任人』已将 责任/第一责任人 由 李建国 改为 高冬梅",
                         "规则『乡镇党委书记为第一责任人』已将 责任/第一责任人职务 由 党委副书记 改为 党委书记"]


def test_an_empty_form_gets_the_holder_with_the_post(county):
    record = _save(county, dict(KEY_AREA, township_code="139901001000"))  # 城关街道
    data = county.get(f"/api/v1/records/{record['id']}").get_json()["data"]["responsibility"]
    assert (data["lead_unit"], data["first_responsible"], data["first_responsible_position"]) == (
        "城关街道", "高卫东", "党工委书记")


def test_a_post_is_written_only_with_its_name():
    """The veto decision named 高卫东 with a post that was another's: a post goes only with its name."""
    from server.rules.apply import ActionRun, _write_position

    action = {"field": "/r/name", "position": "党工委书记", "position_field": "/r/position"}
    run = ActionRun(key="k", record=None, data={"r": {"name": "马俊"}}, user=None, today=None, calendar=None,  # type: ignore[arg-type]
                    params={}, source="test")
    _write_position(run, action, before="马俊", holder="高卫东")  # the typed name was kept (fill)
    assert run.data == {"r": {"name": "马俊"}}
    run.data["r"] = {"name": "高卫东", "position": "书记"}
    _write_position(run, action, before="马俊", holder="高卫东")  # the rule just wrote the name: its post too
    assert run.data["r"]["position"] == "党工委书记"


def test_an_overwrite_is_told_after_saving_and_kept_in_history(county):
    app = county.application
    typed = dict(KEY_AREA, acceptance=dict(_survey(80, 0, 20), conclusion="passed"))
    with app.app_context():
        session_id = login_session(user_named("county"))
    web = app.test_client()
    with web.session_transaction() as session:
        session["_user_id"] = session_id
    record = _save(county, typed)
    conclusion = county.get(f"/api/v1/records/{record['id']}").get_json()["data"]["acceptance"]["conclusion"]
    assert conclusion == "extended"  # the acceptance rule overwrites: configured "mode": "overwrite"
    notice = "规则『满意率低于阈值，须申请延期整治』已将 验收/验收结论 由 合格（建议摘牌） 改为 不合格（延期整治）"
    # (the responsibility rules wrote when the area was registered; the acceptance rule when 验收 was saved)
    (by_rules,) = [e for e in _history(county, record["id"]) if e["action"] == "rule_update" and "验收" in e["detail"]]
    assert notice in by_rules["detail"].splitlines()
    page = web.get(f"/records/{record['id']}/history").get_data(as_text=True)
    assert notice in page and "规则集『验收结论』规则『满意率低于阈值，须申请延期整治』" in page and "rule_update" not in page.replace('title="rule_update"', "")
    with app.app_context():  # the record page after a save through the web shows it once
        from server.records.service import policy_notices

        assert notice in policy_notices(record["id"], 0, user_named("county"))
        latest = county.get(f"/api/v1/records/{record['id']}").get_json()["version"]
        assert policy_notices(record["id"], latest, user_named("county")) == []
        rows = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "rule_update")).all()
        assert rows and all(row.user_id is None for row in rows)


def test_config_check_refuses_an_unknown_mode(county, config_copy):
    path = config_copy / "rules" / "acceptance.json"
    doc = json.loads(path.read_text())
    doc["rules"]["accepted"]["actions"][0]["mode"] = "replace"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    result = county.application.test_cli_runner().invoke(args=["config", "check"])
    assert result.exit_code != 0
    assert "/rules/accepted/actions/0/mode: 应为 fill（只填空白，默认）或 overwrite（覆盖已填的值）之一，实际为 \"replace\"" \
        in result.output

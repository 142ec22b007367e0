"""Form sections that belong to workflow states (``x-ui.states``): the configuration check, the edit
and create pages (inputs only for the sections of the record's state, the others read-only when
filled), the detail page, the records service (a change to a closed section refused, an unchanged
one passing) and transitions (their dialogs fill the section of the state they lead to).

The configuration is ``configs/form_states``: 隐患核查登记簿 following 已登记 → 核查中 → 已办结, with the
sections 受理 (已登记), 登记 (已登记、核查中), 核查 (核查中) and 办结 (已办结).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from server.errors import ConfigInvalid
from server.specs.loader import load_config
from tests.conftest import _seed_org_and_users, csrf_token, login_session, user_named

CONFIG = Path(__file__).parent / "configs" / "form_states"
FORM = "forms/site_check.json"
NEW = {"name": "东岗村废弃砖厂", "intake": {"source": "排查"}, "report": {"reported_on": "2026-05-01"}}


# -- config check ------------------------------------------------------------------------------------------
def _variant(tmp_path: Path, change) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    path = target / FORM
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    with pytest.raises(ConfigInvalid) as caught:
        load_config(target)
    # (a form with errors is not loaded, so its workflow also reports "没有表单使用流程")
    errors = [e for e in caught.value.errors if e.file == FORM]
    assert all(e.line > 1 for e in errors)  # placed at the value, not the file's start
    return [(e.file, e.pointer, e.message) for e in errors]


def test_the_test_configuration_is_valid() -> None:
    assert load_config(CONFIG).workflows["site_flow"].form == "site_check"


def test_an_unknown_state_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    def unknown(doc: dict) -> None:
        doc["properties"]["check"]["x-ui"]["states"] = ["checking", "verifying"]

    assert _variant(tmp_path, unknown) == [(
        FORM, "/properties/check/x-ui/states/1",
        '状态 "verifying" 不存在（流程 "site_flow" 的状态：reported（已登记）、checking（核查中）、closed（已办结））')]


def test_states_need_a_workflow(tmp_path: Path) -> None:
    def no_workflow(doc: dict) -> None:
        del doc["x-form"]["workflow"]

    errors = _variant(tmp_path, no_workflow)
    assert (FORM, "/properties/check/x-ui/states",
            "x-ui.states 只能用于有流程的表单（x-form.workflow），本表单没有流程") in errors
    assert len(errors) == 4  # one per section


def test_states_only_on_top_level_object_fields(tmp_path: Path) -> None:
    def misplaced(doc: dict) -> None:
        doc["properties"]["name"]["x-ui"] = {"states": ["reported"]}
        doc["properties"]["check"]["properties"]["finding"]["x-ui"] = {"states": ["checking"]}

    assert sorted(_variant(tmp_path, misplaced)) == [
        (FORM, "/properties/check/properties/finding/x-ui/states",
         "x-ui.states 只能用于表单第一层的对象字段（分节），不能用于下级字段或条件分支中的字段"),
        (FORM, "/properties/name/x-ui/states", "x-ui.states 只能用于对象字段（分节），实际为字符串字段"),
    ]


def test_an_empty_list_is_refused(tmp_path: Path) -> None:
    def empty(doc: dict) -> None:
        doc["properties"]["closure"]["x-ui"]["states"] = []

    assert _variant(tmp_path, empty) == [(FORM, "/properties/closure/x-ui/states", "应至少有 1 项，实际为 0 项")]


def test_a_required_section_must_be_open_in_the_initial_state(tmp_path: Path) -> None:
    def required(doc: dict) -> None:
        doc["required"] = ["name", "check"]

    assert _variant(tmp_path, required) == [(
        FORM, "/properties/check/x-ui/states",
        '分节 "check" 列在 required 中，但在初始状态 "reported" 不能填写：请把初始状态列入 x-ui.states，或不把它列为必填')]


# -- the application ---------------------------------------------------------------------------------------
@pytest.fixture
def site(make_app):  # type: ignore[no-untyped-def]
    app = make_app(config_dir=CONFIG)
    with app.app_context():
        _seed_org_and_users()
        app.extensions["registry"].reload_org()
        yield app


@pytest.fixture
def browser(site):  # type: ignore[no-untyped-def]
    client = site.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_session(user_named("clerk"))
        session["_fresh"] = True
    return client


@pytest.fixture
def api(site):  # type: ignore[no-untyped-def]
    from server.auth.service import create_token

    client = site.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token('clerk', 'tests')}"
    return client


def _post(client, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def _create(api, data: dict[str, Any] = NEW) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/forms/site_check/records", json=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _get(api, rid: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return api.get(f"/api/v1/records/{rid}").get_json()


def _go(api, rid: int, transition: str, fields: dict[str, Any] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    response = api.post(f"/api/v1/records/{rid}/transitions/{transition}", json={"fields": fields or {}})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _put(api, rid: int, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    version = _get(api, rid)["version"]
    return api.put(f"/api/v1/records/{rid}", json=data, headers={"If-Match": str(version)})


def _inputs(html: str) -> set[str]:
    return set(re.findall(r'name="([a-z_]+/[a-z_]+)"', html))


def _frozen(html: str) -> list[str]:
    return re.findall(r'<fieldset class="x-object x-frozen[^"]*" id="([^"]+)"', html)


def test_the_create_page_offers_only_the_sections_of_the_initial_state(browser):
    html = browser.get("/forms/site_check/new").get_data(as_text=True)
    assert _inputs(html) == {"intake/source", "report/reported_on"}
    assert 'name="name"' in html
    assert "核查结论" not in html and "办结情况" not in html and _frozen(html) == []


def test_a_crafted_create_is_refused_at_the_section(browser, api):
    response = _post(browser, "/forms/site_check/new", {"name": "砖厂", "closure/result": "已办结"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "「办结」在「已登记」阶段不能填写（可填写的阶段：已办结）" in html
    assert 'value="已办结"' not in html  # what was typed into a closed section is not shown back
    refused = api.post("/api/v1/forms/site_check/records", json=dict(NEW, check={"finding": "属实"}))
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == [
        {"pointer": "/check", "message": "「核查」在「已登记」阶段不能填写（可填写的阶段：核查中）"}]
    empty = api.post("/api/v1/forms/site_check/records", json=dict(NEW, check={}))  # nothing in it: no change
    assert empty.status_code == 201 and "check" not in empty.get_json()["data"]


def test_after_a_transition_the_next_sections_open_and_the_first_stays_visible(browser, api):
    rid = _create(api)["id"]
    _go(api, rid, "start_check")
    html = browser.get(f"/records/{rid}/edit").get_data(as_text=True)
    # 登记 is listed for 核查中 too; 受理 only for 已登记: shown read-only, as filled; 办结 empty: not shown
    assert _inputs(html) == {"report/reported_on", "check/finding"}
    assert _frozen(html) == ["f-intake"]
    assert "排查" in html and "「核查中」阶段不能修改（可填写的阶段：已登记）" in html
    assert "办结情况" not in html
    saved = _post(browser, f"/records/{rid}/edit", {"name": NEW["name"], "report/reported_on": "2026-05-02",
                                                    "check/finding": "属实", "_version": str(_get(api, rid)["version"])})
    assert saved.status_code == 302
    data = _get(api, rid)["data"]
    assert data == {"name": NEW["name"], "intake": {"source": "排查"}, "report": {"reported_on": "2026-05-02"},
                    "check": {"finding": "属实"}}  # the read-only 受理 was kept, not wiped


def test_the_detail_page_shows_filled_closed_sections_and_never_empty_ones(browser, api):
    rid = _create(api)["id"]
    _go(api, rid, "start_check")
    _go(api, rid, "close", {"closure": {"result": "已整改", "closed_on": "2026-06-01"}})
    html = browser.get(f"/records/{rid}").get_data(as_text=True)
    labels = re.findall(r'<th scope="row" class="x-label">([^<]+)</th>', html)
    # 受理 and 登记 (closed now) stay visible as history; 核查 was never filled: no empty block
    assert labels == ["隐患名称", "受理", "发现途径", "登记", "登记日期", "办结", "办结情况", "办结日期"]
    assert "排查" in html and "已整改" in html


def test_api_put_refuses_a_change_to_a_closed_section_and_passes_it_unchanged(api):
    rid = _create(api)["id"]
    _go(api, rid, "start_check")
    record = _get(api, rid)
    changed = _put(api, rid, dict(record["data"], intake={"source": "举报"}, check={"finding": "属实"}))
    assert changed.status_code == 422
    assert changed.get_json()["errors"] == [
        {"pointer": "/intake", "message": "「受理」在「核查中」阶段不能填写（可填写的阶段：已登记）"}]
    early = _put(api, rid, dict(record["data"], closure={"result": "已整改"}))
    assert early.status_code == 422 and early.get_json()["errors"] == [
        {"pointer": "/closure", "message": "「办结」在「核查中」阶段不能填写（可填写的阶段：已办结）"}]
    whole = _put(api, rid, dict(record["data"], check={"finding": "属实"}))  # the record sent back whole
    assert whole.status_code == 200, whole.get_json()
    left_out = _put(api, rid, {"name": NEW["name"], "report": NEW["report"], "check": {"finding": "不属实"}})
    assert left_out.status_code == 200, left_out.get_json()
    assert _get(api, rid)["data"]["intake"] == {"source": "排查"}  # left out: kept as stored


def test_a_transition_dialog_fills_the_section_of_the_state_it_leads_to(api):
    rid = _create(api)["id"]
    _go(api, rid, "start_check")
    closed = _go(api, rid, "close", {"closure": {"result": "已整改", "closed_on": "2026-06-01"}})
    assert closed["state"] == "closed"
    record = _get(api, rid)
    assert record["data"]["closure"] == {"result": "已整改", "closed_on": "2026-06-01"}
    # in 已办结 the 办结 section is open, the others are history
    assert _put(api, rid, dict(record["data"], closure={"result": "已整改并复查", "closed_on": "2026-06-01"})).status_code == 200
    assert _put(api, rid, dict(_get(api, rid)["data"], report={"reported_on": "2026-05-09"})).status_code == 422


def test_rules_and_transitions_are_not_limited_by_states(site, api):
    """The system's writes (transitions, rules, timers) go through write_data, not the person's check."""
    from server.db import write_transaction
    from server.records import service

    rid = _create(api)["id"]
    with site.test_request_context():
        with write_transaction():
            record = service.locked_record(rid)
            service.write_data(record, dict(record.data, closure={"result": "规则填写"}), None, "rule_update")
    assert _get(api, rid)["data"]["closure"] == {"result": "规则填写"}

"""The configuration studio walked in real browsers (issue 14, "Done means").

1. The county administrator lowers the satisfaction threshold to 85 on the parameters page, sees which
   existing key area would change its conclusion, publishes with a note, finds the new decision on a
   record's 为什么, and restores the previous version.
2. The administrator adds a required field to a ledger in the code editor (typing into CodeMirror,
   finding places with its search), previews the form, publishes; a township clerk fills the new field,
   and a record made before still displays.
3. The administrator edits a document template, previews the 草稿 PDF from the draft for a record, and
   publishes.

Like the other browser tests: the shipped configuration and demo org tree, one browser context per person
with script errors failing the test, screenshots at 1366 and 390 px into ``E2E_SCREENSHOTS`` with no
sideways scrolling on the phone.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from server.extensions import db
from tests.e2e.conftest import TIMEOUT_MS, serve_app, shipped_app
from tests.e2e.test_flow_browser import (CLERK, Browsers, _expect, check_page, china_now, detail_cell,
                                         log_in)

pytestmark = pytest.mark.e2e

ADMIN = ("admin", "county_admin", "139901000000", "周明")
COUNTY = ("county", "county_staff", "139901000000", "刘建国")


@pytest.fixture
def studio_server(make_app, tmp_path) -> Iterator[tuple[Any, str]]:  # type: ignore[no-untyped-def]
    app = shipped_app(make_app, tmp_path, (ADMIN, COUNTY, CLERK))
    with serve_app(app) as url:
        yield app, url


@pytest.fixture
def people(e2e_browser, studio_server) -> Iterator[Browsers]:  # type: ignore[no-untyped-def]
    _expect().set_options(timeout=TIMEOUT_MS)
    opened = Browsers(e2e_browser, studio_server[1])
    yield opened
    opened.close()
    assert opened.problems == [], opened.problems


def admin_page(people: Browsers) -> Any:
    page = people.page()
    log_in(page, ADMIN, "示范县")
    page.goto("/admin/config/")
    _expect()(page.get_by_role("heading", name="台账（表单）")).to_be_visible()
    return page


def shots() -> Path | None:
    folder = os.environ.get("E2E_SCREENSHOTS")
    return Path(folder) if folder else None


def in_app(app: Any, fn: Any) -> Any:
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


# -- 1. a policy number ----------------------------------------------------------------------------------------
def test_threshold_lowered_previewed_published_explained_and_restored(people: Browsers, studio_server: Any) -> None:
    from tests.test_studio import accepted_area
    from tests.test_survey import survey

    expect = _expect()
    app = studio_server[0]
    _, near_number = accepted_area(app, 13, 2)  # 86.67 %: 须申请延期整治 under 90, 验收合格 under 85
    accepted_area(app, 19, 1)  # 95 %: passes under both
    pending = _applied_area(app)

    admin = admin_page(people)
    admin.get_by_role("navigation", name="配置工作台").get_by_role("link", name="政策参数").click()
    threshold = admin.get_by_label("验收满意率阈值（%）")
    expect(threshold).to_have_value("90")
    expect(admin.locator("#h-satisfaction_threshold")).to_contain_text("范围 50–100")
    threshold.fill("101")
    admin.get_by_role("button", name="保存到草稿").click()
    expect(admin.locator(".invalid-feedback")).to_have_text("应在 50–100 之间")
    expect(admin.get_by_label("验收满意率阈值（%）")).to_have_value("101")  # kept as typed
    admin.get_by_label("验收满意率阈值（%）").fill("85")
    admin.get_by_role("button", name="保存到草稿").click()
    expect(admin.get_by_role("alert").or_(admin.locator(".alert-success")).first).to_contain_text("已保存到草稿")
    expect(admin.locator("#h-satisfaction_threshold")).to_contain_text("当前发布值 90")
    check_page(admin, "studio-parameters")

    # which existing key areas would change their conclusion
    admin.get_by_role("navigation", name="配置工作台").get_by_role("link", name="预览影响").click()
    expect(admin.get_by_text("会改变的有 1 处")).to_be_visible()
    row = admin.locator("table.studio-effects tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link")).to_have_text(near_number)
    expect(row).to_contain_text("满意率低于阈值，须申请延期整治 → 满意率达到阈值，验收合格")
    check_page(admin, "studio-simulate")

    # publish: the diff, a required note
    admin.get_by_role("navigation", name="配置工作台").get_by_role("link", name="发布").click()
    diff = admin.locator(".studio-diff-body")
    expect(diff.locator(".del")).to_contain_text('"value": 90')
    expect(diff.locator(".add")).to_contain_text('"value": 85')
    check_page(admin, "studio-publish")
    admin.get_by_label(re.compile("发布说明")).fill("县平安建设领导小组会议决定：验收满意率阈值调整为85%")
    admin.get_by_role("button", name="发布为新版本").click()
    expect(admin.locator(".alert-success").first).to_contain_text("已发布为版本 2")
    expect(admin.get_by_role("heading", level=1)).to_contain_text("版本 2")

    # a 座谈会 recorded after the publish is judged by 85: its 为什么 says so
    _accept(app, pending, survey(13, 0, 2))
    admin.goto(f"/records/{pending}")
    why = admin.locator("section.x-why")
    expect(why).to_contain_text("满意率达到阈值，验收合格")
    expect(why).to_contain_text("不低于 85%")
    check_page(admin, "studio-why")

    # restore version 1
    admin.goto("/admin/config/releases")
    expect(admin.locator("tbody tr").first).to_contain_text("县平安建设领导小组会议决定")
    admin.get_by_role("link", name="版本 1", exact=True).click()
    admin.get_by_label("恢复说明（必填）").fill("会议纪要尚未印发，暂恢复原阈值")
    admin.get_by_role("button", name="恢复为版本 1 的内容").click()
    expect(admin.locator(".alert-success").first).to_contain_text("已将版本 1 的内容恢复为新版本 3")
    admin.get_by_role("navigation", name="配置工作台").get_by_role("link", name="政策参数").click()
    expect(admin.get_by_label("验收满意率阈值（%）")).to_have_value("90")
    assert in_app(app, lambda: app.extensions["registry"].live.rules.values["satisfaction_threshold"]) == 90


def _applied_area(app: Any) -> int:
    """A key area whose acceptance was applied for, 座谈会 not yet held; its id."""
    from tests.keyareas import area_at
    from tests.conftest import user_named
    from tests.test_survey import AREA, IDENTIFY, PLAN

    data = {**AREA, **IDENTIFY, **PLAN, "identification": {**AREA["identification"], **IDENTIFY["identification"]},
            "acceptance": {"applied_date": "2026-05-20", "applying_unit": "城关街道"}}
    return in_app(app, lambda: area_at(data, "acceptance_applied", user_named("county")).id)


def _accept(app: Any, record_id: int, symposium: dict[str, Any]) -> None:
    """The county office records the 座谈会 (the 验收 step), through the API as its page would."""
    from server.auth.service import create_token

    token = in_app(app, lambda: create_token("county"))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    fields = {"acceptance": {"acceptance_date": china_now().date().isoformat(), "team_leader": "县综治中心副主任",
                             "satisfaction_survey": symposium}}
    response = client.post(f"/api/v1/records/{record_id}/transitions/accept", json={"fields": fields})
    assert response.status_code == 200, response.get_json()


# -- 2. a ledger's form ---------------------------------------------------------------------------------------
FIELD = '"reception_place": {"type": "string", "title": "接待地点", "maxLength": 40},'


def find_in_editor(page: Any, text: str) -> None:
    """Select ``text`` with the editor's own search (Ctrl-F, typed, Enter), then close the panel (Escape).
    Typed key by key: the panel takes the query on key-up, as it does from a person."""
    page.locator(".cm-content").click()
    page.keyboard.press("Control+f")
    search = page.locator(".cm-search input[name=search]")
    search.fill("")
    search.press_sequentially(text)
    search.press("Enter")
    search.press("Escape")


def test_a_required_field_added_in_the_editor_previewed_published_and_filled(people: Browsers,
                                                                            studio_server: Any) -> None:
    from server.records import service as records
    from tests.conftest import user_named

    expect = _expect()
    app = studio_server[0]
    now = china_now()
    before = in_app(app, lambda: records.create_record("visit_register", {
        "received_at": now.strftime("%Y-%m-%dT%H:%M:00+08:00"), "source": "visit", "first_accept_person": "贾艳",
        "summary": "早先登记的来访：小区停车纠纷", "matter_type": "consultation", "problem_category": "public_security"},
        user_named("chengguan")).id)

    admin = admin_page(people)
    admin.get_by_role("link", name="来信来访登记簿", exact=True).click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("forms/visit_register.json")
    expect(admin.locator(".cm-editor")).to_be_visible()
    find_in_editor(admin, '"first_accept_person": {"type"')
    admin.keyboard.press("End")
    admin.keyboard.press("Enter")
    admin.keyboard.type(FIELD)
    find_in_editor(admin, '"summary", "matter_type"]')
    admin.keyboard.press("ArrowRight")
    admin.keyboard.press("ArrowLeft")
    admin.keyboard.type(', "reception_place"')
    assert FIELD in admin.locator("#config-text").input_value()
    check_page(admin, "studio-editor")
    admin.get_by_role("button", name="保存草稿并检查").click()
    expect(admin.locator(".alert-success").first).to_contain_text("已保存到草稿")
    expect(admin.locator(".alert-success").first).to_contain_text("检查通过")
    assert admin.locator("#config-problems").text_content() == "[]"

    # preview the generated form from the draft: the field is there and required
    admin.get_by_role("link", name="预览表单").click()
    expect(admin.get_by_label("接待地点")).to_be_visible()
    admin.get_by_role("button", name="试填检查").click()
    expect(admin.locator(".x-field").filter(has=admin.locator("label", has_text="接待地点"))).to_contain_text("必填")
    check_page(admin, "studio-form-preview")

    admin.get_by_role("navigation", name="配置工作台").get_by_role("link", name="发布").click()
    expect(admin.locator(".studio-diff-body .add").first).to_contain_text("reception_place")
    admin.get_by_label(re.compile("发布说明")).fill("来访登记增加接待地点（县综治办通知要求）")
    admin.get_by_role("button", name="发布为新版本").click()
    expect(admin.locator(".alert-success").first).to_contain_text("已发布为版本 2")

    # the clerk's form now asks for it
    clerk = people.page()
    log_in(clerk, CLERK, "城关街道")
    clerk.goto("/forms/visit_register/new")
    clerk.get_by_label("接件时间").fill(now.strftime("%Y-%m-%dT%H:%M"))
    clerk.get_by_label("来源方式").select_option(label="来访")
    clerk.get_by_label("首问受理人").fill("贾艳")
    clerk.get_by_label("反映问题类别").select_option(label="治安问题")
    clerk.get_by_label("事项性质").select_option(label="咨询")
    clerk.get_by_label("反映问题摘要").fill("询问夜间巡逻安排")
    clerk.get_by_role("button", name="保存").click()
    expect(clerk.locator(".x-field").filter(has=clerk.locator("label", has_text="接待地点"))).to_contain_text("必填")
    expect(clerk.get_by_label("反映问题摘要")).to_have_value("询问夜间巡逻安排")  # kept as typed
    clerk.get_by_label("接待地点").fill("城关街道综治中心接待室")
    clerk.get_by_role("button", name="保存").click()
    expect(clerk.get_by_role("status").first).to_contain_text("已保存")
    expect(detail_cell(clerk, "接待地点")).to_have_text("城关街道综治中心接待室")
    check_page(clerk, "studio-clerk-new-field")

    # the record made before the field existed still displays, under its own form version
    clerk.goto(f"/records/{before}")
    expect(detail_cell(clerk, "反映问题摘要")).to_have_text("早先登记的来访：小区停车纠纷")
    expect(detail_cell(clerk, "接待地点")).to_have_count(0)


# -- 3. a document template ------------------------------------------------------------------------------------
SENTENCE = "请于十个工作日内书面反馈核实意见。"


def test_a_template_edited_previewed_as_a_draft_pdf_and_published(people: Browsers, studio_server: Any,
                                                                    tmp_path: Path) -> None:
    from tests.test_studio import identified_area

    expect = _expect()
    app = studio_server[0]
    area, number = identified_area(app)

    admin = admin_page(people)
    admin.get_by_role("link", name="整治社会治安重点地区建议书（模板）").click()
    expect(admin.locator(".cm-editor")).to_be_visible()
    find_in_editor(admin, "<p>特此建议。</p>")
    admin.keyboard.press("ArrowLeft")  # to the start of the selection
    admin.keyboard.type(f"<p>{SENTENCE}</p>")
    admin.get_by_role("button", name="保存草稿并检查").click()
    expect(admin.locator(".alert-success").first).to_contain_text("检查通过")
    check_page(admin, "studio-template")

    admin.get_by_role("link", name="预览草稿公文").click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("整治社会治安重点地区建议书")
    admin.get_by_label("用哪条记录生成").select_option(value=str(area))
    expect(admin.get_by_label("用哪条记录生成")).to_contain_text(number)
    url = f"/admin/config/preview/document/recommendation_letter?record={area}"
    pdf = admin.request.get(url)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "draft.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert SENTENCE.rstrip("。") in text.replace("\n", "")
    if shots() is not None:
        shots().mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path),
                        str(shots() / "studio-draft-pdf")], check=True)
    check_page(admin, "studio-document-preview")

    admin.get_by_role("navigation", name="配置工作台").get_by_role("link", name="发布").click()
    expect(admin.locator(".studio-diff-body .add")).to_contain_text(SENTENCE)
    admin.get_by_label(re.compile("发布说明")).fill("建议书增加反馈期限")
    admin.get_by_role("button", name="发布为新版本").click()
    expect(admin.locator(".alert-success").first).to_contain_text("已发布为版本 2")
    def live_template() -> str:
        registry = app.extensions["registry"]
        registry.refresh()
        return registry.document("recommendation_letter").template

    assert SENTENCE in in_app(app, live_template)

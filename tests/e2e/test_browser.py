"""A clerk in a real browser: log in, fill a generated form (rows, nested fields, a conditional
section), get a Chinese error without losing anything typed, save, read the record back, find it in
the list, and pick it in another form's reference picker.

Runs the real app (templates, CSP, forms.js, database) on a local port; see conftest.py.
"""
from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SUMMARY = "夜市摊点噪音扰民，群众多次反映"
INCIDENT = {"reported_on": "2026-04-20", "source": "phone", "summary": "河道违规采砂"}
NUMBER = re.compile(r"T-999901001000-\d{4}-\d{4}")


def _expect():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    return expect


def log_in(page: Any) -> None:
    expect = _expect()
    page.goto("/login")
    expect(page).to_have_title("登录 · 综治工作台账管理系统")
    expect(page.get_by_role("heading", name="登录综治工作台账管理系统")).to_be_visible()
    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill("Jiangbei-qiao-88")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("banner")).to_contain_text("城关镇综治中心")


def field_group(page: Any, label: str) -> Any:
    """The form group (label, control, error) of the field labelled ``label``."""
    return page.locator(".x-field").filter(has=page.locator("label", has_text=label))


def detail_cell(page: Any, label: str) -> Any:
    """The value cell next to ``label`` on a detail page (nested objects have their own tables)."""
    return page.locator(f"xpath=//table[contains(@class, 'x-readonly')]/tbody/tr[th[normalize-space(.) = '{label}']]/td")


def test_clerk_registers_an_incident_and_finds_it(page: Any, live_server: Any) -> None:
    expect = _expect()
    other = live_server.create_record("incident", INCIDENT)  # must not match the search below
    log_in(page)

    page.goto("/forms/incident/new")
    expect(page.get_by_role("heading", name="登记：测试登记簿")).to_be_visible()
    # 登记日期 (required) is left empty for the first attempt.
    page.get_by_label("来源").select_option(label="来访")
    page.get_by_label("事由摘要").fill(SUMMARY)
    page.get_by_label("人数").fill("3")
    page.get_by_role("group", name="来访人").get_by_label("姓名").fill("王五")

    # The ledgers are in the sidebar, the current one highlighted.
    menu = page.get_by_role("navigation", name="台账")
    expect(menu.get_by_role("link", name="测试登记簿")).to_have_attribute("aria-current", "page")
    expect(menu.get_by_role("link", name="测试转办簿")).not_to_have_attribute("aria-current", "page")

    steps = page.get_by_role("group", name="处置措施")
    expect(steps.get_by_role("group", name=re.compile(r"^第 \d+ 行$"))).to_have_count(0)  # optional: no blank row
    empty_note = steps.get_by_text("尚未添加")
    expect(empty_note).to_be_visible()
    steps.get_by_role("button", name="添加一行").click()
    steps.get_by_role("button", name="添加一行").click()
    expect(empty_note).to_be_hidden()
    row1 = steps.get_by_role("group", name="第 1 行", exact=True)
    row2 = steps.get_by_role("group", name="第 2 行", exact=True)
    expect(row2).to_be_visible()
    row1.get_by_label("内容").fill("约谈摊主")
    row1.get_by_label("期限").fill("2026-05-10")
    row2.get_by_label("内容").fill("联合执法检查")
    row2.get_by_label("期限").fill("2026-05-20")

    handling = page.get_by_label("处理方式")
    unit = page.get_by_label("承办单位")
    expect(unit).to_be_hidden()
    handling.select_option(label="转办")
    expect(unit).to_be_visible()
    handling.select_option(label="当场答复")
    expect(unit).to_be_hidden()
    handling.select_option(label="转办")
    expect(unit).to_be_visible()
    unit.fill("城关派出所")

    page.get_by_role("button", name="保存").click()
    summary = page.get_by_role("alert")
    expect(summary).to_have_count(1)
    expect(summary).to_contain_text("有 1 处需要修改")
    expect(summary.get_by_role("listitem")).to_have_text(["登记日期：此项为必填项"])
    expect(summary).to_be_focused()
    expect(field_group(page, "登记日期")).to_contain_text("此项为必填项")
    date = page.get_by_label("登记日期")
    expect(date).to_have_attribute("aria-invalid", "true")
    expect(date).to_have_accessible_description("此项为必填项")
    summary.get_by_role("link", name="登记日期：此项为必填项").click()
    expect(date).to_be_focused()
    # Everything typed is still there, including the added row and the conditional section.
    expect(page.get_by_label("来源")).to_have_value("visit")
    expect(page.get_by_label("事由摘要")).to_have_value(SUMMARY)
    expect(page.get_by_label("人数")).to_have_value("3")
    expect(page.get_by_role("group", name="来访人").get_by_label("姓名")).to_have_value("王五")
    expect(row1.get_by_label("内容")).to_have_value("约谈摊主")
    expect(row1.get_by_label("期限")).to_have_value("2026-05-10")
    expect(row2.get_by_label("内容")).to_have_value("联合执法检查")
    expect(row2.get_by_label("期限")).to_have_value("2026-05-20")
    expect(handling).to_have_value("transfer")
    expect(unit).to_be_visible()
    expect(unit).to_have_value("城关派出所")

    page.get_by_label("登记日期").fill("2026-05-01")
    page.get_by_role("button", name="保存").click()
    saved = page.get_by_role("status")
    expect(saved).to_contain_text(re.compile(r"已保存，编号 " + NUMBER.pattern))
    number = NUMBER.search(saved.inner_text()).group(0)
    assert number != other

    expect(page).to_have_url(re.compile(r"/records/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"测试登记簿 {number}")
    for label, value in [("登记日期", "2026-05-01"), ("来源", "来访"), ("事由摘要", SUMMARY), ("人数", "3"),
                         ("处理方式", "转办"), ("承办单位", "城关派出所"), ("姓名", "王五")]:
        expect(detail_cell(page, label)).to_have_text(value)
    measures = detail_cell(page, "处置措施").get_by_role("row")
    expect(measures).to_have_count(3)  # header + two rows, in order
    expect(measures.nth(1)).to_contain_text("约谈摊主")
    expect(measures.nth(1)).to_contain_text("2026-05-10")
    expect(measures.nth(2)).to_contain_text("联合执法检查")
    expect(measures.nth(2)).to_contain_text("2026-05-20")

    page.goto("/forms/incident/")
    table = page.locator("table.record-list tbody")
    expect(table.get_by_role("row")).to_have_count(2)
    page.get_by_role("searchbox", name="搜索").fill("噪音")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"[?&]q=%E5%99%AA%E9%9F%B3"))
    expect(table.get_by_role("row")).to_have_count(1)
    expect(table.get_by_role("link", name=number)).to_be_visible()
    expect(table).not_to_contain_text(other)
    expect(page.get_by_text("共 1 条")).to_be_visible()


def test_reference_picker_suggests_incident_numbers(page: Any, live_server: Any) -> None:
    expect = _expect()
    number = live_server.create_record("incident", dict(INCIDENT, summary=SUMMARY))
    live_server.create_record("incident", INCIDENT)  # a record the typed words do not match
    log_in(page)

    page.goto("/forms/transfer/new")
    picker = page.get_by_role("combobox", name="原登记编号")
    suggestions = page.get_by_role("listbox")
    options = suggestions.get_by_role("option")
    expect(suggestions).to_be_hidden()
    with page.expect_response(re.compile(r"/forms/incident/lookup\?q=$")) as newest:
        picker.focus()  # an empty query: the newest records
    assert newest.value.ok
    expect(options).to_have_count(2)
    expect(picker).to_have_attribute("aria-expanded", "true")
    with page.expect_response(re.compile(r"/forms/incident/lookup\?q=.+")) as response:
        picker.press_sequentially("噪音扰民")
    assert response.value.ok
    expect(options).to_have_count(1)
    # the label is every list column: 登记日期 · 来源 · 事由摘要
    expect(options).to_have_text(f"{number}{INCIDENT['reported_on']} · 电话 · {SUMMARY}")
    picker.press("ArrowDown")
    expect(options).to_have_attribute("aria-selected", "true")
    picker.press("Enter")
    expect(picker).to_have_value(number)
    expect(suggestions).to_be_hidden()
    expect(picker).to_have_attribute("aria-expanded", "false")

    page.get_by_label("转办要求").fill("请一周内反馈")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    # the reference reads as the incident's title (its first list column), links to it, number on hover
    expect(detail_cell(page, "原登记编号").locator("a.x-ref")).to_have_attribute("title", number)

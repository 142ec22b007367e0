"""An information officer files a report from a 390 px phone (issue 10, item 5), pages only:

the officer of 东风社区 picks themself from the 花名册 (their entry was registered by 城关街道), fills the
信息报送 form (no 核查/采用 section: the officer only reports), picks the place by name and saves; the
page never scrolls sideways and the officer's list holds only their own report. 城关街道's clerk, at a
desk, finds it in 待办, records the verification (属实, 突出治安问题) and adopts it with a tier; the
reward shown is the county's parameter for that tier. Back on the phone, the officer sees the report
adopted with the reward.

Shipped configuration and demo org tree; screenshots go to $E2E_SCREENSHOTS when it is set.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from server.extensions import db
from server.settings import PROJECT_ROOT
from tests.e2e.conftest import TIMEOUT_MS, serve_app
from tests.e2e.test_flow_browser import DESKTOP, PHONE, Browsers, widest_elements

pytestmark = pytest.mark.e2e

PASSWORD = "Jiangbei-qiao-88"
CLERK = ("chengguan", "township_staff", "139901001000", "贾艳")     # 城关街道综治中心
OFFICER = ("xinxiyuan", "info_officer", "139901001001", "李秀英")   # 东风社区治安信息员
OTHER_OFFICER = ("xinxiyuan2", "info_officer", "139901001001", "王桂兰")
CONTENT = "东风小区3号楼地下室夜间有人聚赌，约十人，停有两辆无牌摩托车"
OTHER_CONTENT = "东风小区南门有人兜售假冒香烟"
TIER, TIER_TITLE = "significant", "较大"
AMOUNT = 260  # the county's 较大 reward in this test's copy of the parameters (shipped: 200)
NUMBER = re.compile(r"XB-139901001001-\d{4}-\d{4}")


def _expect():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    return expect


def _id_number(serial: int) -> str:
    from server.forms.formats import id_check_char

    first17 = f"13990119850101{serial:03d}"
    return first17 + id_check_char(first17)


def _user(username: str) -> Any:
    import sqlalchemy as sa

    from server.auth.models import User

    return db.session.scalar(sa.select(User).where(User.username == username))


def _file_report(username: str, officer: str, content: str) -> str:
    """A report filed by another officer of the same community (through the records service)."""
    from server.records import service

    data = {"officer": officer, "reported_at": "2026-11-01T08:15", "report_method": "sms",
            "info_category": "crime_clue", "content": content}
    return service.create_record("officer_report", data, _user(username)).number


def _roster_entry(serial: int, name: str) -> str:
    """A 花名册 entry for 东风社区, registered by 城关街道's clerk (as the officer cannot); its number."""
    from server.records import service

    data = {"name": name, "gender": "female", "id_number": _id_number(serial), "phone": f"139311200{serial:02d}",
            "quota_category": "community", "community_code": OFFICER[2], "estate_name": "东风小区",
            "appointed_date": "2026-01-05", "status": "active"}
    return service.create_record("officer_roster", data, _user(CLERK[0])).number


@pytest.fixture
def site(make_app, tmp_path) -> Iterator[tuple[Any, str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """The shipped configuration served (the 较大 reward set to AMOUNT), with the clerk, two officers of
    东风社区, their 花名册 entries and the other officer's report."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    params = config / "rules" / "parameters.json"
    doc = json.loads(params.read_text(encoding="utf-8"))
    doc["parameters"][f"officer_reward_{TIER}"]["value"] = AMOUNT
    params.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    app = make_app(config_dir=config)
    with app.app_context():
        from server.auth.service import create_user

        for username, role, org, label in (CLERK, OFFICER, OTHER_OFFICER):
            create_user(username, PASSWORD, role=role, org_code=org, display_name=label)
        roster = {OFFICER[0]: _roster_entry(1, OFFICER[3]), OTHER_OFFICER[0]: _roster_entry(2, OTHER_OFFICER[3])}
        _file_report(OTHER_OFFICER[0], roster[OTHER_OFFICER[0]], OTHER_CONTENT)  # not for the first officer's eyes
        db.session.remove()
    with serve_app(app) as url:
        yield app, url, roster


People = Browsers  # one browser context per person (own cookies and viewport)


@pytest.fixture
def people(e2e_browser, site) -> Iterator[People]:  # type: ignore[no-untyped-def]
    _expect().set_options(timeout=TIMEOUT_MS)
    opened = People(e2e_browser, site[1])
    yield opened
    opened.close()
    assert opened.problems == [], opened.problems


# -- helpers ------------------------------------------------------------------------------------------------
def log_in(page: Any, user: tuple[str, str, str, str], unit: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(user[0])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    _expect()(page.get_by_role("banner")).to_contain_text(f"{user[3]}（{unit}）")


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"officer-{name}.png"), full_page=True)


def fits_the_phone(page: Any, name: str) -> None:
    """No sideways scrolling at 390 px; if the page is wider, name the widest elements."""
    shot(page, name)
    width = page.evaluate("document.documentElement.scrollWidth")
    too_wide = [] if width <= PHONE["width"] else widest_elements(page, PHONE["width"])
    assert width <= PHONE["width"], f"{name}: scrollWidth {width} px at 390 px; too wide: {too_wide}"


def detail_cell(page: Any, label: str) -> Any:
    return page.locator(
        f"xpath=//table[contains(@class, 'x-readonly')]/tbody/tr[th[normalize-space(.) = '{label}']]/td")


def flow_section(page: Any) -> Any:
    return page.locator("section.x-flow")


def flow_button(page: Any, label: str) -> Any:
    return flow_section(page).get_by_role("link", name=label, exact=True)


def inbox_link(page: Any) -> Any:
    return page.get_by_role("banner").get_by_role("link", name=re.compile(r"^待办"))


# -- the scenario -------------------------------------------------------------------------------------------
def test_an_officer_reports_from_a_phone_and_sees_the_reward(people: People, site: Any) -> None:
    officer = people.page(PHONE)
    log_in(officer, OFFICER, "东风社区")
    number, record_url = officer_files_a_report(officer, site[2][OFFICER[0]])
    officer_lists_only_their_own(officer, number)
    clerk = people.page(DESKTOP)
    log_in(clerk, CLERK, "城关街道")
    clerk_verifies_and_adopts(clerk, number, record_url)
    officer_sees_the_reward(officer, number, record_url)


def officer_files_a_report(officer: Any, roster_number: str) -> tuple[str, str]:
    """1. On the phone: only what an officer fills, themself picked by name, the place by name; saved."""
    expect = _expect()
    officer.goto("/forms/officer_report/new")
    officer.wait_for_load_state()  # the pickers' scripts run on DOMContentLoaded
    shot(officer, "1-new")
    main = officer.locator("main")
    for closed in ("核查", "核查结果", "是否首报", "属突出治安问题", "采用及奖励", "采用情况", "奖励等级", "奖励金额（元）"):
        expect(main.get_by_text(closed, exact=True)).to_have_count(0)
    expect(main.locator("[name*='verification'], [name*='adoption']")).to_have_count(0)
    picker = officer.get_by_label("信息员")
    picker.click()
    picker.press_sequentially(OFFICER[3][:2])
    choice = officer.get_by_role("option", name=re.compile(OFFICER[3]))
    expect(choice).to_have_count(1)  # the officer's own entry, by name (no fellow officer called 李秀…)
    shot(officer, "1b-picker")
    choice.click()
    expect(picker).to_have_value(roster_number)
    officer.get_by_label("报送时间").fill("2026-11-02T21:30")
    officer.get_by_role("group", name="报送方式").get_by_label("手机App").check()
    officer.get_by_label("事发时间").fill("2026-11-02T20:40")
    place = officer.get_by_role("group", name="事发地点").get_by_label("乡镇/村（社区）")
    place.click()
    place.press_sequentially("东风")
    officer.get_by_role("option", name="东风社区").click()  # picked by name; 139901001001 is stored
    officer.get_by_label("详细地址").fill("东风小区3号楼地下室")
    officer.get_by_label("信息类别").select_option(label="违法犯罪线索")
    officer.get_by_label("信息内容").fill(CONTENT)
    officer.get_by_role("group", name="紧急程度").get_by_label("紧急", exact=True).check()
    fits_the_phone(officer, "1c-filled")
    officer.get_by_role("button", name="保存").click()
    expect(officer.get_by_role("status").first).to_contain_text(re.compile(r"已保存，编号 " + NUMBER.pattern))
    expect(officer).to_have_url(re.compile(r"/records/\d+$"))
    number = NUMBER.search(officer.get_by_role("heading", level=1).inner_text()).group(0)
    fits_the_phone(officer, "1d-saved")
    expect(flow_section(officer).locator(".x-state")).to_have_text("已报送")
    expect(flow_button(officer, "登记核查结果")).to_have_count(0)  # the officer only reports
    expect(detail_cell(officer, "信息内容")).to_have_text(CONTENT)
    expect(detail_cell(officer, "乡镇/村（社区）")).to_have_text("东风社区")
    expect(detail_cell(officer, "紧急程度")).to_have_text("紧急")
    return number, officer.url


def officer_lists_only_their_own(officer: Any, number: str) -> None:
    """The officer's list: their report, not the other officer's of the same community."""
    expect = _expect()
    officer.goto("/forms/officer_report/")
    rows = officer.locator("table.record-list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(number)
    expect(officer.locator("main")).not_to_contain_text(OTHER_CONTENT[:6])
    fits_the_phone(officer, "1e-list")


def clerk_verifies_and_adopts(clerk: Any, number: str, record_url: str) -> None:
    """2. At a desk, 城关街道's clerk finds the report in 待办, records the verification and adopts it."""
    expect = _expect()
    inbox_link(clerk).click()
    item = clerk.locator("ul.x-inbox > li").filter(has_text=number)
    expect(item).to_have_count(1)
    shot(clerk, "2a-inbox")
    item.get_by_role("link").first.click()
    expect(clerk).to_have_url(record_url)
    expect(flow_section(clerk).locator(".x-state")).to_have_text("已报送")
    flow_button(clerk, "登记核查结果").click()
    clerk.get_by_label("核查单位").fill("城关派出所")
    clerk.get_by_label("核查日期").fill("2026-11-03")
    clerk.get_by_role("group", name="核查结果").get_by_label("属实", exact=True).check()
    clerk.get_by_label("是否首报").check()
    clerk.get_by_label("属突出治安问题").check()
    clerk.get_by_label("核查情况").fill("派出所当晚出警，现场查获赌资")
    shot(clerk, "2b-verify")
    clerk.get_by_role("button", name="确认登记核查结果").click()
    expect(clerk).to_have_url(record_url)
    expect(flow_section(clerk).locator(".x-state")).to_have_text("已核查")
    expect(detail_cell(clerk, "核查结果")).to_have_text("属实")
    expect(detail_cell(clerk, "属突出治安问题")).to_have_text("是")
    flow_button(clerk, "采用").click()
    clerk.get_by_role("group", name="采用情况").get_by_label("纳入研判").check()
    clerk.get_by_role("group", name="采用情况").get_by_label("处置").check()
    clerk.get_by_label("奖励等级").select_option(label=TIER_TITLE)
    shot(clerk, "2c-adopt")
    clerk.get_by_role("button", name="确认采用").click()
    expect(clerk).to_have_url(record_url)
    expect(flow_section(clerk).locator(".x-state")).to_have_text("已采用")
    expect(detail_cell(clerk, "奖励等级")).to_have_text(TIER_TITLE)
    expect(detail_cell(clerk, "奖励金额（元）")).to_have_text(str(AMOUNT))  # the parameter, not the shipped 200
    expect(clerk.locator("section.x-why")).to_contain_text(f"按县定标准奖励 {AMOUNT} 元")
    shot(clerk, "2d-adopted")


def officer_sees_the_reward(officer: Any, number: str, record_url: str) -> None:
    """3. Back on the phone, the officer opens the report from their list: adopted, with the reward."""
    expect = _expect()
    officer.goto("/forms/officer_report/")
    officer.locator("table.record-list").get_by_role("link", name=number).click()
    expect(officer).to_have_url(record_url)
    expect(flow_section(officer).locator(".x-state")).to_have_text("已采用")
    expect(detail_cell(officer, "核查结果")).to_have_text("属实")
    expect(detail_cell(officer, "奖励等级")).to_have_text(TIER_TITLE)
    expect(detail_cell(officer, "奖励金额（元）")).to_have_text(str(AMOUNT))
    expect(flow_section(officer).locator(".x-flow-buttons")).to_have_count(0)
    fits_the_phone(officer, "3-adopted")


def test_the_officer_picker_offers_names_from_the_roster_and_nothing_else(site: Any) -> None:
    """What the picker above relies on, asked directly: the officer, who cannot read the 花名册, gets
    its entries of 东风社区 by number and name only; a phone or ID number finds nobody; ledgers no form
    of theirs refers to stay closed; the clerk's picker is unchanged (names with the list columns)."""
    from tests.conftest import login_session

    app, _, roster = site

    def client(username: str) -> Any:
        opened = app.test_client()
        with app.app_context():
            with opened.session_transaction() as session:
                session["_user_id"] = login_session(_user(username))
                session["_fresh"] = True
        return opened

    def picked(username: str, form_id: str, q: str = "") -> Any:
        response = client(username).get(f"/forms/{form_id}/lookup", query_string={"q": q})
        return response.status_code, response.get_json(silent=True)

    assert picked(OFFICER[0], "officer_roster") == (200, [
        {"number": roster[OTHER_OFFICER[0]], "label": OTHER_OFFICER[3]}, {"number": roster[OFFICER[0]], "label": OFFICER[3]}])
    assert picked(OFFICER[0], "officer_roster", "李秀") == (200, [{"number": roster[OFFICER[0]], "label": OFFICER[3]}])
    assert picked(OFFICER[0], "officer_roster", "13931120001") == (200, [])   # a phone number finds nobody
    assert picked(OFFICER[0], "officer_roster", _id_number(1)[:10]) == (200, [])
    assert picked(OFFICER[0], "security_problem")[0] == 403
    status, items = picked(CLERK[0], "officer_roster", "李秀")
    assert status == 200 and [i["number"] for i in items] == [roster[OFFICER[0]]]
    assert items[0]["label"].startswith(f"{OFFICER[3]} · ") and "13931120001" in items[0]["label"]

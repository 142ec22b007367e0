"""A 来信来访 matter walked through the intake loop in real browsers, pages only:

城关街道's clerk registers a visit and routes it (转办) to 城关派出所; the station finds it in its 待办,
reports the result; the clerk approves it (审核办结) and records the follow-up (回访, 满意) → 已归档.
On the way: a refusal as the clerk sees it, a dialog sent with a required field missing, and the
pages that matter on a phone (no sideways scrolling), with screenshots when ``E2E_SCREENSHOTS`` is set.

Runs the shipped configuration and demo org tree (config/), not the test org of tests/conftest.py,
on today's real date (the live server runs in another thread; the clock is not frozen), so only
relative things are asserted about deadlines.
"""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest

from server.extensions import db
from tests.e2e.conftest import TIMEOUT_MS, serve_app, shipped_app

pytestmark = pytest.mark.e2e

PASSWORD = "Jiangbei-qiao-88"
CLERK = ("chengguan", "township_staff", "139901001000", "贾艳")  # 城关街道综治中心
POLICE = ("pcs01", "department_staff", "GA-PCS01", "赵立军")  # 城关派出所
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SUMMARY = "东风小区北门夜间烧烤摊占道经营，噪音扰民至凌晨两点"
RESULT = "已会同城管取缔占道摊点，夜间加强巡逻，并向反映人电话反馈"
RECORD_NUMBER = re.compile(r"LF-139901001000-\d{4}-\d{4}")
TRANSFER_NUMBER = re.compile(r"ZB-139901001000-\d{4}-\d{4}")


def _expect():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    return expect


# -- the server: shipped configuration, demo org tree, two users --------------------------------------------
@contextmanager
def _serve(app: Any) -> Iterator[str]:
    """What tests/e2e/conftest.py's ``serve`` does, without seeding the test org (the demo tree of
    config/org is synced by the app's registry)."""
    with serve_app(app) as url:
        yield url


@pytest.fixture
def shipped(make_app, tmp_path) -> Iterator[tuple[Any, str]]:  # type: ignore[no-untyped-def]
    app = shipped_app(make_app, tmp_path, (CLERK, POLICE))
    with _serve(app) as url:
        yield app, url


class Browsers:
    """One browser context per person (separate cookies), each failing the test on script errors."""

    def __init__(self, browser: Any, url: str):
        self.browser, self.url, self.contexts, self.problems = browser, url, [], []

    def page(self, viewport: dict[str, int] | None = None) -> Any:
        """A new person's page, at 1366×768 unless ``viewport`` is the phone's (then a touch screen)."""
        viewport = viewport or DESKTOP
        context = self.browser.new_context(base_url=self.url, locale="zh-CN", viewport=viewport,
                                           is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        opened = context.new_page()
        opened.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

        def on_console(message: Any) -> None:
            # 403/422 pages log "Failed to load resource"; that is expected.
            if message.type == "error" and "Failed to load resource" not in message.text:
                self.problems.append(f"console error: {message.text}")

        opened.on("console", on_console)
        return opened

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsers(e2e_browser, shipped) -> Iterator[Browsers]:  # type: ignore[no-untyped-def]
    _expect().set_options(timeout=TIMEOUT_MS)
    opened = Browsers(e2e_browser, shipped[1])
    yield opened
    opened.close()
    assert opened.problems == [], opened.problems


# -- helpers ------------------------------------------------------------------------------------------------
def china_now() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai"))


def log_in(page: Any, user: tuple[str, str, str, str], unit: str) -> None:
    expect = _expect()
    page.goto("/login")
    page.get_by_label("用户名").fill(user[0])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("banner")).to_contain_text(f"{user[3]}（{unit}）")


def inbox_link(page: Any) -> Any:
    return page.get_by_role("banner").get_by_role("link", name=re.compile(r"^待办"))


def detail_cell(page: Any, label: str) -> Any:
    """The value cell next to ``label`` in the record body."""
    return page.locator(
        f"xpath=//table[contains(@class, 'x-readonly')]/tbody/tr[th[normalize-space(.) = '{label}']]/td")


def flow_section(page: Any) -> Any:
    return page.locator("section.x-flow")


def state_badge(page: Any) -> Any:
    return flow_section(page).locator(".x-state")


def flow_button(page: Any, label: str) -> Any:
    return flow_section(page).get_by_role("link", name=label, exact=True)


def field_group(page: Any, label: str) -> Any:
    return page.locator(".x-field").filter(has=page.locator("label", has_text=label))


def widest_elements(page: Any, limit: int) -> list[str]:
    """The first elements reaching past ``limit`` px (tag#id.classes, right edge, width): what to fix
    when a page scrolls sideways."""
    return page.evaluate("""limit => {
        const out = [];
        for (const el of document.querySelectorAll('body *')) {
          const r = el.getBoundingClientRect();
          if (r.right > limit + 0.5 && r.width > 0) {
            const cls = typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
            out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls} right=${Math.round(r.right)} width=${Math.round(r.width)}`);
          }
        }
        return out.slice(0, 12);
    }""", limit)


def phone_width(page: Any) -> int:
    """The page's width once the resize to the phone has been laid out: the browser applies a viewport
    change asynchronously, and a reading taken in between (465 px, with no element that wide) is the
    browser's, not the page's. Read after the window has the new width and two frames have been drawn,
    and once more a moment later if the first reading is too wide."""
    page.wait_for_function("w => window.innerWidth === w", arg=PHONE["width"])
    settled = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(
        () => done(document.documentElement.scrollWidth))))"""
    width = page.evaluate(settled)
    if width > PHONE["width"]:
        page.wait_for_timeout(500)
        width = page.evaluate(settled)
    return int(width)


def check_page(page: Any, name: str) -> None:
    """Screenshots at 1366×768 and 390×844 (into $E2E_SCREENSHOTS when set), and no sideways
    scrolling on the phone: if the page is wider than 390 px, name the widest elements."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    width = phone_width(page)
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}-390.png"), full_page=True)
    too_wide = [] if width <= PHONE["width"] else widest_elements(page, PHONE["width"])
    page.set_viewport_size(DESKTOP)
    assert width <= PHONE["width"], f"{name}: scrollWidth {width} px at 390 px; too wide: {too_wide}"


def ledger(app: Any, form_id: str) -> dict[str, dict[str, Any]]:
    """The records of ``form_id``: number → data (read directly, for assertions)."""
    import sqlalchemy as sa

    from server.records.models import Record

    with app.app_context():
        found = {r.number: r.data for r in db.session.scalars(
            sa.select(Record).where(Record.form_id == form_id).order_by(Record.id))}
        db.session.remove()
    return found


def timeline(page: Any) -> list[tuple[str, str]]:
    """(label, who) of each 办理过程 entry, in order."""
    items = flow_section(page).locator("ol.x-timeline > li")
    return [(item.locator("strong").inner_text().strip(), item.locator(".small.text-muted").inner_text().split("·")[-1].strip())
            for item in items.all()]


# -- the loop -----------------------------------------------------------------------------------------------
def test_a_visit_walked_through_the_pages_from_registration_to_archive(browsers: Browsers, shipped: Any) -> None:
    expect = _expect()
    now = china_now()
    today = now.date().isoformat()

    # 1. the clerk registers the visit in the browser
    clerk = browsers.page()
    log_in(clerk, CLERK, "城关街道")
    expect(inbox_link(clerk)).to_have_text(re.compile(r"待办\s*0"))
    clerk.get_by_role("navigation", name="台账").get_by_role("link", name="来信来访登记簿").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("来信来访登记簿")
    clerk.get_by_role("link", name="登记", exact=True).click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text("登记：来信来访登记簿")
    clerk.get_by_label("接件时间").fill(now.strftime("%Y-%m-%dT%H:%M"))
    clerk.get_by_label("来源方式").select_option(label="来访")
    clerk.get_by_label("首问受理人").fill("贾艳")
    visitor = clerk.get_by_role("group", name="来访人")
    visitor.get_by_label("姓名").fill("王建华")
    visitor.get_by_label("男", exact=True).check()
    visitor.get_by_label("联系电话").fill("13931120001")
    clerk.get_by_label("反映问题类别").select_option(label="治安问题")
    clerk.get_by_label("事项性质").select_option(label="投诉")
    clerk.get_by_label("反映问题摘要").fill(SUMMARY)
    clerk.get_by_label("诉求").fill("请求取缔占道烧烤摊")
    place = clerk.get_by_role("group", name="涉及地点").get_by_label("乡镇/村（社区）")
    place.click()
    place.press_sequentially("东风")
    clerk.get_by_role("option", name="东风社区").click()  # picked by name; 139901001001 is stored
    clerk.get_by_role("button", name="保存").click()

    expect(clerk.get_by_role("status")).to_contain_text(re.compile(r"已保存，编号 " + RECORD_NUMBER.pattern))
    expect(clerk).to_have_url(re.compile(r"/records/\d+$"))
    record_url = clerk.url
    record_id = int(record_url.rsplit("/", 1)[1])
    number = RECORD_NUMBER.search(clerk.get_by_role("heading", level=1).inner_text()).group(0)
    expect(state_badge(clerk)).to_have_text("待分流")
    expect(flow_section(clerk)).to_contain_text("等待 城关街道 办理")
    expect(inbox_link(clerk)).to_have_text(re.compile(r"待办\s*1"))
    expect(detail_cell(clerk, "反映问题摘要")).to_have_text(SUMMARY)
    expect(detail_cell(clerk, "事项性质")).to_have_text("投诉")
    for label in ("当场答复", "转办", "不予受理"):
        expect(flow_button(clerk, label)).to_be_visible()

    # 2. 转办 to 城关派出所
    flow_button(clerk, "转办").click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"转办：来信来访登记簿 {number}")
    clerk.wait_for_load_state()  # the heading shows before orgpicker.js (DOMContentLoaded) turns the select into its box
    handling_unit = clerk.get_by_label("承办单位")  # an org field: a search box over the unit names
    handling_unit.click()
    handling_unit.press_sequentially("城关派出所")
    clerk.get_by_role("option", name="城关派出所").click()
    clerk.get_by_role("button", name="确认转办").click()
    expect(clerk).to_have_url(record_url)
    expect(clerk.get_by_role("status").first).to_contain_text("已办理“转办”，当前状态：办理中")
    expect(state_badge(clerk)).to_have_text("办理中")
    expect(flow_section(clerk)).to_contain_text("等待 城关派出所 办理")
    due_line = flow_section(clerk).locator(".x-due")
    expect(due_line).to_contain_text("还剩 13 个工作日")  # 投诉: 13 working days from today
    due = re.search(r"办理时限 (\d{4}-\d{2}-\d{2})", due_line.inner_text()).group(1)
    assert due > today
    expect(detail_cell(clerk, "办理时限")).to_have_text(due)
    expect(detail_cell(clerk, "承办单位")).to_have_text("城关派出所")
    expect(detail_cell(clerk, "处理意见")).to_have_text("转办")
    expect(detail_cell(clerk, "转办登记编号").locator("a.x-ref")).to_have_attribute("title", TRANSFER_NUMBER)
    expect(inbox_link(clerk)).to_have_text(re.compile(r"待办\s*0"))
    # the 办理 buttons are the owner's now (改派), not the station's (报告办理结果)
    expect(flow_button(clerk, "改派")).to_be_visible()
    expect(flow_button(clerk, "报告办理结果")).to_have_count(0)
    check_page(clerk, "1-record-after-route")

    # 5a. refusals as the clerk sees them: a step of the wrong state is sent back with the reason,
    # a step of another unit is refused outright
    clerk.goto(f"/records/{record_id}/transitions/approve")
    expect(clerk).to_have_url(record_url)
    expect(clerk.get_by_role("status").first).to_have_text("“审核办结”只能在“待审核”状态下办理，当前状态为“办理中”")
    refused = clerk.goto(f"/records/{record_id}/transitions/report_result")
    assert refused is not None and refused.status == 403
    expect(clerk.get_by_role("heading", level=1)).to_have_text("无权操作")
    expect(clerk.locator("main")).to_contain_text("“报告办理结果”须由承办单位办理，您所在单位不是本事项的承办单位")
    clerk.goto(record_url)
    expect(state_badge(clerk)).to_have_text("办理中")

    # 3. the station finds it in its 待办 and reports the result
    police = browsers.page()
    log_in(police, POLICE, "城关派出所")
    expect(inbox_link(police)).to_have_text(re.compile(r"待办\s*1"))
    inbox_link(police).click()
    expect(police.get_by_role("heading", level=1)).to_have_text("待办 · 城关派出所")
    item = police.locator("ul.x-inbox > li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"来信来访登记簿 {number}（办理中）")
    expect(item).to_contain_text("城关街道受理")
    expect(item).to_contain_text(f"期限 {due}")
    expect(item).to_contain_text(SUMMARY)
    check_page(police, "3-inbox-of-pcs01")
    item.get_by_role("link", name=f"来信来访登记簿 {number}（办理中）").click()
    expect(police).to_have_url(record_url)
    expect(state_badge(police)).to_have_text("办理中")
    expect(flow_section(police)).to_contain_text("还剩 13 个工作日")
    expect(flow_button(police, "改派")).to_have_count(0)
    flow_button(police, "报告办理结果").click()
    expect(police.get_by_role("heading", level=1)).to_have_text(f"报告办理结果：来信来访登记簿 {number}")
    expect(police.locator("main")).to_contain_text(f"当前状态：办理中 · 期限 {due}")
    expect(police.locator("main")).to_contain_text(SUMMARY)  # what the matter is, on the dialog itself
    check_page(police, "2-dialog-report-result")

    # 5b. 办理结果 left empty: a Chinese error at the field, and nothing typed is lost
    police.get_by_label("答复日期").fill(today)
    police.get_by_label("答复方式").select_option(label="电话答复")
    police.get_by_label("说明").fill("已电话告知反映人")
    police.get_by_role("button", name="确认报告办理结果").click()
    result_group = field_group(police, "办理结果")
    expect(result_group).to_contain_text("办理“报告办理结果”前须填写此项")
    expect(police.get_by_label("办理结果")).to_have_attribute("aria-invalid", "true")
    expect(police.get_by_label("答复日期")).to_have_value(today)
    expect(police.get_by_label("答复方式")).to_have_value("phone")
    expect(police.get_by_label("说明")).to_have_value("已电话告知反映人")
    police.get_by_label("办理结果").fill(RESULT)
    police.get_by_role("button", name="确认报告办理结果").click()
    expect(police).to_have_url(record_url)
    expect(police.get_by_role("status").first).to_contain_text("已办理“报告办理结果”，当前状态：待审核")
    expect(state_badge(police)).to_have_text("待审核")
    expect(detail_cell(police, "办理结果")).to_have_text(RESULT)
    expect(inbox_link(police)).to_have_text(re.compile(r"待办\s*0"))

    # 4. the clerk approves and follows up
    clerk.reload()
    expect(state_badge(clerk)).to_have_text("待审核")
    expect(inbox_link(clerk)).to_have_text(re.compile(r"待办\s*1"))
    flow_button(clerk, "审核办结").click()
    clerk.get_by_role("button", name="确认审核办结").click()
    expect(clerk).to_have_url(record_url)
    expect(state_badge(clerk)).to_have_text("待回访")
    expect(detail_cell(clerk, "结案日期")).to_have_text(today)
    expect(inbox_link(clerk)).to_have_text(re.compile(r"待办\s*1"))  # 回访 is the centre's to do
    # 回访's guard reads the 满意度 asked in its own dialog: the button must open that dialog, not be
    # disabled because the record has no 满意度 yet
    why = flow_section(clerk).locator("[id^='why-']").all_inner_texts()
    expect(flow_section(clerk).locator("button[disabled]"),
           f"回访 disabled by its guard before its dialog asked for 满意度: {why}").to_have_count(0)
    flow_button(clerk, "回访").click()
    clerk.get_by_label("回访日期").fill(today)
    clerk.get_by_label("回访人").fill("贾艳")
    clerk.get_by_role("group", name="回访方式").get_by_label("电话").check()
    clerk.get_by_role("group", name="满意度").get_by_label("满意", exact=True).check()
    clerk.get_by_label("意见建议").fill("希望保持夜间巡逻")
    clerk.get_by_role("button", name="确认回访").click()
    expect(clerk).to_have_url(record_url)
    expect(clerk.get_by_role("status").first).to_contain_text("已办理“回访”，当前状态：已归档")
    expect(state_badge(clerk)).to_have_text("已归档")
    expect(flow_section(clerk).locator(".x-due")).to_have_count(0)
    expect(flow_section(clerk).locator(".x-flow-buttons")).to_have_count(0)
    expect(flow_section(clerk)).not_to_contain_text("等待")
    expect(inbox_link(clerk)).to_have_text(re.compile(r"待办\s*0"))
    clerk_name, police_name = "贾艳（城关街道）", "赵立军（城关派出所）"  # several units act on one matter
    assert timeline(clerk) == [("登记", clerk_name), ("转办", clerk_name), ("报告办理结果", police_name),
                               ("审核办结", clerk_name), ("回访", clerk_name)]
    check_page(clerk, "4-record-archived")

    # what the steps wrote into the other ledgers (转办登记簿, 跟踪回访登记簿)
    transfer_number = detail_cell(clerk, "转办登记编号").locator("a.x-ref").get_attribute("title")  # number on hover
    transfer, follow_up = ledger(shipped[0], "visit_transfer"), ledger(shipped[0], "follow_up")
    assert list(transfer) == [transfer_number] and len(follow_up) == 1
    assert {k: transfer[transfer_number].get(k) for k in ("original_record", "handling_unit", "deadline", "status",
                                                          "centre_review", "follow_up_result", "transferred_by")} == {
        "original_record": number, "handling_unit": "GA-PCS01", "deadline": due, "status": "completed",
        "centre_review": "approve_close", "follow_up_result": "satisfied", "transferred_by": "贾艳"}
    (visit,) = follow_up.values()
    assert (visit["original_visit"], visit["satisfaction"], visit["visitee"]) == (number, "satisfied", "王建华")

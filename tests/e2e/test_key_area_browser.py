"""A 社会治安重点地区 walked from 线索 to 摘牌 in real browsers, pages only (issue 10, "Done means").

城关街道's clerk registers the area (the place picked by name) and sees a 线索 whose page has no 验收, 摘牌 or
巩固期 sections; 认定为重点地区 and 制定方案，开始整治 in their dialogs. 城关派出所, made 直接责任人 by the
responsibility rules, finds the area in its ledger and 报送月度进展. The county office 挂牌督办: the 整改期限
is computed by level, the 《挂牌督办通知书》 issued and its number filled in, and 生成文书 offers only the
documents of 挂牌督办. The clerk 报送整治方案 and 申请验收; the county 验收 with a 座谈会 of three people, all
满意 → 验收合格, issues the 验收报告 and 摘牌 → 巩固期: the 摘牌通知 is issued and the 巩固期 ends one
consolidation period (a parameter) later.

Like tests/e2e/test_flow_browser.py (whose helpers it uses): the shipped configuration and demo org tree,
one browser context per person with script errors failing the test, screenshots at 1366 and 390 px into
``E2E_SCREENSHOTS`` with no sideways scrolling on the phone, and today's real date (relative assertions).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Iterator

import pytest

from server.settings import PROJECT_ROOT
from server.workflow.calendar import add_months
from tests.e2e.conftest import TIMEOUT_MS, serve_app, shipped_app
from tests.e2e.test_flow_browser import (CLERK, POLICE, Browsers, _expect, check_page, china_now,
                                         detail_cell, flow_button, flow_section, log_in, state_badge, timeline)

pytestmark = pytest.mark.e2e

COUNTY = ("county", "county_staff", "139901000000", "刘建国")  # 示范县综治中心
NAME = "陉山大道与建设路交叉口周边"
FORM = "社会治安重点地区排查整治台账"
BASIS = "近三月盗窃案件 12 起，夜间占道烧烤扰民"
PROBLEMS = "夜间烧烤摊占道，打架斗殴、盗窃多发"
PLAN = "取缔无证摊点，安装红绿灯和视频监控"
PROGRESS = "清查烧烤摊点 6 处，抓获盗窃嫌疑人 2 名"
LATER_SECTIONS = ["整治", "挂牌", "验收", "摘牌/延期", "巩固期"]  # the groups of later states
NUMBER = re.compile(r"ZD-139901001000-\d{4}-\d{3}")


@pytest.fixture
def key_area_server(make_app, tmp_path) -> Iterator[tuple[Any, str]]:  # type: ignore[no-untyped-def]
    """The shipped configuration and demo org tree, three users, served on a free port."""
    app = shipped_app(make_app, tmp_path, (CLERK, POLICE, COUNTY))
    with serve_app(app) as url:
        yield app, url


@pytest.fixture
def people(e2e_browser, key_area_server) -> Iterator[Browsers]:  # type: ignore[no-untyped-def]
    _expect().set_options(timeout=TIMEOUT_MS)
    opened = Browsers(e2e_browser, key_area_server[1])
    yield opened
    opened.close()
    assert opened.problems == [], opened.problems


def pick_unit(page: Any, label: str, typed: str, name: str) -> None:
    """Choose an org unit by typing part of its name into the org picker's search box."""
    box = page.get_by_label(label)
    box.click()
    box.press_sequentially(typed)
    page.get_by_role("listbox", name="候选单位").get_by_role("option", name=name).first.click()


def param(name: str) -> int:
    """A policy number of the shipped config/rules/parameters.json."""
    data = json.loads((PROJECT_ROOT / "config" / "rules" / "parameters.json").read_text(encoding="utf-8"))
    return int((data.get("parameters") or data)[name]["value"])


def section_titles(page: Any) -> list[str]:
    """The top-level groups shown in the record body (the labels of its outer table)."""
    labels = page.locator("main .x-form-page > table.x-readonly > tbody > tr > th.x-label")
    return [t.strip() for t in labels.all_inner_texts() if t.strip()]


def assert_sections(page: Any, shown: list[str], hidden: list[str]) -> None:
    titles = section_titles(page)
    assert [t for t in shown if t not in titles] == [], titles
    assert [t for t in hidden if t in titles] == [], titles


def state_documents(state: str) -> set[str]:
    """The titles of the shipped key-area documents that belong to ``state``."""
    titles = set()
    for path in (PROJECT_ROOT / "config" / "documents").glob("*/document.json"):
        spec = json.loads(path.read_text(encoding="utf-8"))
        if spec.get("source", {}).get("form") == "key_area" and state in spec.get("states", []):
            titles.add(spec["title"])
    return titles


def offered_documents(page: Any) -> set[str]:
    """The titles the record page's 生成文书 list offers (without the 《》 and the description)."""
    heads = page.locator("section.x-documents ul > li > .x-doc-title").evaluate_all(
        "spans => spans.map(s => s.firstChild.textContent)")
    return {h.strip().strip("《》") for h in heads}


@dataclass
class Area:
    """What the steps share: the record's page and number, and the dates of today."""
    url: str = ""
    number: str = ""
    day: date = date.min

    @property
    def today(self) -> str:
        return self.day.isoformat()


def confirm(page: Any, area: Area, step: str, state: str) -> None:
    """Send the open dialog of ``step``; back on the record page in ``state``."""
    expect = _expect()
    page.get_by_role("button", name=f"确认{step}").click()
    expect(page).to_have_url(area.url)
    expect(page.get_by_role("status").first).to_contain_text(f"已办理“{step}”，当前状态：{state}")
    expect(state_badge(page)).to_have_text(state)


def open_step(page: Any, area: Area, step: str) -> None:
    flow_button(page, step).click()
    _expect()(page.get_by_role("heading", level=1)).to_have_text(f"{step}：{FORM} {area.number}")


# -- the steps ------------------------------------------------------------------------------------------------
def register_clue(clerk: Any, area: Area) -> None:
    """1. The clerk registers the area; a 线索 shows nothing of later states, on its page or its edit form."""
    expect = _expect()
    clerk.get_by_role("navigation", name="台账").get_by_role("link", name=FORM).click()
    clerk.get_by_role("link", name="登记", exact=True).click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"登记：{FORM}")
    clerk.wait_for_load_state()  # orgpicker.js turns the selects into search boxes on DOMContentLoaded
    clerk.get_by_label("重点地区名称").fill(NAME)
    clerk.get_by_label("类型").select_option(label="街巷")
    pick_unit(clerk, "乡镇（街道）", "城关", "城关街道")
    pick_unit(clerk, "村（社区）", "东风", "东风社区")
    clerk.get_by_role("group", name="认定").get_by_label("发现来源").select_option(label="排查")
    check_page(clerk, "ka-1-register")
    clerk.get_by_role("button", name="保存").click()
    expect(clerk.get_by_role("status").first).to_contain_text(re.compile(r"已保存，编号 " + NUMBER.pattern))
    expect(clerk).to_have_url(re.compile(r"/records/\d+$"))
    area.url = clerk.url
    area.number = NUMBER.search(clerk.get_by_role("heading", level=1).inner_text()).group(0)
    expect(state_badge(clerk)).to_have_text("线索")
    expect(detail_cell(clerk, "乡镇（街道）")).to_have_text("城关街道")
    expect(detail_cell(clerk, "村（社区）")).to_have_text("东风社区")
    expect(detail_cell(clerk, "直接责任人")).to_contain_text("城关派出所")  # the responsibility rules
    assert_sections(clerk, shown=["认定", "责任"], hidden=LATER_SECTIONS)
    check_page(clerk, "ka-2-clue")
    clerk.get_by_role("link", name="修改", exact=True).click()
    expect(clerk.get_by_role("heading", level=1)).to_have_text(f"修改 {area.number}")
    legends = [re.sub(r"[*\s]", "", t) for t in clerk.locator("form.record-form fieldset > legend").all_inner_texts()]
    assert "认定" in legends and [t for t in LATER_SECTIONS if t in legends] == [], legends
    clerk.goto(area.url)


def identify_and_start(clerk: Any, area: Area) -> None:
    """1. 认定为重点地区, then 制定方案，开始整治 with the planned dates."""
    expect = _expect()
    planned_end = (area.day + timedelta(days=60)).isoformat()
    open_step(clerk, area, "认定为重点地区")
    clerk.get_by_label("认定日期").fill(area.today)
    clerk.get_by_label("认定依据").fill(BASIS)
    clerk.get_by_label("盗抢", exact=True).check()
    clerk.get_by_label("治安秩序混乱", exact=True).check()
    clerk.get_by_label("问题描述").fill(PROBLEMS)
    check_page(clerk, "ka-3-dialog-identify")
    confirm(clerk, area, "认定为重点地区", "已认定")
    expect(detail_cell(clerk, "突出治安问题类别")).to_have_text("盗抢、治安秩序混乱")
    open_step(clerk, area, "制定方案，开始整治")
    clerk.get_by_label("整治方案文号").fill(f"城关街道党工委〔{area.day.year}〕12号")
    clerk.get_by_label("整治方案要点").fill(PLAN)
    clerk.get_by_label("计划开始日期").fill(area.today)
    clerk.get_by_label("计划完成期限").fill(planned_end)
    check_page(clerk, "ka-4-dialog-start")
    confirm(clerk, area, "制定方案，开始整治", "整治中")
    expect(detail_cell(clerk, "计划完成期限")).to_have_text(planned_end)
    assert_sections(clerk, shown=["整治"], hidden=["挂牌", "验收", "摘牌/延期", "巩固期"])
    check_page(clerk, "ka-5-rectifying")


def station_reports_progress(police: Any, area: Area) -> None:
    """2. 城关派出所 finds the area in its ledger (routed there as 直接责任人) and 报送月度进展, nothing else."""
    expect = _expect()
    police.get_by_role("navigation", name="台账").get_by_role("link", name=FORM).click()
    row = police.locator("table.record-list tbody tr", has_text=NAME)
    expect(row).to_contain_text("整治中")
    check_page(police, "ka-6-station-ledger")
    row.get_by_role("link", name=area.number).click()
    expect(police).to_have_url(area.url)
    expect(flow_section(police).locator(".x-flow-buttons a")).to_have_text(["报送月度进展"])
    expect(police.get_by_role("link", name="修改", exact=True)).to_have_count(0)
    open_step(police, area, "报送月度进展")
    police.get_by_role("button", name="添加一行").click()
    month = police.get_by_role("group", name="月度进展").locator(".x-row").last
    month.get_by_label("月份").fill(area.day.strftime("%Y-%m"))
    month.get_by_label("来源").select_option(label="责任单位报送")
    month.get_by_label("进展情况").fill(PROGRESS)
    check_page(police, "ka-7-dialog-progress")
    confirm(police, area, "报送月度进展", "整治中")
    expect(detail_cell(police, "月度进展")).to_contain_text(PROGRESS)


def county_lists(county: Any, area: Area) -> str:
    """3. 挂牌督办: the 整改期限 by level, the notice issued and numbered; returns the notice's number."""
    expect = _expect()
    county.goto(area.url)
    open_step(county, area, "挂牌督办")
    county.get_by_role("group", name="挂牌级别").get_by_label("县级").check()
    county.get_by_role("group", name="进展报告周期").get_by_label("每月").check()
    check_page(county, "ka-8-dialog-list")
    confirm(county, area, "挂牌督办", "挂牌督办")
    expect(detail_cell(county, "挂牌日期")).to_have_text(area.today)
    deadline = add_months(area.day, param("listing_months_county"))
    expect(detail_cell(county, "整改期限")).to_have_text(deadline.isoformat())
    notice = detail_cell(county, "挂牌督办通知书文号")
    expect(notice).to_have_text(re.compile(rf"综治督〔{area.day.year}〕\d+号"))
    number = notice.inner_text().strip()
    issued = county.locator("section.x-documents table.x-issued tbody tr")
    expect(issued).to_have_count(1)
    expect(issued.first).to_contain_text(number)
    expect(issued.first).to_contain_text("挂牌督办通知书")
    assert offered_documents(county) == state_documents("listed") == {"挂牌督办通知书", "一票否决决定"}
    assert_sections(county, shown=["整治", "挂牌"], hidden=["验收", "摘牌/延期", "巩固期"])
    check_page(county, "ka-9-listed")
    return number


def clerk_plans_and_applies(clerk: Any, area: Area) -> None:
    """4. 报送整治方案 (stops the plan chase), then 申请验收."""
    expect = _expect()
    clerk.reload()
    expect(state_badge(clerk)).to_have_text("挂牌督办")
    open_step(clerk, area, "报送整治方案")
    clerk.get_by_label("整治方案要点").fill(PLAN + "；挂牌后增设夜间治安卡点")
    confirm(clerk, area, "报送整治方案", "挂牌督办")
    expect(detail_cell(clerk, "整改方案首报日期")).to_have_text(area.today)
    open_step(clerk, area, "申请验收")
    clerk.get_by_label("申请日期").fill(area.today)
    clerk.get_by_label("申请单位").fill("城关街道")
    check_page(clerk, "ka-10-dialog-apply")
    confirm(clerk, area, "申请验收", "申请验收")


def county_accepts(county: Any, area: Area) -> None:
    """5. 验收 with a 座谈会 of three people, every answer 满意 → 验收合格."""
    expect = _expect()
    county.reload()
    open_step(county, area, "验收")
    county.get_by_label("验收日期").fill(area.today)
    county.get_by_label("验收组组长").fill("县综治中心副主任 刘建国")
    county.get_by_label("群众座谈会", exact=True).check()
    county.get_by_label("座谈会日期").fill(area.today)
    county.get_by_label("座谈会地点").fill("城关街道办事处会议室")
    people = county.get_by_role("group", name="参评人员及测评结果")
    expect(people.locator(".x-row")).to_have_count(1)  # the dialog starts with one row
    for count in (2, 3):
        people.get_by_role("button", name="添加一行").click()
        expect(people.locator(".x-row")).to_have_count(count)
    for row, group in zip(people.locator(".x-row").all(), ("区域群众", "治安信息员", "企业/商户代表")):
        row.get_by_label("人员类别").select_option(label=group)
        answers = row.get_by_role("group", name="测评").locator("select")
        expect(answers).to_have_count(6)
        for answer in answers.all():
            answer.select_option(label="满意")
    people.locator(".x-row").first.get_by_label("姓名（可不填）").fill("张桂兰")
    check_page(county, "ka-11-dialog-accept")
    confirm(county, area, "验收", "验收合格")
    expect(detail_cell(county, "验收结论")).to_have_text("合格（建议摘牌）")
    expect(detail_cell(county, "参评人员及测评结果")).to_contain_text("张桂兰")
    expect(county.locator("section.x-why")).to_contain_text("100.0%")  # the rate, computed from the answers
    assert offered_documents(county) == state_documents("accepted")
    check_page(county, "ka-12-accepted")


def county_delists(county: Any, area: Area, notice_number: str) -> None:
    """5. The 验收报告 issued from 生成文书, then 摘牌 → 巩固期 with the 摘牌通知 issued."""
    expect = _expect()
    report = county.locator("section.x-documents ul > li").filter(has_text="《整治工作验收报告》")
    report.locator("summary", has_text="签发").click()
    report.get_by_role("button", name="确认签发《整治工作验收报告》").click()
    heading = county.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(rf"^整治工作验收报告 \S*综治验〔{area.day.year}〕\d+号$"))
    report_number = heading.inner_text().split()[-1]
    county.goto(area.url)
    open_step(county, area, "摘牌")
    county.get_by_label("验收报告编号").fill(report_number)
    check_page(county, "ka-13-dialog-delist")
    confirm(county, area, "摘牌", "巩固期")
    expect(detail_cell(county, "验收报告编号")).to_have_text(report_number)
    expect(detail_cell(county, "摘牌日期")).to_have_text(area.today)
    expect(detail_cell(county, "巩固期起")).to_have_text(area.today)
    period_end = add_months(area.day, param("consolidation_months"))
    expect(detail_cell(county, "巩固期止")).to_have_text(period_end.isoformat())
    expect(flow_section(county).locator(".x-due")).to_contain_text(period_end.isoformat())
    issued = county.locator("section.x-documents table.x-issued tbody tr")
    expect(issued).to_have_count(3)
    expect(issued.filter(has_text="摘牌通知")).to_contain_text(re.compile(rf"综治督〔{area.day.year}〕\d+号"))
    expect(issued.filter(has_text="摘牌通知")).to_contain_text("已签发")
    expect(issued.filter(has_text="挂牌督办通知书")).to_contain_text(notice_number)
    expect(issued.filter(has_text="整治工作验收报告")).to_contain_text(report_number)
    assert offered_documents(county) <= state_documents("consolidating")
    assert_sections(county, shown=["验收", "摘牌/延期", "巩固期"], hidden=[])
    check_page(county, "ka-14-consolidating")


def test_a_key_area_walked_from_clue_to_delisting(people: Browsers) -> None:
    area = Area(day=china_now().date())
    clerk, police, county = people.page(), people.page(), people.page()
    log_in(clerk, CLERK, "城关街道")
    register_clue(clerk, area)
    identify_and_start(clerk, area)
    log_in(police, POLICE, "城关派出所")
    station_reports_progress(police, area)
    log_in(county, COUNTY, "示范县")
    notice_number = county_lists(county, area)
    clerk_plans_and_applies(clerk, area)
    county_accepts(county, area)
    county_delists(county, area, notice_number)
    clerk_name, police_name, county_name = "贾艳（城关街道）", "赵立军（城关派出所）", "刘建国（示范县）"
    assert timeline(county) == [
        ("登记", clerk_name), ("认定为重点地区", clerk_name), ("制定方案，开始整治", clerk_name),
        ("报送月度进展", police_name), ("挂牌督办", county_name), ("报送整治方案", clerk_name),
        ("申请验收", clerk_name), ("验收", county_name), ("摘牌", county_name)]

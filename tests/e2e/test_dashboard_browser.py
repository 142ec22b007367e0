"""统计分析 (issue 11) in real browsers: the dashboard as each role sees it, on a desk and on a phone,
its numbers leading to their records, the period and unit chosen in the form, a mistyped date named
at its field, the A4 landscape print and the Excel export.

The data set is tests/test_dashboard.py's ``county`` fixture (two townships' year, made through the API,
on the shipped configuration and demo org tree), served by tests/e2e/conftest.py's ``serve_app`` and
browsed with tests/e2e/test_flow_browser.py's ``Browsers`` (one context per person, script errors fail
the test). Setting up the data is the slow part, so the steps share one test, each step a function.
Screenshots go to ``E2E_SCREENSHOTS`` (default /tmp/i11-dashboard/) for a person to look at.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e.conftest import serve_app
from tests.e2e.test_flow_browser import PHONE, Browsers, _expect, log_in, widest_elements
from tests.test_dashboard import CHENGGUAN, clients, config_copy, county, stats  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/i11-dashboard"))
DESK = {"width": 1366, "height": 900}
YEAR = "from=2026-01-01&to=2026-12-31"
# (username as in tests/test_flow_intake.py's USERS, the unit shown beside the name in the banner)
ROLES = {"county": "示范县", "chengguan": "城关街道", "pcs01": "城关派出所", "leader": "示范县"}
BY_TOWNSHIP = {"problems_by_township", "areas_by_township"}  # for the county and leaders only
PRESENT = {"county": BY_TOWNSHIP | {"officer_reports", "department_reports", "case_statistics"},
           "chengguan": {"officer_reports", "case_statistics", "follow_up_satisfaction"},
           "pcs01": {"department_reports", "problems_by_source"},
           "leader": BY_TOWNSHIP | {"officer_reports", "department_reports"}}
ABSENT = {"county": set(), "chengguan": BY_TOWNSHIP | {"department_reports"},
          "pcs01": BY_TOWNSHIP | {"officer_reports"}, "leader": set()}


@pytest.fixture
def site(county, e2e_browser) -> Iterator[tuple[Any, Browsers]]:  # type: ignore[no-untyped-def]
    """The ``county`` data set served on a free port, and browsers on it."""
    _expect().set_options(timeout=10_000)
    with serve_app(county.app) as url:
        opened = Browsers(e2e_browser, url)
        try:
            yield county, opened
        finally:
            opened.close()
    assert opened.problems == [], opened.problems


# -- helpers ------------------------------------------------------------------------------------------------
def person(browsers: Browsers, username: str, viewport: dict[str, int] = DESK) -> Any:
    page = browsers.page(viewport)
    log_in(page, (username, "", "", username), ROLES[username])  # the fixture's display name is the username
    return page


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_sideways_scroll(page: Any, name: str) -> None:
    width, viewport = page.evaluate("document.documentElement.scrollWidth"), page.viewport_size["width"]
    too_wide = [] if width <= viewport else widest_elements(page, viewport)
    assert width <= viewport, f"{name}: scrollWidth {width} px at {viewport} px; too wide: {too_wide}"


def cards(page: Any) -> dict[str, dict[str, Any]]:
    """Each figure card: its title, total and breakdown lines (label → number), as shown."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.x-figure[data-figure]')].map(card => [
        card.dataset.figure, {
          title: card.querySelector('.card-title').textContent.trim(),
          total: Number(card.querySelector('.x-total').dataset.value),
          groups: Object.fromEntries([...card.querySelectorAll('.x-chart-row')].map(row => [
            row.querySelector('.x-chart-label').textContent.trim(),
            Number(row.querySelector('.x-chart-value > a[data-key]').dataset.value)]))}]))""")


def total(page: Any, figure: str) -> Any:
    return page.locator(f"#fig-{figure} .x-total")


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


# -- the steps ----------------------------------------------------------------------------------------------
def each_role_sees_its_figures(data: Any, browsers: Browsers) -> list[Path]:
    """1. Every role on a desk and a phone: no sideways scrolling, its own figures (the API's), and the
    leader starts on the dashboard with nothing to enter."""
    expect, shots = _expect(), []
    for username in ROLES:
        api = set(stats(data[username]))
        for viewport, size in ((DESK, "1366"), (PHONE, "390")):
            page = person(browsers, username, viewport)
            if username == "leader":  # "/" is the dashboard for a leader
                expect(page).to_have_url(re.compile(r"/dashboard/$"))
            response = page.goto(f"/dashboard/?{YEAR}")
            assert response is not None and response.status == 200
            expect(page.get_by_role("heading", level=1)).to_contain_text(f"统计分析　{'全县' if username in ('county', 'leader') else ROLES[username]}")
            shown = set(cards(page))
            assert shown == api, (username, shown ^ api)
            assert PRESENT[username] <= shown and not ABSENT[username] & shown, (username, sorted(shown))
            no_sideways_scroll(page, f"{username}-{size}")
            shots.append(shot(page, f"{username}-{size}"))
            if username == "leader":
                expect(page.locator("main")).to_contain_text("本页只供查阅")
                expect(page.locator("a[href$='/new']")).to_have_count(0)
                expect(page.get_by_role("link", name="登记", exact=True)).to_have_count(0)
                if viewport is DESK:  # nor on a ledger the menu offers
                    page.get_by_role("navigation", name="台账").get_by_role("link", name="群众反映治安问题登记簿").click()
                    expect(page.get_by_role("heading", level=1)).to_have_text("群众反映治安问题登记簿")
                    expect(page.locator("table.record-list tbody tr")).to_have_count(7)
                    expect(page.get_by_role("link", name="登记", exact=True)).to_have_count(0)
                    expect(page.locator("a[href$='/new']")).to_have_count(0)
            page.context.close()
    return shots


def numbers_lead_to_their_records(browsers: Browsers) -> None:
    """2. A breakdown line and a total open the list behind them, with as many records; 返回 and back."""
    expect = _expect()
    page = person(browsers, "county")
    page.goto(f"/dashboard/?{YEAR}")
    dashboard = page.url
    line = page.locator("#fig-problems_by_source .x-chart-value > a[data-key='phone']")
    expect(line).to_have_text("2")  # 2025-12-31 23:59 is last year; 2026-01-01 00:00 is this year
    line.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("群众反映治安问题（按信息来源）：电话")
    expect(page.locator(".x-drill-total")).to_have_text("2")
    expect(page.locator("table.x-drill tbody tr")).to_have_count(2)
    page.go_back()
    expect(page).to_have_url(dashboard)
    by_township = page.locator(f"#fig-problems_by_township .x-chart-value > a[data-key='{CHENGGUAN}']")
    expect(by_township).to_have_text("4")
    by_township.click()
    expect(page.locator(".x-drill-total")).to_have_text("4")
    expect(page.locator("table.x-drill tbody tr")).to_have_count(4)
    page.get_by_role("link", name="返回统计分析").click()
    expect(page).to_have_url(dashboard)
    expect(total(page, "follow_up_satisfaction")).to_have_text("11")
    total(page, "follow_up_satisfaction").click()
    expect(page.locator(".x-drill-total")).to_have_text("11")
    page.context.close()


def period_and_unit_change_the_figures(browsers: Browsers) -> list[Path]:
    """3. The period typed into the date fields and a township picked in 统计范围 change the figures;
    a wrong date is named at its field and what was typed stays."""
    expect = _expect()
    page = person(browsers, "county")
    page.goto("/dashboard/")  # this year by default
    expect(total(page, "problems_by_source")).to_have_text("6")
    page.get_by_label("起始日期").fill("2026-05-01")
    page.get_by_label("截止日期").fill("2026-12-31")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"from=2026-05-01&to=2026-12-31"))
    expect(page.locator(".x-dash-scope")).to_have_text("全县，2026-05-01 至 2026-12-31")
    expect(total(page, "problems_by_source")).to_have_text("3")  # 05-05 (河口镇), 06-30 and 12-31 (城关街道)
    expect(total(page, "case_statistics")).to_have_text("0")  # the statistics are of March
    page.get_by_label("统计范围").select_option(label="城关街道")
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".x-dash-scope")).to_have_text("城关街道，2026-05-01 至 2026-12-31")
    expect(total(page, "problems_by_source")).to_have_text("2")
    expect(page.get_by_label("统计范围")).to_have_value(CHENGGUAN)
    expect(page.get_by_label("起始日期")).to_have_value("2026-05-01")
    shots = [shot(page, "county-chengguan-may-dec-1366")]

    # the end before the start: typed in the fields, named at 截止日期, both dates kept
    page.get_by_label("起始日期").fill("2026-05-01")
    page.get_by_label("截止日期").fill("2026-04-30")
    page.get_by_role("button", name="查询").click()
    to = page.get_by_label("截止日期")
    expect(to).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#err-to")).to_have_text("截止日期不能早于起始日期")
    expect(page.locator("#err-to")).to_be_visible()
    expect(to).to_have_value("2026-04-30")
    shots.append(shot(page, "county-end-before-start-1366"))
    expect(page.get_by_label("起始日期")).to_have_value("2026-05-01")
    expect(page.get_by_label("统计范围")).to_have_value(CHENGGUAN)
    expect(page.locator(".x-figure")).to_have_count(0)  # no figures of a period nobody asked for

    # 2026-02-30 cannot be typed into a date field (the browser refuses it), so it comes in the address
    response = page.goto(f"/dashboard/?from=2026-02-30&to=2026-12-31&unit={CHENGGUAN}")
    assert response is not None and response.status == 422
    start = page.get_by_label("起始日期")
    expect(start).to_have_attribute("aria-invalid", "true")
    expect(start).to_have_attribute("aria-describedby", "err-from")
    expect(page.locator("#err-from")).to_have_text("日期应为 2000 到 2100 年间的 YYYY-MM-DD，如 2026-01-01")
    expect(page.locator("#err-from")).to_be_visible()
    expect(start).to_have_value("2026-02-30")  # shown as typed (a date box would show it empty)
    expect(page.get_by_label("截止日期")).to_have_value("2026-12-31")
    expect(page.get_by_label("统计范围")).to_have_value(CHENGGUAN)
    expect(page.locator("main")).to_contain_text("统计期间有误，请按提示修改后再查询。")
    no_sideways_scroll(page, "wrong-date-1366")
    shots.append(shot(page, "county-wrong-date-1366"))
    start.fill("2026-02-28")  # corrected in place
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".x-dash-scope")).to_have_text("城关街道，2026-02-28 至 2026-12-31")
    expect(total(page, "problems_by_source")).to_have_text("3")  # 03-01, 06-30 and 12-31
    expect(page.locator("#err-from")).to_have_count(0)
    page.context.close()
    return shots


def prints_on_a4_landscape(browsers: Browsers, tmp_path: Path) -> list[Path]:
    """4. 打印 calls the browser's print; the printout is A4 landscape without the menus and buttons."""
    expect = _expect()
    page = person(browsers, "county")
    page.goto(f"/dashboard/?{YEAR}")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.printed") == 1
    folded = page.locator("details.x-chart-more .x-chart-label").all_text_contents()  # "其余 21 项" of 31 townships
    assert folded, "the officer coverage by township should fold its long breakdown"
    page.emulate_media(media="print")
    expect(page.locator("nav.app-sidebar")).to_be_hidden()
    expect(page.get_by_role("link", name="导出 Excel")).to_be_hidden()
    pdf = tmp_path / "dashboard.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", run("pdfinfo", "-f", "1", "-l", "999", str(pdf)))
    assert sizes and all(abs(float(w) - 842) < 2 and abs(float(h) - 595) < 2 for w, h in sizes), sizes
    text = run("pdftotext", "-layout", str(pdf), "-")
    flat = re.sub(r"\s+", "", text)
    assert "统计分析" in flat and "群众反映治安问题（按信息来源）" in flat and "治安案件统计（同比）" in flat, text[:500]
    assert [label for label in folded if label.strip() not in flat] == [], "the folded lines are printed"
    for absent in ("台账", "综治工作台账管理系统", "导出Excel", "打印", "查询", "起始日期", "退出"):
        assert absent not in flat, absent
    run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(SHOTS / "dashboard-print-page"))
    page.context.close()
    return sorted(SHOTS.glob("dashboard-print-page-*.png"))


def export_matches_the_page(browsers: Browsers) -> None:
    """5. 导出 Excel downloads an .xlsx with the page's numbers, line by line."""
    from openpyxl import load_workbook

    page = person(browsers, "county")
    page.goto(f"/dashboard/?{YEAR}&unit={CHENGGUAN}")
    shown = cards(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename == "统计分析（城关街道，2026-01-01 至 2026-12-31）.xlsx"  # filename*
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert sheet["A1"].value == "统计范围：城关街道　统计期间：2026-01-01 至 2026-12-31"
    rows = {(r[1], r[2]): r[3] for r in sheet.iter_rows(min_row=3, values_only=True)}
    expected = {}
    for card in shown.values():
        expected[(card["title"], "合计")] = card["total"]
        expected.update({(card["title"], label): value for label, value in card["groups"].items()})
    assert rows == expected
    assert rows[("群众反映治安问题（按信息来源）", "合计")] == 4 and rows[("治安案件统计（同比）", "合计")] == 156
    page.context.close()


def test_the_dashboard_in_the_browser(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data, browsers = site
    shots = each_role_sees_its_figures(data, browsers)
    numbers_lead_to_their_records(browsers)
    shots += period_and_unit_change_the_figures(browsers)
    shots += prints_on_a4_landscape(browsers, tmp_path)
    export_matches_the_page(browsers)
    assert all(path.stat().st_size > 0 for path in shots)

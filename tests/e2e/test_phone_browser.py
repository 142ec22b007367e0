"""Phones and desks on the shipped ledgers: at 390 px nothing scrolls sideways, lists are cards and
the menu folds behind 菜单; at 1366 px lists are tables and the menu stands beside the content.

Screenshots go to ``E2E_SCREENSHOTS`` (default /tmp/i12b/) for a person to look at.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import TIMEOUT_MS, serve_app
from tests.test_web_buttons import _build_site

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/i12b"))
PHONE, DESK = {"width": 390, "height": 844}, {"width": 1366, "height": 900}
ROLES = ("county", "hekou", "pcs01", "leader")


@pytest.fixture(scope="module")
def shipped_site(e2e_browser, tmp_path_factory, schema_url) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The shipped configuration with the demo county's roles and a record of every ledger, served."""
    from tests.conftest import _empty_database
    from server import create_app
    from server.extensions import db
    from server.settings import PROJECT_ROOT

    tmp = tmp_path_factory.mktemp("phone")
    url = _empty_database(schema_url, tmp)

    def make_app(**overrides: Any):  # type: ignore[no-untyped-def]
        settings = {"database_url": url, "instance_dir": tmp / "instance", "secret_key": "test",
                    "config_poll_seconds": 0.0, "watch_config_files": False, **overrides}
        app = create_app(settings)
        with app.app_context():
            app.extensions["registry"].refresh()
        return app

    app = _build_site(make_app)
    with serve_app(app) as url:
        yield url
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _browse(e2e_browser, base: str, username: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    context = e2e_browser.new_context(base_url=base, locale="zh-CN", viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/(dashboard/)?$"))  # a leader starts on the dashboard
    return context, page


def _width(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def _pages(page: Any, username: str) -> list[str]:
    """The list, a record and (when offered) the new page of the role's first ledger with records."""
    page.goto("/forms/security_problem/" if username != "xinxiyuan" else "/forms/officer_report/")
    urls = [page.url]
    record = page.locator("table.record-list a[href^='/records/']").first
    if record.count():
        urls.append(record.get_attribute("href"))
    new = page.get_by_role("link", name="登记", exact=True)
    if new.count():
        urls.append(new.first.get_attribute("href"))
    return urls


@pytest.mark.parametrize("username", ROLES + ("xinxiyuan",))
def test_phone_pages_fit_the_screen_with_the_menu_folded(e2e_browser, shipped_site, username):
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _browse(e2e_browser, shipped_site, username, PHONE)
    try:
        urls = ["/", *_pages(page, username)]
        assert len(urls) >= 3 or username in ("leader", "pcs01"), urls
        for index, url in enumerate(urls):
            response = page.goto(url)
            assert response is not None and response.status == 200, (username, url)
            menu = page.locator("#app-menus")
            expect(menu).to_be_hidden()
            assert _width(page) <= 390, (username, url, _width(page))
            page.screenshot(path=str(SHOTS / f"phone-{username}-{index}.png"), full_page=True)
        cards = page.locator("table.record-list tbody tr")
        page.goto(urls[1])
        if cards.count() and cards.first.locator("td[data-label]").count():
            # a card: the header row is gone, each value carries its label
            expect(page.locator("table.record-list thead")).to_be_hidden()
            label = cards.first.locator("td").nth(1).evaluate("td => getComputedStyle(td, '::before').content")
            assert label.strip('"'), label
        toggle = page.get_by_role("button", name="菜单")
        toggle.click()
        expect(page.locator("#app-menus")).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        assert _width(page) <= 390
        page.screenshot(path=str(SHOTS / f"phone-{username}-menu.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("username", ("county", "hekou"))
def test_desk_lists_are_tables_with_headers_on_one_line(e2e_browser, shipped_site, username):
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _browse(e2e_browser, shipped_site, username, DESK)
    try:
        page.goto("/forms/security_problem/")
        expect(page.get_by_role("button", name="菜单")).to_be_hidden()
        expect(page.locator("#app-menus")).to_be_visible()
        head = page.locator("table.record-list thead")
        expect(head).to_be_visible()
        heights = page.locator("table.record-list thead th").evaluate_all("ths => ths.map(th => th.getBoundingClientRect().height)")
        assert max(heights) < 2 * min(heights), heights  # no header broken over several lines
        assert page.locator("table.record-list tbody tr").count() >= 1
        page.screenshot(path=str(SHOTS / f"desk-{username}-list.png"), full_page=True)
        response = page.goto(page.locator("table.record-list a[href^='/records/']").first.get_attribute("href"))
        assert response is not None and response.status == 200
        assert re.search(r"/records/\d+$", page.url)
        page.screenshot(path=str(SHOTS / f"desk-{username}-detail.png"), full_page=True)
    finally:
        context.close()

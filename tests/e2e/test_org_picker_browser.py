"""A 城关街道 clerk picks the place of a matter by name — 城关街道 → 东风社区 by typing — on a desktop
(1366 px) and a phone (390 px); the record shows the name, the code on hover. Screenshots of each
step go to ``E2E_SCREENSHOTS`` (default /tmp/i12a/) for a person to look at.

The app runs on the demo county's org tree with the place test form (see tests/test_org_places.py).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import TIMEOUT_MS, serve_app
from tests.test_org_places import DONGFENG, USERS, place_config

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/i12a"))


@pytest.fixture
def place_server(make_app, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on the demo org tree, served on a free port (without the conftest's test county)."""
    app = make_app(config_dir=place_config(tmp_path / "config"))
    with app.app_context():
        from server.auth.service import create_user
        from server.extensions import db

        for name, role, org in USERS:
            create_user(name, PASSWORD, role=role, org_code=org, display_name=name)
        db.session.remove()
    with serve_app(app) as url:
        yield url


@pytest.mark.parametrize("width", [1366, 390])
def test_clerk_picks_dongfeng_community_by_typing(e2e_browser: Any, place_server: str, width: int) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = e2e_browser.new_context(base_url=place_server, locale="zh-CN", viewport={"width": width, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None)

    page.goto("/login")
    page.get_by_label("用户名").fill("chengguan")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto("/forms/place_report/new")
    page.get_by_label("事由摘要").fill("东风小区地下室夜间聚赌")

    box = page.get_by_label("乡镇/村（社区）")
    expect(box).to_have_attribute("role", "combobox")  # the select became a search box
    box.click()
    box.press_sequentially("城关")
    options = page.get_by_role("listbox", name="候选单位").get_by_role("option")
    expect(options.first).to_contain_text("城关街道")  # the township first, then what lies beneath it
    expect(options.nth(1)).to_contain_text("东风社区")
    page.screenshot(path=str(SHOTS / f"picker-{width}-township.png"), full_page=True)

    box.press_sequentially(" 东风")
    expect(options).to_have_count(1)
    page.screenshot(path=str(SHOTS / f"picker-{width}-typed.png"), full_page=True)
    options.first.click()
    expect(box).to_have_value("城关街道 · 东风社区")
    assert page.locator("select[name='location/division_code']").input_value() == DONGFENG

    page.get_by_label("分流单位").click()
    page.get_by_label("分流单位").press_sequentially("公安")
    page.get_by_role("option", name="县公安局").click()
    page.get_by_role("button", name="保存").click()

    place = page.locator(".x-readonly .x-org", has_text="东风社区")
    expect(place).to_have_attribute("title", DONGFENG)  # the code, on hover
    expect(page.locator("main")).not_to_contain_text(DONGFENG)
    page.screenshot(path=str(SHOTS / f"picker-{width}-saved.png"), full_page=True)

    page.goto("/forms/place_report/")
    expect(page.locator("table .x-org", has_text="东风社区")).to_have_attribute("title", DONGFENG)
    page.screenshot(path=str(SHOTS / f"picker-{width}-list.png"), full_page=True)
    context.close()
    assert problems == []

"""forms.js in a headless browser: rows, conditional sections, dependents and the record picker.

Skipped when Playwright or a Chromium is not available. The page is served from memory through
Playwright's request routing, under the same CSP as the application (no inline script).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from server.forms import build_form, render_fields
from server.specs.model import FormSpec, canonical_digest

pytestmark = pytest.mark.e2e
sync_api = pytest.importorskip("playwright.sync_api")

STATIC = Path(__file__).resolve().parents[1] / "server" / "web" / "static"
BASE = "http://forms.test"
CSP = "default-src 'self'; script-src 'self'; style-src 'self'"
HANDLING = {"type": "string", "title": "处理方式", "x-ui": {"widget": "radio"},
            "oneOf": [{"const": "self", "title": "自办"}, {"const": "transfer", "title": "转办"}]}
SCHEMA: dict[str, Any] = {
    "type": "object", "title": "测试",
    "properties": {
        "handling": HANDLING,
        "level": {"type": "integer", "title": "等级", "oneOf": [{"const": 1, "title": "一"}, {"const": 2, "title": "二"}]},
        "reason": {"type": "string", "title": "延期原因"},
        "deadline": {"type": "string", "format": "date", "title": "新期限"},
        "case": {"type": "string", "title": "案件", "x-ui": {"ref": "case"}},
        "rows": {"type": "array", "title": "明细", "maxItems": 3, "items": {"type": "object", "properties": {
            "item": {"type": "string", "title": "名称"}, "handling": HANDLING},
            "if": {"properties": {"handling": {"const": "transfer"}}, "required": ["handling"]},
            "then": {"properties": {"unit": {"type": "string", "title": "接收单位"}}}}},
    },
    "dependentRequired": {"reason": ["deadline"]},
    "allOf": [
        {"if": {"properties": {"handling": {"const": "transfer"}}, "required": ["handling"]},
         "then": {"properties": {"target": {"type": "string", "title": "接收单位"}}},
         "else": {"properties": {"result": {"type": "string", "title": "结果"}}}},
        {"if": {"properties": {"level": {"enum": [2]}}, "required": ["level"]},
         "then": {"properties": {"why": {"type": "string", "title": "理由"}}}},
    ],
}


LOOKUP_ITEMS = [{"number": "C-2026-0002", "label": "2026-05-02 · 李四 · 纠纷"},
                {"number": "C-2026-0001", "label": "2026-05-01 · 张三 · 盗窃"}]


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=_chromium())
        except Exception as exc:  # no browser installed: nothing to test against
            pytest.skip(f"no Chromium: {exc}")
        yield launched
        launched.close()


def _open(browser: Any, fields: Any) -> Iterator[Any]:
    html = (f'<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/forms.css"></head><body>'
            f'<form id="f" method="post">{fields}<button type="submit">保存</button></form>'
            f'<script src="/forms.js"></script></body></html>')
    lookups: list[str] = []
    posts: list[str] = []

    def route(request_route: Any) -> None:
        request = request_route.request
        url = request.url
        if url.endswith("/forms.js"):
            request_route.fulfill(body=(STATIC / "forms.js").read_text("utf-8"), content_type="text/javascript")
        elif url.endswith("/forms.css"):
            request_route.fulfill(body=(STATIC / "forms.css").read_text("utf-8"), content_type="text/css")
        elif "/lookup/" in url:
            lookups.append(url)
            query = parse_qs(urlsplit(url).query).get("q", [""])[0]
            items = [] if query == "无" else LOOKUP_ITEMS[1:] if query else LOOKUP_ITEMS
            request_route.fulfill(body=json.dumps(items, ensure_ascii=False), content_type="application/json")
        else:
            if request.method == "POST":
                posts.append(url)
            request_route.fulfill(body=html, content_type="text/html; charset=utf-8",
                                  headers={"Content-Security-Policy": CSP})

    context = browser.new_context()
    context.route(f"{BASE}/**", route)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.goto(f"{BASE}/form")
    opened.lookups = lookups
    opened.posts = posts
    yield opened
    assert errors == []
    context.close()


def _form() -> Any:
    return build_form(FormSpec(id="t", title="测试", schema=SCHEMA, digest=canonical_digest(SCHEMA)))


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    fields = render_fields(_form(), {"rows": [{"item": "甲"}, {"item": "乙"}]}, {}, lookup_url=lambda f: f"/lookup/{f}")
    yield from _open(browser, fields)


@pytest.fixture()
def page_with_errors(browser: Any) -> Iterator[Any]:
    errors = {"/reason": "此项为必填项", "/handling": "请从给定选项中选择"}
    fields = render_fields(_form(), {"rows": [{"item": "甲"}]}, errors, lookup_url=lambda f: f"/lookup/{f}")
    yield from _open(browser, fields)


def posted(page: Any) -> list[list[str]]:
    return page.evaluate("() => Array.from(new FormData(document.getElementById('f')).entries())")


def names(page: Any) -> list[str]:
    return [name for name, _ in posted(page)]


def test_sections_hidden_and_disabled_until_condition_holds(page: Any) -> None:
    assert not page.is_visible("[name=target]") and page.is_visible("[name=result]")
    assert "target" not in names(page) and "result" in names(page)
    page.check("#f-handling-1")
    assert page.is_visible("[name=target]") and not page.is_visible("[name=result]")
    assert "target" in names(page) and "result" not in names(page)


def test_enum_test_on_number_select(page: Any) -> None:
    assert not page.is_visible("[name=why]")
    page.select_option("[name=level]", "2")
    assert page.is_visible("[name=why]")
    page.select_option("[name=level]", "1")
    assert not page.is_visible("[name=why]")


def test_show_when_follows_trigger(page: Any) -> None:
    assert not page.is_visible("[name=deadline]") and "deadline" not in names(page)
    page.fill("[name=reason]", "补证")
    assert page.is_visible("[name=deadline]") and "deadline" in names(page)
    page.fill("[name=reason]", " ")
    assert not page.is_visible("[name=deadline]")


def test_rows_add_remove_with_fresh_indices(page: Any) -> None:
    page.click("#f-rows-0 .x-row-remove")
    page.click(".x-row-add")
    page.click(".x-row-add")
    items = [n for n in names(page) if n.endswith("/item")]
    assert items == ["rows/1/item", "rows/2/item", "rows/3/item"]
    assert page.eval_on_selector(".x-row-add", "b => b.disabled")  # maxItems 3 reached
    numbers = page.eval_on_selector_all(".x-rows-body > .x-row .x-row-number", "els => els.map(e => e.textContent)")
    assert numbers == ["1", "2", "3"]


def test_condition_inside_added_row(page: Any) -> None:
    page.click(".x-row-add")
    assert not page.is_visible("[name='rows/2/unit']")
    page.check("#f-rows-2-handling-1")
    assert page.is_visible("[name='rows/2/unit']") and "rows/2/unit" in names(page)


def test_optional_radio_buxuan_clears_the_choice(page: Any) -> None:
    page.check("#f-handling-1")
    assert page.is_visible("[name=target]")
    page.check("#f-handling-none")  # 不选
    assert not page.is_visible("[name=target]") and page.is_visible("[name=result]")
    assert ["handling", ""] in posted(page)  # posted empty: the server leaves the field out


def _options(page: Any) -> list[str]:
    return page.eval_on_selector_all("#f-case-options [role=option]", "els => els.map(e => e.textContent)")


def test_ref_picker_suggestion_list_from_typing(page: Any) -> None:
    picker = page.locator("[name=case]")
    assert picker.get_attribute("aria-expanded") == "false" and not page.is_visible("#f-case-options")
    page.fill("[name=case]", "张 三")
    page.wait_for_function("() => document.querySelectorAll('#f-case-options [role=option]').length === 1")
    assert page.lookups[-1] == f"{BASE}/lookup/case?q=%E5%BC%A0%20%E4%B8%89"
    assert page.is_visible("#f-case-options") and picker.get_attribute("aria-expanded") == "true"
    assert _options(page) == ["C-2026-00012026-05-01 · 张三 · 盗窃"]
    box, under = page.locator("[name=case]").bounding_box(), page.locator("#f-case-options").bounding_box()
    assert abs(under["x"] - box["x"]) < 1 and 0 <= under["y"] - (box["y"] + box["height"]) < 5  # right under it
    page.click("#f-case-options [role=option]")
    assert picker.input_value() == "C-2026-0001"
    assert not page.is_visible("#f-case-options") and picker.get_attribute("aria-expanded") == "false"


def test_ref_picker_on_focus_shows_newest_and_keys_choose(page: Any) -> None:
    page.focus("[name=case]")
    page.wait_for_selector("#f-case-options [role=option]")
    assert page.lookups == [f"{BASE}/lookup/case?q="]  # empty query: the newest records
    assert [o[:11] for o in _options(page)] == ["C-2026-0002", "C-2026-0001"]
    picker = page.locator("[name=case]")
    picker.press("ArrowDown")
    picker.press("ArrowDown")
    active = page.eval_on_selector("#f-case-options .active", "e => e.id")
    assert picker.get_attribute("aria-activedescendant") == active == "f-case-options-1"
    assert page.get_attribute("#f-case-options-1", "aria-selected") == "true"
    picker.press("ArrowUp")
    assert picker.get_attribute("aria-activedescendant") == "f-case-options-0"
    picker.press("Enter")
    assert picker.input_value() == "C-2026-0002" and page.posts == []  # Enter chose, did not submit
    assert picker.get_attribute("aria-expanded") == "false"
    picker.press("ArrowDown")  # opens again
    page.wait_for_selector("#f-case-options [role=option]")
    picker.press("Escape")
    assert not page.is_visible("#f-case-options") and picker.get_attribute("aria-expanded") == "false"
    assert picker.input_value() == "C-2026-0002"


def test_ref_picker_is_debounced_and_says_when_nothing_matches(page: Any) -> None:
    page.focus("[name=case]")
    page.wait_for_selector("#f-case-options [role=option]")
    page.evaluate("""() => {  // six quick keystrokes
        const input = document.querySelector('[name=case]');
        for (const text of ['C', 'C-', 'C-2', 'C-20', 'C-202', 'C-2026']) {
            input.value = text;
            input.dispatchEvent(new Event('input', { bubbles: true }));
        }
    }""")
    page.wait_for_timeout(500)
    assert page.lookups == [f"{BASE}/lookup/case?q=", f"{BASE}/lookup/case?q=C-2026"]  # one per pause
    page.fill("[name=case]", "无")
    page.wait_for_function("() => document.querySelector('#f-case-options').textContent === '没有找到匹配的记录'")
    page.locator("[name=case]").press("Tab")
    assert not page.is_visible("#f-case-options")


def test_picker_in_an_added_row(browser: Any) -> None:
    schema = {"type": "object", "title": "测试", "properties": {"links": {"type": "array", "title": "关联", "items": {
        "type": "object", "properties": {"case": {"type": "string", "title": "案件", "x-ui": {"ref": "case"}}}}}}}
    form = build_form(FormSpec(id="r", title="测试", schema=schema, digest=canonical_digest(schema)))
    for opened in _open(browser, render_fields(form, {}, {}, lookup_url=lambda f: f"/lookup/{f}")):
        assert opened.locator(".x-row").count() == 0  # optional rows: none until added
        opened.click(".x-row-add")
        opened.fill("[name='links/0/case']", "张")  # the row's picker had focus: the newest may show first
        opened.wait_for_function("() => document.getElementById('f-links-0-case-options').textContent.includes('张三')"
                                 " && document.querySelectorAll('#f-links-0-case-options [role=option]').length === 1")
        opened.click("#f-links-0-case-options [role=option]")
        assert opened.input_value("[name='links/0/case']") == "C-2026-0001"


def test_error_summary_gets_focus_and_its_links_focus_fields(page_with_errors: Any) -> None:
    page = page_with_errors
    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    page.click("#error-summary a[href='#f-reason']")
    assert page.evaluate("() => document.activeElement.name") == "reason"
    page.click("#error-summary a[href='#f-handling-none']")
    assert page.evaluate("() => document.activeElement.id") == "f-handling-none"

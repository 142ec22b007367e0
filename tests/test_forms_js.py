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


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    form = build_form(FormSpec(id="t", title="测试", schema=SCHEMA, digest=canonical_digest(SCHEMA)))
    fields = render_fields(form, {"rows": [{"item": "甲"}, {"item": "乙"}]}, {}, lookup_url=lambda f: f"/lookup/{f}")
    html = (f'<!doctype html><html><head><meta charset="utf-8"></head><body>'
            f'<form id="f" method="post">{fields}</form><script src="/forms.js"></script></body></html>')
    lookups: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.endswith("/forms.js"):
            request_route.fulfill(body=(STATIC / "forms.js").read_text("utf-8"), content_type="text/javascript")
        elif "/lookup/" in url:
            lookups.append(url)
            body = json.dumps([{"number": "C-2026-0001", "label": "张三 盗窃"}], ensure_ascii=False)
            request_route.fulfill(body=body, content_type="application/json")
        else:
            request_route.fulfill(body=html, content_type="text/html; charset=utf-8",
                                  headers={"Content-Security-Policy": CSP})

    context = browser.new_context()
    context.route(f"{BASE}/**", route)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.goto(f"{BASE}/form")
    opened.lookups = lookups
    yield opened
    assert errors == []
    context.close()


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


def test_ref_picker_fills_datalist(page: Any) -> None:
    page.fill("[name=case]", "张 三")
    page.wait_for_function("() => document.querySelectorAll('#f-case-options option').length === 1")
    assert page.lookups == [f"{BASE}/lookup/case?q=%E5%BC%A0%20%E4%B8%89"]
    assert page.eval_on_selector("#f-case-options option", "o => o.value") == "C-2026-0001"

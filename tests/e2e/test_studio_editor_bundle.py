"""The configuration studio's code editor bundle (frontend/, built by ``make setup``) in a real browser.

A tiny page with the studio's markup (a textarea with data-editor, #config-problems) is served from a
thread under the app's CSP, so that a style or script the policy refuses shows up here as a console
error. The bundle must replace the textarea with a styled CodeMirror editor, show the saved problems at
their lines, write every edit back into the textarea (which the form posts), and complete property names
from the JSON Schema at data-schema-url.

Screenshots go to ``E2E_SCREENSHOTS`` (default /tmp/studio-editor/) for a person to look at.
"""
from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask, Response, request

from tests.e2e.conftest import TIMEOUT_MS, serve_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "server/admin/static/build/studio-editor.js"
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/studio-editor"))

SCHEMA = {  # 2020-12 with $defs and a "$ref" beside other keywords, as the studio's meta-schemas are
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$ref": "#/$defs/common",
    "type": "object",
    "properties": {"title": {"type": "string", "description": "登记簿名称"},
                   "status": {"enum": ["draft", "published"]},
                   "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}}},
    "$defs": {"common": {"properties": {"x-note": {"type": "string"}}},
              "field": {"type": "object", "properties": {"name": {"type": "string"}}}},
}
JSON_TEXT = '{\n  "title": "矛盾纠纷排查调处登记簿",\n  \n  "status": "draft"\n}\n'
PROBLEMS = [{"line": 4, "column": 3, "message": "“status”的值不在允许的范围内", "pointer": "/status"}]
HTML_TEXT = '<section class="doc">\n  <h1>{{ record.title }}</h1>\n  <p>调解协议书</p>\n</section>\n'
LONG_LINE = '{"description": "' + "很长的一行说明文字，" * 40 + '"}\n'


def _page(text: str, kind: str = "json", problems: list[dict[str, Any]] | None = None) -> str:
    schema = ' data-schema-url="/schema"' if kind == "json" else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>配置工作室</title></head>
<body><main><h1>配置工作室</h1>
<form method="post" id="config-form"><label for="config-text">forms/dispute.json</label>
<textarea id="config-text" name="text" data-editor="{kind}"{schema} rows="30">{html.escape(text)}</textarea>
<script type="application/json" id="config-problems">{json.dumps(problems or [], ensure_ascii=False)}</script>
<button type="submit">保存</button></form></main>
<script src="/admin/assets/build/studio-editor.js"></script></body></html>"""


PAGES = {
    "/json": _page(JSON_TEXT, "json", PROBLEMS),
    "/html": _page(HTML_TEXT, "html"),
    "/long": _page(LONG_LINE, "json"),
}


#: The text of every form POST, in order (the test of saving reads it).
POSTED: list[str] = []


def _site_app() -> Flask:
    """The contract pages, the schema and the bundle, every answer under the app's CSP."""
    site = Flask(__name__)

    @site.get("/<name>")
    def page(name: str) -> Response:
        if name == "favicon.ico":
            return Response(status=204)  # asked for by the browser; a 404 would be a console error
        if f"/{name}" not in PAGES:
            return Response(status=404)
        return Response(PAGES[f"/{name}"], content_type="text/html; charset=utf-8")

    @site.post("/<name>")
    def save(name: str) -> Response:
        POSTED.append(request.form.get("text", ""))
        return Response("<!doctype html><title>已保存</title><p>已保存</p>", content_type="text/html; charset=utf-8")

    @site.get("/schema")
    def schema() -> Response:
        return Response(json.dumps(SCHEMA), content_type="application/json")

    @site.get("/admin/assets/build/studio-editor.js")
    def bundle() -> Response:
        return Response(BUNDLE.read_bytes(), content_type="text/javascript; charset=utf-8")

    @site.after_request
    def csp(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        return response

    return site


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE.relative_to(ROOT)} is missing: run `make setup` (it builds frontend/ with npm)",
                    pytrace=False)
    with serve_app(_site_app()) as url:
        yield url


def _open(e2e_browser: Any, site: str, width: int = 1366) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = e2e_browser.new_context(base_url=site, locale="zh-CN", viewport={"width": width, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    # CSP violations also reach the console, but say so explicitly (init scripts are not subject to CSP).
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))")
    yield page
    context.close()
    assert problems == [], problems


@pytest.fixture
def page(e2e_browser: Any, site: str) -> Iterator[Any]:
    yield from _open(e2e_browser, site)


@pytest.fixture
def phone(e2e_browser: Any, site: str) -> Iterator[Any]:
    yield from _open(e2e_browser, site, width=390)


def _expect():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    return expect


def _textarea(page: Any) -> str:
    return page.eval_on_selector("#config-text", "t => t.value")


def test_editor_replaces_the_textarea_styled_under_the_csp(page: Any) -> None:
    expect = _expect()
    page.goto("/json")
    editor = page.locator(".cm-editor")
    expect(editor).to_be_visible()
    expect(page.locator("#config-text")).to_be_hidden()
    # Styled: CodeMirror's base theme makes the editor a flex column and the gutter a flex row; unstyled
    # (its stylesheet refused by the CSP) both would be plain blocks.
    expect(editor).to_have_css("display", "flex")
    expect(editor).to_have_css("flex-direction", "column")
    gutters = page.locator(".cm-gutters")
    expect(gutters).to_have_css("display", "flex")
    expect(page.locator(".cm-lineNumbers .cm-gutterElement", has_text="4")).to_be_visible()
    height = editor.bounding_box()["height"]
    assert 0.6 * 900 <= height <= 0.8 * 900, height  # about 70vh
    assert "Noto Sans Mono CJK SC" in page.locator(".cm-scroller").evaluate("e => getComputedStyle(e).fontFamily")
    expect(page.locator(".cm-content")).to_have_attribute("aria-label", "forms/dispute.json")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "studio-editor-1366.png"))


def test_saved_problems_show_at_their_line(page: Any) -> None:
    expect = _expect()
    page.goto("/json")
    line = page.locator(".cm-line").nth(PROBLEMS[0]["line"] - 1)
    mark = line.locator(".cm-lintRange-error")
    expect(mark).to_have_text('"status": "draft"')  # from column 3 to the end of the line
    expect(page.locator(".cm-lint-marker-error")).to_have_count(1)
    mark.hover()
    tooltip = page.locator(".cm-tooltip-lint")
    expect(tooltip).to_contain_text(PROBLEMS[0]["message"])
    # It stays: no later lint run replaces the diagnostics (that closed it, at the linter's idle delay).
    page.wait_for_timeout(1000)
    expect(tooltip).to_contain_text(PROBLEMS[0]["message"], timeout=100)
    # The problem stays with its text when lines are added above it.
    page.locator(".cm-line").first.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    expect(page.locator(".cm-line").nth(PROBLEMS[0]["line"]).locator(".cm-lintRange-error")).to_have_count(1)


def test_edits_reach_the_textarea_and_the_post(page: Any) -> None:
    expect = _expect()
    page.goto("/json")
    page.locator(".cm-line").nth(1).click()
    page.keyboard.press("End")
    page.keyboard.type(" 调处")
    assert '"title": "矛盾纠纷排查调处登记簿", 调处\n' in _textarea(page)
    # Undo is there, and writes back too.
    page.keyboard.press("Control+z")
    assert _textarea(page) == JSON_TEXT
    page.keyboard.press("Control+y")
    POSTED.clear()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存")).to_be_visible()
    # A textarea posts its lines ending in CRLF (HTML's form encoding), with or without the editor.
    assert [text.replace("\r\n", "\n") for text in POSTED] == [
        '{\n  "title": "矛盾纠纷排查调处登记簿", 调处\n  \n  "status": "draft"\n}\n']


def test_live_json_syntax_errors(page: Any) -> None:
    expect = _expect()
    page.goto("/json")
    page.locator(".cm-line").nth(2).click()
    page.keyboard.type('"x": ,')  # no value: not JSON, the error at the comma
    expect(page.locator(".cm-lint-marker-error")).to_have_count(2)  # the saved problem and this one
    page.locator(".cm-lint-marker-error").first.hover()  # line 3, above the saved problem
    expect(page.locator(".cm-tooltip-lint").last).to_contain_text("JSON 语法错误")


def test_completion_of_property_names_and_enum_values_from_the_schema(page: Any) -> None:
    expect = _expect()
    page.goto("/json")
    page.locator(".cm-line").nth(2).click()  # the empty line inside the object
    page.keyboard.press("End")
    page.keyboard.type('"')
    page.keyboard.press("Control+Space")
    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.filter(has_text="fields")).to_have_count(1)
    expect(options.filter(has_text="x-note")).to_have_count(1)  # from the $ref beside "properties"
    expect(options.filter(has_text="title")).to_have_count(0)  # already there
    options.filter(has_text="fields").click()
    # Between two members the name alone goes in (codemirror-json-schema adds ': value' only where no
    # value follows).
    assert '\n  "fields"\n  "status"' in _textarea(page)

    page.goto("/json")
    page.locator(".cm-line").nth(3).click()  # "status": "draft"
    page.keyboard.press("End")
    for _ in range(len('"draft"')):
        page.keyboard.press("Backspace")
    page.keyboard.type('"')  # values are offered once the string is open (none on a bare `: `)
    page.keyboard.press("Control+Space")
    expect(options.filter(has_text="published")).to_have_count(1)
    options.filter(has_text="published").click()
    assert '"status": "published"' in _textarea(page)


def test_html_templates_get_the_html_mode(page: Any) -> None:
    expect = _expect()
    page.goto("/html")
    expect(page.locator(".cm-editor")).to_be_visible()
    expect(page.locator(".cm-line").nth(2)).to_have_text("  <p>调解协议书</p>")
    # Tag names are highlighted (a token span with a class), not plain text.
    assert page.locator(".cm-line").nth(1).locator("span", has_text="h1").count() >= 1
    page.locator(".cm-line").nth(2).click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("<strong>")
    assert "  <p>调解协议书</p>\n  <strong>" in _textarea(page)


def test_phone_width_scrolls_inside_the_editor_only(phone: Any) -> None:
    expect = _expect()
    phone.goto("/long")
    expect(phone.locator(".cm-editor")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator(".cm-editor").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    scroller = phone.locator(".cm-scroller")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # the long line scrolls in the editor
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "studio-editor-390.png"))

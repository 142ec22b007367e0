"""Rendering of generated forms: one small schema per convention of docs/forms.md, plus round trips
(data → HTML → posted values → parse_submission → the same data)."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from server.forms import build_form, parse_submission, render_fields, render_readonly
from server.forms.model import FormModel
from server.specs.model import FormSpec, canonical_digest


def make_form(properties: dict[str, Any], **extra: Any) -> FormModel:
    schema = {"type": "object", "title": "测试表", "properties": properties, **extra}
    return build_form(FormSpec(id="t", title="测试表", schema=schema, digest=canonical_digest(schema)))


def render(form: FormModel, data: dict[str, Any] | None = None, errors: dict[str, str] | None = None) -> str:
    return str(render_fields(form, data or {}, errors or {}, lookup_url=lambda fid: f"/forms/{fid}/lookup"))


class Elements(HTMLParser):
    """Start tags (outside <template>) with their attributes, for assertions on the markup."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.in_template = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self.in_template += 1
        elif not self.in_template:
            self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.in_template -= 1

    def find(self, tag: str, **wanted: str) -> dict[str, str | None]:
        found = self.find_all(tag, **wanted)
        assert len(found) == 1, (tag, wanted, found)
        return found[0]

    def find_all(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in wanted.items()}
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted.items())]

    def with_class(self, tag: str, name: str) -> list[dict[str, str | None]]:
        """Elements ``tag`` whose class list contains ``name``."""
        return [a for t, a in self.tags if t == tag and name in (a.get("class") or "").split()]


class FormValues(HTMLParser):
    """What a browser would post for the rendered fields (no JS): name/value pairs in order."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self.in_template = 0
        self.select: dict[str, Any] | None = None
        self.option: dict[str, Any] | None = None
        self.textarea: dict[str, Any] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attrs_list)
        if tag == "template":
            self.in_template += 1
        if self.in_template or "disabled" in attrs and tag != "option":
            return
        if tag == "input" and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.pairs.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "select":
            self.select = {"name": attrs["name"], "options": []}
        elif tag == "option" and self.select is not None:
            self.option = {"value": attrs.get("value"), "text": "", "selected": "selected" in attrs,
                           "disabled": "disabled" in attrs}
            self.select["options"].append(self.option)
        elif tag == "textarea":
            self.textarea = {"name": attrs["name"], "text": ""}

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea["text"] += data
        if self.option is not None:
            self.option["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.in_template -= 1
        elif tag == "textarea" and self.textarea is not None:
            self.pairs.append((self.textarea["name"], self.textarea["text"]))
            self.textarea = None
        elif tag == "option":
            self.option = None
        elif tag == "select" and self.select is not None:
            options = self.select["options"]
            chosen = [o for o in options if o["selected"]] or [o for o in options if not o["disabled"]][:1]
            for option in chosen:
                if not option["disabled"]:
                    value = option["value"] if option["value"] is not None else option["text"]
                    self.pairs.append((self.select["name"], value))
            self.select = None


def round_trip(form: FormModel, data: dict[str, Any]) -> dict[str, Any]:
    return parse_submission(form, MultiDict(FormValues(render(form, data)).pairs))


# --- field kinds -------------------------------------------------------------------------------------


def test_text_field_label_required_placeholder_help() -> None:
    form = make_form({"name": {"type": "string", "title": "姓名", "description": "身份证上的姓名",
                               "x-ui": {"placeholder": "请输入"}}}, required=["name"])
    html = render(form, {"name": "张三"})
    tag = Elements(html).find("input", name="name")
    assert tag["type"] == "text" and tag["value"] == "张三" and tag["placeholder"] == "请输入"
    assert tag["id"] == "f-name" and tag["class"] == "form-control"
    assert tag["aria-describedby"] == "f-name-help"
    assert '<label for="f-name">姓名<span class="x-required text-danger"' in html
    assert '<small id="f-name-help" class="form-text text-muted">身份证上的姓名</small>' in html


def test_optional_field_has_no_asterisk() -> None:
    assert "x-required" not in render(make_form({"name": {"type": "string", "title": "姓名"}}))


def test_textarea_rows_and_content_escaped() -> None:
    form = make_form({"summary": {"type": "string", "title": "摘要", "x-ui": {"widget": "textarea", "rows": 6}}})
    html = render(form, {"summary": "第一行\n<b>第二行</b>"})
    assert Elements(html).find("textarea", name="summary")["rows"] == "6"
    assert ">第一行\n&lt;b&gt;第二行&lt;/b&gt;</textarea>" in html


def test_date_input_and_invalid_date_shown_back_as_text() -> None:
    form = make_form({"day": {"type": "string", "format": "date", "title": "日期"}})
    assert Elements(render(form, {"day": "2026-05-01"})).find("input", name="day")["type"] == "date"
    shown = Elements(render(form, {"day": "2026-02-30"}, {"/day": "应为日期，例如 2026-05-01"}))
    assert shown.find("input", name="day")["type"] == "text"
    assert shown.find("input", name="day")["value"] == "2026-02-30"


@pytest.mark.parametrize("value, input_type, step", [
    ("2026-05-01T09:30", "datetime-local", None),
    ("2026-05-01T09:30:15", "datetime-local", "1"),
    ("2026-05-01T09:30:00+08:00", "text", None),
    (None, "datetime-local", None),
])
def test_datetime_input(value: str | None, input_type: str, step: str | None) -> None:
    form = make_form({"at": {"type": "string", "format": "date-time", "title": "时间"}})
    tag = Elements(render(form, {"at": value} if value else {})).find("input", name="at")
    assert (tag["type"], tag.get("step"), tag["value"]) == (input_type, step, value or "")


def test_integer_bounds_and_step() -> None:
    form = make_form({
        "age": {"type": "integer", "title": "年龄", "minimum": 0, "maximum": 150},
        "count": {"type": "integer", "title": "人数", "exclusiveMinimum": 0, "multipleOf": 5},
        "amount": {"type": "number", "title": "金额", "minimum": 0.5},
    })
    elements = Elements(render(form, {"age": 30, "amount": 2.5}))
    age = elements.find("input", name="age")
    assert (age["type"], age["min"], age["max"], age["step"], age["value"]) == ("number", "0", "150", "1", "30")
    count = elements.find("input", name="count")
    assert (count["min"], count["step"]) == ("1", "5")
    amount = elements.find("input", name="amount")
    assert (amount["min"], amount["step"], amount["value"]) == ("0.5", "any", "2.5")


def test_invalid_number_is_shown_back_with_its_error() -> None:
    form = make_form({"age": {"type": "integer", "title": "年龄"}})
    html = render(form, {"age": "abc"}, {"/age": "应为整数"})
    tag = Elements(html).find("input", name="age")
    assert tag["value"] == "abc" and tag["type"] == "text"
    assert "is-invalid" in tag["class"]
    assert '<div id="f-age-error" class="invalid-feedback d-block">应为整数</div>' in html


def test_boolean_checkbox() -> None:
    form = make_form({"urgent": {"type": "boolean", "title": "紧急"}})
    checked = Elements(render(form, {"urgent": True})).find("input", name="urgent")
    assert checked["type"] == "checkbox" and checked["value"] == "true" and "checked" in checked
    assert "checked" not in Elements(render(form, {"urgent": False})).find("input", name="urgent")
    assert 'class="form-check"' in render(form)


CHOICES = [{"const": "walk_in", "title": "走访"}, {"const": "phone", "title": "电话"}]


def test_select_optional_has_empty_option_and_selection() -> None:
    form = make_form({"source": {"type": "string", "title": "来源", "oneOf": CHOICES}})
    html = render(form, {"source": "phone"})
    assert '<option value="">（不选）</option>' in html
    assert '<option value="phone" selected>电话</option>' in html
    assert '<option value="walk_in">走访</option>' in html


def test_select_required_without_value_has_disabled_prompt_only() -> None:
    form = make_form({"source": {"type": "string", "title": "来源", "oneOf": CHOICES}}, required=["source"])
    assert '<option value="" disabled selected>请选择…</option>' in render(form)
    assert '<option value="">' not in render(form, {"source": "phone"})
    assert 'value=""' not in render(form, {"source": "phone"}).split("<select")[1].split("</select>")[0]


def test_select_shows_unknown_value_back() -> None:
    form = make_form({"source": {"type": "string", "title": "来源", "oneOf": CHOICES}})
    assert '<option value="mail" selected>mail</option>' in render(form, {"source": "mail"})


def test_select_with_number_consts() -> None:
    form = make_form({"level": {"type": "integer", "title": "等级",
                                "oneOf": [{"const": 1, "title": "一级"}, {"const": 2, "title": "二级"}]}})
    assert '<option value="2" selected>二级</option>' in render(form, {"level": 2})


def test_radio_widget() -> None:
    form = make_form({"source": {"type": "string", "title": "来源", "oneOf": CHOICES, "x-ui": {"widget": "radio"}}})
    elements = Elements(render(form, {"source": "phone"}, {"/source": "请从给定选项中选择"}))
    radios = elements.find_all("input", name="source")
    assert [(r["type"], r["value"], "checked" in r) for r in radios] == [
        ("radio", "", False), ("radio", "walk_in", False), ("radio", "phone", True)]
    assert [r["id"] for r in radios] == ["f-source-none", "f-source-0", "f-source-1"]
    assert all(r["aria-invalid"] == "true" for r in radios)
    group = elements.find("fieldset", data_field="source")
    assert group["aria-describedby"] == "f-source-error"
    assert "请从给定选项中选择" in render(form, {}, {"/source": "请从给定选项中选择"})


def test_optional_radio_group_can_be_cleared_with_buxuan() -> None:
    form = make_form({"source": {"type": "string", "title": "来源", "oneOf": CHOICES, "x-ui": {"widget": "radio"}}})
    html = render(form)
    assert '<label class="form-check-label" for="f-source-none">不选</label>' in html
    radios = Elements(html).find_all("input", name="source")
    assert [(r["value"], "checked" in r) for r in radios] == [("", True), ("walk_in", False), ("phone", False)]
    # choosing 不选 posts an empty value: the field is left out, like an empty select
    assert parse_submission(form, MultiDict([("source", "")])) == {}
    assert round_trip(form, {}) == {}


def test_required_radio_group_has_no_buxuan() -> None:
    form = make_form({"source": {"type": "string", "title": "来源", "oneOf": CHOICES, "x-ui": {"widget": "radio"}}},
                     required=["source"])
    html = render(form)
    assert "不选" not in html
    radios = Elements(html).find_all("input", name="source")
    assert [(r["value"], "checked" in r) for r in radios] == [("walk_in", False), ("phone", False)]


def test_multi_choice_checkboxes() -> None:
    form = make_form({"tags": {"type": "array", "title": "标签", "uniqueItems": True,
                               "items": {"type": "string", "oneOf": CHOICES}}})
    boxes = Elements(render(form, {"tags": ["phone"]})).find_all("input", name="tags")
    assert [(b["type"], b["value"], "checked" in b) for b in boxes] == [
        ("checkbox", "walk_in", False), ("checkbox", "phone", True)]


def test_nested_object_fieldset() -> None:
    form = make_form({"visitor": {"type": "object", "title": "来访人", "required": ["name"],
                                  "properties": {"name": {"type": "string", "title": "姓名"}}}})
    html = render(form, {"visitor": {"name": "李四"}})
    assert '<fieldset class="x-object' in html and '<legend class="x-legend w-auto px-1">来访人</legend>' in html
    tag = Elements(html).find("input", name="visitor/name")
    assert tag["id"] == "f-visitor-name" and tag["value"] == "李四"


def _wide(html: str) -> dict[str, bool]:
    """data-field → whether its element spans the whole grid line."""
    return {a["data-field"]: "x-wide" in (a.get("class") or "").split()
            for _, a in Elements(html).tags if a.get("data-field")}


def test_short_fields_share_grid_lines_and_long_ones_span_it() -> None:
    many = [{"const": f"c{i}", "title": f"选项{i}"} for i in range(6)]
    form = make_form({
        "name": {"type": "string", "title": "姓名"}, "age": {"type": "integer", "title": "年龄"},
        "day": {"type": "string", "format": "date", "title": "日期"},
        "at": {"type": "string", "format": "date-time", "title": "时间"},
        "source": {"type": "string", "title": "来源", "oneOf": CHOICES},
        "case": {"type": "string", "title": "案件", "x-ui": {"ref": "case"}},
        "urgent": {"type": "boolean", "title": "紧急"},
        "gender": {"type": "string", "title": "性别", "x-ui": {"widget": "radio"},
                   "oneOf": [{"const": "m", "title": "男"}, {"const": "f", "title": "女"}]},
        "summary": {"type": "string", "title": "摘要", "x-ui": {"widget": "textarea"}},
        "kinds": {"type": "string", "title": "类别", "x-ui": {"widget": "radio"}, "oneOf": many},
        "satisfied": {"type": "string", "title": "满意度", "x-ui": {"widget": "radio"}, "oneOf": [  # long titles
            {"const": "y", "title": "满意"}, {"const": "p", "title": "基本满意"}, {"const": "n", "title": "不满意"}]},
        "tags": {"type": "array", "title": "标签", "items": {"type": "string", "oneOf": many}},
        "visitor": {"type": "object", "title": "来访人", "properties": {"name": {"type": "string", "title": "姓名"}}},
        **ROWS,
    })
    html = render(form)
    assert html.startswith('<div class="x-grid x-form-grid">')
    assert _wide(html) == {
        "name": False, "age": False, "day": False, "at": False, "source": False, "case": False,
        "urgent": False, "gender": False, "summary": True, "kinds": True, "satisfied": True, "tags": True,
        "visitor": True, "visitor/name": False, "items": True, "items/item": False, "items/qty": False}
    # fields of a group and of each row sit in a grid of their own
    visitor = html[html.index('id="f-visitor"'):]
    assert visitor.index('<div class="x-grid">') < visitor.index('name="visitor/name"')


def test_conditional_parts_span_the_grid() -> None:
    form = make_form({**HANDLING, "reason": {"type": "string", "title": "延期原因"},
                      "deadline": {"type": "string", "format": "date", "title": "新期限"}},
                     dependentRequired={"reason": ["deadline"]},
                     **{"if": TRANSFER_IF, "then": {"properties": {"target_unit": TEXT}}})
    elements = Elements(render(form))
    for css in ("x-cond", "x-dep"):
        part, = elements.with_class("div", css)
        assert {"x-grid", "x-wide"} <= set((part["class"] or "").split())


def test_keys_are_escaped_per_rfc6901() -> None:
    form = make_form({"a/b": {"type": "string", "title": "斜杠"}, "c~d": {"type": "string", "title": "波浪"}})
    elements = Elements(render(form, {"a/b": "1", "c~d": "2"}))
    assert elements.find("input", name="a~1b")["value"] == "1"
    assert elements.find("input", name="c~0d")["value"] == "2"
    assert round_trip(form, {"a/b": "1", "c~d": "2"}) == {"a/b": "1", "c~d": "2"}


ROWS = {"items": {"type": "array", "title": "物品", "minItems": 2, "maxItems": 5, "items": {
    "type": "object", "required": ["item"],
    "properties": {"item": {"type": "string", "title": "名称"}, "qty": {"type": "integer", "title": "数量"}}}}}


def test_rows_blank_rows_follow_min_items() -> None:
    html = render(make_form(ROWS))
    elements = Elements(html)
    names = [a["name"] for a in elements.find_all("input") if a.get("name", "").endswith("/item")]
    assert names == ["items/0/item", "items/1/item"]
    assert 'data-min-items="2"' in html and 'data-max-items="5"' in html
    assert html.count(">删除</button>") == 3  # two rows + the template row
    assert 'class="btn btn-sm btn-outline-primary x-row-add">添加一行</button>' in html


def test_rows_existing_rows_and_template() -> None:
    html = render(make_form(ROWS), {"items": [{"item": "手机", "qty": 1}, {"item": "钱包"}, {"item": "钥匙"}]})
    elements = Elements(html)
    assert [a["value"] for a in elements.find_all("input") if a["name"].endswith("/item")] == ["手机", "钱包", "钥匙"]
    template = re.search(r'<template class="x-row-template" data-placeholder="__index__">(.*?)</template>', html, re.S)
    assert template is not None
    assert 'name="items/__index__/item"' in template.group(1) and 'value=""' in template.group(1)
    assert 'data-index="2"' in html and '<span class="x-row-number">3</span>' in html


def _row_names(html: str) -> list[str]:
    return [a["name"] or "" for a in Elements(html).find_all("input") if (a.get("name") or "").endswith("/item")]


def test_optional_rows_without_data_render_no_blank_row() -> None:
    form = make_form({"items": {**ROWS["items"], "minItems": 0}})
    html = render(form)
    assert Elements(html).with_class("fieldset", "x-row") == [] and _row_names(html) == []
    assert 'name="items/__index__/item"' in html  # the template 添加一行 copies
    assert ">添加一行</button>" in html and "尚未添加" in html
    without_min = make_form({"items": {key: v for key, v in ROWS["items"].items() if key != "minItems"}})
    assert _row_names(render(without_min)) == []
    assert round_trip(form, {}) == {}


def test_required_rows_without_data_render_one_blank_row() -> None:
    required = make_form({"items": {**ROWS["items"], "minItems": 0}}, required=["items"])
    assert _row_names(render(required)) == ["items/0/item"]
    min_one = make_form({"items": {**ROWS["items"], "minItems": 1}})
    assert _row_names(render(min_one)) == ["items/0/item"]
    assert len(Elements(render(min_one)).with_class("fieldset", "x-row")) == 1
    # rows that exist are shown whatever the list requires
    assert _row_names(render(required, {"items": [{"item": "a"}, {"item": "b"}]})) == ["items/0/item", "items/1/item"]


def test_rows_list_is_a_boxed_wide_fieldset_with_grid_rows() -> None:
    html = render(make_form(ROWS), {"items": [{"item": "手机"}]})
    elements = Elements(html)
    rows = elements.find("fieldset", id="f-items")
    assert set(rows["class"].split()) >= {"x-rows", "x-wide"}
    assert '<legend class="x-legend w-auto px-1">物品</legend>' in html
    row = html[html.index('id="f-items-0"'):]
    assert row.index('class="x-row-title"') < row.index('x-row-remove') < row.index('<div class="x-grid">')


def test_nested_rows_get_their_own_placeholder() -> None:
    form = make_form({"groups": {"type": "array", "title": "组", "minItems": 1, "items": {"type": "object", "properties": {
        "people": {"type": "array", "title": "人员", "minItems": 1, "items": {"type": "object", "properties": {
            "name": {"type": "string", "title": "姓名"}}}}}}}})
    html = render(form)
    assert 'name="groups/0/people/0/name"' in html
    assert 'name="groups/__index__/people/0/name"' in html
    assert 'name="groups/0/people/__index__/name"' in html
    assert 'name="groups/__index__/people/__index1__/name"' in html


def test_ref_field_has_lookup_and_suggestion_list() -> None:
    form = make_form({"case": {"type": "string", "title": "关联案件", "x-ui": {"ref": "case_register"}}})
    html = render(form, {"case": "A-2026-0001"})
    elements = Elements(html)
    tag = elements.find("input", name="case")
    assert tag["data-lookup"] == "/forms/case_register/lookup" and tag["type"] == "text"
    assert tag["value"] == "A-2026-0001" and tag["autocomplete"] == "off"
    assert (tag["role"], tag["aria-autocomplete"], tag["aria-expanded"], tag["aria-controls"]) == (
        "combobox", "list", "false", "f-case-options")
    assert "list" not in tag and "<datalist" not in html
    listbox = elements.find("ul", id="f-case-options")
    assert listbox["role"] == "listbox" and "hidden" in listbox and "list-group" in listbox["class"]
    # typed numbers still post without JavaScript
    assert round_trip(form, {"case": "A-2026-0001"}) == {"case": "A-2026-0001"}


def test_order_puts_listed_fields_first() -> None:
    form = make_form({"a": {"type": "string", "title": "甲"}, "b": {"type": "string", "title": "乙"},
                      "c": {"type": "string", "title": "丙"}}, **{"x-ui": {"order": ["c", "a"]}})
    names = [a["name"] for a in Elements(render(form)).find_all("input")]
    assert names == ["c", "a", "b"]


# --- conditional sections --------------------------------------------------------------------------

HANDLING = {
    "handling": {"type": "string", "title": "处理方式",
                 "oneOf": [{"const": "self", "title": "自办"}, {"const": "transfer", "title": "转办"}]},
    "note": {"type": "string", "title": "备注"},
}
TEXT = {"type": "string", "title": "接收单位"}
TRANSFER_IF = {"properties": {"handling": {"const": "transfer"}}, "required": ["handling"]}


def _conds(html: str) -> list[tuple[list[Any], str]]:
    return [(json.loads(a["data-cond"]), a) for a in Elements(html).with_class("div", "x-cond")]


def test_then_section_right_after_tested_field() -> None:
    form = make_form(HANDLING, **{"if": TRANSFER_IF, "then": {
        "properties": {"target_unit": {"type": "string", "title": "接收单位"}}, "required": ["target_unit"]}})
    html = render(form)
    positions = [html.index(s) for s in ('name="handling"', 'class="x-cond', 'name="target_unit"', 'name="note"')]
    assert positions == sorted(positions)
    (clauses, _), = _conds(html)
    assert clauses == [{"negate": False, "tests": [{"name": "handling", "const": "transfer", "required": True}]}]
    section = html[html.index('class="x-cond'):html.index('name="note"')]
    assert "x-required" in section  # required inside the branch


def test_else_section_and_all_of() -> None:
    form = make_form(HANDLING, allOf=[
        {"if": TRANSFER_IF, "then": {"properties": {"target_unit": {"type": "string", "title": "接收单位"}}},
         "else": {"properties": {"result": {"type": "string", "title": "办理结果"}}}},
        {"if": {"properties": {"note": {"enum": ["a", "b"]}}, "required": ["note"]},
         "then": {"properties": {"detail": {"type": "string", "title": "详情"}}}},
    ])
    conds = _conds(render(form))
    assert [c[0][0]["negate"] for c in conds] == [False, True, False]
    assert conds[2][0][0]["tests"] == [{"name": "note", "enum": ["a", "b"], "required": True}]


def test_condition_too_rich_for_the_browser_is_marked() -> None:
    form = make_form(HANDLING, **{"if": {"properties": {"note": {"minLength": 3}}},
                                  "then": {"properties": {"detail": {"type": "string", "title": "详情"}}}})
    assert _conds(render(form))[0][0] == [{"negate": False, "tests": None}]


def test_conditions_inside_rows_use_row_names() -> None:
    form = make_form({"rows": {"type": "array", "title": "明细", "items": {
        "type": "object", "properties": HANDLING, "if": TRANSFER_IF,
        "then": {"properties": {"target_unit": {"type": "string", "title": "接收单位"}}}}}})
    html = render(form, {"rows": [{"handling": "self"}]})
    assert _conds(html)[0][0][0]["tests"][0]["name"] == "rows/0/handling"
    assert "&#34;name&#34;:&#34;rows/__index__/handling&#34;" in html


def test_dependent_required_wrapped_with_show_when() -> None:
    form = make_form({"extension_reason": {"type": "string", "title": "延期原因"},
                      "new_deadline": {"type": "string", "format": "date", "title": "新期限"}},
                     dependentRequired={"extension_reason": ["new_deadline"]})
    html = render(form)
    wrapper, = Elements(html).with_class("div", "x-dep")
    assert wrapper["data-show-when"] == "extension_reason"
    assert html.index('data-show-when') < html.index('name="new_deadline"')
    assert 'class="x-required' in html.split('data-show-when')[1]


# --- errors ----------------------------------------------------------------------------------------


def _summary(html: str) -> str:
    match = re.search(r'<div class="alert alert-danger x-error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert match is not None, html
    return match.group(1)


def test_errors_at_fields_rows_and_summary() -> None:
    form = make_form({"name": {"type": "string", "title": "姓名"}, **ROWS})
    errors = {"/name": "此项为必填项", "/items/1/item": "此项为必填项", "/items": "至少需要 2 项",
              "": "根错误", "/extra": "不允许的字段", "/items/7/item": "此项为必填项"}
    html = render(form, {"items": [{"item": "a"}, {}]}, errors)
    assert html.startswith('<div class="alert alert-danger x-error-summary" role="alert" id="error-summary" '
                           'tabindex="-1"')  # on top, focusable by forms.js
    assert _summary(html) == (
        '<p class="x-error-summary-title font-weight-bold mb-1" id="error-summary-title">有 6 处需要修改：</p>'
        '<ul class="mb-0"><li>根错误</li>'
        '<li><a href="#f-name">姓名：此项为必填项</a></li>'
        '<li><a href="#f-items">物品：至少需要 2 项</a></li>'
        '<li><a href="#f-items-1-item">物品/第 2 行/名称：此项为必填项</a></li>'
        '<li>物品/第 8 行/名称：此项为必填项</li>'  # no such row on the page: listed, not linked
        '<li>extra：不允许的字段</li></ul>')
    assert "is-invalid" in Elements(html).find("input", name="items/1/item")["class"]
    assert "is-invalid" not in Elements(html).find("input", name="items/0/item")["class"]
    rows_part = html[html.index('id="f-items"'):]
    assert rows_part.index("至少需要 2 项") < rows_part.index('class="x-rows-body"')


def test_each_error_once_in_summary_and_once_at_its_field() -> None:
    form = make_form({"name": {"type": "string", "title": "姓名", "description": "身份证上的姓名"},
                      "age": {"type": "integer", "title": "年龄"}})
    html = render(form, {"age": "abc"}, {"/name": "此项为必填项", "/age": "应为整数"})
    summary = _summary(html)
    body = html[html.index("</div>") + len("</div>"):]
    for message in ("此项为必填项", "应为整数"):
        assert summary.count(message) == 1 and body.count(message) == 1, message
    assert '<div id="f-name-error" class="invalid-feedback d-block">此项为必填项</div>' in body


def test_error_is_linked_to_its_input_with_aria() -> None:
    form = make_form({"name": {"type": "string", "title": "姓名", "description": "身份证上的姓名"},
                      "urgent": {"type": "boolean", "title": "紧急"},
                      "visitor": {"type": "object", "title": "来访人", "properties": {
                          "phone": {"type": "string", "title": "电话"}}}})
    html = render(form, {}, {"/name": "此项为必填项", "/urgent": "不符合要求", "/visitor/phone": "格式不正确"})
    elements = Elements(html)
    name = elements.find("input", name="name")
    assert name["aria-invalid"] == "true" and name["aria-describedby"] == "f-name-error f-name-help"
    assert elements.find("div", id="f-name-error")["class"] == "invalid-feedback d-block"
    urgent = elements.find("input", name="urgent")
    assert urgent["aria-invalid"] == "true" and urgent["aria-describedby"] == "f-urgent-error"
    phone = elements.find("input", name="visitor/phone")
    assert phone["aria-describedby"] == "f-visitor-phone-error"
    assert '<a href="#f-visitor-phone">来访人/电话：格式不正确</a>' in html
    # without errors: only the help text, no aria-invalid
    clean = Elements(render(form)).find("input", name="name")
    assert clean["aria-describedby"] == "f-name-help" and "aria-invalid" not in clean


def test_summary_links_a_radio_group_to_its_first_option() -> None:
    form = make_form({"way": {"type": "string", "title": "方式", "oneOf": CHOICES, "x-ui": {"widget": "radio"}},
                      "must": {"type": "string", "title": "必选", "oneOf": CHOICES, "x-ui": {"widget": "radio"}}},
                     required=["must"])
    html = render(form, {}, {"/way": "请从给定选项中选择", "/must": "此项为必填项"})
    assert '<a href="#f-way-none">方式：请从给定选项中选择</a>' in html
    assert '<a href="#f-must-0">必选：此项为必填项</a>' in html


def test_no_summary_without_errors() -> None:
    assert "x-error-summary" not in render(make_form(ROWS))


def test_template_row_never_shows_errors() -> None:
    html = render(make_form(ROWS), {}, {"/items/0/item": "此项为必填项"})
    template = html[html.index("<template"):html.index("</template>")]
    assert "is-invalid" not in template and "此项为必填项" not in template


# --- safety ----------------------------------------------------------------------------------------


def test_values_and_titles_are_escaped_and_no_inline_script() -> None:
    form = make_form({"x": {"type": "string", "title": "<b>标题</b>", "description": "<i>"},
                      "c": {"type": "string", "title": "选", "oneOf": [{"const": "\"'<", "title": "<s>"}]}})
    html = render(form, {"x": "\"><script>alert(1)</script>", "c": "\"'<"})
    assert "<script" not in html and "<b>" not in html and "<s>" not in html and "<i>" not in html
    assert not re.search(r"\son[a-z]+=", html)
    assert Elements(html).find("input", name="x")["value"] == "\"><script>alert(1)</script>"


# --- round trips -----------------------------------------------------------------------------------

FULL = {
    "name": {"type": "string", "title": "姓名"},
    "summary": {"type": "string", "title": "摘要", "x-ui": {"widget": "textarea"}},
    "day": {"type": "string", "format": "date", "title": "日期"},
    "at": {"type": "string", "format": "date-time", "title": "时间"},
    "age": {"type": "integer", "title": "年龄"},
    "amount": {"type": "number", "title": "金额"},
    "urgent": {"type": "boolean", "title": "紧急"},
    "source": {"type": "string", "title": "来源", "oneOf": CHOICES},
    "way": {"type": "string", "title": "方式", "oneOf": CHOICES, "x-ui": {"widget": "radio"}},
    "level": {"type": "integer", "title": "等级", "oneOf": [{"const": 1, "title": "一"}, {"const": 2, "title": "二"}]},
    "tags": {"type": "array", "title": "标签", "items": {"type": "string", "oneOf": CHOICES}},
    "visitor": {"type": "object", "title": "来访人", "properties": {
        "name": {"type": "string", "title": "姓名"}, "phone": {"type": "string", "title": "电话"}}},
    "case": {"type": "string", "title": "案件", "x-ui": {"ref": "case"}},
    "phones": {"type": "array", "title": "电话", "items": {"type": "string"}},
    **ROWS,
}


@pytest.mark.parametrize("data", [
    {"name": "张三", "summary": "一\n二", "day": "2026-05-01", "at": "2026-05-01T09:30", "age": 30,
     "amount": 2.5, "urgent": True, "source": "phone", "way": "walk_in", "level": 2, "tags": ["walk_in", "phone"],
     "visitor": {"name": "李四", "phone": "123"}, "case": "C-1", "phones": ["110", "120"],
     "items": [{"item": "手机", "qty": 1}, {"item": "钱包"}]},
    {"urgent": False},
    {"urgent": False, "age": "abc", "source": "mail", "at": "2026-05-01T09:30:00+08:00", "items": [{"qty": 3}]},
])
def test_round_trip(data: dict[str, Any]) -> None:
    assert round_trip(make_form(FULL), data) == data


def test_round_trip_with_sections_and_dependents() -> None:
    form = make_form({**HANDLING, "reason": {"type": "string", "title": "原因"},
                      "deadline": {"type": "string", "format": "date", "title": "期限"}},
                     dependentRequired={"reason": ["deadline"]},
                     **{"if": TRANSFER_IF, "then": {"properties": {"target_unit": TEXT}}})
    data = {"handling": "transfer", "target_unit": "派出所", "reason": "补证", "deadline": "2026-06-01"}
    assert round_trip(form, data) == data
    # without JavaScript the inactive values are posted too; the server drops them
    posted = {"handling": "self", "target_unit": "派出所", "deadline": "2026-06-01"}
    assert round_trip(form, posted) == {"handling": "self"}


# --- detail view -----------------------------------------------------------------------------------


def test_readonly_leaves_out_empty_fields_groups_and_columns() -> None:
    form = make_form(FULL)
    html = str(render_readonly(form, {"name": "张三", "summary": "", "tags": [], "urgent": False, "age": 0,
                                      "visitor": {"name": ""}, "phones": [],
                                      "items": [{"item": "手机"}, {}], "old": None}))
    labels = re.findall(r'<th scope="row" class="x-label">([^<]*)</th>', html)
    assert labels == ["姓名", "年龄", "紧急", "物品"]  # 0 and 否 are answers; empty things are not
    assert '<th scope="col">名称</th></tr>' in html and "数量" not in html  # column empty in every row
    assert html.count("<tr><td>") == 1  # the row with nothing in it is left out
    assert "来访人" not in html and "old" not in html


def test_readonly_with_nothing_filled_says_so() -> None:
    assert str(render_readonly(make_form(FULL), {"visitor": {}, "items": []})) == (
        '<p class="text-muted x-readonly-empty">没有已填写的内容</p>')


def test_readonly_view() -> None:
    form = make_form(FULL)
    html = str(render_readonly(form, {"name": "<张三>", "source": "phone", "urgent": True, "tags": ["walk_in", "phone"],
                                      "at": "2026-05-01T09:30", "visitor": {"name": "李四"},
                                      "items": [{"item": "手机", "qty": 1}], "old": "旧字段"}))
    assert '<th scope="row" class="x-label">姓名</th><td class="x-value">&lt;张三&gt;</td>' in html
    assert '<td class="x-value">电话</td>' in html and '<td class="x-value">是</td>' in html
    assert '<td class="x-value">走访、电话</td>' in html and "2026-05-01 09:30" in html
    assert '<th scope="col">名称</th><th scope="col">数量</th>' in html and "<td>手机</td><td>1</td>" in html
    assert '<th scope="row" class="x-label">old</th><td class="x-value">旧字段</td>' in html
    nested = html[html.index("来访人"):]
    assert nested.index("<table") < nested.index("李四")

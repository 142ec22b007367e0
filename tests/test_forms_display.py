"""Display helpers: values as shown in lists and exports, columns, filters, search text, refs."""
from __future__ import annotations

from typing import Any

from server.forms import (
    Filter, build_form, display_value, export_columns, filter_fields, get_path, list_columns,
    ref_values, search_text,
)
from server.forms.model import FormModel
from server.specs.model import FormSpec, canonical_digest

CHOICES = [{"const": "walk_in", "title": "走访"}, {"const": "phone", "title": "电话"}]
PROPS = {
    "at": {"type": "string", "format": "date-time", "title": "来访时间"},
    "source": {"type": "string", "title": "来源", "oneOf": CHOICES},
    "visitor": {"type": "object", "title": "来访人", "properties": {
        "name": {"type": "string", "title": "姓名"},
        "case": {"type": "string", "title": "案件", "x-ui": {"ref": "case"}}}},
    "urgent": {"type": "boolean", "title": "紧急"},
    "tags": {"type": "array", "title": "标签", "items": {"type": "string", "oneOf": CHOICES}},
    "items": {"type": "array", "title": "物品", "items": {"type": "object", "properties": {
        "item": {"type": "string", "title": "名称"}, "qty": {"type": "integer", "title": "数量"},
        "owner": {"type": "string", "title": "失主", "x-ui": {"ref": "person"}}}}},
    "day": {"type": "string", "format": "date", "title": "日期"},
    "note": {"type": "string", "title": "备注"},
}
DATA = {"at": "2026-05-01T09:30", "source": "phone", "visitor": {"name": "Zhang 三", "case": "C-1"},
        "urgent": True, "tags": ["walk_in", "phone"],
        "items": [{"item": "手机", "qty": 1, "owner": "P-9"}, {"item": "钱包"}]}


def make_form(properties: dict[str, Any], **extra: Any) -> FormModel:
    schema = {"type": "object", "title": "测试表", "properties": properties, **extra}
    return build_form(FormSpec(id="t", title="测试表", schema=schema, digest=canonical_digest(schema)))


def test_display_value() -> None:
    form = make_form(PROPS)
    assert display_value(form, "source", "phone") == "电话"
    assert display_value(form, "source", "mail") == "mail"
    assert display_value(form, "tags", ["walk_in", "phone"]) == "走访、电话"
    assert display_value(form, "urgent", True) == "是" and display_value(form, "urgent", False) == "否"
    assert display_value(form, "at", "2026-05-01T09:30") == "2026-05-01 09:30"
    assert display_value(form, "visitor/name", "张三") == "张三"
    assert display_value(form, "items/qty", 3) == "3" and display_value(form, "/items/0/item", "x") == "x"
    assert display_value(form, "items", DATA["items"]) == "名称：手机，数量：1，失主：P-9；名称：钱包"
    assert display_value(form, "note", None) == "" and display_value(form, "nope", 2.0) == "2"


def test_get_path() -> None:
    assert get_path(DATA, "visitor/name") == "Zhang 三"
    assert get_path(DATA, "/items/1/item") == "钱包"
    assert get_path(DATA, "items/5/item") is None and get_path(DATA, "visitor/x/y") is None
    assert get_path({"a/b": 1}, "a~1b") == 1


def test_list_columns_default_and_configured() -> None:
    assert list_columns(make_form(PROPS)) == [("at", "来访时间"), ("source", "来源"), ("urgent", "紧急"), ("day", "日期")]
    form = make_form(PROPS, **{"x-ui": {"list": ["source", "visitor/name", "missing", "items/item"]}})
    assert list_columns(form) == [("source", "来源"), ("visitor/name", "来访人/姓名")]


def test_filter_fields() -> None:
    form = make_form(PROPS, **{"x-ui": {"filters": ["source", "at", "day", "note", "items/item"]}})
    assert filter_fields(form) == [
        Filter("source", "来源", "choice", (("walk_in", "走访"), ("phone", "电话"))),
        Filter("at", "来访时间", "datetime"), Filter("day", "日期", "date")]
    assert filter_fields(make_form(PROPS)) == []


def test_export_columns() -> None:
    assert export_columns(make_form(PROPS)) == [
        ("at", "来访时间"), ("source", "来源"), ("visitor/name", "来访人/姓名"), ("visitor/case", "来访人/案件"),
        ("urgent", "紧急"), ("tags", "标签"), ("items", "物品"), ("day", "日期"), ("note", "备注")]


def test_search_text_has_values_and_titles_lower_cased() -> None:
    text = search_text(make_form(PROPS), DATA)
    for word in ["2026-05-01t09:30", "phone", "电话", "zhang 三", "c-1", "是", "walk_in", "走访、电话", "手机", "p-9", "钱包"]:
        assert word in text, word
    assert text == text.lower()


def test_ref_values_include_rows() -> None:
    assert ref_values(make_form(PROPS), DATA) == [("/visitor/case", "case", "C-1"), ("/items/0/owner", "person", "P-9")]
    assert ref_values(make_form(PROPS), {"visitor": {"case": ""}}) == []


def test_describe_change_reads_like_the_form() -> None:
    from server.forms import describe_change

    form = make_form(PROPS)
    assert describe_change(form, "/source", "phone") == ("来源", "电话")
    assert describe_change(form, "/visitor/name", "王五") == ("来访人/姓名", "王五")
    assert describe_change(form, "/items/1/qty", 2) == ("物品/第2行/数量", "2")
    assert describe_change(form, "/items/0", {"item": "手机", "qty": 1}) == ("物品/第1行", "名称：手机，数量：1")
    assert describe_change(form, "/urgent", False) == ("紧急", "否")
    assert describe_change(form, "/gone", "x") == ("gone", "x")


def test_datetimes_read_in_china_time() -> None:
    form = make_form(PROPS)
    assert display_value(form, "at", "2026-05-06T09:00:00+08:00") == "2026-05-06 09:00"
    assert display_value(form, "at", "2026-05-06T01:00:00Z") == "2026-05-06 09:00"
    assert display_value(form, "at", "2026-05-06T09:30:15") == "2026-05-06 09:30"
    assert display_value(form, "at", "不是时间") == "不是时间"

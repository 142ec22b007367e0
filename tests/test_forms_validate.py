"""validate: one Chinese message per field pointer, in form order, with x-ui.errors overrides."""
from __future__ import annotations

from typing import Any

import pytest

from server.errors import FieldError
from server.forms import build_form, message_for, validate
from server.forms.formats import is_date, is_datetime
from server.forms.model import FormModel
from server.specs.model import FormSpec, canonical_digest

CHOICES = [{"const": "walk_in", "title": "走访"}, {"const": "phone", "title": "电话"}]


def make_form(properties: dict[str, Any], **extra: Any) -> FormModel:
    schema = {"type": "object", "title": "测试表", "properties": properties, **extra}
    return build_form(FormSpec(id="t", title="测试表", schema=schema, digest=canonical_digest(schema)))


def messages(form: FormModel, data: Any) -> list[tuple[str, str]]:
    return [(e.pointer, e.message) for e in validate(form, data)]


def one(schema: dict[str, Any], value: Any) -> str:
    (pointer, message), = messages(make_form({"f": {"title": "字段", **schema}}), {"f": value})
    assert pointer == "/f"
    return message


@pytest.mark.parametrize("schema, value, message", [
    ({"type": "integer"}, "abc", "应为整数"),
    ({"type": "integer"}, 1.5, "应为整数"),
    ({"type": "number"}, "x", "应为数字"),
    ({"type": "string"}, 5, "应为文本"),
    ({"type": "boolean"}, "yes", "应为“是”或“否”"),
    ({"type": "array", "items": {"type": "object"}}, {}, "应为列表"),
    ({"type": "object"}, [], "应为对象"),
    ({"type": ["string", "null"]}, 3, "应为文本"),
    ({"type": "string", "format": "date"}, "2026-02-30", "应为日期，例如 2026-05-01"),
    ({"type": "string", "format": "date-time"}, "2026-05-01 09:30", "应为日期时间，例如 2026-05-01T09:30"),
    ({"type": "integer", "minimum": 1}, 0, "不能小于 1"),
    ({"type": "integer", "maximum": 150}, 151, "不能大于 150"),
    ({"type": "number", "exclusiveMinimum": 0}, 0, "应大于 0"),
    ({"type": "number", "exclusiveMaximum": 1.5}, 2, "应小于 1.5"),
    ({"type": "integer", "multipleOf": 5}, 7, "应为 5 的倍数"),
    ({"type": "string", "minLength": 2}, "张", "至少 2 个字"),
    ({"type": "string", "maxLength": 3}, "张三丰啊", "不能超过 3 个字"),
    ({"type": "string", "pattern": "^[0-9]{11}$"}, "123", "格式不正确"),
    ({"type": "string", "oneOf": CHOICES}, "mail", "请从给定选项中选择"),
    ({"type": "string", "enum": ["a", "b"]}, "c", "请从给定选项中选择"),
    ({"type": "string", "const": "a"}, "c", "请从给定选项中选择"),
    ({"type": "array", "items": {"type": "object"}, "minItems": 2}, [{}], "至少需要 2 项"),
    ({"type": "array", "items": {"type": "object"}, "maxItems": 1}, [{}, {}], "最多 1 项"),
    ({"type": "array", "items": {"type": "string", "oneOf": CHOICES}, "uniqueItems": True}, ["phone", "phone"],
     "不能有重复项"),
])
def test_keyword_messages(schema: dict[str, Any], value: Any, message: str) -> None:
    assert one(schema, value) == message


@pytest.mark.parametrize("value, ok", [
    ("2026-05-01", True), ("2024-02-29", True), ("2026-02-29", False), ("2026-5-1", False),
    ("2026-05-01T09:30", False), ("20260501", False), ("２０２６-05-01", False), (20260501, True),
])
def test_date_format(value: Any, ok: bool) -> None:
    assert is_date(value) is ok


@pytest.mark.parametrize("value, ok", [
    ("2026-05-01T09:30", True), ("2026-05-01T09:30:15", True), ("2026-05-01T09:30:15.123", True),
    ("2026-05-01T09:30Z", True), ("2026-05-01T09:30:00+08:00", True), ("2026-05-01T09:30-05:00", True),
    ("2026-05-01 09:30", False), ("2026-05-01T24:00", False), ("2026-05-01T09:60", False),
    ("2026-02-30T09:30", False), ("2026-05-01T09", False), ("2026-05-01T09:30.5", False),
    ("2026-05-01T09:30+0800", False), ("2026-05-01t09:30", False), ("2026-05-01", False),
])
def test_datetime_format(value: str, ok: bool) -> None:
    assert is_datetime(value) is ok


def test_required_points_at_missing_children_in_order() -> None:
    form = make_form({"a": {"type": "string", "title": "甲"}, "b": {"type": "string", "title": "乙"},
                      "visitor": {"type": "object", "title": "来访人", "required": ["name", "id"], "properties": {
                          "name": {"type": "string", "title": "姓名"}, "id": {"type": "string", "title": "证件"}}}},
                     required=["b", "a", "visitor"])
    assert messages(form, {}) == [("/a", "此项为必填项"), ("/b", "此项为必填项"), ("/visitor", "此项为必填项")]
    assert messages(form, {"a": "1", "b": "2", "visitor": {}}) == [
        ("/visitor/name", "此项为必填项"), ("/visitor/id", "此项为必填项")]


def test_dependent_required() -> None:
    form = make_form({"reason": {"type": "string", "title": "原因"}, "deadline": {"type": "string", "title": "期限"}},
                     dependentRequired={"reason": ["deadline"]})
    assert messages(form, {"reason": "x"}) == [("/deadline", "此项为必填项")]
    assert messages(form, {}) == []


def test_unexpected_keys_each_get_a_message() -> None:
    form = make_form({"a": {"type": "string", "title": "甲"}}, unevaluatedProperties=False)
    assert messages(form, {"a": "1", "z": 1, "b/c": 2}) == [("/b~1c", "不允许的字段"), ("/z", "不允许的字段")]
    closed = make_form({"o": {"type": "object", "title": "对象", "additionalProperties": False,
                              "properties": {"x": {"type": "string", "title": "X"}}}})
    assert messages(closed, {"o": {"x": "1", "y": "2"}}) == [("/o/y", "不允许的字段")]


def test_conditional_required_and_unevaluated_sees_section_fields() -> None:
    form = make_form({"handling": {"type": "string", "title": "处理", "oneOf": [{"const": "t", "title": "转"}]}},
                     unevaluatedProperties=False,
                     allOf=[{"if": {"properties": {"handling": {"const": "t"}}, "required": ["handling"]},
                             "then": {"properties": {"unit": {"type": "string", "title": "单位"}},
                                      "required": ["unit"]}}])
    assert messages(form, {"handling": "t"}) == [("/unit", "此项为必填项")]
    assert messages(form, {"handling": "t", "unit": "u"}) == []
    assert messages(form, {"unit": "u"}) == [("/unit", "不允许的字段")]


def test_rows_pointers() -> None:
    form = make_form({"rows": {"type": "array", "title": "明细", "minItems": 3, "items": {
        "type": "object", "required": ["item"], "properties": {
            "item": {"type": "string", "title": "名称"}, "qty": {"type": "integer", "title": "数量", "minimum": 1}}}}})
    assert messages(form, {"rows": [{"item": "a", "qty": 0}, {"qty": "x"}]}) == [
        ("/rows", "至少需要 3 项"), ("/rows/0/qty", "不能小于 1"),
        ("/rows/1/item", "此项为必填项"), ("/rows/1/qty", "应为整数")]


def test_required_rows_left_empty_ask_for_one_row() -> None:
    rows = {"type": "array", "title": "明细", "items": {"type": "object", "properties": {
        "item": {"type": "string", "title": "名称"}}}}
    form = make_form({"rows": rows, "name": {"type": "string", "title": "名称"}}, required=["rows", "name"])
    assert messages(form, {}) == [("/rows", "请至少填写一行"), ("/name", "此项为必填项")]
    min_one = make_form({"rows": {**rows, "minItems": 1}})
    assert messages(min_one, {"rows": []}) == [("/rows", "请至少填写一行")]
    assert messages(make_form({"rows": {**rows, "minItems": 2}}), {"rows": [{}]}) == [("/rows", "至少需要 2 项")]
    own = make_form({"rows": {**rows, "x-ui": {"errors": {"required": "请填写明细"}}}}, required=["rows"])
    assert messages(own, {}) == [("/rows", "请填写明细")]  # the form's own wording still wins


def test_multi_choice_item_errors_belong_to_the_list() -> None:
    form = make_form({"tags": {"type": "array", "title": "标签", "items": {"type": "string", "oneOf": CHOICES}}})
    assert messages(form, {"tags": ["phone", "mail", 3]}) == [("/tags", "请从给定选项中选择")]


def test_one_message_per_pointer_first_wins() -> None:
    assert one({"type": "string", "minLength": 5, "pattern": "^[a-z]+$"}, "AB") == "至少 5 个字"


def test_sorted_in_form_order() -> None:
    form = make_form({"z": {"type": "integer", "title": "Z"}, "a": {"type": "integer", "title": "A"},
                      "m": {"type": "integer", "title": "M"}},
                     **{"x-ui": {"order": ["m"]}}, unevaluatedProperties=False)
    data = {"a": "x", "z": "x", "m": "x", "extra": 1}
    assert [p for p, _ in messages(form, data)] == ["/m", "/z", "/a", "/extra"]


def test_root_type_error() -> None:
    assert messages(make_form({}), []) == [("", "应为对象")]


def test_x_ui_errors_string_replaces_every_message() -> None:
    form = make_form({"phone": {"type": "string", "title": "电话", "pattern": "^1[0-9]{10}$", "minLength": 11,
                                "x-ui": {"errors": "请填写 11 位手机号"}}}, required=["phone"])
    assert messages(form, {"phone": "12"}) == [("/phone", "请填写 11 位手机号")]
    assert messages(form, {}) == [("/phone", "请填写 11 位手机号")]


def test_x_ui_errors_by_keyword() -> None:
    form = make_form({"phone": {"type": "string", "title": "电话", "pattern": "^1[0-9]{10}$",
                                "x-ui": {"errors": {"pattern": "手机号格式不对", "required": "请填写电话", "ref": "找不到"}}},
                      "age": {"type": "integer", "title": "年龄", "x-ui": {"errors": {"minimum": "太小"}}}},
                     required=["phone"])
    assert messages(form, {"phone": "2"}) == [("/phone", "手机号格式不对")]
    assert messages(form, {"age": "x"}) == [("/phone", "请填写电话"), ("/age", "应为整数")]
    assert message_for(form, "/phone", "ref", "默认") == "找不到"
    assert form.custom_message("/age", "ref") is None
    assert message_for(form, "/age", "ref", "默认") == "默认"


def test_x_ui_errors_inside_rows_and_aliases() -> None:
    form = make_form({"rows": {"type": "array", "title": "明细", "items": {"type": "object", "properties": {
        "kind": {"type": "string", "title": "类别", "oneOf": CHOICES, "x-ui": {"errors": {"oneOf": "选一个"}}}}}}})
    assert messages(form, {"rows": [{"kind": "x"}]}) == [("/rows/0/kind", "选一个")]


def test_non_choice_one_of_uses_best_nested_error() -> None:
    options = [{"type": "integer", "minimum": 5}, {"type": "integer", "maximum": -5}]
    form = make_form({"v": {"title": "值", "oneOf": options}})
    (pointer, message), = messages(form, {"v": 0})
    assert pointer == "/v" and message in ("不能小于 5", "不能大于 -5")


def test_returns_field_errors_and_model_is_cached() -> None:
    form = make_form({"a": {"type": "integer", "title": "甲"}})
    assert validate(form, {"a": "x"}) == [FieldError("/a", "应为整数")]
    assert make_form({"a": {"type": "integer", "title": "甲"}}) is form


def test_fields_of_an_active_branch_are_not_unexpected_when_a_sibling_fails() -> None:
    branch = {"properties": {"code": {"type": "string", "title": "代码", "pattern": "^[0-9]{12}$"},
                             "estate": {"type": "string", "title": "小区"}}, "required": ["code", "estate"]}
    form = make_form({"kind": {"type": "string", "title": "类别", "oneOf": [{"const": "c", "title": "社区"}]}},
                     unevaluatedProperties=False,
                     allOf=[{"if": {"properties": {"kind": {"const": "c"}}, "required": ["kind"]}, "then": branch}])
    assert messages(form, {"kind": "c", "code": "1", "estate": "某小区"}) == [("/code", "格式不正确")]
    assert messages(form, {"code": "1", "estate": "某小区"}) == [("/code", "不允许的字段"), ("/estate", "不允许的字段")]

"""parse_submission: posted form fields → JSON data shaped by the schema."""
from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from server.forms import build_form, parse_submission
from server.forms.model import FormModel
from server.specs.model import FormSpec, canonical_digest

CHOICES = [{"const": "walk_in", "title": "走访"}, {"const": "phone", "title": "电话"}]


def make_form(properties: dict[str, Any], **extra: Any) -> FormModel:
    schema = {"type": "object", "title": "测试表", "properties": properties, **extra}
    return build_form(FormSpec(id="t", title="测试表", schema=schema, digest=canonical_digest(schema)))


def parse(form: FormModel, *pairs: tuple[str, str]) -> dict[str, Any]:
    return parse_submission(form, MultiDict(list(pairs)))


def test_strings_trimmed_and_empty_omitted() -> None:
    form = make_form({"a": {"type": "string", "title": "甲"}, "b": {"type": "string", "title": "乙"},
                      "c": {"type": "string", "title": "丙"}})
    assert parse(form, ("a", "  张三 "), ("b", "   "), ("unknown", "x")) == {"a": "张三"}


def test_textarea_newlines_normalised() -> None:
    form = make_form({"s": {"type": "string", "title": "摘要", "x-ui": {"widget": "textarea"}}})
    assert parse(form, ("s", "一\r\n二\r\n")) == {"s": "一\n二"}


@pytest.mark.parametrize("kind, text, expected", [
    ("integer", "42", 42), ("integer", "-3", -3), ("integer", "12.0", 12), ("integer", "1.5", "1.5"),
    ("integer", "abc", "abc"), ("integer", "1_000", "1_000"), ("number", "2.5", 2.5), ("number", "7", 7),
    ("number", "nan", "nan"), ("number", "inf", "inf"), ("number", "1e3", 1000.0), ("number", "１２", 12),
])
def test_numbers_converted_or_kept_raw(kind: str, text: str, expected: Any) -> None:
    value = parse(make_form({"n": {"type": kind, "title": "数"}}), ("n", text))["n"]
    assert value == expected and type(value) is type(expected)


def test_boolean_present_true_absent_false() -> None:
    form = make_form({"a": {"type": "boolean", "title": "甲"}, "b": {"type": "boolean", "title": "乙"}})
    assert parse(form, ("a", "true")) == {"a": True, "b": False}


def test_choices_map_back_to_consts() -> None:
    form = make_form({"source": {"type": "string", "title": "来源", "oneOf": CHOICES},
                      "level": {"type": "integer", "title": "等级",
                                "oneOf": [{"const": 1, "title": "一"}, {"const": 2, "title": "二"}]}})
    assert parse(form, ("source", "phone"), ("level", "2")) == {"source": "phone", "level": 2}
    assert parse(form, ("source", "mail"), ("level", "9")) == {"source": "mail", "level": "9"}


def test_multi_choice_getlist() -> None:
    form = make_form({"tags": {"type": "array", "title": "标签", "items": {"type": "string", "oneOf": CHOICES}}})
    assert parse(form, ("tags", "walk_in"), ("tags", "phone")) == {"tags": ["walk_in", "phone"]}
    assert parse(form, ("tags", "")) == {}


def test_required_multi_choice_left_empty_is_omitted() -> None:
    form = make_form({"tags": {"type": "array", "title": "标签", "items": {"type": "string", "oneOf": CHOICES}}},
                     required=["tags"])
    assert parse(form) == {}


def test_datetime_space_normalised() -> None:
    form = make_form({"at": {"type": "string", "format": "date-time", "title": "时间"}})
    assert parse(form, ("at", "2026-05-01 09:30")) == {"at": "2026-05-01T09:30"}
    assert parse(form, ("at", "2026-05-01T09:30:15+08:00")) == {"at": "2026-05-01T09:30:15+08:00"}


VISITOR = {"visitor": {"type": "object", "title": "来访人", "properties": {
    "name": {"type": "string", "title": "姓名"}, "adult": {"type": "boolean", "title": "成年"}}}}


def test_nested_object_omitted_when_empty_unless_required() -> None:
    assert parse(make_form(VISITOR)) == {}
    assert parse(make_form(VISITOR), ("visitor/name", "李四")) == {"visitor": {"name": "李四", "adult": False}}
    assert parse(make_form(VISITOR, required=["visitor"])) == {"visitor": {"adult": False}}


ROWS = {"rows": {"type": "array", "title": "明细", "items": {"type": "object", "properties": {
    "item": {"type": "string", "title": "名称"}, "qty": {"type": "integer", "title": "数量"},
    "done": {"type": "boolean", "title": "完成"}}}}}


def test_rows_with_gaps_are_compacted_in_order() -> None:
    data = parse(make_form(ROWS), ("rows/10/item", "丙"), ("rows/2/item", "乙"), ("rows/0/item", "甲"),
                 ("rows/2/qty", "3"), ("rows/5/done", "true"), ("rows/__index__/item", "模板"))
    assert data == {"rows": [{"item": "甲", "done": False}, {"item": "乙", "qty": 3, "done": False},
                             {"done": True}, {"item": "丙", "done": False}]}


def test_blank_rows_dropped_and_no_rows_omitted() -> None:
    form = make_form(ROWS)
    assert parse(form, ("rows/0/item", ""), ("rows/1/qty", " ")) == {}
    assert parse(form, ("rows/0/item", ""), ("rows/1/item", "乙")) == {"rows": [{"item": "乙", "done": False}]}


def test_nested_rows() -> None:
    form = make_form({"groups": {"type": "array", "title": "组", "items": {"type": "object", "properties": {
        "people": {"type": "array", "title": "人员", "items": {"type": "object", "properties": {
            "name": {"type": "string", "title": "姓名"}}}}}}}})
    data = parse(form, ("groups/3/people/9/name", "乙"), ("groups/3/people/1/name", "甲"), ("groups/1/people/0/name", ""))
    assert data == {"groups": [{"people": [{"name": "甲"}, {"name": "乙"}]}]}


def test_escaped_keys() -> None:
    form = make_form({"a/b": {"type": "string", "title": "斜杠"}})
    assert parse(form, ("a~1b", "x")) == {"a/b": "x"}


# --- conditional sections --------------------------------------------------------------------------

HANDLING = {"handling": {"type": "string", "title": "处理方式",
                         "oneOf": [{"const": "self", "title": "自办"}, {"const": "transfer", "title": "转办"}]}}
TRANSFER_IF = {"properties": {"handling": {"const": "transfer"}}, "required": ["handling"]}
TARGET = {"target_unit": {"type": "string", "title": "接收单位"}}
RESULT = {"result": {"type": "string", "title": "办理结果"}}


def test_then_values_kept_when_condition_holds_dropped_otherwise() -> None:
    form = make_form(HANDLING, **{"if": TRANSFER_IF, "then": {"properties": TARGET}, "else": {"properties": RESULT}})
    posted = [("target_unit", "派出所"), ("result", "已办结")]
    assert parse(form, ("handling", "transfer"), *posted) == {"handling": "transfer", "target_unit": "派出所"}
    assert parse(form, ("handling", "self"), *posted) == {"handling": "self", "result": "已办结"}
    assert parse(form, *posted) == {"result": "已办结"}


def test_sections_inside_all_of_and_rows() -> None:
    row = {"type": "object", "properties": HANDLING, "allOf": [{"if": TRANSFER_IF, "then": {"properties": TARGET}}]}
    form = make_form({"rows": {"type": "array", "title": "明细", "items": row}})
    data = parse(form, ("rows/0/handling", "self"), ("rows/0/target_unit", "甲"),
                 ("rows/1/handling", "transfer"), ("rows/1/target_unit", "乙"))
    assert data == {"rows": [{"handling": "self"}, {"handling": "transfer", "target_unit": "乙"}]}


def test_nested_branch_needs_both_conditions_and_cascades() -> None:
    inner = {"if": {"properties": {"target_unit": {"const": "外县"}}, "required": ["target_unit"]},
             "then": {"properties": {"county": {"type": "string", "title": "县"}}}}
    form = make_form(HANDLING, **{"if": TRANSFER_IF, "then": {"properties": TARGET, **inner}})
    posted = [("target_unit", "外县"), ("county", "某县")]
    expected = {"handling": "transfer", "target_unit": "外县", "county": "某县"}
    assert parse(form, ("handling", "transfer"), *posted) == expected
    assert parse(form, ("handling", "self"), *posted) == {"handling": "self"}


def test_booleans_of_inactive_sections_are_dropped() -> None:
    urgent = {"urgent": {"type": "boolean", "title": "急"}}
    form = make_form(HANDLING, **{"if": TRANSFER_IF, "then": {"properties": urgent}})
    assert parse(form, ("handling", "self")) == {"handling": "self"}
    assert parse(form, ("handling", "transfer")) == {"handling": "transfer", "urgent": False}


def test_dependent_values_dropped_when_trigger_empty() -> None:
    form = make_form({"reason": {"type": "string", "title": "原因"}, "deadline": {"type": "string", "title": "期限"}},
                     dependentRequired={"reason": ["deadline"]})
    assert parse(form, ("reason", ""), ("deadline", "2026-06-01")) == {}
    assert parse(form, ("reason", "补证"), ("deadline", "2026-06-01")) == {"reason": "补证", "deadline": "2026-06-01"}


def test_plain_lists_one_value_per_line() -> None:
    form = make_form({"phones": {"type": "array", "title": "电话", "items": {"type": "string"}},
                      "counts": {"type": "array", "title": "数", "items": {"type": "integer"}}})
    data = parse(form, ("phones", " 123 \r\n\r\n456\n"), ("counts", "1\nx"))
    assert data == {"phones": ["123", "456"], "counts": [1, "x"]}

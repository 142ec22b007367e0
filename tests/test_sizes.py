"""Sizes (issue 13, item 8): every free-text string has a limit, requests are capped, lists cut text.

A 10 MB 事由摘要 used to be accepted, and page 1 of the list then weighed 21 MB.
"""
from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.forms import build_form, validate
from server.forms.lengths import REF_MAX, TEXT_MAX, TEXTAREA_MAX, with_default_lengths
from server.settings import PROJECT_ROOT
from server.specs.model import FormSpec, canonical_digest
from tests.conftest import csrf_token
from tests.test_records import GOOD

MB = 1024 * 1024


def _form(properties: dict[str, Any], **extra: Any):  # type: ignore[no-untyped-def]
    schema = {"type": "object", "title": "测试表", "properties": properties, **extra}
    return build_form(FormSpec(id="t", title="测试表", schema=schema, digest=canonical_digest(schema)))


def _errors(model, data: Any) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(e.pointer, e.message) for e in validate(model, data)]


@pytest.mark.parametrize("field, limit", [
    ({"type": "string"}, TEXT_MAX),
    ({"type": ["string", "null"]}, TEXT_MAX),
    ({"type": "string", "x-ui": {"widget": "text"}}, TEXT_MAX),
    ({"type": "string", "pattern": "^.*$"}, TEXT_MAX),
    ({"type": "string", "x-ui": {"widget": "textarea"}}, TEXTAREA_MAX),
    ({"type": "string", "x-ui": {"ref": "other"}}, REF_MAX),
    ({"type": "string", "maxLength": 20000, "x-ui": {"widget": "textarea"}}, 20000),  # the form's own wins
    ({"type": "string", "maxLength": 10, "x-ui": {"widget": "textarea"}}, 10),
])
def test_free_text_has_a_limit_by_widget_and_the_forms_own_wins(field, limit):
    model = _form({"f": {"title": "字段", **field}})
    assert _errors(model, {"f": "字" * limit}) == []
    assert _errors(model, {"f": "字" * (limit + 1)}) == [("/f", f"不能超过 {limit} 个字")]


def test_limits_reach_rows_lists_nested_objects_and_conditional_sections():
    model = _form({
        "visitor": {"type": "object", "title": "来访人", "properties": {"name": {"type": "string", "title": "姓名"}}},
        "steps": {"type": "array", "title": "措施", "items": {"type": "object", "properties": {
            "what": {"type": "string", "title": "内容", "x-ui": {"widget": "textarea"}}}}},
        "tags": {"type": "array", "title": "标签", "items": {"type": "string"}},
        "handling": {"type": "string", "title": "处理", "oneOf": [{"const": "transfer", "title": "转办"}]},
    }, allOf=[{"if": {"properties": {"handling": {"const": "transfer"}}, "required": ["handling"]},
               "then": {"properties": {"unit": {"type": "string", "title": "承办单位"}}}}])
    long = "长" * (TEXTAREA_MAX + 1)
    data = {"visitor": {"name": long}, "steps": [{"what": "短"}, {"what": long}], "tags": ["a", long],
            "handling": "transfer", "unit": long}
    assert _errors(model, data) == [("/visitor/name", "不能超过 200 个字"), ("/steps/1/what", "不能超过 5000 个字"),
                                    ("/tags", "不能超过 200 个字"), ("/unit", "不能超过 200 个字")]


def test_a_branch_restating_a_field_adds_no_default_to_it():
    """``then`` may add rules to an existing text area: it stays a text area of 5,000."""
    model = _form({"handling": {"type": "string", "title": "处理", "oneOf": [{"const": "t", "title": "转办"}]},
                   "summary": {"type": "string", "title": "摘要", "x-ui": {"widget": "textarea"}}},
                  allOf=[{"if": {"properties": {"handling": {"const": "t"}}, "required": ["handling"]},
                          "then": {"properties": {"summary": {"type": "string", "minLength": 2}}}}])
    assert _errors(model, {"handling": "t", "summary": "长" * 5000}) == []
    assert _errors(model, {"handling": "t", "summary": "长" * 5001}) == [("/summary", "不能超过 5000 个字")]


def test_dates_choices_numbers_and_conditions_get_no_length():
    schema = {"type": "object", "title": "t", "properties": {
        "day": {"type": "string", "format": "date", "title": "日期"},
        "at": {"type": "string", "format": "date-time", "title": "时间"},
        "kind": {"type": "string", "title": "类别", "oneOf": [{"const": "a", "title": "甲"}]},
        "unit": {"type": "string", "title": "单位", "x-ui": {"org": {"kinds": ["township"]}}},
        "n": {"type": "integer", "title": "数"},
        "any": {"title": "未写类型"},
    }, "if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["n"]}}
    result = with_default_lengths(schema)
    assert result == schema  # nothing to add; the if (a condition) is never touched
    assert "maxLength" not in str(result)


def test_a_ref_is_judged_with_its_siblings_and_the_limit_sits_beside_it():
    schema = {"type": "object", "title": "t", "$defs": {"text": {"type": "string"}},
              "properties": {"short": {"$ref": "#/$defs/text", "title": "短"},
                             "long": {"$ref": "#/$defs/text", "title": "长", "x-ui": {"widget": "textarea"}}}}
    result = with_default_lengths(schema)
    assert result["$defs"]["text"] == {"type": "string"}
    assert result["properties"]["short"]["maxLength"] == TEXT_MAX
    assert result["properties"]["long"]["maxLength"] == TEXTAREA_MAX
    model = build_form(FormSpec(id="r", title="t", schema=schema, digest=canonical_digest(schema)))
    assert _errors(model, {"short": "x" * 201, "long": "x" * 5000}) == [("/short", "不能超过 200 个字")]


def test_the_shipped_summary_refuses_ten_megabytes():
    from server.specs import load_config

    forms = load_config(PROJECT_ROOT / "config").forms
    model = build_form(forms["visit_register"])
    assert model.field_at("summary").kind == "textarea"
    errors = dict(_errors(model, {"summary": "扰" * (10 * MB)}))
    assert errors["/summary"] == "不能超过 5000 个字"
    assert "/summary" not in dict(_errors(model, {"summary": "扰" * 5000}))


def test_the_page_tells_the_browser_the_limits(client):
    html = client.get("/forms/incident/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="visitor/name"[^>]*maxlength="200"', html)
    assert re.search(r'<textarea[^>]*name="summary"[^>]*maxlength="200"', html)  # the form's own maxLength
    assert re.search(r'<input[^>]*name="unit"[^>]*maxlength="200"', html)  # a conditional section's field
    assert not re.search(r'<input[^>]*name="reported_on"[^>]*maxlength', html)  # a date: no length


def test_the_api_refuses_overlong_text_with_a_chinese_field_error(api):
    data = {**GOOD, "visitor": {"name": "王" * 201}}
    response = api.post("/api/v1/forms/incident/records", json=data)
    assert response.status_code == 422
    assert response.get_json() == {"errors": [{"pointer": "/visitor/name", "message": "不能超过 200 个字"}]}


def _records() -> int:
    from server.records.models import Record

    return db.session.scalar(sa.select(sa.func.count()).select_from(Record))


def test_requests_are_capped(api, client):
    huge = {**GOOD, "visitor": {"name": "王" * (3 * MB)}}
    assert api.post("/api/v1/forms/incident/records", json=huge).status_code == 413
    page = client.post("/forms/incident/new", data={"csrf_token": csrf_token(client), "summary": "x" * (3 * MB)})
    assert page.status_code == 413
    assert _records() == 0


def test_the_sheet_import_may_be_larger_than_other_posts(app):
    from tests.test_admin import logged_in, token_of

    admin = logged_in(app, "admin")

    def upload(size: int):  # type: ignore[no-untyped-def]
        return admin.post("/admin/org-import/", content_type="multipart/form-data", data={
            "csrf_token": token_of(admin, "/admin/org-import/"), "sheet": (io.BytesIO(b"x" * size), "units.xls")})

    reached = upload(3 * MB)  # past the 2 MB cap of other posts: the import itself answers
    assert reached.status_code == 200 and "导入失败，未做任何改动" in reached.get_data(as_text=True)
    assert upload(21 * MB).status_code == 413


def test_the_list_page_cuts_long_text(app, client, user):
    """Page 1 stays small even with records holding megabytes (saved before there were limits)."""
    from server.records import service
    from server.records.models import Record

    full = "噪" * 200  # the form allows 200: more than a cell shows
    service.create_record("incident", {**GOOD, "summary": full}, user)
    old = service.create_record("incident", GOOD, user)
    db.session.execute(sa.update(Record).where(Record.id == old.id).values(data={**GOOD, "summary": "旧" * MB}))
    db.session.commit()

    response = client.get("/forms/incident/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and len(response.data) < 100_000
    assert "噪" * 99 + "…" in html and full not in html
    assert "旧" * 99 + "…" in html and "旧" * 100 not in html
    lookup = client.get("/forms/incident/lookup?q=").get_json()
    assert all(len(item["label"]) <= 100 for item in lookup) and lookup[0]["label"].endswith("…")

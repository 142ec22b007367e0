"""What the OpenAPI document says per form: the schema of a record's ``data`` and the form's own paths.

A client must know the shape of the body it sends, so each live form gets ``/forms/<id>/records``
(list and create) with its data schema as ``components.schemas.form_<id>`` and its own list
parameters (filters with their options, sortable columns, workflow states).

A form file is JSON Schema 2020-12, as OpenAPI 3.1 schemas are, but it cannot be pasted in as is:
its local ``$ref``s (``#/$defs/x``) would resolve against the OpenAPI document, and its ``x-ui`` /
``x-form`` hints (layout, permissions, numbering) are for the pages, not for API clients. So
references are rebased onto the component, and hints, ``$schema`` and ``$id`` are dropped. The
schema is the one the server validates with: org units expanded into choices and the default text
lengths (:mod:`server.forms.lengths`) added.
"""
from __future__ import annotations

from typing import Any, Mapping

from server.api.openapi_schemas import Schema, ref
from server.forms import build_form, filter_fields
from server.forms.lengths import with_default_lengths
from server.specs.model import FormSpec

_NAMED = ("properties", "patternProperties", "$defs", "dependentSchemas")
_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SINGLE = ("items", "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "contains", "not",
           "if", "then", "else", "propertyNames")
_DROPPED = ("$schema", "$id", "$anchor", "$dynamicAnchor")


def data_component(form: FormSpec) -> str:
    return f"form_{form.id}"


def data_schema(form: FormSpec) -> Schema:
    """The record data schema of ``form`` as an OpenAPI component (``#/components/schemas/form_<id>``)."""
    base = f"#/components/schemas/{data_component(form)}"
    return _rebased(with_default_lengths(form.schema), base)


def _rebased(node: Any, base: str) -> Any:
    """A copy of a schema node with local refs pointing into the component and without hints."""
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _DROPPED:
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith("#"):
            out[key] = base + value[1:]
        elif key in _NAMED and isinstance(value, Mapping):
            out[key] = {name: _rebased(sub, base) for name, sub in value.items()}
        elif key in _LISTS and isinstance(value, list):
            out[key] = [_rebased(sub, base) for sub in value]
        elif key in _SINGLE:
            out[key] = [_rebased(sub, base) for sub in value] if isinstance(value, list) else _rebased(value, base)
        else:
            out[key] = value  # const, enum, required, titles ...: values, not schemas
    return out


def form_paths(form: FormSpec, workflow_states: list[str], sorts: list[str],
               errors: Mapping[str, Any]) -> dict[str, Any]:
    """``/forms/<id>/records``: the page of records (GET) and a new record (POST) of one form."""
    listing = {"summary": f"{form.title}：记录列表", "operationId": f"list_{form.id}",
               "parameters": _list_parameters(form, workflow_states, sorts),
               "responses": {"200": {"description": "一页记录（每条记录完整；data 按保存时的表单版本）",
                                     "content": {"application/json": {"schema": ref("RecordPage")}}},
                             **_pick(errors, "401", "403", "422")}}
    create = {"summary": f"{form.title}：新建记录", "operationId": f"create_{form.id}",
              "requestBody": {"required": True, "description": f"记录数据（{form.title}）",
                              "content": {"application/json": {"schema": ref(data_component(form))}}},
              "responses": {"201": {"description": "已创建", "headers": {
                  "Location": {"required": True, "schema": {"type": "string"}, "description": "新记录的地址"},
                  "ETag": {"required": True, "schema": {"type": "string"}, "description": "版本号，如 \"1\""}},
                  "content": {"application/json": {"schema": ref("Record")}}},
                  **_pick(errors, "400", "401", "403", "413", "422")}}
    return {f"/forms/{form.id}/records": {"get": listing, "post": create},
            f"/forms/{form.id}/import": {"post": _import_operation(form, errors)}}


def _import_operation(form: FormSpec, errors: Mapping[str, Any]) -> dict[str, Any]:
    """``/forms/<id>/import``: the ledger's Excel import (the 导入 page's dry run and confirmation)."""
    answer = "application/json"
    return {
        "summary": f"{form.title}：从 Excel 导入", "operationId": f"import_{form.id}",
        "description": "上传与“导出 Excel”相同格式的 .xlsx（第一行为列标题）。每行按表单校验；全部无误才导入，"
                       "任一行有误则一条也不保存。dry_run=1 只检查并预览。",
        "parameters": [{"name": "dry_run", "in": "query", "required": False, "schema": {"enum": ["0", "1", "true", "false"]},
                        "description": "1：只检查、预览，不保存；默认 0"}],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "contentMediaType":
                                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                    "description": ".xlsx 文件"}}}}}},
        "responses": {
            "200": {"description": "dry_run：可以导入，附前 20 行预览；未保存",
                    "content": {answer: {"schema": ref("ImportResult")}}},
            "201": {"description": "已全部导入", "content": {answer: {"schema": ref("ImportResult")}}},
            "413": {"description": "文件过大（上限 IMPORT_MAX_MB，默认 10 MB）",
                    "content": {answer: {"schema": ref("Error")}}},
            "422": {"description": "不能导入：文件、列或某行有误（ImportErrors，逐条说明），或请求本身含有不允许的字符"
                                   "（ValidationErrors）；没有保存任何记录",
                    "content": {answer: {"schema": {"oneOf": [ref("ImportErrors"), ref("ValidationErrors")]}}}},
            **_pick(errors, "400", "401", "403", "404")}}


def _pick(errors: Mapping[str, Any], *codes: str) -> dict[str, Any]:
    return {code: errors[code] for code in codes}


def _list_parameters(form: FormSpec, workflow_states: list[str], sorts: list[str]) -> list[dict[str, Any]]:
    """Search, paging, sorting and the form's own filters; unknown or malformed values are ignored
    (the list falls back to no filter, page 1, newest first), never refused."""
    params = [
        _query("q", {"type": "string", "maxLength": 200}, "全文搜索（只在本人有权查看的内容中查找）"),
        _query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, "页码，默认 1"),
        _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "每页条数，默认 20，最多 100"),
        _query("sort", {"enum": sorts}, "排序字段，前加 - 为倒序；默认 -created_at"),
    ]
    for flt in filter_fields(build_form(form)):
        if flt.kind == "choice":
            options = [c for c, _ in flt.choices if isinstance(c, str)]
            if options:
                params.append(_query(f"f.{flt.path}", {"enum": options}, f"按「{flt.label}」筛选"))
        else:
            params.append(_query(f"from.{flt.path}", {"type": "string", "format": "date"}, f"「{flt.label}」起"))
            params.append(_query(f"to.{flt.path}", {"type": "string", "format": "date"}, f"「{flt.label}」止"))
    if workflow_states:
        params.append(_query("state", {"enum": workflow_states}, "流程状态"))
        params.append(_query("overdue", {"enum": ["1"]}, "1：只列已逾期的事项"))
    return params


def _query(name: str, schema: Schema, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}

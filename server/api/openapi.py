"""The OpenAPI 3.1 document of /api/v1, with every live form's schema as a component."""
from __future__ import annotations

from typing import Any

from server.specs.model import FormSpec

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _param(name: str, where: str = "path", kind: str = "string", description: str = "") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": {"type": kind},
            "description": description}


ERRORS = {
    "401": _json(_ref("Error"), "未登录或令牌无效"),
    "403": _json(_ref("Error"), "无权进行此操作"),
    "404": _json(_ref("Error"), "不存在或无权查看"),
}


def _paths() -> dict[str, Any]:
    record_id = _param("record_id", kind="integer")
    form_id = _param("form_id", description="表单（台账）标识，如 visit_register")
    return {
        "/health": {"get": {"summary": "健康检查", "security": [],
                            "responses": {"200": _json(_ref("Health"), "服务正常")}}},
        "/openapi.json": {"get": {"summary": "本文档", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        "/me": {"get": {"summary": "当前用户、所属单位及各表单权限", "responses": {
            "200": _json(_ref("Me"), "当前用户"), **ERRORS}}},
        "/org-units": {"get": {"summary": "单位列表", "parameters": [
            _param("kind", "query", description="单位类别，如 township、village、county_unit"),
            _param("parent", "query", description="上级单位代码")],
            "responses": {"200": _json({"type": "array", "items": _ref("OrgUnit")}, "在用单位"), **ERRORS}}},
        "/forms": {"get": {"summary": "表单列表", "responses": {
            "200": _json({"type": "array", "items": _ref("FormSummary")}, "全部在用表单"), **ERRORS}}},
        "/forms/{form_id}": {"get": {"summary": "表单定义", "parameters": [form_id], "responses": {
            "200": _json(_ref("Form"), "表单及其 JSON Schema"), **ERRORS}}},
        "/forms/{form_id}/records": {
            "get": {"summary": "记录列表", "parameters": [
                form_id, _param("q", "query", description="全文搜索"), _param("page", "query", "integer"),
                _param("per_page", "query", "integer", "每页条数，最多 100"),
                _param("sort", "query", description="排序字段，前加 - 为倒序")],
                "responses": {"200": _json(_ref("RecordPage"), "一页记录"), **ERRORS}},
            "post": {"summary": "新建记录", "parameters": [form_id],
                     "requestBody": {"required": True, "content": {JSON: {"schema": {"type": "object"}}},
                                     "description": "记录数据，须符合该表单的 JSON Schema（见 components.schemas.form_*）"},
                     "responses": {"201": _json(_ref("Record"), "已创建"),
                                   "422": _json(_ref("ValidationErrors"), "数据不符合表单"), **ERRORS}}},
        "/records/{record_id}": {
            "get": {"summary": "读取记录", "parameters": [record_id],
                    "responses": {"200": _json(_ref("Record"), "记录"), **ERRORS}},
            "put": {"summary": "修改记录", "parameters": [
                record_id, {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
                            "description": "读取时得到的版本号（ETag）"}],
                    "requestBody": {"required": True, "content": {JSON: {"schema": {"type": "object"}}}},
                    "responses": {"200": _json(_ref("Record"), "已保存"),
                                  "409": _json(_ref("Error"), "他人已先保存，版本过期"),
                                  "422": _json(_ref("ValidationErrors"), "数据不符合表单"),
                                  "428": _json(_ref("Error"), "缺少 If-Match"), **ERRORS}}},
        "/records/{record_id}/decisions": {"get": {"summary": "规则决定（为什么）", "parameters": [record_id],
            "responses": {"200": _json({"type": "array", "items": _ref("Decision")}, "涉及该记录的全部规则决定"),
                          **ERRORS}}},
        "/rules/{ruleset_id}/simulate": {"post": {
            "summary": "模拟规则（不保存）", "parameters": [_param("ruleset_id", description="规则集标识，如 acceptance")],
            "requestBody": {"required": True, "content": {JSON: {"schema": {"oneOf": [
                {"type": "object", "required": ["facts"], "properties": {"facts": {"type": "object"}}},
                {"type": "object", "required": ["record_id"], "properties": {"record_id": {"type": "integer"}}}]}}}},
            "responses": {"200": _json({"type": "object", "properties": {
                "ruleset": {"type": "string"}, "decisions": {"type": "array", "items": _ref("Decision")}}}, "将作出的决定"),
                "422": _json(_ref("ValidationErrors"), "事实不符合声明"), **ERRORS}}},
        "/records/{record_id}/history": {"get": {"summary": "修改历史", "parameters": [record_id], "responses": {
            "200": _json({"type": "array", "items": _ref("AuditEntry")}, "审计记录，按时间先后"), **ERRORS}}},
        **_document_paths(),  # documents (公文)
        **_register_paths(),  # registers (考核登记)
        **_flow_paths(),  # procedures: transitions, timeline, 待办
    }


# -- procedures (流程) -------------------------------------------------------------------------------
def _flow_paths() -> dict[str, Any]:
    record_id = _param("record_id", kind="integer")
    return {
        "/records/{record_id}/transitions/{transition_id}": {"post": {
            "summary": "办理流转（如 转办、报告办理结果、审核办结、回访）",
            "parameters": [record_id, _param("transition_id", description="流转标识，见记录的 transitions")],
            "requestBody": {"required": True, "content": {JSON: {"schema": {
                "type": "object", "additionalProperties": False, "properties": {
                    "fields": {"type": "object", "description": "本次流转填写的字段（按记录数据的结构，只能是该流转的 dialog 字段）"},
                    "reason": {"type": "string", "description": "理由（部分流转必填）"},
                    "version": {"type": "integer", "description": "读取时的记录版本，防止覆盖他人的修改"}}}}}},
            "responses": {"200": _json(_ref("Record"), "已办理，记录的新状态"),
                          "409": _json(_ref("Error"), "当前状态不能办理此流转，或记录已被他人修改"),
                          "422": _json(_ref("ValidationErrors"), "缺少必填字段、不满足条件或数据不符合表单"), **ERRORS}}},
        "/records/{record_id}/timeline": {"get": {"summary": "办理过程（谁、何时、从何状态到何状态、理由）",
                                                  "parameters": [record_id], "responses": {
            "200": _json({"type": "array", "items": _ref("TimelineEntry")}, "按时间先后"), **ERRORS}}},
        "/inbox": {"get": {"summary": "本单位待办（逾期的在前，再按到期日）", "parameters": [
            _param("status", "query", description="open（默认）、done、withdrawn、closed")],
            "responses": {"200": _json({"type": "object", "properties": {
                "items": {"type": "array", "items": _ref("InboxItem")}, "open": {"type": "integer"},
                "overdue": {"type": "integer"}}}, "待办事项"), **ERRORS}}},
        "/inbox/{item_id}/close": {"post": {
            "summary": "手动办结待办事项（须写明说明，记入审计）", "parameters": [_param("item_id", kind="integer")],
            "requestBody": {"required": True, "content": {JSON: {"schema": {
                "type": "object", "required": ["note"], "properties": {"note": {"type": "string"}}}}}},
            "responses": {"200": _json(_ref("InboxItem"), "已办结"),
                          "422": _json(_ref("ValidationErrors"), "缺少说明或已不在待办中"), **ERRORS}}},
    }


FLOW_SCHEMAS = {
    "TimelineEntry": {"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"}, "transition": {"type": ["string", "null"]},
        "label": {"type": "string"}, "from": {"type": ["string", "null"]}, "to": {"type": "string"},
        "from_title": {"type": ["string", "null"]}, "to_title": {"type": "string"},
        "reason": {"type": ["string", "null"]}, "by": {"type": "string"}}},
    "InboxItem": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": {"enum": ["step", "task", "notice", "escalation"]},
        "kind_title": {"type": "string"}, "title": {"type": "string"}, "message": {"type": ["string", "null"]},
        "due_date": {"type": ["string", "null"], "format": "date"}, "status": {"type": "string"},
        "record": {"type": ["object", "null"]}, "created_at": {"type": "string", "format": "date-time"}}},
}


# -- documents (公文) ------------------------------------------------------------------------------
def _document_paths() -> dict[str, Any]:
    document_id = _param("document_id", kind="integer", description="已签发文书的 id")
    return {
        "/documents": {"post": {
            "summary": "签发文书（取文号、排版、登记）",
            "requestBody": {"required": True, "content": {JSON: {"schema": {"oneOf": [
                {"type": "object", "required": ["doc_id", "record_id"], "additionalProperties": False, "properties": {
                    "doc_id": {"type": "string", "description": "文书标识（config/documents/<id>）"},
                    "record_id": {"type": "integer", "description": "由哪条记录生成"}}},
                {"type": "object", "required": ["doc_id", "month"], "additionalProperties": False, "properties": {
                    "doc_id": {"type": "string"},
                    "month": {"type": "string", "pattern": "^\\d{4}-(0[1-9]|1[0-2])$", "description": "统计类文书的月份"}}}]}}}},
            "responses": {"201": _json(_ref("IssuedDocument"), "已签发"),
                          "422": _json({"oneOf": [_ref("ValidationErrors"), _ref("Error")]},
                                       "请求体有误或记录缺少文书所需内容（errors），或排版失败（error: render_failed）"),
                          **ERRORS}}},
        "/documents/{document_id}": {"get": {"summary": "读取已签发文书", "parameters": [document_id],
                                             "responses": {"200": _json(_ref("IssuedDocument"), "文书"), **ERRORS}}},
        "/documents/{document_id}.pdf": {"get": {"summary": "下载文书 PDF（签发时保存的原样字节）",
                                                 "parameters": [document_id], "responses": {
            "200": {"description": "PDF", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
            **ERRORS}}},
    }


ISSUED_DOCUMENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "number": {"type": "string", "description": "发文字号"},
    "doc_id": {"type": "string"}, "title": {"type": "string"}, "record_id": {"type": ["integer", "null"]},
    "sha256": {"type": "string"}, "pages": {"type": "integer"}, "state": {"enum": ["issued", "revoked"]},
    "issued_at": {"type": "string", "format": "date-time"}, "revoked_reason": {"type": ["string", "null"]},
    "links": {"type": "object", "properties": {"self": {"type": "string"}, "pdf": {"type": "string"}}}}}
# -- /documents --------------------------------------------------------------------------------------


# -- registers (考核登记): one-vote vetoes, award ineligibility, accountability ----------------------------
def _register_paths() -> dict[str, Any]:
    unit = _param("unit", "query", description="单位代码，只列该单位的登记")
    record_id = _param("record_id", "query", "integer", "只列由该记录引起的登记")
    year = {**_param("year", "query", "integer", "年度（2000–2100）"),
            "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}}
    own = {"vetoes": ("一票否决登记", [year], {"year": {"type": "integer"}, "reason": {"type": "string"}}),
           "award-ineligibility": ("评先资格取消登记", [], {
               "award": {"type": "string"}, "from_date": {"type": ["string", "null"], "format": "date"},
               "until_date": {"type": ["string", "null"], "format": "date"}}),
           "accountability": ("责任追究登记", [], {"post": {"type": "string"}, "person": {"type": "string"},
                                                   "reason": {"type": "string"}})}
    return {f"/{slug}": {"get": {
        "summary": f"{title}（按单位与记录范围，新的在前）", "parameters": [*extra, unit, record_id],
        "responses": {"200": _json({"type": "object", "properties": {"items": {"type": "array", "items": {
            "allOf": [_ref("RegisterRow"), {"type": "object", "properties": props}]}}}}, title),
            "422": _json(_ref("ValidationErrors"), "筛选参数有误"), **ERRORS}}}
        for slug, (title, extra, props) in own.items()}


REGISTER_ROW = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "unit": {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    "created_at": {"type": "string", "format": "date-time"},
    "decision": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "explanation": {"type": "string"},
        "ruleset": {"type": "string"}, "rule": {"type": "string"}}},
    "record": {"description": "引起该登记的记录；无记录或无权查看时为 null", "anyOf": [{"type": "null"}, {
        "type": "object", "properties": {"id": {"type": "integer"}, "number": {"type": "string"},
                                         "form_id": {"type": "string"},
                                         "links": {"type": "object", "properties": {"self": {"type": "string"}}}}}]}}}
# -- /registers ---------------------------------------------------------------------------------------


def _components(forms: list[FormSpec]) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
        "Health": {"type": "object", "properties": {"status": {"const": "ok"}, "config_version": {"type": "string"}}},
        "FormSummary": {"type": "object", "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                                                         "version": {"type": "integer"}}},
        "Form": {"allOf": [_ref("FormSummary"), {"type": "object", "properties": {"schema": {"type": "object"}}}]},
        "OrgUnit": {"type": "object", "properties": {
            "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
            "kind": {"type": "string"}, "parent_id": {"type": ["integer", "null"]},
            "serves_id": {"type": ["integer", "null"]}, "posts": {"type": "object"}}},
        "Me": {"type": "object", "properties": {
            "id": {"type": "integer"}, "username": {"type": "string"}, "display_name": {"type": "string"},
            "role": {"type": "string"}, "org_unit": {"anyOf": [_ref("OrgUnit"), {"type": "null"}]},
            "permissions": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}},
        "Decision": {"type": "object", "properties": {
            "ruleset": {"type": "string"}, "rule": {"type": "string"}, "title": {"type": "string"},
            "explanation": {"type": "string"}, "facts": {"type": "object"}, "actions": {"type": "array"},
            "outcome": {"type": "string"}}},
        "ValidationErrors": {"type": "object", "properties": {"errors": {"type": "array", "items": {
            "type": "object", "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}}}}}},
        "Record": {"type": "object", "properties": {
            "id": {"type": "integer"}, "number": {"type": "string"}, "form_id": {"type": "string"},
            "form_version": {"type": "integer"}, "org_unit_id": {"type": "integer"}, "state": {"type": "string"},
            "data": {"type": "object"}, "version": {"type": "integer"},
            "created_by": {"type": "integer"}, "created_at": {"type": "string", "format": "date-time"},
            "updated_by": {"type": "integer"}, "updated_at": {"type": "string", "format": "date-time"},
            "state_title": {"type": "string", "description": "流程状态（表单有流程时）"},
            "due": {"type": ["object", "null"], "properties": {
                "date": {"type": "string", "format": "date"}, "working_days_left": {"type": "integer"},
                "overdue": {"type": "boolean"}}},
            "transitions": {"type": "array", "description": "当前用户可办理的流转", "items": {"type": "object"}}}},
        "RecordPage": {"type": "object", "properties": {"items": {"type": "array", "items": _ref("Record")},
                                                        "total": {"type": "integer"}, "page": {"type": "integer"},
                                                        "per_page": {"type": "integer"}}},
        "AuditEntry": {"type": "object", "properties": {
            "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
            "user_id": {"type": ["integer", "null"]}, "action": {"type": "string"},
            "record_version": {"type": ["integer", "null"]}, "diff": {"type": "array"}}},
        "IssuedDocument": ISSUED_DOCUMENT,  # documents (公文)
        "RegisterRow": REGISTER_ROW,  # registers (考核登记)
        **FLOW_SCHEMAS,  # procedures
    }
    for form in forms:
        schema = {k: v for k, v in form.schema.items() if k != "$schema"}
        schemas[f"form_{form.id}"] = schema
    return {"schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "flask --app server token create 用户名"}}}


def openapi_document(forms: list[FormSpec]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "社会治安重点地区排查整治 API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": _components(forms),
    }

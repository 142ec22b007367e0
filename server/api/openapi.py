"""The OpenAPI 3.1 document of /api/v1, built from the live configuration on every request.

It is exact on purpose: clients generate code from it, and ``tests/test_fuzz_api.py`` sends
requests generated from it with a token of every role and checks each answer against it (status
documented, body matching the schema, content type). Every route registered under /api/v1 is here
and nothing else is (``tests/test_openapi.py`` compares with the app's URL map). Per form, the
record routes carry the form's data schema (:mod:`server.api.openapi_forms`); the response shapes
are in :mod:`server.api.openapi_schemas`.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from server.api.openapi_forms import data_component, data_schema, form_paths
from server.api.openapi_schemas import SCHEMAS, Schema, array, obj, ref
from server.inbox.models import STATUSES
from server.records.query import sortable_paths
from server.specs.model import FormSpec

JSON = "application/json"
ID_SCHEMA: Schema = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
REISSUE: Schema = {"type": "boolean", "default": False,
                   "description": "该记录已签发过同一文书时，确认再签发一份（否则答 409 并列出已签发的各份）"}


def _json(schema: Schema, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _param(name: str, where: str = "path", schema: Schema | None = None, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema or {"type": "string"},
            "description": description}


def _body(schema: Schema, description: str = "") -> dict[str, Any]:
    return {"required": True, "description": description, "content": {JSON: {"schema": schema}}}


ETAG = {"ETag": {"required": True, "schema": {"type": "string", "pattern": "^\"[0-9]+\"$"},
                 "description": "记录的版本号（带引号），修改时原样放入 If-Match"}}

#: Error answers shared by the operations (each picks the codes it can give).
ERRORS: dict[str, Any] = {
    "400": _json(ref("Error"), "请求无法解析（如 JSON 嵌套过深）"),
    "401": _json(ref("Error"), "未登录或令牌无效：需要 Authorization: Bearer <令牌>"),
    "403": _json(ref("Error"), "无权进行此操作（message 说明原因）"),
    "404": _json(ref("Error"), "不存在，或不在本人可查看的范围内"),
    "413": _json(ref("Error"), "请求体过大（上限 2 MB）"),
    "422": _json(ref("ValidationErrors"), "数据不符合要求：逐个字段说明"),
    "428": _json(ref("Error"), "缺少 If-Match，或其中不是版本号"),
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: ERRORS[code] for code in codes}


#: What ``server.api.preconditions`` reads: the ETag as sent (``"3"``), the bare version (``3``), a
#: weak tag (``W/"3"``), or ``*`` (no version). Anything else is refused with 400, never ignored.
IF_MATCH_SYNTAX = '^((W/)?"[0-9]{1,18}"|[0-9]{1,18}|\\*)$'
IF_MATCH = {
    "name": "If-Match", "in": "header", "required": False,
    "schema": {"type": "string", "pattern": IF_MATCH_SYNTAX},
    "description": "修改时必填：读取记录时得到的版本号，即响应头 ETag 的值（如 \"3\"；也接受 3 或 W/\"3\"）。"
                   "缺少、为空或为 * 时答 428（记录不存在或无权查看时先答 404）；格式不对时答 400；"
                   "与记录当前版本不符时答 409，响应中的 current_version 为当前版本。这几种情况都不做任何修改。",
}
TRANSITION_IF_MATCH = {
    "name": "If-Match", "in": "header", "required": False,
    "schema": {"type": "string", "pattern": IF_MATCH_SYNTAX},
    "description": "可选：读取记录时得到的版本号（同修改记录；请求体中的 version 优先，* 表示不核对）。"
                   "格式不对时答 400；与记录当前版本不符时答 409，不做任何修改。",
}


def _record_paths(rulesets: list[str], transitions: list[str]) -> dict[str, Any]:
    record_id = _param("record_id", schema=ID_SCHEMA, description="记录 id")
    any_form = {"anyOf": [ref(data_component(f)) for f in _forms()]} if _forms() else {"type": "object"}
    return {
        "/records/{record_id}": {
            "get": {"summary": "读取记录", "operationId": "get_record", "parameters": [record_id],
                    "responses": {"200": _json(ref("Record"), "记录", ETAG), **_errors("401", "404")}},
            "put": {"summary": "修改记录（整条替换数据）", "operationId": "update_record", "parameters": [record_id, IF_MATCH],
                    "requestBody": _body(any_form, "记录的全部数据，须符合该记录所属表单的 JSON Schema（components.schemas.form_<表单标识>）"),
                    "responses": {"200": _json(ref("Record"), "已保存", ETAG),
                                  "409": _json(ref("Conflict"), "他人已先保存，版本过期：未保存"),
                                  **_errors("400", "401", "403", "404", "413", "422", "428")}}},
        "/records/{record_id}/history": {"get": {
            "summary": "修改历史", "operationId": "record_history", "parameters": [record_id],
            "responses": {"200": _json(array(ref("AuditEntry")), "审计记录，按时间先后"), **_errors("401", "404")}}},
        "/records/{record_id}/decisions": {"get": {
            "summary": "规则决定（为什么）", "operationId": "record_decisions", "parameters": [record_id],
            "responses": {"200": _json(array(ref("Decision")), "涉及该记录的全部规则决定"), **_errors("401", "404")}}},
        "/records/{record_id}/timeline": {"get": {
            "summary": "办理过程（谁、何时、从何状态到何状态、理由）", "operationId": "record_timeline",
            "parameters": [record_id],
            "responses": {"200": _json(array(ref("TimelineEntry")), "按时间先后；不走流程的记录为空列表"),
                          **_errors("401", "404")}}},
        "/records/{record_id}/transitions/{transition_id}": {"post": {
            "summary": "办理流转（如 转办、报告办理结果、审核办结、回访）", "operationId": "take_transition",
            "parameters": [record_id, _param("transition_id", schema=_names(transitions),
                                             description="流转标识，见记录的 transitions"), TRANSITION_IF_MATCH],
            "requestBody": _body(obj({
                "fields": {"type": "object", "description": "本次流转填写的字段（按记录数据的结构，只能是该流转的 dialog 字段）"},
                "reason": {"type": "string", "maxLength": 2000, "description": "理由（部分流转必填）"},
                "version": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1,
                            "description": "读取时的记录版本，防止覆盖他人的修改（也可用 If-Match）"}}, closed=True)),
            "responses": {
                "200": _json(ref("Record"), "已办理：记录的新状态", ETAG),
                "403": _json(ref("Error"), "本人不能办理此流转（message 说明原因）"),
                "409": _json({"oneOf": [ref("Conflict"), ref("Error")]},
                             "记录已被他人修改（Conflict），或当前状态不能办理此流转（error: transition_state）"),
                "422": _json({"oneOf": [ref("ValidationErrors"), ref("TransitionRefusal")]},
                             "请求体或字段有误（errors），或缺少必填字段、不满足条件（error: transition_field / transition_guard）"),
                **_errors("400", "401", "404", "413")}}},
        "/rules/{ruleset_id}/simulate": {"post": {
            "summary": "模拟规则（不保存；仅县级工作人员和管理员）", "operationId": "simulate_rules",
            "parameters": [_param("ruleset_id", schema=_names(rulesets), description="规则集标识，如 acceptance")],
            "requestBody": _body({**obj({"facts": {"type": "object", "description": "事实（按规则集声明的结构）"},
                                         "record_id": {**ID_SCHEMA, "description": "用这条记录的事实（优先于 facts）"}}),
                                  "anyOf": [{"required": ["facts"]}, {"required": ["record_id"]}]}),
            "responses": {"200": _json(obj({"ruleset": {"type": "string"}, "decisions": array(ref("SimulatedDecision"))},
                                           ["ruleset", "decisions"]), "将作出的决定"),
                          "422": _json(ref("ValidationErrors"), "请求体有误，或事实不符合声明"),
                          **_errors("400", "401", "403", "404", "413")}}},
    }


def _names(known: list[str]) -> Schema:
    """A configured identifier: one of ``known`` (a value that is none of them answers 404)."""
    return {"enum": sorted(known)} if known else {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}


def _other_paths() -> dict[str, Any]:
    form_ids = [f.id for f in _forms()]
    return {
        "/health": {"get": {"summary": "健康检查", "operationId": "health", "security": [],
                            "responses": {"200": _json(ref("Health"), "服务正常")}}},
        "/openapi.json": {"get": {"summary": "本文档（含本县单位等配置，须登录）", "operationId": "openapi",
                                  "responses": {"200": _json(obj({"openapi": {"const": "3.1.0"}, "info": {"type": "object"},
                                                                  "paths": {"type": "object"}}, ["openapi", "info", "paths"]),
                                                             "OpenAPI 3.1"), **_errors("401")}}},
        "/me": {"get": {"summary": "当前用户、所属单位及各表单权限", "operationId": "me",
                        "responses": {"200": _json(ref("Me"), "当前用户"), **_errors("401")}}},
        "/org-units": {"get": {"summary": "在用单位列表", "operationId": "org_units", "parameters": [
            _param("kind", "query", description="单位类别，如 township、village、county_unit"),
            _param("parent", "query", description="上级单位代码：只列其直属单位")],
            "responses": {"200": _json(array(ref("OrgUnit")), "在用单位"), **_errors("401", "422")}}},
        "/forms": {"get": {"summary": "本人可填写或查看的表单", "operationId": "forms",
                           "responses": {"200": _json(array(ref("FormSummary")), "表单列表"), **_errors("401")}}},
        "/forms/{form_id}": {"get": {
            "summary": "表单定义（JSON Schema 原文）", "operationId": "form",
            "parameters": [_param("form_id", schema=_names(form_ids), description="表单（台账）标识，如 visit_register")],
            "responses": {"200": _json(ref("Form"), "表单及其 JSON Schema"), **_errors("401", "404")}}},
        "/documents": {"post": {
            "summary": "签发文书（取文号、排版、登记）", "operationId": "issue_document",
            "requestBody": _body({"oneOf": [
                obj({"doc_id": {"type": "string", "minLength": 1, "description": "文书标识（config/documents/<id>）"},
                     "record_id": {**ID_SCHEMA, "description": "由哪条记录生成"}, "confirm_reissue": REISSUE},
                    ["doc_id", "record_id"], closed=True),
                obj({"doc_id": {"type": "string", "minLength": 1},
                     "month": {"type": "string", "pattern": "^\\d{4}-(0[1-9]|1[0-2])$", "description": "统计类文书的月份"},
                     "confirm_reissue": REISSUE}, ["doc_id", "month"], closed=True)]}),
            "responses": {"201": _json(ref("IssuedDocument"), "已签发", {
                "Location": {"required": True, "schema": {"type": "string"}, "description": "文书的地址"}}),
                "409": _json(obj({"error": {"const": "already_issued"}, "message": {"type": "string"},
                                  "earlier": array(ref("IssuedDocument"))}, ["error", "message", "earlier"]),
                             "该记录已签发过同一文书（earlier 为仍有效的各份）：未签发；确需再发时带 "
                             "\"confirm_reissue\": true 重新提交"),
                "422": _json({"oneOf": [ref("ValidationErrors"), ref("Error")]},
                             "请求体有误或记录缺少文书所需内容（errors），或排版失败（error: render_failed）"),
                **_errors("400", "401", "403", "404", "413")}}},
        "/documents/{document_id}": {"get": {
            "summary": "读取已签发文书", "operationId": "get_document",
            "parameters": [_param("document_id", schema=ID_SCHEMA, description="已签发文书的 id")],
            "responses": {"200": _json(ref("IssuedDocument"), "文书"), **_errors("401", "404")}}},
        "/documents/{document_id}.pdf": {"get": {
            "summary": "下载文书 PDF（签发时保存的原样字节）", "operationId": "get_document_pdf",
            "parameters": [_param("document_id", schema=ID_SCHEMA, description="已签发文书的 id")],
            "responses": {"200": {"description": "PDF", "content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}}}, **_errors("401", "404")}}},
        "/inbox": {"get": {
            "summary": "本单位待办（逾期的在前，再按到期日）", "operationId": "inbox",
            "parameters": [_param("status", "query", {"enum": list(STATUSES)}, "open（默认）、done、withdrawn、closed")],
            "responses": {"200": _json(ref("Inbox"), "待办事项及计数"), **_errors("401", "422")}}},
        "/inbox/{item_id}/close": {"post": {
            "summary": "手动办结待办事项（须写明说明，记入审计）", "operationId": "close_inbox_item",
            "parameters": [_param("item_id", schema=ID_SCHEMA, description="待办事项 id")],
            "requestBody": _body(obj({"note": {"type": "string", "minLength": 1, "maxLength": 2000}}, ["note"])),
            "responses": {"200": _json(ref("InboxItem"), "已办结"),
                          "422": _json(ref("ValidationErrors"), "缺少说明，或事项已不在待办中"),
                          **_errors("400", "401", "403", "404", "413")}}},
        **_register_paths(),
        **_stats_paths(),
    }


def _stats_paths() -> dict[str, Any]:
    """统计分析 (/stats/dashboard): the figures of config/dashboard.json for the token's reader."""
    day = {"type": "string", "format": "date"}
    number: Schema = {"type": "number"}
    optional_number: Schema = {"type": ["number", "null"]}
    group = obj({"key": {"type": "string"}, "label": {"type": "string"}, "value": number, "href": {"type": "string"},
                 "overdue": {"type": "integer"}, "previous": number, "change": optional_number, "target": number},
                ["key", "label", "value", "href"])
    figure = obj({"id": {"type": "string"}, "title": {"type": "string"}, "kind": {"type": "string"},
                  "total": number, "unit": {"type": "string"}, "href": {"type": "string"}, "note": {"type": "string"},
                  "rate": number, "rate_label": {"type": "string"}, "previous": number, "change": optional_number,
                  "overdue": {"type": "integer"}, "target": number, "groups": array(group)},
                 ["id", "title", "kind", "total", "unit", "href", "groups"])
    body = obj({"period": obj({"from": day, "to": day}, ["from", "to"]),
                "unit": {"anyOf": [obj({"code": {"type": "string"}, "name": {"type": "string"}}, ["code", "name"]),
                                   {"type": "null"}]},
                "view": {"enum": ["county", "township", "department", "leader"]},
                "sections": array(obj({"title": {"type": "string"}, "figures": array(figure)}, ["title", "figures"])),
                "links": obj({"page": {"type": "string"}}, ["page"])},
               ["period", "unit", "view", "sections", "links"])
    return {"/stats/dashboard": {"get": {
        "summary": "统计分析：各统计项的合计与分项（按令牌所属用户的范围统计）", "operationId": "stats_dashboard",
        "parameters": [
            _param("from", "query", day, "起始日期（含）；不填则为当年 1 月 1 日"),
            _param("to", "query", day, "截止日期（含）；不填则为今天"),
            _param("period", "query", {"enum": ["month", "quarter", "year", "last_year"]},
                   "不填 from/to 时的快捷期间：本月、本季度、本年（默认）、上年"),
            _param("unit", "query", description="单位代码（仅县级用户）：只统计该乡镇（街道）或县直单位"),
        ],
        "responses": {"200": _json(body, "统计结果；每个数字的 href 是计入它的记录清单"),
                      "422": _json(ref("ValidationErrors"), "日期有误（pointer 为 /from、/to 或 /period）"),
                      **_errors("401", "403", "404")}}}}


def _register_paths() -> dict[str, Any]:
    """一票否决 (/vetoes), 评先资格取消 (/award-ineligibility), 责任追究 (/accountability)."""
    unit = _param("unit", "query", description="单位代码，只列该单位的登记（未知代码答 422）")
    record_id = _param("record_id", "query", ID_SCHEMA, "只列由该记录引起的登记")
    year = _param("year", "query", {"type": "integer", "minimum": 2000, "maximum": 2100}, "年度（2000–2100）")
    own = {"vetoes": ("一票否决登记", [year], {"year": {"type": "integer"}, "reason": {"type": "string"}}),
           "award-ineligibility": ("评先资格取消登记", [], {
               "award": {"type": "string"}, "from_date": {"type": ["string", "null"], "format": "date"},
               "until_date": {"type": ["string", "null"], "format": "date"}}),
           "accountability": ("责任追究登记", [], {"post": {"type": "string"}, "person": {"type": "string"},
                                                   "reason": {"type": "string"}})}
    return {f"/{slug}": {"get": {
        "summary": f"{title}（按单位与记录范围，新的在前）", "operationId": f"register_{slug.replace('-', '_')}",
        "parameters": [*extra, unit, record_id],
        "responses": {"200": _json(obj({"items": array({"allOf": [ref("RegisterRow"), obj(props, list(props))]})},
                                       ["items"]), title),
                      "422": _json(ref("ValidationErrors"), "筛选参数有误"), **_errors("401")}}}
        for slug, (title, extra, props) in own.items()}


def _registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"]


def _forms() -> list[FormSpec]:
    return _registry().forms()


def _form_paths(forms: list[FormSpec]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for form in forms:
        workflow = _registry().workflow_for_form(form.id)
        states = sorted(workflow.states) if workflow is not None else []
        sorts = sorted(sortable_paths(form))
        paths.update(form_paths(form, states, sorts + [f"-{s}" for s in sorts], ERRORS))
    return paths


def openapi_document(forms: list[FormSpec]) -> dict[str, Any]:
    """The whole document for the live configuration: ``forms`` are the live forms."""
    live = _registry().live
    rulesets = sorted(live.rules.rulesets) if live.rules is not None else []
    transitions = sorted({t for w in live.workflows.values() for t in w.transitions})
    schemas = {**SCHEMAS, **{data_component(f): data_schema(f) for f in forms}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "社会治安重点地区排查整治 API", "version": "1",
                 "description": "除 /health 外，每个请求都要带 Authorization: Bearer <令牌>"
                                "（flask --app server token create 用户名）。出错时一律答 JSON。"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {**_other_paths(), **_form_paths(forms), **_record_paths(rulesets, transitions)},
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "API 令牌：flask --app server token create 用户名（令牌会过期，可在管理后台吊销）"}}},
    }

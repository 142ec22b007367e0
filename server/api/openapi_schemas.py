"""The shapes the API answers with, as OpenAPI 3.1 (JSON Schema 2020-12) components.

Errors are *closed* (``additionalProperties: false``, every key required), so that a client, and
the fuzzing test that checks every answer against this document, can tell the kinds apart: a
422 of field errors, a generic ``{"error", "message"}``, a 409 naming the current version. Success
bodies list and type every key the handlers write and require the ones always present; they stay
open to additions, so that a new key is a documentation gap rather than a broken client.
"""
from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
DATE: Schema = {"type": "string", "format": "date"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or ``null`` (an ``anyOf``, so that it also works around a ``$ref``)."""
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def obj(properties: dict[str, Schema], required: list[str] | tuple[str, ...] = (), *, closed: bool = False,
        description: str | None = None) -> Schema:
    """An object schema; ``closed`` refuses keys not listed (error bodies)."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


FIELD_ERROR = obj({"pointer": {"type": "string", "description": "出错字段的 JSON Pointer（如 /visitor/name），整体问题为空串"},
                   "message": {"type": "string", "description": "中文说明"}}, ["pointer", "message"], closed=True)

ERRORS: dict[str, Schema] = {
    "Error": obj({"error": {"type": "string", "description": "错误代码（英文，如 not_found、forbidden）"},
                  "message": {"type": "string", "description": "中文说明"}}, ["error", "message"], closed=True),
    "ValidationErrors": obj({"errors": {**array(ref("FieldError")), "minItems": 1}}, ["errors"], closed=True,
                            description="数据不符合要求：每个出错字段一条"),
    "FieldError": FIELD_ERROR,
    "Conflict": obj({"error": {"const": "conflict"}, "message": STRING,
                     "current_version": {"type": "integer", "description": "记录当前的版本号（记录已不存在时为 -1）"}},
                    ["error", "message", "current_version"], closed=True,
                    description="他人已先保存：请求中的版本号已过期，本次未写入任何内容"),
    "TransitionRefusal": obj({"error": {"type": "string", "description": "transition_field 或 transition_guard"},
                              "message": STRING, "errors": {**array(ref("FieldError")), "minItems": 1}},
                             ["error", "message", "errors"], closed=True,
                             description="流转被拒绝：缺少字段或不满足条件"),
}

ORG_UNIT = obj({"id": INTEGER, "code": STRING, "name": STRING, "kind": STRING, "parent_id": nullable(INTEGER),
                "serves_id": nullable(INTEGER),
                "posts": {"type": ["object", "null"], "additionalProperties": STRING, "description": "职务 → 姓名"}},
               ["id", "code", "name", "kind", "parent_id", "serves_id", "posts"])

TRANSITION_BUTTON = obj({"id": STRING, "label": STRING, "dialog": array(STRING), "requires": array(STRING),
                         "reason": STRING, "available": {"type": "boolean"}, "refusal": nullable(STRING)},
                        ["id", "label", "dialog", "requires", "reason", "available", "refusal"])

RECORD = obj({
    "id": INTEGER, "number": {"type": "string", "description": "记录编号"}, "form_id": STRING,
    "form_version": {"type": "integer", "description": "保存时所用的表单版本"},
    "org_unit_id": INTEGER, "state": {"type": "string", "description": "流程状态（无流程的表单为 active）"},
    "data": {"type": "object", "description": "记录数据，按保存时的表单版本（form_version）；新建与修改的请求体"
                                              "须符合 components.schemas.form_<表单标识>。读者无权查看的保密字段被隐去"},
    "masked": {**array(STRING), "description": "读者无权查看的保密字段（JSON Pointer），其值显示为“（保密）”"},
    "version": {"type": "integer", "description": "版本号：修改时放在 If-Match 中"},
    "created_by": INTEGER, "created_at": DATE_TIME, "updated_by": INTEGER, "updated_at": DATE_TIME,
    "workflow": obj({"id": STRING, "version": INTEGER}, ["id", "version"], description="表单有流程时：流程及其版本"),
    "state_title": {"type": "string", "description": "流程状态的中文名（单条记录）"},
    "open": {"type": "boolean", "description": "事项是否仍在办理中（单条记录）"},
    "due": nullable(obj({"date": DATE, "title": STRING, "working_days_left": nullable(INTEGER),
                         "overdue": {"type": "boolean"}}, ["date"])),
    "waiting_unit": nullable(obj({"code": STRING, "name": STRING}, ["code", "name"])),
    "transitions": {**array(ref("TransitionButton")), "description": "当前用户面前的流转按钮（单条记录）"},
    "transition_counts": {"type": "object", "additionalProperties": INTEGER, "description": "各流转已办理的次数"},
    "warnings": {**array(STRING), "description": "流转已办理，但有需要注意的情况"},
}, ["id", "number", "form_id", "form_version", "org_unit_id", "state", "data", "version", "created_by",
    "created_at", "updated_by", "updated_at"])

DECISION = obj({"id": INTEGER, "at": DATE_TIME, "ruleset": STRING, "ruleset_version": STRING, "rule": STRING,
                "title": STRING, "explanation": STRING, "facts": {"type": "object"},
                "actions": array({"type": "object"}), "outcome": {"enum": ["applied", "failed"]}, "error": STRING},
               ["id", "at", "ruleset", "ruleset_version", "rule", "title", "explanation", "facts", "actions",
                "outcome", "error"])

SIMULATED_DECISION = obj({"ruleset": STRING, "rule": STRING, "title": STRING, "explanation": STRING,
                          "actions": array({"type": "object"}), "facts": {"type": "object"}},
                         ["ruleset", "rule", "title", "explanation", "actions", "facts"])

AUDIT_ENTRY = obj({"id": INTEGER, "at": DATE_TIME, "user_id": nullable(INTEGER), "action": STRING,
                   "action_title": {**STRING, "description": "操作的中文名称（如“按规则修改”）"},
                   "detail": {**STRING, "description": "说明；规则所做的修改写明规则集与规则，并逐条写出被规则改写的值"},
                   "record_version": nullable(INTEGER),
                   "diff": array(obj({"op": {"enum": ["add", "remove", "replace"]}, "path": STRING,
                                      "old": {}, "new": {}}, ["op", "path"]))},
                  ["id", "at", "user_id", "action", "action_title", "detail", "record_version", "diff"])

ISSUED_DOCUMENT = obj({
    "id": INTEGER, "number": {"type": "string", "description": "发文字号"}, "doc_id": STRING, "title": STRING,
    "record_id": nullable(INTEGER), "sha256": STRING, "pages": INTEGER, "state": {"enum": ["issued", "revoked"]},
    "issued_at": DATE_TIME, "revoked_reason": nullable(STRING),
    "links": obj({"self": STRING, "pdf": STRING}, ["self", "pdf"])},
    ["id", "number", "doc_id", "title", "record_id", "sha256", "pages", "state", "issued_at", "revoked_reason", "links"])

REGISTER_ROW = obj({
    "id": INTEGER, "unit": obj({"code": STRING, "name": STRING}, ["code", "name"]), "created_at": DATE_TIME,
    "decision": obj({"id": INTEGER, "title": STRING, "explanation": STRING, "ruleset": STRING, "rule": STRING},
                    ["id", "title", "explanation", "ruleset", "rule"]),
    "record": {"description": "引起该登记的记录；无记录或无权查看时为 null", **nullable(obj({
        "id": INTEGER, "number": STRING, "form_id": STRING, "links": obj({"self": STRING}, ["self"])},
        ["id", "number", "form_id", "links"]))}},
    ["id", "unit", "created_at", "decision", "record"])

TIMELINE_ENTRY = obj({"at": DATE_TIME, "transition": nullable(STRING), "label": STRING, "from": nullable(STRING),
                      "from_title": nullable(STRING), "to": STRING, "to_title": STRING, "reason": nullable(STRING),
                      "by": STRING},
                     ["at", "transition", "label", "from", "from_title", "to", "to_title", "reason", "by"])

INBOX_ITEM = obj({
    "id": INTEGER, "kind": {"enum": ["step", "task", "notice", "escalation"]}, "kind_title": STRING, "title": STRING,
    "message": nullable(STRING), "due_date": nullable(DATE), "status": {"enum": ["open", "done", "withdrawn", "closed"]},
    "status_title": STRING,
    "record": nullable(obj({"id": INTEGER, "links": obj({"self": STRING}, ["self"])}, ["id", "links"])),
    "created_at": DATE_TIME, "closed_at": nullable(DATE_TIME), "close_note": nullable(STRING)},
    ["id", "kind", "kind_title", "title", "message", "due_date", "status", "status_title", "record", "created_at",
     "closed_at", "close_note"])

SCHEMAS: dict[str, Schema] = {
    **ERRORS,
    "Health": obj({"status": {"const": "ok"}, "config_version": STRING}, ["status", "config_version"]),
    "FormSummary": obj({"id": STRING, "title": STRING, "version": INTEGER}, ["id", "title", "version"]),
    "Form": obj({"id": STRING, "title": STRING, "version": INTEGER,
                 "schema": {"type": "object", "description": "表单的 JSON Schema 原文（含 x-ui 界面提示）"}},
                ["id", "title", "version", "schema"]),
    "OrgUnit": ORG_UNIT,
    "Me": obj({"id": INTEGER, "username": STRING, "display_name": STRING, "role": STRING,
               "org_unit": nullable(ref("OrgUnit")),
               "permissions": {"type": "object", "description": "表单标识 → 可做的操作",
                               "additionalProperties": array({"enum": ["create", "read", "update"]})}},
              ["id", "username", "display_name", "role", "org_unit", "permissions"]),
    "Record": RECORD,
    "TransitionButton": TRANSITION_BUTTON,
    "RecordPage": obj({"items": array(ref("Record")), "total": INTEGER, "page": INTEGER, "per_page": INTEGER,
                       "columns": array(obj({"path": STRING, "title": STRING}, ["path", "title"]))},
                      ["items", "total", "page", "per_page", "columns"]),
    "Decision": DECISION,
    "SimulatedDecision": SIMULATED_DECISION,
    "AuditEntry": AUDIT_ENTRY,
    "IssuedDocument": ISSUED_DOCUMENT,
    "RegisterRow": REGISTER_ROW,
    "TimelineEntry": TIMELINE_ENTRY,
    "InboxItem": INBOX_ITEM,
    "Inbox": obj({"items": array(ref("InboxItem")), "open": INTEGER, "overdue": INTEGER}, ["items", "open", "overdue"]),
    "ImportProblem": obj({
        "row": {**nullable(INTEGER), "description": "表中行号（Excel 的行号，标题为第 1 行）；整个文件或某一列的问题为 null"},
        "column": {"type": "string", "description": "列标题（如 接报时间、来访人/姓名），与列无关时为空串"},
        "message": {"type": "string", "description": "中文说明"},
        "text": {"type": "string", "description": "整句，如 第 5 行『接报时间』：不是有效的日期时间（如 2026-05-01 09:30）"}},
        ["row", "column", "message", "text"], closed=True),
    "ImportErrors": obj({"errors": {**array(ref("ImportProblem")), "minItems": 1}}, ["errors"], closed=True,
                        description="不能导入：每个问题一条；没有保存任何记录"),
    "ImportResult": obj({
        "dry_run": {"type": "boolean"},
        "count": {"type": "integer", "description": "可导入（dry_run）或已导入的记录数"},
        "columns": array(STRING),
        "preview": {**array(array(STRING)), "description": "前 20 行：表中行号，然后按 columns 各列的值（如列表所示）"},
        "created": {**array(obj({"id": INTEGER, "number": STRING}, ["id", "number"])),
                    "description": "新记录的 id 和编号（dry_run 时为空）"}},
        ["dry_run", "count", "columns", "preview", "created"]),
}

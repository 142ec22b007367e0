"""Read ``config/dashboard.json``: the figures of the 统计分析 page, as configuration.

Each figure names what it counts in the ledgers' own terms (a form, its date field, conditions on its
fields or its workflow state, a field to break it down by), so a county adds or changes a figure
without code, and ``config check`` resolves every name against the forms, workflows and documents
before the page can show a wrong or empty number. The file is optional: without it there is no page.

Figure kinds (exactly one per figure; docs/dashboard.md has the reference)::

    "count":     records of a form, in the period by a date field (``date``, or ``$created``), by a month
                 field holding YYYY-MM (``month``), or that entered a workflow state in the period
                 (``entered``), or as they stand now (none of these); optionally
                 narrowed by ``where`` and broken down by a choice field, ``$state`` or ``$township``;
                 ``rate`` lists the values of ``by`` that make the share shown (满意 + 基本满意).
    "sum":       numeric fields of a monthly form (``month`` holds YYYY-MM) summed over the period,
                 with ``"compare": "previous_year"`` for the same period a year earlier (同比).
    "inbox":     open 待办 items by the unit they wait on, and how many are overdue.
    "documents": documents of one kind issued in the period (revoked ones not counted).
    "coverage":  information officers in post against the quota (信息员配备).
    "year_end":  units without award eligibility, and vetoes, in the period's year.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator

from server.errors import ConfigError
from server.specs.fieldpaths import all_properties, find_field, value_type
from server.specs.files import load_file
from server.specs.jsonpos import pointer_join
from server.specs.metaschema import DRAFT_2020_12, show, show_list

DASHBOARD_FILE = "dashboard.json"
VIEWS = ("county", "township", "department", "leader")
KINDS = ("count", "sum", "inbox", "documents", "coverage", "year_end")
SPECIAL_BY = ("$state", "$township")
Problem = tuple[str, str]

_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,39}$"}
_POINTER = {"type": "string", "pattern": "^/"}
_SCALAR = {"type": ["string", "number", "boolean"]}
_NONEMPTY_TEXT = {"type": "string", "minLength": 1, "maxLength": 100}
DASHBOARD_META_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "$id": "urn:ledger:dashboard-meta-schema",
    "type": "object",
    "required": ["title", "sections"],
    "properties": {
        "title": _NONEMPTY_TEXT,
        "sections": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/section"}},
    },
    "additionalProperties": False,
    "$defs": {
        "section": {
            "type": "object", "required": ["title", "figures"], "additionalProperties": False,
            "properties": {"title": _NONEMPTY_TEXT,
                           "figures": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/figure"}}},
        },
        "figure": {
            # exactly one kind per figure is a value rule (_Check._figure), which names the kinds found
            "type": "object", "required": ["id", "title"], "additionalProperties": False,
            "properties": {
                "id": _ID, "title": _NONEMPTY_TEXT, "note": {"type": "string", "maxLength": 300},
                "views": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(VIEWS)}},
                "count": {"$ref": "#/$defs/count"}, "sum": {"$ref": "#/$defs/sum"},
                "inbox": {"type": "object", "additionalProperties": False, "properties": {}},
                "documents": {"type": "object", "required": ["document"], "additionalProperties": False,
                              "properties": {"document": _ID}},
                "coverage": {"type": "object", "additionalProperties": False, "properties": {}},
                "year_end": {"type": "object", "additionalProperties": False, "properties": {}},
            },
        },
        "count": {
            "type": "object", "required": ["form"], "additionalProperties": False,
            "properties": {
                "form": _ID,
                "date": {"type": "string"},  # a field pointer or "$created": _Check._count says which
                "month": _POINTER,
                "entered": {"type": "string", "minLength": 1},
                "where": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
                "by": {"type": "string"},  # a field pointer, "$state" or "$township": _Check._count
                "rate": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _SCALAR},
            },
        },
        "sum": {
            "type": "object", "required": ["form", "month", "fields"], "additionalProperties": False,
            "properties": {
                "form": _ID, "month": _POINTER,
                "fields": {"type": "array", "minItems": 1, "uniqueItems": True, "items": _POINTER},
                "where": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
                "compare": {"const": "previous_year"},
            },
        },
        "condition": {  # which keys go together is a value rule (_Check._where), said in Chinese
            "type": "object", "additionalProperties": False,
            "properties": {
                "path": _POINTER,
                "in": {"type": "array", "minItems": 1, "items": _SCALAR},
                "not_in": {"type": "array", "minItems": 1, "items": _SCALAR},
                "state": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            },
        },
    },
}
DASHBOARD_META_VALIDATOR = Draft202012Validator(DASHBOARD_META_SCHEMA)


def load_dashboard(config_dir: Path, schemas: Mapping[str, Any], workflows: Mapping[str, Any] | None,
                   documents: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, list[ConfigError]]:
    """The dashboard document (None without the file or when it is wrong) and every problem in it.

    ``schemas``: form id -> schema (None for a form that is broken and already reported);
    ``workflows`` and ``documents``: the loaded definitions, or None when some of them are broken
    (already reported; the names that would need them are not checked, so one error does not cascade)."""
    path = Path(config_dir) / DASHBOARD_FILE
    if not path.is_file():
        return None, []
    states = None if workflows is None else {w.form: set(w.states) for w in workflows.values()}
    names = None if documents is None else set(documents)
    document, errors = load_file(path, DASHBOARD_FILE, DASHBOARD_META_VALIDATOR,
                                 lambda doc: _Check(schemas, states, names).run(doc))
    return (None if errors else document), errors


class _Check:
    """The rules that compare names with the rest of the configuration."""

    def __init__(self, schemas: Mapping[str, Any], states: Mapping[str, set[str]] | None, documents: set[str] | None):
        self.schemas, self.states, self.documents = schemas, states, documents
        self.problems: list[Problem] = []

    def run(self, doc: Any) -> list[Problem]:
        seen: dict[str, str] = {}
        for s, section in enumerate(_list(_dict(doc).get("sections"))):
            for f, figure in enumerate(_list(_dict(section).get("figures"))):
                at = pointer_join("", "sections", s, "figures", f)
                figure = _dict(figure)
                fid = figure.get("id")
                if isinstance(fid, str):
                    if fid in seen:
                        self.problems.append((pointer_join(at, "id"), f"统计项 id {show(fid)} 与 {seen[fid]} 重复"))
                    seen.setdefault(fid, pointer_join(at, "id"))
                self._figure(at, figure)
        return self.problems

    def _figure(self, at: str, figure: dict[str, Any]) -> None:
        kinds = [k for k in KINDS if k in figure]
        if len(kinds) != 1:
            self.problems.append((at, f"每个统计项应有且只有一种统计方式（{'、'.join(KINDS)} 之一），实际为 "
                                      f"{show(kinds) if kinds else '无'}"))
            return
        body = _dict(figure[kinds[0]])
        if kinds[0] == "count":
            self._count(pointer_join(at, "count"), body)
        elif kinds[0] == "sum":
            self._sum(pointer_join(at, "sum"), body)
        elif (kinds[0] == "documents" and self.documents is not None and isinstance(body.get("document"), str)
              and body["document"] not in self.documents):
            self.problems.append((pointer_join(at, "documents", "document"),
                                  f"没有文书 {show(body['document'])}（现有：{'、'.join(sorted(self.documents)) or '无'}）"))

    def _form(self, at: str, body: dict[str, Any]) -> tuple[str | None, Any]:
        form = body.get("form")
        if not isinstance(form, str):
            return None, None
        if form not in self.schemas:
            self.problems.append((pointer_join(at, "form"), f"没有表单 {show(form)}"))
            return None, None
        return form, self.schemas[form]

    def _field(self, at: str, pointer: Any, form: str, schema: Any, kinds: set[str], expected: str) -> dict[str, Any] | None:
        problems, found = find_field(at, pointer, schema, form)
        self.problems.extend(problems)
        if found is not None and _protected(schema, pointer, found):
            # a breakdown or condition on it would tell its values (or who has them) to every reader
            self.problems.append((at, f"字段 {show(pointer)} 是{_protected(schema, pointer, found)}，不能用于统计"))
            return None
        if found is not None and _in_array(schema, pointer):
            self.problems.append((at, f"字段 {show(pointer)} 是数组（列表）中某一项的字段，统计只能用表单的普通字段"))
            return None
        if found is not None and _kind(found) not in kinds:
            self.problems.append((at, f"字段 {show(pointer)} 应为{expected}，实际为{_KIND_NAMES.get(_kind(found), '类型不明的字段')}"))
            return None
        return found

    def _count(self, at: str, body: dict[str, Any]) -> None:
        form, schema = self._form(at, body)
        if form is None:
            return
        if len([k for k in ("date", "month", "entered") if k in body]) > 1:
            self.problems.append((at, "date、month、entered 只能选一个：按日期字段、按统计月份或按进入状态的时间计入期间"))
        if isinstance(body.get("date"), str) and body["date"] != "$created" and not body["date"].startswith("/"):
            self.problems.append((pointer_join(at, "date"), f"应为以 / 开头的日期字段指针或 \"$created\"（创建时间），实际为 {show(body['date'])}"))
        elif isinstance(body.get("date"), str) and body["date"] != "$created":
            self._field(pointer_join(at, "date"), body["date"], form, schema, {"date", "date-time"}, "日期字段")
        if isinstance(body.get("month"), str):
            self._field(pointer_join(at, "month"), body["month"], form, schema, {"string"}, "字符串字段（月份 YYYY-MM）")
        if isinstance(body.get("entered"), str):
            self._state(pointer_join(at, "entered"), form, body["entered"])
        self._where(pointer_join(at, "where"), _list(body.get("where")), form, schema)
        by = body.get("by")
        choices: list[Any] | None = None
        if by == "$state" and self.states is None:
            pass
        elif by == "$state":
            if form not in self.states:
                self.problems.append((pointer_join(at, "by"), f"表单 {show(form)} 没有流程，不能按 $state 分组"))
            else:
                choices = sorted(self.states[form])
        elif isinstance(by, str) and by.startswith("/"):
            found = self._field(pointer_join(at, "by"), by, form, schema, {"choice", "boolean"}, "选项字段（oneOf）或布尔字段")
            choices = _consts(found) if found is not None else None
        elif isinstance(by, str) and by not in SPECIAL_BY:
            self.problems.append((pointer_join(at, "by"), f"应为以 / 开头的选项字段指针，或 {show_list(list(SPECIAL_BY))}，实际为 {show(by)}"))
        if "rate" in body:
            if by is None or by == "$township":
                self.problems.append((pointer_join(at, "rate"), "rate 需要按选项字段或 $state 分组（by）"))
            elif choices is not None:
                for i, value in enumerate(_list(body["rate"])):
                    if value not in choices:
                        self.problems.append((pointer_join(at, "rate", i), f"{show(value)} 不是 {show(by)} 的取值（可用：{show_list(choices)}）"))

    def _sum(self, at: str, body: dict[str, Any]) -> None:
        form, schema = self._form(at, body)
        if form is None:
            return
        if isinstance(body.get("month"), str):
            self._field(pointer_join(at, "month"), body["month"], form, schema, {"string"}, "字符串字段（统计月份 YYYY-MM）")
        for i, pointer in enumerate(_list(body.get("fields"))):
            self._field(pointer_join(at, "fields", i), pointer, form, schema, {"integer", "number"}, "整数或数字字段")
        self._where(pointer_join(at, "where"), _list(body.get("where")), form, schema)

    def _where(self, at: str, conditions: list[Any], form: str, schema: Any) -> None:
        for i, condition in enumerate(conditions):
            here = pointer_join(at, i)
            condition = _dict(condition)
            if "state" in condition:
                if set(condition) != {"state"}:
                    self.problems.append((here, "按状态的条件只写 state"))
                for j, state in enumerate(_list(condition["state"])):
                    if isinstance(state, str):
                        self._state(pointer_join(here, "state", j), form, state)
                continue
            tests = [k for k in ("in", "not_in") if k in condition]
            if "path" not in condition or len(tests) != 1:
                self.problems.append((here, "条件应写 path 与 in（或 not_in）之一，或只写 state"))
                continue
            found = self._field(pointer_join(here, "path"), condition["path"], form, schema,
                                {"choice", "boolean", "string", "integer", "number"}, "选项、布尔、字符串或数字字段")
            if found is None:
                continue
            allowed = _consts(found)
            for j, value in enumerate(_list(condition[tests[0]])):
                if allowed is not None and value not in allowed:
                    self.problems.append((pointer_join(here, tests[0], j), f"{show(value)} 不是 {show(condition['path'])} 的取值（可用：{show_list(allowed)}）"))
                elif allowed is None and not _fits(value, value_type(found)):
                    self.problems.append((pointer_join(here, tests[0], j), f"{show(value)} 与字段 {show(condition['path'])} 的类型（{_KIND_NAMES.get(str(value_type(found)), '类型不明')}）不符"))

    def _state(self, at: str, form: str, state: str) -> None:
        if self.states is None:
            return
        if form not in self.states:
            self.problems.append((at, f"表单 {show(form)} 没有流程，没有状态 {show(state)}"))
        elif state not in self.states[form]:
            self.problems.append((at, f"表单 {show(form)} 的流程没有状态 {show(state)}（现有：{'、'.join(sorted(self.states[form]))}）"))


_KIND_NAMES = {
    "choice": "选项字段", "date": "日期字段", "date-time": "日期时间字段", "string": "字符串字段",
    "integer": "整数字段", "number": "数字字段", "boolean": "布尔字段", "object": "对象字段", "array": "数组字段",
}


def _protected(schema: Any, pointer: str, field: dict[str, Any]) -> str:
    """How a field is protected ("" when it is not): a sensitive value (身份证号 …) or a field under 要求保密."""
    if _dict(field.get("x-ui")).get("sensitive"):
        return "敏感信息字段（x-ui.sensitive）"
    for entry in _list(_dict(schema).get("x-confidential")):
        for protected in _list(_dict(entry).get("fields")):
            if isinstance(protected, str) and (pointer == protected or pointer.startswith(protected.rstrip("/") + "/")):
                return "要求保密保护的字段（x-confidential）"
    return ""


def _in_array(schema: Any, pointer: str) -> bool:
    """Whether a pointer that names a field goes through an array item (``/items/0/x``, ``/items/-``):
    the counts read fields by object keys only."""
    node = schema
    for part in pointer.split("/")[1:]:
        properties = all_properties(node) if isinstance(node, dict) else {}
        if part not in properties:
            return True
        node = properties[part]
    return False


def _kind(schema: dict[str, Any]) -> str:
    """choice, boolean, date, date-time or the JSON type of a field."""
    if "oneOf" in schema or "org" in _dict(schema.get("x-ui")):
        return "choice"
    if schema.get("type") == "string" and schema.get("format") in ("date", "date-time"):
        return str(schema["format"])
    return str(value_type(schema))


def _consts(schema: dict[str, Any]) -> list[Any] | None:
    """The values a choice or boolean field can hold (None for an org field: codes come from the tree)."""
    if schema.get("type") == "boolean":
        return [True, False]
    options = schema.get("oneOf")
    if isinstance(options, list):
        return [o.get("const") for o in options if isinstance(o, dict)]
    return None


def _fits(value: Any, declared: str | None) -> bool:
    if declared == "boolean":
        return isinstance(value, bool)
    if declared in ("integer", "number"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


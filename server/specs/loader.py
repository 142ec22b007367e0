"""Read ``config/forms/*.json`` (and ``config/org/`` via ``org_loader``) into a :class:`ConfigSet`,
or report every problem of every file at once.

A configuration edit should cost one round trip: so nothing stops at the first error. Each file goes
through the same stages (file name, JSON syntax, the JSON Schema 2020-12 meta-schema, our meta-schema,
then the rules that compare values), each problem becomes a :class:`ConfigError` pointing at the
value's line and column, and :class:`ConfigInvalid` carries all of them. The checks that compare
values are written defensively: they skip what the meta-schemas already reported as malformed.
"""
from __future__ import annotations

import json
import re
import string
from datetime import date
from pathlib import Path
from typing import Any

from server.errors import ConfigError, ConfigInvalid
from server.org.kinds import KINDS
from server.specs.files import merge_problems, read_json
from server.specs.jsonpos import pointer_join, position_of, unescape_token
from server.specs.metaschema import (
    FORM_META_VALIDATOR, JSON_SCHEMA_VALIDATOR, SUPPORTED_TYPES, describe, show,
)
from server.specs.confidential_check import confidential_problems
from server.specs.dashboard_loader import load_dashboard
from server.specs.documents_loader import load_documents
from server.specs.model import ConfigSet, FormSpec, RulesSpec, canonical_digest
from server.specs.org_loader import load_org
from server.specs.calendar_loader import calendar_warnings, load_calendar
from server.specs.rules_loader import load_rules
from server.specs.workflows_loader import load_workflows
from server.timeutil import local_today
from server.workflow.calendar import WorkCalendar
from server.workflow.definition import Workflow

FORMS_DIR = "forms"
FORM_ID = re.compile(r"[a-z][a-z0-9_]{1,39}")

Problem = tuple[str, str]  # (JSON pointer, message)
Fields = dict[str, tuple[str, Any]]  # field name -> (pointer, schema), in file order

_KIND_NAMES = {
    "choice": "选项字段", "multi": "多选字段", "date": "日期字段", "date-time": "日期时间字段",
    "string": "字符串字段", "integer": "整数字段", "number": "数字字段", "boolean": "布尔字段",
    "object": "对象字段", "array": "数组字段", "unknown": "类型不明的字段",
}
# widget -> (field kinds it can render, how to say so)
_WIDGET_FITS = {
    "text": ({"string", "date", "date-time"}, "字符串字段"),
    "textarea": ({"string"}, "字符串字段"),
    "select": ({"choice"}, "选项字段（oneOf）"),
    "radio": ({"choice"}, "选项字段（oneOf）"),
    "checkboxes": ({"multi"}, "多选字段（items 带 oneOf 的数组）"),
    "checkbox": ({"boolean"}, "布尔字段"),
    "date": ({"date"}, "日期字段（format 为 date）"),
    "datetime": ({"date-time"}, "日期时间字段（format 为 date-time）"),
}
_FILTER_KINDS = {"choice", "date", "date-time"}
_PLACEHOLDERS = ("org_code", "year", "seq")


def load_config(config_dir: Path) -> ConfigSet:
    """Load every form of ``config_dir``; raise :class:`ConfigInvalid` with all errors if any file is wrong."""
    forms_dir = Path(config_dir) / FORMS_DIR
    if not forms_dir.is_dir():
        raise ConfigInvalid([ConfigError(FORMS_DIR, "", 1, 1, f"缺少表单目录 {FORMS_DIR}/")])
    paths = sorted((p for p in forms_dir.glob("*.json") if p.is_file()), key=lambda p: p.name)
    # Every well-named file counts as a form for x-ui.ref, broken or not: one error must not cascade.
    form_ids = sorted(p.stem for p in paths if FORM_ID.fullmatch(p.stem))
    forms: dict[str, FormSpec] = {}
    errors: list[ConfigError] = []
    for path in paths:
        file = f"{FORMS_DIR}/{path.name}"
        schema, file_errors = _load_form(path, file, form_ids)
        errors.extend(file_errors)
        if not file_errors:
            forms[path.stem] = FormSpec(
                id=path.stem, title=schema["title"], schema=schema,
                digest=canonical_digest(schema), path=file,
            )
    org, org_errors = load_org(Path(config_dir))
    schemas = {form_id: (forms[form_id].schema if form_id in forms else None) for form_id in form_ids}
    unit_codes = {u.code for u in org.units} if org is not None else None
    rules, rules_errors = load_rules(Path(config_dir), schemas, unit_codes)
    documents, document_errors = load_documents(Path(config_dir), schemas, org.posts if org is not None else None)
    broken = {e.file for e in org_errors + rules_errors + document_errors}
    workflows, workflow_errors = load_workflows(Path(config_dir), schemas, rules, documents, unit_codes, broken)
    calendar, calendar_errors = load_calendar(Path(config_dir))
    dashboard, dashboard_errors = load_dashboard(Path(config_dir), schemas, None if workflow_errors else workflows,
                                                 None if document_errors else documents)
    errors.extend(org_errors + rules_errors + document_errors + workflow_errors + calendar_errors + dashboard_errors)
    if errors:
        raise ConfigInvalid(errors)
    work_calendar = WorkCalendar(calendar or {})
    warnings = calendar_warnings(work_calendar, latest_deadline(workflows, rules, work_calendar))
    return ConfigSet(forms=forms, org=org, rules=rules, documents=documents, workflows=workflows,
                     calendar=calendar or {}, dashboard=dashboard, warnings=warnings)


def latest_deadline(workflows: dict[str, Workflow], rules: RulesSpec | None, calendar: WorkCalendar) -> date:
    """The furthest day a deadline started today could reach (each timer's length plus its latest step),
    so ``config check`` can warn before the calendar runs out of known holidays."""
    from server.workflow.deadlines import AmountError, resolve, shift

    params = rules.values if rules is not None else {}
    start = local_today()
    latest = start
    for workflow in workflows.values():
        for timer in workflow.timers.values():
            try:
                due = shift(start, resolve(timer.due, params, {}), timer.due.unit, calendar)
                ends = [shift(due, resolve(s.offset, params, {}), s.offset.unit, calendar) for s in timer.steps]
            except AmountError:  # a length taken from each record's facts (not known in advance), or out of range
                continue
            latest = max([latest, due, *ends])
    return latest


def _load_form(path: Path, file: str, form_ids: list[str]) -> tuple[Any, list[ConfigError]]:
    """The document of one form file and every problem found in it."""
    naming = _file_name_problems(path.stem)
    parsed = read_json(path, file)
    if isinstance(parsed, ConfigError):
        return None, [parsed] + [ConfigError(file, p, 1, 1, m) for p, m in naming]
    document = parsed.document
    duplicates = [(p, f"键 {show(unescape_token(p.rsplit('/', 1)[1]))} 重复出现，只有最后一个值有效")
                  for p in parsed.duplicate_keys]
    problems = naming + duplicates + merge_problems([
        [pm for e in FORM_META_VALIDATOR.iter_errors(document) for pm in describe(e)],
        [pm for e in JSON_SCHEMA_VALIDATOR.iter_errors(document) for pm in describe(e)],
        _Semantics(form_ids).check(document),
    ])
    errors = [ConfigError(file, p, *position_of(parsed.positions, p), m) for p, m in dict.fromkeys(problems)]
    return document, errors


def _file_name_problems(stem: str) -> list[Problem]:
    """The file name is the form id, which appears in URLs and record numbers: keep it plain."""
    if FORM_ID.fullmatch(stem):
        return []
    return [("", f"文件名（表单 id）应匹配 ^{FORM_ID.pattern}$，实际为 {show(stem)}")]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _sections(owner: Any, pointer: str) -> list[tuple[str, dict[str, Any]]]:
    """An object schema and its conditional branches (then/else/allOf), which declare fields of the same object."""
    if not isinstance(owner, dict):
        return []
    found = [(pointer, owner)]
    for key in ("then", "else"):
        found += _sections(owner.get(key), pointer_join(pointer, key))
    for index, branch in enumerate(_list(owner.get("allOf"))):
        found += _sections(branch, pointer_join(pointer, "allOf", index))
    return found


def _fields_of(owner: Any, pointer: str) -> Fields:
    """Every field of an object, including those of its conditional sections (first declaration wins)."""
    fields: Fields = {}
    for section_pointer, section in _sections(owner, pointer):
        for name, schema in _dict(section.get("properties")).items():
            fields.setdefault(name, (pointer_join(section_pointer, "properties", name), schema))
    return fields


def _field_kind(schema: Any) -> str:
    """What a field renders as: a key of ``_KIND_NAMES``."""
    if not isinstance(schema, dict):
        return "unknown"
    declared = schema.get("type")
    if "oneOf" in schema or "org" in _dict(schema.get("x-ui")):  # oneOf lists choices; org units are choices too
        return "choice"
    if declared == "array" and "oneOf" in _dict(schema.get("items")):
        return "multi"
    if declared == "string" and schema.get("format") in ("date", "date-time"):
        return str(schema["format"])
    if declared is None and "properties" in schema:
        return "object"
    return declared if isinstance(declared, str) and declared in SUPPORTED_TYPES else "unknown"


def _existing(fields: Fields) -> str:
    return f"（现有字段：{'、'.join(fields)}）" if fields else "（此处没有字段）"


class _Semantics:
    """The rules that compare values with each other: names that must exist, widgets that must fit."""

    def __init__(self, form_ids: list[str]):
        self.form_ids = form_ids
        self.problems: list[Problem] = []
        self.workflow: Any = None
        self.root: dict[str, Any] = {}

    def add(self, pointer: str, message: str) -> None:
        self.problems.append((pointer, message))

    def check(self, document: Any) -> list[Problem]:
        """All problems of one form document; the root-only x-ui/x-form rules are checked here."""
        if not isinstance(document, dict):
            return []
        self.workflow = _dict(document.get("x-form")).get("workflow")
        self.root = document
        fields = self._object(document, "")
        ui = _dict(document.get("x-ui"))
        for key in ("list", "filters"):
            for index, path in enumerate(_list(ui.get(key))):
                if isinstance(path, str):
                    self._column(key, pointer_join("/x-ui", key, index), path, fields)
        self._number_pattern(_dict(document.get("x-form")).get("number_pattern"))
        self.problems += confidential_problems(document)
        return self.problems

    def _object(self, owner: dict[str, Any], pointer: str) -> Fields:
        """Check an object schema (the root or an object field) and, through its fields, everything below."""
        fields = _fields_of(owner, pointer)
        for section_pointer, section in _sections(owner, pointer):
            self._names("required", pointer_join(section_pointer, "required"), section.get("required"), fields)
            for key, names in _dict(section.get("dependentRequired")).items():
                at = pointer_join(section_pointer, "dependentRequired", key)
                self._names("dependentRequired", at, [key], fields, single=True)
                self._names("dependentRequired", at, names, fields)
            self._condition(section.get("if"), pointer_join(section_pointer, "if"), fields)
        order = _dict(owner.get("x-ui")).get("order")
        self._names("x-ui.order", pointer_join(pointer, "x-ui", "order"), order, fields)
        for field_pointer, schema in fields.values():
            self._field(schema, field_pointer)
        return fields

    def _names(self, where: str, pointer: str, names: Any, fields: Fields, single: bool = False) -> None:
        """Each name must be a field of this object; ``single`` when ``pointer`` is the name's own place."""
        for index, name in enumerate(_list(names)):
            if isinstance(name, str) and name not in fields:
                at = pointer if single else pointer_join(pointer, index)
                self.add(at, f"{where} 中的字段 {show(name)} 不存在{_existing(fields)}")

    def _condition(self, condition: Any, pointer: str, fields: Fields) -> None:
        """An ``if`` tests sibling fields, with ``const`` or ``enum``, so that pages can evaluate it."""
        if not isinstance(condition, dict):
            return
        for name, test in _dict(condition.get("properties")).items():
            at = pointer_join(pointer, "properties", name)
            if name not in fields:
                self.add(at, f"if 中的字段 {show(name)} 不存在{_existing(fields)}")
            elif not (isinstance(test, dict) and ("const" in test or "enum" in test)):
                self.add(at, f"if 应以 const 或 enum 测试字段 {show(name)}，实际为 {show(test)}")
        self._names("if.required", pointer_join(pointer, "required"), condition.get("required"), fields)

    def _field(self, schema: Any, pointer: str) -> None:
        """One field (or array item): its x-ui must fit its kind; then whatever it contains."""
        if not isinstance(schema, dict):
            return
        kind = _field_kind(schema)
        ui = _dict(schema.get("x-ui"))
        widget = ui.get("widget")
        if isinstance(widget, str) and widget in _WIDGET_FITS and kind not in _WIDGET_FITS[widget][0]:
            self.add(pointer_join(pointer, "x-ui", "widget"),
                     f"x-ui.widget {show(widget)} 只能用于{_WIDGET_FITS[widget][1]}，实际为{_KIND_NAMES[kind]}")
        if "ref" in ui:
            self._ref(ui["ref"], kind, pointer_join(pointer, "x-ui", "ref"))
        if "org" in ui and (schema.get("type") != "string" or "oneOf" in schema):
            found = "带 oneOf 的选项字段" if "oneOf" in schema else f"type 为 {show(schema.get('type'))} 的字段"
            self.add(pointer_join(pointer, "x-ui", "org"), f"x-ui.org 只能用于不带 oneOf 的字符串字段（值为单位代码），实际为 {found}")
        if "org" in ui:
            self._scoped_org(_dict(ui["org"]), pointer_join(pointer, "x-ui", "org"))
        if "states" in ui:
            self._states(kind, pointer)
        if "order" in ui and kind != "object":
            self.add(pointer_join(pointer, "x-ui", "order"), f"x-ui.order 只能用于对象字段，实际为{_KIND_NAMES[kind]}")
        self._choices(schema.get("oneOf"), pointer_join(pointer, "oneOf"))
        if kind == "object":
            self._object(schema, pointer)
        self._field(schema.get("items"), pointer_join(pointer, "items"))

    def _states(self, kind: str, pointer: str) -> None:
        """``x-ui.states``: a section (an object field of the root) of a form with a workflow; the state
        ids themselves are checked against the workflow (``workflows_loader``)."""
        at = pointer_join(pointer, "x-ui", "states")
        if not re.fullmatch(r"/properties/[^/]+", pointer):
            self.add(at, "x-ui.states 只能用于表单第一层的对象字段（分节），不能用于下级字段或条件分支中的字段")
        elif kind != "object":
            self.add(at, f"x-ui.states 只能用于对象字段（分节），实际为{_KIND_NAMES[kind]}")
        elif not isinstance(self.workflow, str):
            self.add(at, "x-ui.states 只能用于有流程的表单（x-form.workflow），本表单没有流程")

    def _scoped_org(self, org: dict[str, Any], pointer: str) -> None:
        """A place field (``scoped``) lists places: a department has no place in a township's area."""
        kinds = org.get("kinds") if isinstance(org.get("kinds"), list) else []
        offices = [k for k in kinds if k in KINDS and not KINDS[k].territorial]
        if org.get("scoped") is True and offices:
            names = "、".join(KINDS[k].title for k in offices)
            self.add(pointer_join(pointer, "scoped"),
                     f"scoped（只能选本辖区）只能用于乡镇、街道、村、社区等地域单位，实际还包括 {names}")
        within = org.get("within")
        if isinstance(within, str) and within.startswith("/"):
            target = _dict(_dict(self.root.get("properties")).get(unescape_token(within[1:])))
            if not isinstance(_dict(target.get("x-ui")).get("org"), dict):
                self.add(pointer_join(pointer, "within"),
                         f"within 应指向表单第一层的单位字段（带 x-ui.org），{show(within)} 不是")
            elif pointer == pointer_join("/properties", unescape_token(within[1:]), "x-ui", "org"):
                self.add(pointer_join(pointer, "within"), "within 不能指向字段自己")

    def _ref(self, ref: Any, kind: str, pointer: str) -> None:
        """A ref holds a record number of another form: a string, and the form must exist."""
        if kind != "string":
            self.add(pointer, f"x-ui.ref 只能用于字符串字段，实际为{_KIND_NAMES[kind]}")
        if isinstance(ref, str) and ref not in self.form_ids:
            existing = "、".join(self.form_ids) or "无"
            self.add(pointer, f"x-ui.ref 指向不存在的表单 {show(ref)}（现有表单：{existing}）")

    def _choices(self, choices: Any, pointer: str) -> None:
        """Stored values are the consts: two equal ones could not be told apart."""
        first: dict[str, int] = {}
        for index, choice in enumerate(_list(choices)):
            if isinstance(choice, dict) and "const" in choice:
                key = json.dumps(choice["const"], sort_keys=True)
                if key in first:
                    self.add(pointer_join(pointer, index, "const"),
                             f"选项值应互不相同，{show(choice['const'])} 与第 {first[key] + 1} 个选项重复")
                first.setdefault(key, index)

    def _column(self, key: str, pointer: str, path: str, fields: Fields) -> None:
        """One x-ui.list / x-ui.filters entry: a field name, or ``a/b`` for a field of object field ``a``."""
        parts = path.split("/")
        schema: Any = None
        for depth, name in enumerate(parts):
            if depth and _field_kind(schema) != "object":
                parent = "/".join(parts[:depth])
                self.add(pointer, f"x-ui.{key} 中的 {show(path)} 无效：{show(parent)} 不是对象字段，没有下级字段")
                return
            if name not in fields:
                self.add(pointer, f"x-ui.{key} 中的字段 {show(path)} 不存在{_existing(fields)}")
                return
            field_pointer, schema = fields[name]
            fields = _fields_of(schema, field_pointer)
        if key == "filters" and _field_kind(schema) not in _FILTER_KINDS:
            self.add(pointer, f"x-ui.filters 中的 {show(path)} 应为选项字段或日期、日期时间字段，"
                              f"实际为{_KIND_NAMES[_field_kind(schema)]}")

    def _number_pattern(self, pattern: Any) -> None:
        """Record numbers are built with str.format: only known placeholders, and {seq} keeps them unique."""
        if not isinstance(pattern, str):
            return
        pointer = "/x-form/number_pattern"
        try:
            parts = list(string.Formatter().parse(pattern))
        except ValueError:
            self.add(pointer, f"number_pattern 的花括号不成对（字面花括号应写作 {{{{ 或 }}}}），实际为 {show(pattern)}")
            return
        names = [name for _, name, _, _ in parts if name is not None]
        for _, name, spec, conversion in parts:
            if name is not None:
                problem = _placeholder_problem(name, spec or "", conversion)
                if problem:
                    self.add(pointer, problem)
        if "seq" not in names:
            self.add(pointer, f"number_pattern 必须包含 {{seq}}，实际为 {show(pattern)}")


def _placeholder_problem(name: str, spec: str, conversion: str | None) -> str | None:
    """What is wrong with one ``{name!conversion:spec}`` of a number pattern, if anything."""
    written = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    if name not in _PLACEHOLDERS:
        return f"number_pattern 中的占位符 {show(written)} 未知（可用：{{org_code}}、{{year}}、{{seq}}）"
    if conversion:
        return f"number_pattern 中的占位符不能带 !{conversion} 转换，实际为 {show(written)}"
    if spec and name != "seq":
        return f"number_pattern 中只有 {{seq}} 可以带格式，实际为 {show(written)}"
    if spec:
        try:
            format(1, spec)
        except ValueError:
            return f"number_pattern 中 {{seq}} 的格式无效（应为整数格式，如 04d），实际为 {show(written)}"
    return None

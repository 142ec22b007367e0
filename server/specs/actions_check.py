"""Checking actions (the ``do`` lists of rules, transitions and timer steps) before they can run.

Rules and workflows share one action vocabulary (``server.rules.vocabulary.ACTIONS``); this module
checks one action against it and against the rest of the configuration: arguments, ``{placeholders}``,
fields named by JSON pointer in the acting record's form and in the form a record is created in,
literal unit codes against the org tree (a misspelt unit must fail at ``config check``, not when a
record is saved), parameters, documents and timers. Problems are ``(pointer, message)`` pairs.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from server.rules.vocabulary import ACTIONS, DOCUMENT_OF, MAP_FUNCTIONS, RESPONSIBILITY_ROLES, SET_FIELD_MODES
from server.specs.fieldpaths import all_properties, find_field, is_date_field, value_type
from server.specs.jsonpos import pointer_join
from server.specs.metaschema import show
from server.specs.model import ParameterSpec

Problem = tuple[str, str]
#: Arguments that name an org unit by code (literal or placeholder).
UNIT_ARGUMENTS = {"unit", "assignee"}
#: Placeholders every workflow action may use besides the fact's attributes.
WORKFLOW_PLACEHOLDERS = ("record_number", "record_id", "form_title", "today", "due_date", "state_title",
                         "timer_title", "step_title", "user_name", "owner_code", "owner_name", "assignee_code",
                         "assignee_name", "county_code", "reason")
#: ``unit`` of create_record: which unit registers the new record.
RECORD_UNITS = ("owner", "assignee")


@dataclass
class ActionContext:
    """What an action may refer to where it stands."""

    where: str                                  # "ruleset" | "workflow"
    forms: Mapping[str, dict[str, Any] | None]  # form id -> schema (None: broken, already reported)
    parameters: Mapping[str, ParameterSpec] | None
    unit_codes: set[str] | None                 # None: no org configuration to check against
    placeholders: set[str]                      # fact attributes (+ workflow placeholders)
    form: str | None = None                     # the acting record's form (None: a unit fact)
    documents: Mapping[str, str | None] = field(default_factory=dict)  # doc id -> source form
    timers: set[str] = field(default_factory=set)
    item: dict[str, Any] | None = None          # the row schema a for_each is at (``./pointers``)
    fact_types: Mapping[str, str] = field(default_factory=dict)  # attribute -> JSON type, where known

    @property
    def schema(self) -> dict[str, Any] | None:
        return self.forms.get(self.form) if self.form else None


def action_problems(at: str, action: Any, ctx: ActionContext) -> list[Problem]:
    if not isinstance(action, dict):
        return [(at, f"应为对象（{{\"do\": 动作名, …}}），实际为 {show(action)}")]
    do = action.get("do")
    spec = ACTIONS.get(do) if isinstance(do, str) else None
    if spec is None:
        return [(pointer_join(at, "do"), f"未知动作 {show(action.get('do'))}（可用：{'、'.join(ACTIONS)}）")]
    out: list[Problem] = []
    if spec.workflow_only and ctx.where != "workflow":
        out.append((pointer_join(at, "do"), f"动作 {spec.name}（{spec.title}）只能用于流程的流转或计时，规则中不能使用"))
    for key in action:
        if key != "do" and key not in spec.arguments:
            out.append((pointer_join(at, key), f"动作 {spec.name} 没有参数 {show(key)}（可用：{'、'.join(spec.arguments)}）"))
    for key in spec.required:
        if key not in action:
            out.append((at, f"动作 {spec.name} 缺少参数 {show(key)}"))
    for key, value in action.items():
        if key not in ("do", "map") and isinstance(value, str):
            out += template_problems(pointer_join(at, key), value, ctx.placeholders)
            if key in UNIT_ARGUMENTS and ctx.unit_codes is not None and not _has_placeholder(value) \
                    and not (spec.name == "create_record" and value in RECORD_UNITS) and value not in ctx.unit_codes:
                out.append((pointer_join(at, key), f"单位代码 {show(value)} 不存在于组织机构配置（config/org/units.json）中"))
    check = _CHECKS.get(spec.name)
    if check is not None:
        out += check(at, action, ctx)
    return out


def template_problems(at: str, text: str, names: set[str], params: Mapping[str, Any] | None = None) -> list[Problem]:
    """Placeholders of ``text`` must be known attributes (or ``param.<name>`` when ``params`` is given)."""
    try:
        found = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return [(at, f"花括号不成对（字面花括号应写作 {{{{ 或 }}}}），实际为 {show(text)}")]
    problems = []
    for name in found:
        if params is not None and name.startswith("param."):
            if name[6:] not in params:
                problems.append((at, f"参数 {show(name[6:])} 不存在"))
        elif name not in names:
            problems.append((at, f"占位符 {{{name}}} 未定义（可用：{'、'.join('{' + n + '}' for n in sorted(names)) or '无'}）"))
    return problems


def _has_placeholder(text: str) -> bool:
    try:
        return any(name is not None for _, name, _, _ in string.Formatter().parse(text))
    except ValueError:
        return False


def _needs_record(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    if ctx.form is None:
        return [(pointer_join(at, "do"), f"动作 {action['do']} 需要一条记录，单位的事实没有记录")]
    return []


def _set_field(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    out = _needs_record(at, action, ctx)
    problems, target = find_field(pointer_join(at, "field"), action.get("field"), ctx.schema, ctx.form)
    out += problems
    value = action.get("value")
    kind = value_type(target)
    if isinstance(value, dict) and set(value) == {"$param"}:  # a policy number (奖励金额 by tier ...)
        problems, value = _param_value(pointer_join(at, "value", "$param"), value["$param"], ctx.parameters)
        out += problems
        if problems or ctx.parameters is None:
            return out + _mode(at, action)
    if isinstance(value, dict) and set(value) == {"$fact"}:  # a value the fact computed (a count ...)
        return out + _fact_value(pointer_join(at, "value", "$fact"), value["$fact"], action, kind, ctx) + _mode(at, action)
    if target is not None and "value" in action and kind in ("integer", "number", "boolean") and \
            (isinstance(value, str) or (kind == "boolean") != isinstance(value, bool)):
        out.append((pointer_join(at, "value"), f"字段 {show(action['field'])} 的值应为{_TYPE.get(kind, kind)}，实际为 {show(value)}"))
    return out + _mode(at, action)


def _fact_value(at: str, name: Any, action: dict[str, Any], kind: str | None, ctx: ActionContext) -> list[Problem]:
    """A ``{"$fact": attribute}`` value: an attribute of the fact, of a type the field can hold."""
    if not isinstance(name, str) or name not in ctx.placeholders:
        known = "、".join(sorted(ctx.placeholders)) or "无"
        return [(at, f"属性 {show(name)} 未定义（可用：{known}）")]
    found = ctx.fact_types.get(name)
    fits = {"integer": ("integer",), "number": ("integer", "number"), "boolean": ("boolean",), "string": ("string",)}
    if found is not None and kind in fits and found not in fits[kind]:
        return [(at, f"字段 {show(action.get('field'))} 的值应为{_TYPE.get(kind, kind)}，属性 {show(name)} 是{_TYPE.get(found, found)}")]
    return []


def _param_value(at: str, name: Any, parameters: Mapping[str, ParameterSpec] | None) -> tuple[list[Problem], Any]:
    """The value of the parameter a ``{"$param": name}`` names, or the problem of an unknown one."""
    if parameters is None:
        return [], None
    if not isinstance(name, str) or name not in parameters:
        return [(at, f"参数 {show(name)} 不存在（现有参数：{'、'.join(parameters) or '无'}）")], None
    return [], parameters[name].value


def _mode(at: str, action: dict[str, Any]) -> list[Problem]:
    if "mode" in action and action["mode"] not in SET_FIELD_MODES:
        return [(pointer_join(at, "mode"), f"应为 fill（只填空白，默认）或 overwrite（覆盖已填的值）之一，实际为 {show(action['mode'])}")]
    return []


_TYPE = {"integer": "整数", "number": "数字", "boolean": "布尔值", "string": "字符串"}


def _assign(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    out = _needs_record(at, action, ctx)
    out += find_field(pointer_join(at, "field"), action.get("field"), ctx.schema, ctx.form)[0]
    if "position_field" in action:
        out += find_field(pointer_join(at, "position_field"), action.get("position_field"), ctx.schema, ctx.form)[0]
        if not action.get("position"):
            out.append((pointer_join(at, "position"), "写入 position_field 时须写明职务（position）"))
    if action.get("role") not in RESPONSIBILITY_ROLES:
        out.append((pointer_join(at, "role"), f"应为 {'、'.join(RESPONSIBILITY_ROLES)} 之一，实际为 {show(action.get('role'))}"))
    return out + _mode(at, action)


def _route(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    return _needs_record(at, action, ctx)


def _task(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    days = action.get("due_working_days")
    where = pointer_join(at, "due_working_days")
    if isinstance(days, dict) and set(days) == {"$param"}:
        return _integer_param(where, days["$param"], ctx.parameters)
    if not (isinstance(days, int) and not isinstance(days, bool) and 0 < days <= 365):
        return [(where, f"应为 1 到 365 的整数或 {{\"$param\": 参数名}}，实际为 {show(days)}")]
    return []


def _integer_param(at: str, name: Any, parameters: Mapping[str, ParameterSpec] | None) -> list[Problem]:
    if parameters is None:
        return []
    if not isinstance(name, str) or name not in parameters:
        return [(at, f"参数 {show(name)} 不存在（现有参数：{'、'.join(parameters) or '无'}）")]
    value = parameters[name].value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 365:
        return [(at, f"参数 {show(name)} 应为 1 到 365 的整数，实际为 {show(value)}")]
    return []


def _mapping(at: str, mapping: Any, target: str, ctx: ActionContext) -> list[Problem]:
    """``map``: target-form pointer -> a ``/pointer`` of the acting record, a text with
    ``{placeholders}``, or a literal value; every required field of the target must be mapped."""
    if not isinstance(mapping, dict) or not mapping:
        return [(at, f"应为非空对象（目标字段指针 → 来源），实际为 {show(mapping)}")]
    out: list[Problem] = []
    schema = ctx.forms.get(target)
    for pointer, source in mapping.items():
        where = pointer_join(at, pointer)
        problems, found = find_field(where, pointer, schema, target)
        out += problems
        if isinstance(source, dict) and len(source) == 1 and next(iter(source)) in MAP_FUNCTIONS:
            function, inner = next(iter(source.items()))
            out += _source_problems(pointer_join(where, function), inner, ctx)
        elif isinstance(source, str) and (source.startswith("/") or source.startswith("./")):
            out += _source_problems(where, source, ctx)
        elif isinstance(source, str):
            out += template_problems(where, source, ctx.placeholders)
        elif found is not None and value_type(found) in _TYPE and not _fits(source, value_type(found)):
            out.append((where, f"字段 {show(pointer)} 应为{_TYPE[value_type(found)]}，实际为 {show(source)}"))
    if schema is not None:
        required = [name for name in schema.get("required", [])
                    if not any(p == f"/{name}" or p.startswith(f"/{name}/") for p in mapping)]
        if required:
            out.append((at, f"表单 {show(target)} 的必填字段没有映射：{'、'.join(required)}"))
    return out


def _source_problems(at: str, source: Any, ctx: ActionContext) -> list[Problem]:
    """A value read from the acting record (``/pointer``) or from the row a for_each is at (``./pointer``)."""
    if isinstance(source, str) and source.startswith("./"):
        if ctx.item is None:
            return [(at, "./ 开头的指针只能用于“逐项办理”（for_each）中，指向当前行的字段")]
        return find_field(at, source[1:], ctx.item, f"{ctx.form} 的当前行")[0]
    if ctx.form is None:
        return [(at, "单位的事实没有记录，不能引用字段")]
    return find_field(at, source, ctx.schema, ctx.form)[0]


def _fits(value: Any, kind: str) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _target_form(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    form = action.get("form")
    if not isinstance(form, str) or form not in ctx.forms:
        return [(pointer_join(at, "form"), f"表单 {show(form)} 不存在（现有表单：{'、'.join(sorted(ctx.forms))}）")]
    return []


def _create_record(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    out = _target_form(at, action, ctx)
    unit = action.get("unit")
    if isinstance(unit, dict):  # the registering unit computed from a place field ({"$township_of": pointer})
        if len(unit) != 1 or next(iter(unit)) != "$township_of":
            out.append((pointer_join(at, "unit"), f"应为单位代码、owner、assignee 或 {{\"$township_of\": 指针}}，实际为 {show(unit)}"))
        else:
            out += _source_problems(pointer_join(at, "unit", "$township_of"), unit["$township_of"], ctx)
    if not out and "map" in action:
        out += _mapping(pointer_join(at, "map"), action["map"], action["form"], ctx)
    if "number_to" in action:
        out += _needs_record(at, action, ctx)
        out += _source_problems(pointer_join(at, "number_to"), action["number_to"], ctx)
    return out


def _update_record(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    out = _needs_record(at, action, ctx) + _target_form(at, action, ctx)
    out += find_field(pointer_join(at, "ref"), action.get("ref"), ctx.schema, ctx.form)[0]
    if not _target_form(at, action, ctx) and "map" in action:
        out += _mapping(pointer_join(at, "map"), action["map"], action["form"], ctx)
        out = [p for p in out if not p[1].startswith(f"表单 {show(action['form'])} 的必填字段没有映射")]
    return out


def _issue_document(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    doc_id = action.get("doc_id")
    if not isinstance(doc_id, str) or doc_id not in ctx.documents:
        return [(pointer_join(at, "doc_id"), f"文书 {show(doc_id)} 不存在（现有文书：{'、'.join(sorted(ctx.documents)) or '无'}）")]
    if "of" in action:  # the record created just before (its form is checked where the list is: _created_documents)
        if action["of"] not in DOCUMENT_OF:
            return [(pointer_join(at, "of"), f"应为 {'、'.join(DOCUMENT_OF)}（由刚登记的记录签发），实际为 {show(action['of'])}")]
        source = ctx.documents[doc_id]
        if "number_to" in action and source is not None:
            return find_field(pointer_join(at, "number_to"), action["number_to"], ctx.forms.get(source), source)[0]
        return []
    out = []
    if ctx.documents[doc_id] != ctx.form:
        out.append((pointer_join(at, "doc_id"), f"文书 {show(doc_id)} 由表单 {show(ctx.documents[doc_id])} 的记录生成，"
                                                f"不能由表单 {show(ctx.form)} 的记录签发"))
    if "number_to" in action:
        out += find_field(pointer_join(at, "number_to"), action["number_to"], ctx.schema, ctx.form)[0]
    return out


def _timer(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    out = []
    if not isinstance(action.get("timer"), str) or action["timer"] not in ctx.timers:
        out.append((pointer_join(at, "timer"), f"计时 {show(action.get('timer'))} 不存在（本流程的计时：{'、'.join(sorted(ctx.timers)) or '无'}）"))
    if "due_from" in action:
        problems, found = find_field(pointer_join(at, "due_from"), action["due_from"], ctx.schema, ctx.form)
        out += problems
        if found is not None and not is_date_field(found):
            out.append((pointer_join(at, "due_from"), f"字段 {show(action['due_from'])} 不是日期字段"))
    return out


def _for_each(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    """``items`` is a list-of-objects field of the acting record; ``where`` names its row fields; the
    nested actions are checked where they stand, with ``./pointers`` and ``{item.x}`` of the row."""
    out = _needs_record(at, action, ctx)
    problems, found = find_field(pointer_join(at, "items"), action.get("items"), ctx.schema, ctx.form)
    out += problems
    row = found.get("items") if isinstance(found, dict) else None
    if found is not None and (found.get("type") != "array" or not isinstance(row, dict) or row.get("type") != "object"):
        return out + [(pointer_join(at, "items"), f"字段 {show(action.get('items'))} 应为多行（对象数组）字段")]
    where = action.get("where", {})
    if not isinstance(where, dict):
        out.append((pointer_join(at, "where"), f"应为对象（行字段 → 值），实际为 {show(where)}"))
    elif row is not None:
        out += [p for key in where for p in find_field(pointer_join(at, "where", key), f"/{key}", row, "当前行")[0]]
    actions = action.get("actions")
    if not isinstance(actions, list) or not actions:
        return out + [(pointer_join(at, "actions"), f"应为非空的动作列表，实际为 {show(actions)}")]
    names = set(ctx.placeholders) | {f"item.{k}" for k in all_properties(row or {})}
    inner = replace(ctx, item=row or {}, placeholders=names)
    for index, nested in enumerate(actions):
        out += action_problems(pointer_join(at, "actions", str(index)), nested, inner)
    return out + _created_documents(pointer_join(at, "actions"), actions, ctx)


def _created_documents(at: str, actions: list[Any], ctx: ActionContext) -> list[Problem]:
    """``issue_document`` ``"of": "created"`` follows a create_record of the document's source form."""
    out, created = [], None
    for index, action in enumerate(actions):
        if not isinstance(action, dict):
            continue
        if action.get("do") == "create_record":
            created = action.get("form")
        elif action.get("do") == "issue_document" and action.get("of") == "created" and action.get("doc_id") in ctx.documents:
            source = ctx.documents[action["doc_id"]]
            if created is None or source != created:
                out.append((pointer_join(at, str(index), "of"), f"文书 {show(action['doc_id'])} 由表单 {show(source)} 的记录生成，"
                                                                   f"之前应有登记到该表单的动作（现为 {show(created)}）"))
    return out


def _transition_record(at: str, action: dict[str, Any], ctx: ActionContext) -> list[Problem]:
    """``ref`` names the record (a field holding its number); ``fields`` fill the other record's
    dialog (its pointers ← values like a ``map``). Which transitions exist is checked with the
    workflows (:func:`server.specs.workflows_loader`)."""
    out = _needs_record(at, action, ctx) + _target_form(at, action, ctx)
    out += _source_problems(pointer_join(at, "ref"), action.get("ref"), ctx)
    fields = action.get("fields", {})
    if not isinstance(fields, dict):
        return out + [(pointer_join(at, "fields"), f"应为对象（字段指针 → 值），实际为 {show(fields)}")]
    if fields and not _target_form(at, action, ctx):
        out += _mapping(pointer_join(at, "fields"), fields, action["form"], ctx)
        out = [p for p in out if not p[1].startswith(f"表单 {show(action['form'])} 的必填字段没有映射")]
    return out


_CHECKS = {"set_field": _set_field, "assign_responsibility": _assign, "route_to": _route, "create_task": _task,
           "create_record": _create_record, "update_record": _update_record, "issue_document": _issue_document,
           "start_timer": _timer, "stop_timer": _timer, "for_each": _for_each, "transition_record": _transition_record}

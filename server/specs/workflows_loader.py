"""Read ``config/workflows/*.json``: procedures as configuration, checked before they take effect.

A workflow is a state machine over the records of the one form that names it in ``x-form.workflow``:
states (Chinese title, open or closed, whom an open state waits on), the initial state, transitions
(label, from, to — possibly chosen by a condition —, roles and org levels, fields that must be
filled, fields asked for in the transition's dialog, a guard in the rules' condition language with a
Chinese explanation, actions) and timers (due in working days, calendar days or months from a date
field or from entering a state; paused in some states; escalation steps before, at or after the due
date, and what happens on expiry). Besides structure (a meta-schema) this refuses unreachable
states, open states with no way out, and every unknown form, field, role, level, parameter, fact,
document, timer, transition and unit code, with file, pointer and line:column like every loader.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator

from server.auth.roles import ROLES
from server.errors import ConfigError
from server.org.kinds import KINDS
from server.rules.conditions import condition_params, condition_problems, condition_schema_problems, substitute_params
from server.specs.actions_check import WORKFLOW_PLACEHOLDERS, ActionContext, action_problems, template_problems
from server.specs.fieldpaths import find_field, is_date_field, schema_at
from server.specs.metaschema import show
from server.specs.model import DocumentSpec, RulesSpec, canonical_digest
from server.specs.files import error_at, load_file, read_json
from server.specs.jsonpos import ParsedJson, pointer_join
from server.workflow.definition import GRANT_UNITS, REASON_MODES, UNITS, WAITS_ON, Workflow, build_workflow
from server.workflow.machine import reachable

WORKFLOWS_DIR = "workflows"
_TYPE_NAMES = {"string": "字符串", "integer": "整数", "number": "数字", "boolean": "布尔值"}
NAME = r"^[a-z][a-z0-9_]{0,39}$"
STATE = r"^[a-z][a-z0-9_]{0,31}$"  # stored in 32-character columns
Problem = tuple[str, str]

_AMOUNT = {"type": "object", "minProperties": 1, "maxProperties": 1,
           "properties": {unit: {"type": ["integer", "object"], "maximum": 3650} for unit in UNITS},
           "additionalProperties": False}
_TITLE = {"type": "string", "minLength": 1, "maxLength": 100}
_ACTIONS = {"type": "array", "items": {"type": "object"}}
_POINTERS = {"type": "array", "items": {"type": "string"}}
_CONDITION = {"type": "object", "required": ["if", "explain"], "additionalProperties": False,
              "properties": {"if": {"type": "object"}, "explain": {"type": "string", "minLength": 1}}}
WORKFLOW_META = Draft202012Validator({
    "type": "object", "required": ["title", "initial", "states", "transitions"], "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "facts": {"type": "string"},
        "assignee": {"type": "string"},
        "initial": {"type": "string"},
        "states": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": STATE}, "additionalProperties": {
            "type": "object", "required": ["title"], "additionalProperties": False,
            "properties": {"title": _TITLE, "open": {"type": "boolean"},
                           "waits_on": {"enum": list(WAITS_ON)}, "description": {"type": "string"}}}},
        "transitions": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": {
            "type": "object", "required": ["label", "from", "to", "roles"], "additionalProperties": False,
            "properties": {
                "label": _TITLE,
                "from": {"type": ["string", "array"], "items": {"type": "string"}},
                "to": {"type": ["string", "array"], "items": {
                    "type": "object", "required": ["state"], "additionalProperties": False,
                    "properties": {"state": {"type": "string"}, "if": {"type": "object"}}}},
                "roles": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["role"], "additionalProperties": False,
                    "properties": {"role": {"enum": list(ROLES)},
                                   "levels": {"type": "array", "minItems": 1, "items": {"enum": list(KINDS)}},
                                   "unit": {"enum": list(GRANT_UNITS)}}}},
                "requires": _POINTERS, "dialog": _POINTERS,
                "guard": _CONDITION,
                "reason": {"enum": list(REASON_MODES)},
                "style": {"enum": ["primary", "secondary", "danger"]},
                "actions": _ACTIONS,
                "description": {"type": "string"}}}},
        "agenda": {"type": "array", "items": {
            "type": "object", "required": ["title", "form", "states", "field"], "additionalProperties": False,
            "properties": {"title": _TITLE, "form": {"type": "string"},
                           "states": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                           "field": {"type": "string", "pattern": "^(/[^/]+)+$"}}}},
        "timers": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": {
            "type": "object", "required": ["title", "runs_in", "due"], "additionalProperties": False,
            "properties": {
                "title": _TITLE,
                "runs_in": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "paused_in": {"type": "array", "items": {"type": "string"}},
                "from": {"type": "string"},
                "due": _AMOUNT,
                "write_due": {"type": "string"},
                "steps": {"type": "array", "items": {
                    "type": "object", "required": ["id", "title"], "additionalProperties": False,
                    "properties": {"id": {"type": "string", "pattern": NAME}, "title": _TITLE,
                                   "before": _AMOUNT, "after": _AMOUNT, "at": {"const": "due"},
                                   "transition": {"type": "string"}, "actions": _ACTIONS}}},
                "on_expiry": {"type": "object", "additionalProperties": False,
                              "properties": {"title": _TITLE, "transition": {"type": "string"},
                                             "actions": _ACTIONS}}}}},
    },
})


def load_workflows(config_dir: Path, forms: Mapping[str, dict[str, Any] | None], rules: RulesSpec | None,
                   documents: Mapping[str, DocumentSpec], unit_codes: set[str] | None,
                   broken: set[str] = frozenset()) -> tuple[dict[str, Workflow], list[ConfigError]]:
    """Every workflow of ``config/workflows/`` and every problem, also of forms naming unknown workflows.

    ``broken``: files already reported as broken (a facts file, the parameters): what they would
    have declared goes unchecked here instead of being reported missing a second time."""
    folder = Path(config_dir) / WORKFLOWS_DIR
    paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    users = _forms_by_workflow(forms)
    workflows: dict[str, Workflow] = {}
    drafts: dict[str, tuple[str, dict[str, Any]]] = {}  # every workflow that parsed: form, document
    errors: list[ConfigError] = []
    known = {p.stem for p in paths}
    for workflow_id, form_ids in users.items():
        if workflow_id not in known:
            for form_id in form_ids:
                errors.append(error_at(config_dir, f"forms/{form_id}.json", "/x-form/workflow",
                                       f"流程 {show(workflow_id)} 不存在（config/workflows/ 中现有：{'、'.join(sorted(known)) or '无'}）"))
    for path in paths:
        file = f"{WORKFLOWS_DIR}/{path.name}"
        if not re.fullmatch(NAME, path.stem):
            errors.append(ConfigError(file, "", 1, 1, f"文件名（流程 id）应匹配 {NAME}，实际为 {show(path.stem)}"))
            continue
        check = _WorkflowCheck(path.stem, users.get(path.stem, []), forms, rules, documents, unit_codes, broken)
        document, file_errors = load_file(path, file, WORKFLOW_META, check.problems)
        errors += file_errors
        if isinstance(document, dict) and check.form is not None:
            drafts[path.stem] = (check.form, document)
        if not file_errors and check.form is not None:
            workflows[path.stem] = build_workflow(path.stem, check.form, document, canonical_digest(document))
    errors += _fact_transition_errors(config_dir, drafts, broken)
    errors += _document_state_errors(config_dir, documents, drafts)
    errors += _chain_errors(config_dir, drafts)
    errors += _agenda_errors(config_dir, forms, drafts)
    errors += _section_state_errors(config_dir, forms, drafts)
    return workflows, errors


def _forms_by_workflow(forms: Mapping[str, dict[str, Any] | None]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for form_id, schema in sorted(forms.items()):
        workflow = (schema or {}).get("x-form", {}).get("workflow") if isinstance(schema, dict) else None
        if isinstance(workflow, str):
            found.setdefault(workflow, []).append(form_id)
    return found


def _names(document: dict[str, Any], key: str) -> list[str]:
    value = document.get(key)
    return list(value) if isinstance(value, dict) else []


def _fact_transition_errors(config_dir: Path, drafts: Mapping[str, tuple[str, dict[str, Any]]],
                            broken: set[str]) -> list[ConfigError]:
    """``{"transitions": id}`` in a fact file must name a transition of its form's workflow. Both sides
    are read as written, so the check holds even when either file has other problems; it is silent
    for a form whose workflow file could not be read."""
    errors = []
    by_form = {form: doc for form, doc in drafts.values()}
    for path in sorted((Path(config_dir) / "facts").glob("*.json")):
        file = f"facts/{path.name}"
        parsed = read_json(path, file)
        doc = parsed.document if isinstance(parsed, ParsedJson) else None
        if not isinstance(doc, dict) or not isinstance(doc.get("attributes"), dict):
            continue
        document = by_form.get(doc.get("form")) if isinstance(doc.get("form"), str) else None
        if document is None and any(f.startswith(f"{WORKFLOWS_DIR}/") for f in broken):
            continue  # the form's workflow file may be the broken one
        for name, definition in doc["attributes"].items():
            transition = definition.get("transitions") if isinstance(definition, dict) else None
            if not isinstance(transition, str) or (document is not None and transition in _names(document, "transitions")):
                continue
            known = f"现有流转：{'、'.join(_names(document, 'transitions')) or '无'}" if document else "该表单没有流程"
            errors.append(error_at(config_dir, file, f"/attributes/{name}/transitions",
                                   f"流转 {show(transition)} 不存在（{known}）"))
    return errors


def _chain_errors(config_dir: Path, drafts: Mapping[str, tuple[str, dict[str, Any]]]) -> list[ConfigError]:
    """``transition_record`` names a transition of the workflow of its ``form`` (read as written)."""
    errors = []
    by_form = {form: doc for form, doc in drafts.values()}
    for workflow_id, (_form, document) in sorted(drafts.items()):
        for at, action in _actions_in(document):
            if action.get("do") != "transition_record" or not isinstance(action.get("transition"), str):
                continue
            target = by_form.get(action.get("form"))
            if target is None:
                message = f"表单 {show(action.get('form'))} 没有流程，不能流转"
            elif action["transition"] not in _names(target, "transitions"):
                message = (f"表单 {show(action.get('form'))} 的流程没有流转 {show(action['transition'])}"
                           f"（现有：{'、'.join(_names(target, 'transitions'))}）")
            else:
                continue
            errors.append(error_at(config_dir, f"{WORKFLOWS_DIR}/{workflow_id}.json", f"{at}/transition", message))
    return errors


def _agenda_errors(config_dir: Path, forms: Mapping[str, dict[str, Any] | None],
                   drafts: Mapping[str, tuple[str, dict[str, Any]]]) -> list[ConfigError]:
    """An agenda list names a form with a workflow, states of that workflow and a field of that form."""
    errors = []
    by_form = {form: doc for form, doc in drafts.values()}
    for workflow_id, (_form, document) in sorted(drafts.items()):
        file = f"{WORKFLOWS_DIR}/{workflow_id}.json"
        for index, entry in enumerate(document.get("agenda") or []):
            if not isinstance(entry, dict):
                continue
            at = f"/agenda/{index}"
            target = by_form.get(entry.get("form"))
            if target is None:
                errors.append(error_at(config_dir, file, f"{at}/form", f"表单 {show(entry.get('form'))} 不存在或没有流程"))
                continue
            for state_index, state in enumerate(entry.get("states") or []):
                if state not in _names(target, "states"):
                    errors.append(error_at(config_dir, file, f"{at}/states/{state_index}",
                                           f"状态 {show(state)} 不存在（现有状态：{'、'.join(_names(target, 'states'))}）"))
            schema = forms.get(entry["form"])
            if schema is not None and isinstance(entry.get("field"), str) and schema_at(schema, entry["field"]) is None:
                errors.append(error_at(config_dir, file, f"{at}/field", f"表单 {show(entry['form'])} 中没有字段 {show(entry['field'])}"))
    return errors


def _actions_in(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every action of a workflow document with its pointer, nested ``for_each`` actions included."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(at: str, actions: Any) -> None:
        for index, action in enumerate(actions if isinstance(actions, list) else []):
            if isinstance(action, dict):
                found.append((f"{at}/{index}", action))
                walk(f"{at}/{index}/actions", action.get("actions"))

    for tid, transition in (document.get("transitions") or {}).items():
        if isinstance(transition, dict):
            walk(f"/transitions/{tid}/actions", transition.get("actions"))
    for tid, timer in (document.get("timers") or {}).items():
        for index, step in enumerate(timer.get("steps", []) if isinstance(timer, dict) else []):
            if isinstance(step, dict):
                walk(f"/timers/{tid}/steps/{index}/actions", step.get("actions"))
    return found


def _document_state_errors(config_dir: Path, documents: Mapping[str, DocumentSpec],
                           drafts: Mapping[str, tuple[str, dict[str, Any]]]) -> list[ConfigError]:
    """A statistics column counting records in some ``states``, and a record's document issued only in
    some ``states``, name states of the form's workflow."""
    errors = []
    by_form = {form: doc for form, doc in drafts.values()}
    for doc_id, spec in documents.items():
        source = by_form.get(spec.form) if spec.form else None
        for state_index, state in enumerate(spec.document.get("states", [])):
            if source is None or state not in _names(source, "states"):
                known = f"现有状态：{'、'.join(_names(source, 'states')) or '无'}" if source else "来源表单没有流程"
                errors.append(error_at(config_dir, f"documents/{doc_id}/document.json", f"/states/{state_index}",
                                       f"状态 {show(state)} 不存在（{known}）"))
        columns = spec.document["source"].get("statistics", {}).get("columns", [])
        for index, column in enumerate(columns):
            document = by_form.get(column.get("form"))
            for state_index, state in enumerate(column.get("states", [])):
                if document is None or state not in _names(document, "states"):
                    known = f"现有状态：{'、'.join(_names(document, 'states')) or '无'}" if document else "该表单没有流程"
                    errors.append(error_at(config_dir, f"documents/{doc_id}/document.json",
                                           f"/source/statistics/columns/{index}/states/{state_index}",
                                           f"状态 {show(state)} 不存在（{known}）"))
    return errors


def _section_state_errors(config_dir: Path, forms: Mapping[str, dict[str, Any] | None],
                          drafts: Mapping[str, tuple[str, dict[str, Any]]]) -> list[ConfigError]:
    """A form's sections (``x-ui.states`` on a top-level object field) name states of the form's
    workflow; a required section can be filled in the initial state. Silent for a form whose workflow
    file could not be read (that file's errors say why)."""
    errors = []
    for workflow_id, (form_id, document) in sorted(drafts.items()):
        schema = forms.get(form_id)
        states = document.get("states") if isinstance(document.get("states"), dict) else {}
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            continue
        listed = "、".join(f"{sid}（{st.get('title')}）" if isinstance(st, dict) and st.get("title") else sid
                          for sid, st in states.items()) or "无"
        required = schema.get("required") if isinstance(schema.get("required"), list) else []
        for key, field in schema["properties"].items():
            ui = field.get("x-ui") if isinstance(field, dict) else None
            wanted = ui.get("states") if isinstance(ui, dict) else None
            if not isinstance(wanted, list):
                continue
            at = pointer_join("/properties", key, "x-ui", "states")
            for index, state in enumerate(wanted):
                if isinstance(state, str) and state not in states:
                    errors.append(error_at(config_dir, f"forms/{form_id}.json", pointer_join(at, index),
                                           f"状态 {show(state)} 不存在（流程 {show(workflow_id)} 的状态：{listed}）"))
            initial = document.get("initial")
            if key in required and isinstance(initial, str) and initial in states and initial not in wanted:
                errors.append(error_at(config_dir, f"forms/{form_id}.json", at,
                                       f"分节 {show(key)} 列在 required 中，但在初始状态 {show(initial)} 不能填写："
                                       "请把初始状态列入 x-ui.states，或不把它列为必填"))
    return errors


class _WorkflowCheck:
    """The value rules of one workflow file."""

    def __init__(self, workflow_id: str, form_ids: list[str], forms: Mapping[str, dict[str, Any] | None],
                 rules: RulesSpec | None, documents: Mapping[str, DocumentSpec], unit_codes: set[str] | None,
                 broken: set[str] = frozenset()):
        self.id = workflow_id
        self.form_ids = form_ids
        self.form = form_ids[0] if len(form_ids) == 1 else None
        self.forms = forms
        self.rules = rules
        self.documents = documents
        self.unit_codes = unit_codes
        self.broken = broken
        self.facts_unknown = False   # the workflow's facts file is broken: its attributes go unchecked
        self.out: list[Problem] = []

    @property
    def params(self) -> Mapping[str, Any] | None:
        """The parameters, or None when parameters.json is broken (then they go unchecked)."""
        if self.rules is None or "rules/parameters.json" in self.broken:
            return None
        return self.rules.parameters

    @property
    def schema(self) -> dict[str, Any] | None:
        return self.forms.get(self.form) if self.form else None

    def problems(self, doc: Any) -> list[Problem]:
        if not isinstance(doc, dict):
            return []
        if not self.form_ids:
            self.out.append(("", f"没有表单使用流程 {show(self.id)}：请在表单的 x-form.workflow 中写 {show(self.id)}"))
        elif len(self.form_ids) > 1:
            self.out.append(("", f"流程 {show(self.id)} 只能用于一个表单，实际有 {'、'.join(self.form_ids)}"))
        states = doc.get("states") if isinstance(doc.get("states"), dict) else {}
        transitions = doc.get("transitions") if isinstance(doc.get("transitions"), dict) else {}
        timers = doc.get("timers") if isinstance(doc.get("timers"), dict) else {}
        self.initial = doc.get("initial")
        self.facts = self._facts(doc.get("facts"))
        self._assignee(doc.get("assignee"))
        if isinstance(doc.get("initial"), str) and doc["initial"] not in states:
            self.out.append(("/initial", f"初始状态 {show(doc['initial'])} 不存在（现有状态：{'、'.join(states) or '无'}）"))
        for sid, state in states.items():
            if isinstance(state, dict) and state.get("waits_on") == "assignee" and not doc.get("assignee"):
                self.out.append((f"/states/{sid}/waits_on", "流程没有 assignee（承办单位字段），状态不能等待承办单位"))
        ctx = ActionContext(where="workflow", forms=self.forms, parameters=self.params,
                            unit_codes=self.unit_codes, placeholders=set(WORKFLOW_PLACEHOLDERS) | set(self.facts or {}),
                            form=self.form, documents={d: s.form for d, s in self.documents.items()},
                            timers=set(timers))
        for tid, transition in transitions.items():
            if isinstance(transition, dict):
                self._transition(f"/transitions/{tid}", transition, states, bool(doc.get("assignee")), ctx)
        for tid, timer in timers.items():
            if isinstance(timer, dict):
                self._timer(f"/timers/{tid}", timer, states, transitions, ctx)
        if not self.out and self.form is not None and WORKFLOW_META.is_valid(doc):
            self._graph(doc)
        return self.out

    # -- references ------------------------------------------------------------------------------
    def _facts(self, facts_id: Any) -> dict[str, str] | None:
        """The attribute types of the workflow's facts (None when it declares none)."""
        if facts_id is None:
            return None
        spec = self.rules.facts.get(facts_id) if self.rules and isinstance(facts_id, str) else None
        if spec is None and f"facts/{facts_id}.json" in self.broken:
            self.facts_unknown = True
            return None
        if spec is None:
            known = "、".join(sorted(self.rules.facts)) if self.rules else "无"
            self.out.append(("/facts", f"事实声明 {show(facts_id)} 不存在（config/facts/ 中现有：{known}）"))
            return None
        if self.form and spec.form != self.form:
            self.out.append(("/facts", f"事实声明 {show(facts_id)} 属于表单 {show(spec.form)}，不是本流程的表单 {show(self.form)}"))
        self.fact_schema = spec.schema
        return dict(spec.types)

    def _assignee(self, pointer: Any) -> None:
        if pointer is None:
            return
        found = self._field("/assignee", pointer)
        if found is not None and "org" not in (found.get("x-ui") or {}):
            self.out.append(("/assignee", f"承办单位字段 {show(pointer)} 应为单位字段（带 x-ui.org）"))

    def _field(self, at: str, pointer: Any) -> dict[str, Any] | None:
        problems, found = find_field(at, pointer, self.schema, self.form)
        self.out += problems
        return found

    def _states(self, at: str, names: Any, states: Mapping[str, Any]) -> None:
        items = [names] if isinstance(names, str) else names if isinstance(names, list) else []
        for index, name in enumerate(items):
            if isinstance(name, str) and name not in states:
                where = at if isinstance(names, str) else f"{at}/{index}"
                self.out.append((where, f"状态 {show(name)} 不存在（现有状态：{'、'.join(states) or '无'}）"))

    def _condition(self, at: str, condition: Any) -> None:
        if not isinstance(condition, dict):
            return
        problems = condition_problems(condition, at)
        self.out += problems
        params = self.params
        for name in sorted(condition_params(condition)):
            if params is not None and name not in params:
                self.out.append((at, f"参数 {show(name)} 不存在（现有参数：{'、'.join(params) or '无'}）"))
                problems = [(at, "")]
        if self.facts is None and not self.facts_unknown:
            self.out.append((at, "流程的条件需要事实：请用 \"facts\" 指明事实声明"))
        elif self.facts is not None and params is not None and not problems:
            values = {n: p.value for n, p in params.items()}
            self.out += condition_schema_problems(substitute_params(condition, values), self.fact_schema, at)

    def _amount(self, at: str, amount: Any) -> None:  # noqa: C901 - one message per way an amount can be wrong
        if not isinstance(amount, dict) or len(amount) != 1:
            return
        (unit, value), = amount.items()
        where = f"{at}/{unit}"
        if isinstance(value, dict):
            params = self.params
            if set(value) == {"$param"}:
                name = value["$param"]
                param = params.get(name) if params is not None and isinstance(name, str) else None
                if params is None:
                    pass  # parameters.json is broken and reported
                elif param is None:
                    self.out.append((where, f"参数 {show(name)} 不存在（现有参数：{'、'.join(params) or '无'}）"))
                elif isinstance(param.value, bool) or not isinstance(param.value, int) or param.value < 0:
                    self.out.append((where, f"参数 {show(value['$param'])} 应为非负整数，实际为 {show(param.value)}"))
            elif set(value) == {"$fact"}:
                name = value["$fact"]
                found = self.facts.get(name) if self.facts is not None and isinstance(name, str) else None
                if self.facts_unknown:
                    pass
                elif self.facts is None:
                    self.out.append((where, f"{show(name)} 应为流程事实中的整数属性，实际流程没有 facts"))
                elif found != "integer":
                    what = f"{_TYPE_NAMES.get(found, found)}属性" if found else "不存在的属性"
                    self.out.append((where, f"{show(name)} 应为流程事实中的整数属性，实际为{what}"))
            else:
                self.out.append((where, f"应为非负整数、{{\"$param\": 参数名}} 或 {{\"$fact\": 属性名}}，实际为 {show(value)}"))
        elif value < 0:
            self.out.append((where, f"应为非负整数（方向用 before/after 表示），实际为 {show(value)}"))

    # -- transitions and timers -------------------------------------------------------------------
    def _transition(self, at: str, transition: dict[str, Any], states: Mapping[str, Any], has_assignee: bool,
                    ctx: ActionContext) -> None:
        self._states(f"{at}/from", transition.get("from"), states)
        to = transition.get("to")
        if isinstance(to, str):
            self._states(f"{at}/to", to, states)
        elif isinstance(to, list):
            if not to:
                self.out.append((f"{at}/to", "应至少有一个目标状态"))
            for index, target in enumerate(to):
                if isinstance(target, dict):
                    self._states(f"{at}/to/{index}/state", target.get("state"), states)
                    if "if" in target:
                        self._condition(f"{at}/to/{index}/if", target["if"])
                    elif index != len(to) - 1:
                        self.out.append((f"{at}/to/{index}", "没有条件的目标只能放在最后（否则后面的目标永远不会被选中）"))
            if to and isinstance(to[-1], dict) and "if" in to[-1]:
                self.out.append((f"{at}/to/{len(to) - 1}/if", "最后一个目标应不带 if（条件都不满足时的去向），实际带有 if"))
        for index, grant in enumerate(transition.get("roles") or []):
            if isinstance(grant, dict) and grant.get("unit") == "assignee" and not has_assignee:
                self.out.append((f"{at}/roles/{index}/unit", "流程没有 assignee（承办单位字段），不能限定为承办单位"))
        for key in ("requires", "dialog"):
            pointers = transition.get(key)
            for index, pointer in enumerate(pointers if isinstance(pointers, list) else []):
                self._field(f"{at}/{key}/{index}", pointer)
        guard = transition.get("guard")
        if isinstance(guard, dict) and isinstance(guard.get("if"), dict):
            self._condition(f"{at}/guard/if", guard["if"])
        if isinstance(guard, dict) and isinstance(guard.get("explain"), str):
            self.out += template_problems(f"{at}/guard/explain", guard["explain"], set(self.facts or {}),
                                          self.rules.parameters if self.rules else {})
        for index, action in enumerate(transition.get("actions") or []):
            self.out += action_problems(f"{at}/actions/{index}", action, ctx)

    def _timer(self, at: str, timer: dict[str, Any], states: Mapping[str, Any], transitions: Mapping[str, Any],
               ctx: ActionContext) -> None:
        self._states(f"{at}/runs_in", timer.get("runs_in"), states)
        self._states(f"{at}/paused_in", timer.get("paused_in"), states)
        runs = [x for x in timer.get("runs_in") or [] if isinstance(x, str)] if isinstance(timer.get("runs_in"), list) else []
        paused = timer.get("paused_in") if isinstance(timer.get("paused_in"), list) else []
        for index, name in enumerate(paused):
            if isinstance(name, str) and name in runs:
                self.out.append((f"{at}/paused_in/{index}", f"状态 {show(name)} 已在 runs_in 中，不能既计时又暂停"))
        start = timer.get("from", "entered")
        if start != "entered":
            found = self._field(f"{at}/from", start)
            if found is not None and not is_date_field(found):
                self.out.append((f"{at}/from", f"起算字段 {show(start)} 不是日期字段"))
        if "write_due" in timer:
            if self.initial in (timer.get("runs_in") or []):
                self.out.append((f"{at}/write_due", "在初始状态就开始计时的计时器不能写回到期日（登记时还没有计时器）；"
                                                    "请让它从第一个流转开始计时"))
            found = self._field(f"{at}/write_due", timer["write_due"])
            if found is not None and not (found.get("type") == "string" and found.get("format") == "date"):
                self.out.append((f"{at}/write_due", f"到期日写入的字段 {show(timer['write_due'])} 应为日期字段"))
        self._amount(f"{at}/due", timer.get("due"))
        seen: dict[str, int] = {}
        steps = timer.get("steps") if isinstance(timer.get("steps"), list) else []
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            where = f"{at}/steps/{index}"
            step_id = step.get("id")
            if step_id == "expiry":
                self.out.append((f"{where}/id", "步骤 id \"expiry\" 是保留字（用于 on_expiry），请换一个"))
            elif isinstance(step_id, str) and step_id in seen:
                self.out.append((f"{where}/id", f"步骤 id {show(step_id)} 与第 {seen[step_id] + 1} 个步骤重复"))
            if isinstance(step_id, str):
                seen.setdefault(step_id, index)
            offsets = [k for k in ("before", "after", "at") if k in step]
            if len(offsets) != 1:
                found = "、".join(offsets) if offsets else "都没有"
                self.out.append((where, f"步骤须恰好用 before、after 或 \"at\": \"due\" 之一指明时间，实际为 {found}"))
            for key in ("before", "after"):
                if key in step:
                    self._amount(f"{where}/{key}", step[key])
            self._step_body(where, step, transitions, ctx, runs)
        if isinstance(timer.get("on_expiry"), dict):
            self._step_body(f"{at}/on_expiry", timer["on_expiry"], transitions, ctx, runs)

    def _step_body(self, at: str, step: dict[str, Any], transitions: Mapping[str, Any], ctx: ActionContext,
                   runs: list[str]) -> None:
        name = step.get("transition")
        if "transition" in step and (not isinstance(name, str) or name not in transitions):
            self.out.append((f"{at}/transition", f"流转 {show(name)} 不存在（现有流转：{'、'.join(transitions) or '无'}）"))
        elif isinstance(name, str) and isinstance(transitions[name], dict):
            sources = transitions[name].get("from")
            sources = [sources] if isinstance(sources, str) else sources if isinstance(sources, list) else []
            if runs and not set(runs) & set(sources):
                self.out.append((f"{at}/transition", f"流转 {show(name)} 只能从 {'、'.join(map(str, sources)) or '（无）'} 办理，"
                                                     f"而计时只在 {'、'.join(runs)} 中进行，步骤无法办理它"))
        for index, action in enumerate(step.get("actions") or []):
            self.out += action_problems(f"{at}/actions/{index}", action, ctx)

    def _graph(self, doc: dict[str, Any]) -> None:
        workflow = build_workflow(self.id, self.form or "", doc, "")
        seen = reachable(workflow)
        for sid in workflow.states:
            if sid not in seen:
                self.out.append((f"/states/{sid}", f"状态 {show(sid)}（{workflow.states[sid].title}）从初始状态无法到达"))
        exits = {s for t in workflow.transitions.values() for s in t.sources}
        for sid, state in workflow.states.items():
            if state.open and sid not in exits:
                self.out.append((f"/states/{sid}", f"未办结的状态 {show(sid)}（{state.title}）没有任何出路：请加流转，或标为 \"open\": false"))

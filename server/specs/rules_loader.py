"""Read ``config/rules/`` (parameters and rulesets) and report every problem at once.

Structure is checked by meta-schemas; then the values: a ruleset's event, form and fact provider must
fit together, its conditions may only use operators durable_rules understands, attributes its fact
provider declares and parameters that exist with a fitting type, explanations only known placeholders,
and actions only the fixed vocabulary with its arguments. Nothing here compiles rules: the engine
compiles what this accepted.
"""
from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator

from server.errors import ConfigError
from server.rules.conditions import (
    condition_params, condition_problems, condition_schema_problems, ruleset_problems, substitute_params,
)
from server.rules.facts import PROVIDERS
from server.rules.vocabulary import ACTIONS, EVENTS, RESPONSIBILITY_ROLES
from server.specs.jsonpos import pointer_join
from server.specs.metaschema import show
from server.specs.model import ParameterSpec, RulesetSpec, RulesSpec
from server.specs.org_loader import _load_file

RULES_DIR = "rules"
PARAMETERS_FILE = "parameters.json"
NAME = r"^[a-z][a-z0-9_]{0,59}$"
Problem = tuple[str, str]

PARAMETERS_META = Draft202012Validator({
    "type": "object", "required": ["parameters"], "additionalProperties": False,
    "properties": {"parameters": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": {
        "type": "object", "required": ["title", "value"], "additionalProperties": False,
        "properties": {"title": {"type": "string", "minLength": 1}, "unit": {"type": "string"},
                       "value": {"type": ["number", "string", "boolean"]},
                       "minimum": {"type": "number"}, "maximum": {"type": "number"},
                       "choices": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                       "description": {"type": "string"}}}}},
})
RULESET_META = Draft202012Validator({
    "type": "object", "required": ["title", "when", "facts", "rules"], "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "when": {"type": "object", "required": ["event"], "additionalProperties": False,
                 "properties": {"event": {"enum": list(EVENTS)}, "form": {"type": "string"}}},
        "facts": {"enum": list(PROVIDERS)},
        "rules": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": NAME}, "additionalProperties": {
            "type": "object", "required": ["title", "if", "explain", "actions"], "additionalProperties": False,
            "properties": {"title": {"type": "string", "minLength": 1}, "if": {"type": "object"},
                           "explain": {"type": "string", "minLength": 1},
                           "actions": {"type": "array", "items": {
                               "type": "object", "required": ["do"],
                               "properties": {"do": {"enum": list(ACTIONS)}}}}}}},
    },
})


def load_rules(config_dir: Path) -> tuple[RulesSpec | None, list[ConfigError]]:
    """``(None, [])`` without a ``rules/`` folder; ``(None, errors)`` on any problem; else the spec."""
    rules_dir = Path(config_dir) / RULES_DIR
    if not rules_dir.is_dir():
        return None, []
    params_doc, errors = _load_file(rules_dir / PARAMETERS_FILE, f"{RULES_DIR}/{PARAMETERS_FILE}",
                                    PARAMETERS_META, _parameter_problems)
    parameters = _parameters_of(params_doc)
    forms = _form_ids(Path(config_dir))
    rulesets: dict[str, RulesetSpec] = {}
    for path in sorted(p for p in rules_dir.glob("*.json") if p.name != PARAMETERS_FILE):
        file = f"{RULES_DIR}/{path.name}"
        if not re.fullmatch(NAME, path.stem):
            errors.append(ConfigError(file, "", 1, 1, f"文件名（规则集 id）应匹配 {NAME}，实际为 {show(path.stem)}"))
            continue
        document, file_errors = _load_file(path, file, RULESET_META,
                                           lambda doc: _RulesetCheck(doc, parameters, forms).problems())
        errors += file_errors
        if not file_errors:
            rulesets[path.stem] = RulesetSpec(id=path.stem, title=document["title"], event=document["when"]["event"],
                                              form=document["when"].get("form"), facts=document["facts"],
                                              rules=document["rules"], document=document)
    errors.sort(key=lambda e: (e.file, e.line, e.column, e.pointer, e.message))
    if errors:
        return None, errors
    return RulesSpec(parameters=parameters or {}, rulesets=rulesets), []


def _form_ids(config_dir: Path) -> set[str]:
    return {p.stem for p in (config_dir / "forms").glob("*.json")}


def _parameters_of(document: Any) -> dict[str, ParameterSpec] | None:
    if not (isinstance(document, dict) and isinstance(document.get("parameters"), dict)):
        return None
    return {name: ParameterSpec(name=name, title=p.get("title", ""), value=p.get("value"), unit=p.get("unit", ""))
            for name, p in document["parameters"].items() if isinstance(p, dict)}


def _parameter_problems(document: Any) -> list[Problem]:
    problems: list[Problem] = []
    params = document.get("parameters") if isinstance(document, dict) else None
    for name, spec in (params or {}).items():
        if not isinstance(spec, dict) or "value" not in spec:
            continue
        at, value = f"/parameters/{name}/value", spec["value"]
        low, high = spec.get("minimum"), spec.get("maximum")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if low is not None or high is not None:
                problems.append((at, f"有 minimum/maximum 的参数应为数字，实际为 {show(value)}"))
        elif isinstance(low, (int, float)) and value < low:
            problems.append((at, f"应不小于 {show(low)}，实际为 {show(value)}"))
        elif isinstance(high, (int, float)) and value > high:
            problems.append((at, f"应不大于 {show(high)}，实际为 {show(value)}"))
        choices = spec.get("choices")
        if isinstance(choices, list) and value not in choices:
            problems.append((at, f"应为 {'、'.join(show(c) for c in choices)} 之一，实际为 {show(value)}"))
    return problems


class _RulesetCheck:
    """The value rules of one ruleset file, collected as (pointer, message)."""

    def __init__(self, document: Any, parameters: Mapping[str, ParameterSpec] | None, forms: set[str]):
        self.doc = document if isinstance(document, dict) else {}
        self.parameters = parameters
        self.forms = forms
        self.out: list[Problem] = []
        self.provider = PROVIDERS.get(self.doc.get("facts")) if isinstance(self.doc.get("facts"), str) else None

    def problems(self) -> list[Problem]:
        self._when()
        rules = self.doc.get("rules") if isinstance(self.doc.get("rules"), dict) else {}
        conditions = {i: r["if"] for i, r in rules.items() if isinstance(r, dict) and isinstance(r.get("if"), dict)}
        if conditions:  # every condition, and the engine's limits on the ruleset as a whole
            self.out += ruleset_problems(conditions, "/rules")
        for rule_id, rule in rules.items():
            if isinstance(rule, dict):
                self._rule(f"/rules/{rule_id}", rule)
        return self.out

    def _when(self) -> None:
        when = self.doc.get("when") if isinstance(self.doc.get("when"), dict) else {}
        event, form = when.get("event"), when.get("form")
        if event == "record_saved" and not form:
            self.out.append(("/when", "record_saved 事件须用 form 指明是哪个表单的记录"))
        if isinstance(form, str) and form not in self.forms:
            self.out.append(("/when/form", f"表单 {show(form)} 不存在（现有表单：{'、'.join(sorted(self.forms))}）"))
        if self.provider is not None and event in EVENTS and event not in self.provider.events:
            self.out.append(("/facts", f"事实来源 {show(self.provider.name)} 只用于 {'、'.join(self.provider.events)} 事件，"
                                       f"实际为 {show(event)}"))
        if self.provider is not None and self.provider.form and isinstance(form, str) and form != self.provider.form:
            self.out.append(("/facts", f"事实来源 {show(self.provider.name)} 只用于表单 {show(self.provider.form)}，"
                                       f"实际为 {show(form)}"))

    def _rule(self, at: str, rule: dict[str, Any]) -> None:
        condition = rule.get("if")
        if isinstance(condition, dict):
            shape = condition_problems(condition, f"{at}/if")
            unknown = [n for n in sorted(condition_params(condition))
                       if self.parameters is not None and n not in self.parameters]
            for name in unknown:
                self.out.append((f"{at}/if", f"参数 {show(name)} 不存在（现有参数：{'、'.join(self.parameters or {})}）"))
            if not shape and not unknown and self.provider is not None and self.parameters is not None:
                values = {n: p.value for n, p in self.parameters.items()}
                self.out += condition_schema_problems(substitute_params(condition, values), self.provider.schema,
                                                      f"{at}/if")
        if isinstance(rule.get("explain"), str):
            self.out += self._template_problems(f"{at}/explain", rule["explain"], allow_params=True)
        for index, action in enumerate(rule.get("actions") or []):
            if isinstance(action, dict):
                self._action(f"{at}/actions/{index}", action)

    def _template_problems(self, at: str, text: str, allow_params: bool) -> list[Problem]:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError:
            return [(at, f"花括号不成对（字面花括号应写作 {{{{ 或 }}}}），实际为 {show(text)}")]
        problems = []
        for name in names:
            if allow_params and name.startswith("param."):
                if self.parameters is not None and name[6:] not in self.parameters:
                    problems.append((at, f"参数 {show(name[6:])} 不存在"))
            elif self.provider is not None and name not in self.provider.attributes:
                problems.append((at, f"占位符 {{{name}}} 不是事实 {show(self.provider.name)} 的属性"))
        return problems

    def _action(self, at: str, action: dict[str, Any]) -> None:
        spec = ACTIONS.get(action.get("do"))  # type: ignore[arg-type]
        if spec is None:
            return
        for key in action:
            if key != "do" and key not in spec.arguments:
                self.out.append((pointer_join(at, key), f"动作 {spec.name} 没有参数 {show(key)}（可用：{'、'.join(spec.arguments)}）"))
        for key in spec.required:
            if key not in action:
                self.out.append((at, f"动作 {spec.name} 缺少参数 {show(key)}"))
        for key, value in action.items():
            if key != "do" and isinstance(value, str):
                self.out += self._template_problems(pointer_join(at, key), value, allow_params=False)
        if spec.name == "assign_responsibility" and action.get("role") not in RESPONSIBILITY_ROLES:
            self.out.append((f"{at}/role", f"应为 {'、'.join(RESPONSIBILITY_ROLES)} 之一，实际为 {show(action.get('role'))}"))
        if spec.name == "create_task" and not (isinstance(action.get("due_working_days"), int)
                                               and 0 < action["due_working_days"] <= 365):
            self.out.append((f"{at}/due_working_days", f"应为 1 到 365 的整数，实际为 {show(action.get('due_working_days'))}"))

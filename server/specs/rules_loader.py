"""Read ``config/rules/`` (parameters and rulesets) and ``config/facts/`` and report every problem at once.

Structure is checked by meta-schemas; then the values: a ruleset's event, form and fact declaration
must fit together, its conditions may only use operators durable_rules understands, attributes its
facts declare and parameters that exist with a fitting type, explanations only known placeholders,
and actions only the fixed vocabulary with its arguments, fields, forms and unit codes that exist.
Nothing here compiles rules: the engine compiles what this accepted.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator

from server.errors import ConfigError
from server.rules.conditions import (
    condition_params, condition_problems, condition_schema_problems, ruleset_problems, substitute_params,
)
from server.rules.vocabulary import ACTIONS, EVENTS
from server.specs.actions_check import ActionContext, action_problems, template_problems
from server.specs.facts_loader import load_facts
from server.specs.metaschema import show
from server.specs.model import FactsSpec, ParameterSpec, RulesetSpec, RulesSpec
from server.specs.files import load_file

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
        "facts": {"type": "string"},
        "rules": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": NAME}, "additionalProperties": {
            "type": "object", "required": ["title", "if", "explain", "actions"], "additionalProperties": False,
            "properties": {"title": {"type": "string", "minLength": 1}, "if": {"type": "object"},
                           "explain": {"type": "string", "minLength": 1},
                           "actions": {"type": "array", "items": {
                               "type": "object", "required": ["do"],
                               "properties": {"do": {"enum": list(ACTIONS)}}}}}}},
    },
})


def load_rules(config_dir: Path, forms: Mapping[str, dict[str, Any] | None],
               unit_codes: set[str] | None = None) -> tuple[RulesSpec | None, list[ConfigError]]:
    """``(None, [])`` without ``rules/`` and ``facts/`` folders; otherwise the spec and every problem.

    With problems the spec holds what did load (parameters, facts, rulesets without errors), so the
    files that refer to it (workflows) are checked against it rather than reporting everything in it
    as missing. ``forms`` maps every form id to its schema (None when that form is broken: its fields
    go unchecked); ``unit_codes`` are the configured org units (None: literal unit codes go unchecked)."""
    rules_dir = Path(config_dir) / RULES_DIR
    if not rules_dir.is_dir() and not (Path(config_dir) / "facts").is_dir():
        return None, []
    errors: list[ConfigError] = []
    parameters: dict[str, ParameterSpec] | None = {}
    if rules_dir.is_dir():
        params_doc, errors = load_file(rules_dir / PARAMETERS_FILE, f"{RULES_DIR}/{PARAMETERS_FILE}",
                                        PARAMETERS_META, _parameter_problems)
        parameters = _parameters_of(params_doc)
    facts, fact_errors = load_facts(Path(config_dir), forms, parameters)
    errors += fact_errors
    rulesets: dict[str, RulesetSpec] = {}
    for path in sorted(p for p in rules_dir.glob("*.json") if p.name != PARAMETERS_FILE):
        file = f"{RULES_DIR}/{path.name}"
        if not re.fullmatch(NAME, path.stem):
            errors.append(ConfigError(file, "", 1, 1, f"文件名（规则集 id）应匹配 {NAME}，实际为 {show(path.stem)}"))
            continue
        check = _RulesetCheck(parameters, forms, facts, unit_codes, {e.file for e in fact_errors})
        document, file_errors = load_file(path, file, RULESET_META, check.problems)
        errors += file_errors
        if not file_errors:
            rulesets[path.stem] = RulesetSpec(id=path.stem, title=document["title"], event=document["when"]["event"],
                                              form=document["when"].get("form"), facts=document["facts"],
                                              rules=document["rules"], document=document)
    errors.sort(key=lambda e: (e.file, e.line, e.column, e.pointer, e.message))
    return RulesSpec(parameters=parameters or {}, rulesets=rulesets, facts=facts), errors


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

    def __init__(self, parameters: Mapping[str, ParameterSpec] | None, forms: Mapping[str, dict[str, Any] | None],
                 facts: Mapping[str, FactsSpec], unit_codes: set[str] | None, broken_fact_files: set[str]):
        self.parameters = parameters
        self.forms = forms
        self.facts = facts
        self.unit_codes = unit_codes
        self.broken_fact_files = broken_fact_files
        self.out: list[Problem] = []
        self.spec: FactsSpec | None = None
        self.doc: dict[str, Any] = {}

    def problems(self, document: Any) -> list[Problem]:
        self.doc = document if isinstance(document, dict) else {}
        facts_id = self.doc.get("facts")
        self.spec = self.facts.get(facts_id) if isinstance(facts_id, str) else None
        if isinstance(facts_id, str) and self.spec is None and f"facts/{facts_id}.json" not in self.broken_fact_files:
            self.out.append(("/facts", f"事实声明 {show(facts_id)} 不存在（config/facts/ 中现有：{'、'.join(sorted(self.facts)) or '无'}）"))
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
        if self.spec is None:
            return
        if event == "record_saved" and self.spec.subject != "record":
            self.out.append(("/facts", f"事实声明 {show(self.spec.id)} 是关于单位的，只能用于 daily 事件，实际为 {show(event)}"))
        if self.spec.form and isinstance(form, str) and form != self.spec.form:
            self.out.append(("/facts", f"事实声明 {show(self.spec.id)} 只用于表单 {show(self.spec.form)}，实际为 {show(form)}"))

    def _rule(self, at: str, rule: dict[str, Any]) -> None:
        condition = rule.get("if")
        if isinstance(condition, dict):
            shape = condition_problems(condition, f"{at}/if")
            unknown = [n for n in sorted(condition_params(condition))
                       if self.parameters is not None and n not in self.parameters]
            for name in unknown:
                self.out.append((f"{at}/if", f"参数 {show(name)} 不存在（现有参数：{'、'.join(self.parameters or {})}）"))
            if not shape and not unknown and self.spec is not None and self.parameters is not None:
                values = {n: p.value for n, p in self.parameters.items()}
                self.out += condition_schema_problems(substitute_params(condition, values), self.spec.schema,
                                                      f"{at}/if")
        if self.spec is None:
            return
        attributes = set(self.spec.types)
        if isinstance(rule.get("explain"), str):
            self.out += template_problems(f"{at}/explain", rule["explain"], attributes, self.parameters or {})
        ctx = ActionContext(where="ruleset", forms=self.forms, parameters=self.parameters, unit_codes=self.unit_codes,
                            placeholders=attributes, form=self.spec.form if self.spec.subject == "record" else None,
                            fact_types=self.spec.types)
        for index, action in enumerate(rule.get("actions") or []):
            self.out += action_problems(f"{at}/actions/{index}", action, ctx)

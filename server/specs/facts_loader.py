"""Read ``config/facts/*.json``: what a ruleset or a workflow guard may know about a record or a unit.

A fact declaration lists attributes in order; each is one operator from a small vocabulary
(``server.rules.vocabulary``): a field by JSON pointer, a property of the record or unit, a
parameter, today's date, or a value derived from earlier attributes (working or calendar days
until/since a date, count, count of values over rows, sum, difference, ratio, exists, in-list,
equals, latest/earliest, switch) or a named lookup implemented in code. Every attribute gets a JSON
type here, from the form's schema or the operator, so conditions can be type-checked at ``config
check`` time and facts normalised before they reach the engine. Problems are ``(pointer, message)``
pairs like every loader.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator

from server.errors import ConfigError
from server.org.kinds import KINDS
from server.rules.vocabulary import (
    FACT_OPERATORS, FACT_OPTIONS, LIST_OPERATORS, LOOKUPS, RECORD_PROPERTIES, TODAY_PROPERTIES, UNARY_OPERATORS,
    UNIT_PROPERTIES,
)
from server.specs.fieldpaths import all_properties, find_field, is_date_field, schema_at, value_type
from server.specs.jsonpos import pointer_join
from server.specs.lookup_inputs import count_in_period_problems, last_period_problems
from server.specs.metaschema import show
from server.specs.model import FactsSpec, ParameterSpec
from server.specs.files import load_file

FACTS_DIR = "facts"
NAME = r"^[a-z][a-z0-9_]{0,59}$"
ATTRIBUTE = r"^[a-z_][a-z0-9_]{0,59}$"
Problem = tuple[str, str]
_TYPE_NAMES = {"string": "字符串", "integer": "整数", "number": "数字", "boolean": "布尔值"}
SCALARS = ("string", "integer", "number", "boolean")

FACTS_META = Draft202012Validator({
    "type": "object", "required": ["title", "attributes"], "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "subject": {"enum": ["record", "org_unit"]},
        "form": {"type": "string"},
        "unit_kinds": {"type": "array", "minItems": 1, "items": {"enum": list(KINDS)}},
        "key": {"type": "array", "items": {"type": "string"}},
        "attributes": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": ATTRIBUTE},
                       "additionalProperties": {"type": "object"}},
    },
})


def load_facts(config_dir: Path, forms: Mapping[str, dict[str, Any] | None],
               parameters: Mapping[str, ParameterSpec] | None) -> tuple[dict[str, FactsSpec], list[ConfigError]]:
    """Every fact declaration of ``config/facts/`` (none without the folder) and every problem."""
    folder = Path(config_dir) / FACTS_DIR
    specs: dict[str, FactsSpec] = {}
    errors: list[ConfigError] = []
    if not folder.is_dir():
        return specs, errors
    for path in sorted(folder.glob("*.json")):
        file = f"{FACTS_DIR}/{path.name}"
        if not re.fullmatch(NAME, path.stem):
            errors.append(ConfigError(file, "", 1, 1, f"文件名（事实 id）应匹配 {NAME}，实际为 {show(path.stem)}"))
            continue
        check = _FactsCheck(forms, parameters)
        document, file_errors = load_file(path, file, FACTS_META, check.problems)
        errors += file_errors
        if not file_errors:
            specs[path.stem] = FactsSpec(
                id=path.stem, title=document["title"], subject=document.get("subject", "record"),
                form=document.get("form"), unit_kinds=tuple(document.get("unit_kinds", ())),
                attributes=document["attributes"], types=check.types, key=tuple(document.get("key", ())),
                document=document)
    return specs, errors


class _FactsCheck:
    """The value rules of one fact file; ``types`` collects each attribute's JSON type."""

    def __init__(self, forms: Mapping[str, dict[str, Any] | None], parameters: Mapping[str, ParameterSpec] | None):
        self.forms = forms
        self.parameters = parameters
        self.types: dict[str, str] = {}
        self.out: list[Problem] = []
        self.schema: dict[str, Any] | None = None
        self.subject = "record"
        self.dates: set[str] = set()  # attributes holding YYYY-MM-DD dates
        self.form: Any = None
        self.later: set[str] = set()  # attributes not yet defined at the one being checked

    def problems(self, doc: Any) -> list[Problem]:
        if not isinstance(doc, dict):
            return []
        self.subject = doc.get("subject", "record")
        form = doc.get("form")
        self.form = form
        if self.subject == "record":
            if "form" not in doc:
                self.out.append(("", "记录的事实须用 form 指明是哪个表单的记录"))
            elif not isinstance(form, str):
                pass  # the meta-schema reports a form that is not a string
            elif form not in self.forms:
                self.out.append(("/form", f"表单 {show(form)} 不存在（现有表单：{'、'.join(sorted(self.forms))}）"))
            else:
                self.schema = self.forms[form]
            if "unit_kinds" in doc:
                self.out.append(("/unit_kinds", "unit_kinds 只用于单位的事实（\"subject\": \"org_unit\"）"))
        else:
            if "form" in doc:
                self.out.append(("/form", "单位的事实不属于某个表单，不能写 form"))
            if "unit_kinds" not in doc:
                self.out.append(("", "单位的事实须用 unit_kinds 指明是哪些类别的单位"))
        attributes = doc.get("attributes") if isinstance(doc.get("attributes"), dict) else {}
        self.later = set(attributes)
        for name, definition in attributes.items():
            self.later.discard(name)
            if isinstance(definition, dict):
                found = self._attribute(pointer_join("/attributes", name), definition)
                if found is not None:
                    self.types[name] = found
                    if _is_date(definition, self.schema):
                        self.dates.add(name)
        for index, name in enumerate(doc.get("key") or []):
            if isinstance(name, str) and name not in attributes:
                self.out.append((f"/key/{index}", f"属性 {show(name)} 未定义"))
        return self.out

    # -- one attribute ---------------------------------------------------------------------------
    def _attribute(self, at: str, definition: dict[str, Any]) -> str | None:
        """Check one definition; its JSON type, or None when it is broken (already reported)."""
        ops = [k for k in definition if k in FACT_OPERATORS]
        if len(ops) != 1:
            found = "、".join(show(k) for k in definition) or "空对象"
            self.out.append((at, f"应恰好有一个运算（{'、'.join(FACT_OPERATORS)}），实际为 {found}"))
            return None
        op = ops[0]
        for key in definition:
            if key != op and key not in FACT_OPTIONS.get(op, ()):
                allowed = "、".join(FACT_OPTIONS.get(op, ())) or "无"
                self.out.append((pointer_join(at, key), f"运算 {op} 不接受选项 {show(key)}（可用：{allowed}）"))
        return getattr(self, f"_op_{op}", self._op_generic)(at, op, definition[op], definition)

    def _op_field(self, at: str, op: str, pointer: Any, definition: dict[str, Any]) -> str | None:
        kind = self._pointer(pointer_join(at, op), pointer)
        if kind in ("array", "object"):
            self.out.append((pointer_join(at, op), f"字段 {show(pointer)} 是{'数组' if kind == 'array' else '对象'}，"
                                                   "事实属性只能是单个值（数组请用 count 或 in_list）"))
            return None
        if kind is not None and "default" in definition and _json_type(definition["default"]) not in _compatible(kind):
            self.out.append((pointer_join(at, "default"), f"缺省值应为{_TYPE_NAMES.get(kind, kind)}，实际为 {show(definition['default'])}"))
        return kind

    def _op_record(self, at: str, op: str, name: Any, definition: dict[str, Any]) -> str | None:
        if self.subject != "record":
            self.out.append((pointer_join(at, op), "单位的事实没有记录属性，请用 unit"))
            return None
        return self._choice(pointer_join(at, op), name, RECORD_PROPERTIES)

    def _op_unit(self, at: str, op: str, name: Any, definition: dict[str, Any]) -> str | None:
        if self.subject != "org_unit":
            self.out.append((pointer_join(at, op), "记录的事实没有单位属性，请用 record 或 lookup area"))
            return None
        return self._choice(pointer_join(at, op), name, UNIT_PROPERTIES)

    def _op_today(self, at: str, op: str, name: Any, definition: dict[str, Any]) -> str | None:
        return self._choice(pointer_join(at, op), name, TODAY_PROPERTIES)

    def _op_param(self, at: str, op: str, name: Any, definition: dict[str, Any]) -> str | None:
        if self.parameters is None:
            return None
        if not isinstance(name, str) or name not in self.parameters:
            self.out.append((pointer_join(at, op), f"参数 {show(name)} 不存在（现有参数：{'、'.join(self.parameters)}）"))
            return None
        return _json_type(self.parameters[name].value)

    def _op_value(self, at: str, op: str, value: Any, definition: dict[str, Any]) -> str | None:
        kind = _json_type(value)
        if kind not in SCALARS:
            self.out.append((pointer_join(at, op), f"应为字符串、数字或布尔值，实际为 {show(value)}"))
            return None
        return kind

    def _op_count(self, at: str, op: str, pointer: Any, definition: dict[str, Any]) -> str | None:
        kind = self._pointer(pointer_join(at, op), pointer)
        if kind is not None and kind != "array":
            self.out.append((pointer_join(at, op), f"count 只能数数组字段，{show(pointer)} 是{_TYPE_NAMES.get(kind, kind)}"))
        return "integer"

    def _op_count_values(self, at: str, op: str, pointer: Any, definition: dict[str, Any]) -> str | None:
        """Rows of a list field; ``at`` a field inside a row; ``values`` among the choices found there."""
        kind, values = self._pointer(pointer_join(at, op), pointer), definition.get("values")
        if kind not in (None, "array"):
            self.out.append((pointer_join(at, op), f"count_values 只能数数组字段的行，{show(pointer)} 是{_describe(kind)}"))
        row = f"{pointer}/-{definition.get('at', '')}"  # ``at`` inside any row
        problems, target = find_field(pointer_join(at, "at"), row, self.schema, self.form) if kind == "array" else ([], None)
        self.out += problems
        if not (isinstance(values, list) and values and all(_json_type(v) in SCALARS for v in values)):
            self.out.append((at, f"count_values 须有 values：非空的值列表，实际为 {show(values)}"))
        elif choices := _choices(target):
            self.out += [(pointer_join(at, "values", i), f"{show(v)} 不是可选的值（可选：{'、'.join(map(show, choices))}）")
                         for i, v in enumerate(values) if v not in choices]
        return "integer"

    def _op_transitions(self, at: str, op: str, transition: Any, definition: dict[str, Any]) -> str | None:
        if self.subject != "record" or not isinstance(transition, str) or not transition:
            self.out.append((pointer_join(at, op), f"应为流程中一个流转的 id，实际为 {show(transition)}"))
        return "integer"  # the id is checked against the form's workflow with the workflows

    def _op_switch(self, at: str, op: str, operand: Any, definition: dict[str, Any]) -> str | None:
        self._operand(pointer_join(at, op), operand)
        cases = definition.get("cases")
        if not isinstance(cases, dict) or not cases:
            self.out.append((at, "switch 须有非空的 cases：{取值: 属性定义}"))
            return None
        branches = [(pointer_join(at, "cases", value), case) for value, case in cases.items()]
        if "default" in definition:
            branches.append((pointer_join(at, "default"), definition["default"]))
        kinds: set[str] = set()
        for where, case in branches:
            if not isinstance(case, dict):
                self.out.append((where, f"应为一个属性定义（如 {{\"param\": \"参数名\"}}），实际为 {show(case)}"))
                continue
            kind = self._attribute(where, case)
            if kind is not None:
                kinds.add(kind)
        if len(kinds) == 1:
            return kinds.pop()
        if kinds == {"integer", "number"}:
            return "number"
        if kinds:
            self.out.append((at, f"switch 各分支的类型应一致，实际有 {'、'.join(_TYPE_NAMES.get(k, k) for k in sorted(kinds))}"))
        return None

    def _op_lookup(self, at: str, op: str, name: Any, definition: dict[str, Any]) -> str | None:
        spec = LOOKUPS.get(name) if isinstance(name, str) else None
        if spec is None:
            self.out.append((pointer_join(at, op), f"查询 {show(name)} 不存在（可用：{'、'.join(LOOKUPS)}）"))
            return None
        if spec.subject not in (self.subject, "any"):
            self.out.append((pointer_join(at, op), f"查询 {name} 只用于{'记录' if spec.subject == 'record' else '单位'}的事实"))
        output = definition.get("output")
        if not isinstance(output, str) or output not in spec.outputs:
            self.out.append((pointer_join(at, "output") if "output" in definition else at,
                             f"查询 {name} 的 output 应为 {'、'.join(spec.outputs)} 之一，实际为 {show(output)}"))
        inputs = definition.get("inputs", {})
        if not isinstance(inputs, dict):
            self.out.append((pointer_join(at, "inputs"), f"应为对象（输入名 → 值），实际为 {show(inputs)}"))
            return spec.outputs.get(output)
        for key in inputs:
            if key not in spec.inputs:
                self.out.append((pointer_join(at, "inputs", key), f"查询 {name} 没有输入 {show(key)}（可用：{'、'.join(spec.inputs)}）"))
        for key in spec.required:
            if key not in inputs:
                self.out.append((pointer_join(at, "inputs"), f"查询 {name} 缺少输入 {show(key)}（{spec.inputs[key]}）"))
        getattr(self, f"_inputs_{name}")(pointer_join(at, "inputs"), inputs)
        return spec.outputs.get(output)

    def _inputs_area(self, at: str, inputs: dict[str, Any]) -> None:
        if "code" in inputs:
            self._pointer(pointer_join(at, "code"), inputs["code"])

    def _inputs_relisting(self, at: str, inputs: dict[str, Any]) -> None:
        for key in ("township", "categories", "listed_date", "delisted_date"):
            if key in inputs:
                self._pointer(pointer_join(at, key), inputs[key])

    def _inputs_count_records(self, at: str, inputs: dict[str, Any]) -> None:
        form = inputs.get("form")
        if form is not None and (not isinstance(form, str) or form not in self.forms):
            self.out.append((pointer_join(at, "form"), f"表单 {show(form)} 不存在"))
            return
        schema = self.forms.get(form) if isinstance(form, str) else None
        fields = inputs.get("unit_fields")
        if "unit_fields" in inputs and not (isinstance(fields, list) and fields):
            self.out.append((pointer_join(at, "unit_fields"), f"应为非空的指针列表，实际为 {show(fields)}"))
            fields = []
        where = inputs.get("where", {})
        if not isinstance(where, dict):
            self.out.append((pointer_join(at, "where"), f"应为对象（指针 → 值），实际为 {show(where)}"))
            where = {}
        for index, pointer in enumerate(fields or []):
            if schema is not None and not schema_at(schema, pointer):
                self.out.append((pointer_join(at, "unit_fields", index), f"表单 {show(form)} 中没有字段 {show(pointer)}"))
        for pointer, value in where.items():
            if schema is not None and not schema_at(schema, pointer):
                self.out.append((pointer_join(at, "where", pointer), f"表单 {show(form)} 中没有字段 {show(pointer)}"))
            if isinstance(value, dict):
                name = value.get("$fact")
                if set(value) != {"$fact"} or name not in self.types:
                    self.out.append((pointer_join(at, "where", pointer), f"应为值或 {{\"$fact\": 已定义的属性}}，实际为 {show(value)}"))

    def _inputs_count_in_period(self, at: str, inputs: dict[str, Any]) -> None:
        self.out += count_in_period_problems(at, inputs, self)

    def _inputs_last_period(self, at: str, inputs: dict[str, Any]) -> None:
        self.out += last_period_problems(at, inputs, self.parameters)

    def _op_generic(self, at: str, op: str, operand: Any, definition: dict[str, Any]) -> str | None:
        """The unary and list operators over ``/pointers`` and earlier attributes."""
        where = pointer_join(at, op)
        if op in UNARY_OPERATORS:
            kind = self._operand(where, operand)
            if op in ("days_until", "days_since", "year_of") and kind is not None and kind != "date":
                self.out.append((where, f"{op} 需要日期，{show(operand)} 不是日期字段或日期属性"))
            if op in ("days_until", "days_since") and not isinstance(definition.get("working", False), bool):
                self.out.append((pointer_join(at, "working"), f"应为 true（按工作日）或 false（按自然日），实际为 {show(definition['working'])}"))
            if op == "in_list":
                values = definition.get("values")
                if not (isinstance(values, list) and values and all(_json_type(v) in SCALARS for v in values)):
                    self.out.append((at, f"in_list 须有 values：非空的值列表，实际为 {show(values)}"))
            return UNARY_OPERATORS[op]
        if not isinstance(operand, list) or not operand:
            self.out.append((where, f"{op} 应为运算对象的列表（\"/指针\" 或已定义的属性名），实际为 {show(operand)}"))
            return None
        if op in ("difference", "ratio", "days_between") and len(operand) != 2:
            self.out.append((where, f"{op} 应恰好有两个运算对象，实际为 {len(operand)} 个"))
            return None
        if op == "equals" and len(operand) < 2:
            self.out.append((where, f"equals 应至少有两个运算对象，实际为 {len(operand)} 个"))
            return None
        kinds = [self._operand(pointer_join(where, i), item) for i, item in enumerate(operand)]
        numeric = op in ("sum", "difference", "ratio")
        for index, kind in enumerate(kinds):
            if kind is None:
                continue
            if numeric and kind not in ("integer", "number"):
                self.out.append((pointer_join(where, index), f"{op} 只能计算数字，{show(operand[index])} 是{_describe(kind)}"))
            if op in ("latest", "earliest", "days_between") and kind != "date":
                self.out.append((pointer_join(where, index), f"{op} 只能比较日期，{show(operand[index])} 是{_describe(kind)}"))
        if op == "ratio" and not isinstance(definition.get("percent", False), bool):
            self.out.append((pointer_join(at, "percent"), f"应为布尔值，实际为 {show(definition['percent'])}"))
        if op == "difference" and "minimum" in definition and _json_type(definition["minimum"]) not in ("integer", "number"):
            self.out.append((pointer_join(at, "minimum"), f"应为数字，实际为 {show(definition['minimum'])}"))
        if op in ("sum", "difference") and all(k == "integer" for k in kinds) and \
                _json_type(definition.get("minimum", 0)) == "integer":
            return "integer"
        return LIST_OPERATORS[op]

    # -- operands ----------------------------------------------------------------------------------
    def _operand(self, at: str, operand: Any) -> str | None:
        """A ``/pointer`` into the record or an earlier attribute's name: its kind (``"date"`` for
        date fields and date attributes), or None when unknown (reported)."""
        if isinstance(operand, str) and operand.startswith("/"):
            kind = self._pointer(at, operand)
            if kind is not None and is_date_field(schema_at(self.schema, operand)):
                return "date"
            return kind
        if isinstance(operand, str) and operand in self.types:
            return "date" if operand in self.dates else self.types[operand]
        if isinstance(operand, str) and operand in self.later:
            self.out.append((at, f"属性 {show(operand)} 在后面才定义：请把它移到使用它的属性之前"))
            return None
        known = "、".join(self.types) or "无"
        self.out.append((at, f"应为 \"/指针\"（记录的字段）或此前已定义的属性名，实际为 {show(operand)}（已定义的属性：{known}）"))
        return None

    def _pointer(self, at: str, pointer: Any) -> str | None:
        if self.subject != "record":
            self.out.append((at, f"单位的事实不能读取记录字段 {show(pointer)}"))
            return None
        problems, found = find_field(at, pointer, self.schema, self.form)
        self.out += problems
        return value_type(found) if found is not None else None

    def _choice(self, at: str, name: Any, choices: Mapping[str, str]) -> str | None:
        if not isinstance(name, str) or name not in choices:
            self.out.append((at, f"应为 {'、'.join(choices)} 之一，实际为 {show(name)}"))
            return None
        return choices[name]


def _is_date(definition: Any, schema: dict[str, Any] | None) -> bool:
    if not isinstance(definition, dict):
        return False
    if "field" in definition:
        return is_date_field(schema_at(schema, definition["field"])) if schema else False
    if definition.get("record") in ("created_date", "due_date", "state_date") or definition.get("today") == "date":
        return True
    if "lookup" in definition:
        spec = LOOKUPS.get(definition["lookup"]) if isinstance(definition["lookup"], str) else None
        return spec is not None and definition.get("output") in spec.dates
    return "latest" in definition or "earliest" in definition


def _choices(schema: Any) -> list[Any]:
    """The ``const``/``enum`` values a field, its members (an object) or its items (a list) may hold."""
    if not isinstance(schema, dict):
        return []
    found = [c["const"] for c in schema.get("oneOf") or [] if isinstance(c, dict) and "const" in c]
    found += [c for child in [*all_properties(schema).values(), schema.get("items")] for c in _choices(child)]
    return [c for i, c in enumerate(found + list(schema.get("enum") or [])) if c not in found[:i]]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def _compatible(kind: str) -> tuple[str, ...]:
    return ("integer", "number") if kind == "number" else (kind,)


def _describe(kind: str) -> str:
    return "日期" if kind == "date" else _TYPE_NAMES.get(kind, kind)

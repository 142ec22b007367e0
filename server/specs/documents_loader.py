"""Read ``config/documents/<doc_id>/`` (``document.json`` + ``template.html``) and report every problem.

``document.json`` says what a document is made from and how: its title, the JSON Schema of the data
its template receives, where that data comes from (fields of one form's record, mapped by JSON
pointer, or a monthly count over records), the issuing body (and, for a 上行文, the posts of the
签发人 and of the 附注's contact person), the 发文字号 pattern and who may issue it. The checks go
beyond the meta-schema: the form and every pointer must exist, every post must be one of
``org/posts.json``, every required data field must be mapped, the number pattern may only use its
placeholders, and the template must parse in the documents sandbox, extend the GB/T 9704 base layout
and use no variable it is not given.
"""
from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from server.errors import ConfigError
from server.specs.jsonpos import pointer_join
from server.specs.metaschema import FORM_META_SCHEMA, show
from server.specs.fieldpaths import schema_at
from server.specs.model import DocumentSpec, canonical_digest

DOCUMENTS_DIR = "documents"
DOCUMENT_FILE = "document.json"
TEMPLATE_FILE = "template.html"
NAME = r"^[a-z][a-z0-9_]{0,39}$"
NUMBER_PLACEHOLDERS = ("issuer_short", "year", "seq")
NAME_PLACEHOLDERS = ("unit", "unit_short")
TEMPLATE_VARIABLES = frozenset({"doc", "data", "params", "record"})
RECORD_VALUES = ("$record.number", "$record.unit", "$record.township", "$record.created_date", "$record.form_title",
                 "$today")
ISSUER_UNITS = ("record", "record_township", "county", "user")
Problem = tuple[str, str]

_GRANTS = {"type": "array", "items": FORM_META_SCHEMA["$defs"]["grant"]}
_POINTER = {"type": "string", "pattern": r"^(/[^/]*)+$"}
DOCUMENT_META = Draft202012Validator({
    "type": "object", "required": ["title", "source", "data", "issuer", "number", "permissions"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "source": {"type": "object", "additionalProperties": False,
                   "properties": {
                       "form": {"type": "string"},
                       "statistics": {"type": "object", "required": ["columns"], "additionalProperties": False,
                                      "properties": {"rows": {"enum": ["children"]}, "columns": {
                                          "type": "array", "minItems": 1, "items": {
                                              "type": "object", "required": ["key", "title", "form"],
                                              "additionalProperties": False,
                                              "properties": {"key": {"type": "string", "pattern": NAME},
                                                             "title": {"type": "string", "minLength": 1},
                                                             "form": {"type": "string"}, "date": _POINTER,
                                                             "where": {"type": "object",
                                                                       "propertyNames": _POINTER},
                                                             "states": {"type": "array", "minItems": 1,
                                                                        "items": {"type": "string"}}}}}}}},
                   "minProperties": 1, "maxProperties": 1},
        "data": {"type": "object"},
        "fields": {"type": "object", "propertyNames": {"pattern": NAME},
                   "additionalProperties": {"type": "string", "minLength": 1}},
        "issuer": {"type": "object", "required": ["unit"], "additionalProperties": False,
                   "properties": {"unit": {"enum": list(ISSUER_UNITS)},
                                  "name": {"type": "string", "minLength": 1},
                                  "mark": {"type": "string", "minLength": 1},
                                  "short": {"type": "string", "minLength": 1},
                                  "signed_by": {"type": "string", "minLength": 1},
                                  "contact": {"type": "string", "minLength": 1}}},
        "number": {"type": "string", "minLength": 1},
        "permissions": {"type": "object", "required": ["issue"], "additionalProperties": False,
                        "properties": {"issue": _GRANTS, "revoke": _GRANTS}},
        "max_pages": {"type": "integer", "minimum": 1, "maximum": 200},
        # the workflow states of the source record in which the document applies (checked with the workflow)
        "states": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}},
    },
})


def load_documents(config_dir: Path, forms: dict[str, dict[str, Any] | None],
                   posts: dict[str, str] | None = None) -> tuple[dict[str, DocumentSpec], list[ConfigError]]:
    """Every document folder of ``config_dir/documents``.

    ``forms`` maps every form id to its schema, or to None when the form file itself is broken (its
    own errors are reported; pointers into it are then not checked, so one error does not cascade).
    ``posts`` is the post vocabulary of ``config/org/posts.json`` (id -> title) that ``issuer.signed_by``
    and ``issuer.contact`` name, or None when the org tree is missing or broken (then they are not checked).
    """
    from server.specs.files import load_file

    root = Path(config_dir) / DOCUMENTS_DIR
    if not root.is_dir():
        return {}, []
    specs: dict[str, DocumentSpec] = {}
    errors: list[ConfigError] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        base = f"{DOCUMENTS_DIR}/{folder.name}"
        if not re.fullmatch(NAME, folder.name):
            errors.append(ConfigError(base, "", 1, 1, f"目录名（文书 id）应匹配 {NAME}，实际为 {show(folder.name)}"))
            continue
        document, file_errors = load_file(folder / DOCUMENT_FILE, f"{base}/{DOCUMENT_FILE}", DOCUMENT_META,
                                           lambda doc: _DocumentCheck(doc, forms, posts).problems())
        template_path = folder / TEMPLATE_FILE
        template_errors = _template_errors(template_path, f"{base}/{TEMPLATE_FILE}")
        errors += file_errors + template_errors
        if not file_errors and not template_errors:
            template = template_path.read_text(encoding="utf-8")
            specs[folder.name] = DocumentSpec(id=folder.name, title=document["title"], document=document,
                                              template=template,
                                              digest=canonical_digest({"document": document, "template": template}))
    return specs, errors


class _DocumentCheck:
    """The value checks of one ``document.json`` (structure was checked by the meta-schema)."""

    def __init__(self, doc: Any, forms: dict[str, dict[str, Any]], posts: dict[str, str] | None = None):
        self.doc = doc if isinstance(doc, dict) else {}
        self.forms = forms
        self.posts = posts
        self.out: list[Problem] = []

    def problems(self) -> list[Problem]:
        source = self.doc.get("source") if isinstance(self.doc.get("source"), dict) else {}
        self._data_schema()
        if isinstance(source.get("form"), str):
            self._record_source(source["form"])
        elif isinstance(source.get("statistics"), dict):
            self._statistics(source["statistics"])
        self._number()
        self._issuer()
        return self.out

    def _data_schema(self) -> None:
        data = self.doc.get("data")
        if not isinstance(data, dict):
            return
        try:
            Draft202012Validator.check_schema(data)
        except SchemaError as exc:
            self.out.append((pointer_join("/data", *exc.path), f"不是合法的 JSON Schema：{exc.message}"))
            return
        if data.get("type") != "object":
            self.out.append(("/data", f"文书数据应为对象（\"type\": \"object\"），实际为 {show(data.get('type'))}"))

    def _record_source(self, form_id: str) -> None:
        if form_id not in self.forms:
            self.out.append(("/source/form", f"表单 {show(form_id)} 不存在（现有表单：{'、'.join(sorted(self.forms))}）"))
            return
        schema = self.forms[form_id]
        if schema is None:
            return
        fields = self.doc.get("fields") if isinstance(self.doc.get("fields"), dict) else {}
        for name, value in fields.items():
            where = pointer_join("/fields", name)
            if not isinstance(value, str):
                continue
            if value.startswith("$"):
                if value not in RECORD_VALUES:
                    self.out.append((where, f"应为表单字段的 JSON 指针或 {'、'.join(RECORD_VALUES)} 之一，实际为 {show(value)}"))
            elif not schema_at(schema, value):
                self.out.append((where, f"表单 {show(form_id)} 中没有字段 {show(value)}"))
        data = self.doc.get("data") if isinstance(self.doc.get("data"), dict) else {}
        declared = data.get("properties") if isinstance(data.get("properties"), dict) else {}
        for name in data.get("required", []) if isinstance(data.get("required"), list) else []:
            if name not in fields:
                self.out.append(("/fields", f"数据字段 {show(name)} 是必需的，但没有映射到记录的字段"))
        for name in fields:
            if name not in declared:
                self.out.append((pointer_join("/fields", name), f"数据模式 /data 中没有声明字段 {show(name)}"))

    def _statistics(self, stats: dict[str, Any]) -> None:
        if "fields" in self.doc:
            self.out.append(("/fields", "统计类文书的数据由 source.statistics 计算，不能再映射字段"))
        columns = stats.get("columns") if isinstance(stats.get("columns"), list) else []
        seen: set[str] = set()
        for index, column in enumerate(columns):
            if not isinstance(column, dict):
                continue
            where = f"/source/statistics/columns/{index}"
            key = column.get("key")
            if key in seen:
                self.out.append((f"{where}/key", f"列 {show(key)} 重复"))
            seen.add(key)
            form_id = column.get("form")
            if form_id not in self.forms:
                self.out.append((f"{where}/form", f"表单 {show(form_id)} 不存在"))
                continue
            if self.forms[form_id] is None:
                continue
            pointers = ([("date", column["date"])] if isinstance(column.get("date"), str) else []) + [
                (pointer_join("where", p), p) for p in (column.get("where") or {})]
            for at, pointer in pointers:
                if not schema_at(self.forms[form_id], pointer):
                    self.out.append((f"{where}/{at}", f"表单 {show(form_id)} 中没有字段 {show(pointer)}"))

    def _number(self) -> None:
        pattern = self.doc.get("number")
        if not isinstance(pattern, str):
            return
        problem = pattern_problem(pattern, NUMBER_PLACEHOLDERS, required=("year", "seq"))
        if problem:
            self.out.append(("/number", problem))

    def _issuer(self) -> None:
        issuer = self.doc.get("issuer") if isinstance(self.doc.get("issuer"), dict) else {}
        for key in ("name", "mark", "short"):
            if isinstance(issuer.get(key), str):
                problem = pattern_problem(issuer[key], NAME_PLACEHOLDERS + (("name",) if key != "name" else ()))
                if problem:
                    self.out.append((f"/issuer/{key}", problem))
        for key, what in (("signed_by", "签发人"), ("contact", "附注联系人")):
            post = issuer.get(key)
            if isinstance(post, str) and self.posts is not None and post not in self.posts:
                known = "、".join(f"{pid}（{title}）" for pid, title in self.posts.items()) or "无"
                self.out.append((f"/issuer/{key}", f"{what}的职务 {show(post)} 不是 org/posts.json 中定义的职务"
                                                    f"（已定义的职务：{known}）"))


def pattern_problem(pattern: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> str | None:
    """What is wrong with a ``{placeholder}`` pattern, or None. It is also tried with sample values,
    so a pattern that passes here cannot fail when a document is issued."""
    try:
        names = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(pattern)
                 if name is not None]
    except ValueError as exc:
        return f"格式有误（{exc}）：{show(pattern)}"
    for name, spec, conversion in names:
        if name not in allowed:
            return f"未知的占位符 {{{name}}}（可用：{'、'.join('{' + a + '}' for a in allowed)}）"
        if conversion:
            return f"占位符 {{{name}}} 不能带 !{conversion} 转换"
        if spec and name != "seq":
            return f"占位符 {{{name}}} 不能带格式说明"
    missing = [r for r in required if r not in {n for n, _, _ in names}]
    if missing:
        return f"缺少占位符 {'、'.join('{' + m + '}' for m in missing)}"
    try:
        pattern.format(**{name: (1 if name in ("seq", "year") else "示") for name in allowed})
    except (ValueError, TypeError) as exc:
        return f"无法按此格式生成（{exc}）：{show(pattern)}"
    return None


def _template_errors(path: Path, file: str) -> list[ConfigError]:
    """A template must exist, parse in the documents sandbox, extend the base layout, use known names."""
    from jinja2 import TemplateSyntaxError, meta, nodes

    from server.documents.sandbox import BASE_TEMPLATE, make_environment
    from server.specs.jinja_messages import explain

    if not path.is_file():
        return [ConfigError(file, "", 1, 1, f"缺少文件 {file}")]
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return [ConfigError(file, "", 1, 1, f"文件不是 UTF-8 编码：{exc.reason}")]
    env = make_environment()
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        return [ConfigError(file, "", exc.lineno or 1, 1, f"模板语法错误：{explain(exc.message or '')}")]
    errors = []
    if BASE_TEMPLATE not in set(meta.find_referenced_templates(ast)):
        errors.append(ConfigError(file, "", 1, 1, f"模板应以 {{% extends \"{BASE_TEMPLATE}\" %}} 使用公文版式"))
    assigned = {node.name for node in ast.find_all(nodes.Name) if node.ctx in ("store", "param")}
    assigned |= {node.name for node in ast.find_all(nodes.Macro)}
    unknown = sorted(meta.find_undeclared_variables(ast) - TEMPLATE_VARIABLES - set(env.globals) - assigned)
    if unknown:
        errors.append(ConfigError(file, "", 1, 1, f"模板使用了未提供的变量 {'、'.join(unknown)}"
                                                  f"（可用：{'、'.join(sorted(TEMPLATE_VARIABLES))}）"))
    return errors

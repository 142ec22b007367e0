"""``config check`` of a form's ``x-confidential`` (要求保密): the pointers must name fields that exist.

The shape (title, fields, when, readers) is the meta-schema's; here the pointers are resolved against
the form, conditional sections included. A protected field must be a field of the form reached through
objects only (a value inside a list of rows has no single pointer; protect the whole list), the switch
``when`` a boolean field or ``"always"``, and no protected field may be a list filter (filtering by a
value tells it to whoever may not read it). What the protection does is ``server.records.confidential``.
"""
from __future__ import annotations

from typing import Any

from server.specs.fieldpaths import all_properties
from server.specs.jsonpos import pointer_join
from server.specs.metaschema import show

Problem = tuple[str, str]
ALWAYS = "always"


def confidential_problems(document: dict[str, Any]) -> list[Problem]:
    """Every problem of the form's ``x-confidential`` entries, each at its own pointer."""
    entries = document.get("x-confidential")
    if not isinstance(entries, list):
        return []
    problems: list[Problem] = []
    protected: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        at = pointer_join("/x-confidential", index)
        fields = entry.get("fields") if isinstance(entry.get("fields"), list) else []
        for number, pointer in enumerate(fields):
            if isinstance(pointer, str):
                problem = _field_problem(document, pointer)
                if problem:
                    problems.append((pointer_join(at, "fields", number), f"x-confidential 中的{problem}"))
                else:
                    protected.add(pointer)
        when = entry.get("when")
        if isinstance(when, str) and when != ALWAYS:
            problems += _switch_problems(document, when, pointer_join(at, "when"))
    return problems + _filter_problems(document, protected)


def _field(document: dict[str, Any], pointer: str) -> dict[str, Any] | None:
    """The field schema a pointer names through object fields only, or None."""
    if not pointer.startswith("/") or pointer == "/":
        return None
    node: Any = document
    for token in pointer.split("/")[1:]:
        if not isinstance(node, dict):
            return None
        node = all_properties(node).get(token)
    return node if isinstance(node, dict) else None


def _field_problem(document: dict[str, Any], pointer: str) -> str | None:
    if not pointer.startswith("/"):
        return f"字段应为以 / 开头的 JSON 指针，实际为 {show(pointer)}"
    if _field(document, pointer) is None:
        return f"字段 {show(pointer)} 不存在（应指向本表单的字段，经由对象字段，不经过数组）"
    return None


def _switch_problems(document: dict[str, Any], when: str, at: str) -> list[Problem]:
    problem = _field_problem(document, when)
    if problem:
        return [(at, f"x-confidential 的 when 应为 \"always\" 或布尔字段的指针：{problem}")]
    field = _field(document, when) or {}
    if field.get("type") != "boolean":
        return [(at, f"x-confidential 的 when 应为 \"always\" 或布尔字段的指针，{show(when)} 的类型为 {show(field.get('type'))}")]
    return []


def _filter_problems(document: dict[str, Any], protected: set[str]) -> list[Problem]:
    ui = document.get("x-ui") if isinstance(document.get("x-ui"), dict) else {}
    filters = ui.get("filters") if isinstance(ui.get("filters"), list) else []
    problems = []
    for index, path in enumerate(filters):
        if not isinstance(path, str):
            continue
        pointer = "/" + path
        if any(pointer == p or pointer.startswith(p + "/") for p in protected):
            problems.append((pointer_join("/x-ui/filters", index),
                             f"x-ui.filters 中的 {show(path)} 受 x-confidential 保护，不能用作筛选条件（筛选结果会透露保密的值）"))
    return problems

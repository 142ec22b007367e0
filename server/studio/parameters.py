"""The parameters file (``rules/parameters.json``) as a form: each policy number with its title, unit,
bounds and description, so that 90 → 85 is a field a non-programmer changes.

A changed value is written back into the file's text where the old value stood, so the rest of the file
(its layout, its order, its descriptions) is untouched and the release's diff shows just that value.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

from server.specs.jsonpos import escape_token, parse_json


@dataclass(frozen=True)
class Parameter:
    name: str
    title: str
    value: Any
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""

    @property
    def kind(self) -> str:
        if self.choices:
            return "choice"
        if isinstance(self.value, bool):
            return "boolean"
        if isinstance(self.value, int):
            return "integer"
        return "number" if isinstance(self.value, float) else "text"

    @property
    def bounds(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"{_show(self.minimum)}–{_show(self.maximum)}"
        if self.minimum is not None:
            return f"不小于 {_show(self.minimum)}"
        return f"不大于 {_show(self.maximum)}" if self.maximum is not None else ""


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def read(text: str) -> list[Parameter] | None:
    """The parameters of the file's text, in file order (None when the text is not a parameters file)."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    entries = document.get("parameters") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        return None
    found = []
    for name, p in entries.items():
        if not isinstance(p, dict) or "value" not in p:
            continue
        found.append(Parameter(name=name, title=str(p.get("title") or name), value=p["value"],
                               unit=str(p.get("unit") or ""), minimum=_number(p.get("minimum")),
                               maximum=_number(p.get("maximum")), description=str(p.get("description") or ""),
                               choices=tuple(str(c) for c in p.get("choices") or () if isinstance(c, str))))
    return found


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def parse(parameter: Parameter, typed: str) -> Any:
    """The value typed for ``parameter``, or ValueError with the field's message in Chinese."""
    typed = typed.strip()
    if parameter.kind == "choice":
        if typed not in parameter.choices:
            raise ValueError(f"请从 {'、'.join(parameter.choices)} 中选择")
        return typed
    if parameter.kind == "boolean":
        if typed not in ("true", "false"):
            raise ValueError("请选择“是”或“否”")
        return typed == "true"
    if parameter.kind == "text":
        if not typed:
            raise ValueError("不能为空")
        if "\x00" in typed or len(typed) > 200:
            raise ValueError("应为 200 字以内的文字")
        return typed
    try:
        value: float = int(typed) if parameter.kind == "integer" else float(typed)
    except ValueError:
        raise ValueError("应为整数" if parameter.kind == "integer" else "应为数字") from None
    if not math.isfinite(value):
        raise ValueError("应为数字")
    if (parameter.minimum is not None and value < parameter.minimum) or (
            parameter.maximum is not None and value > parameter.maximum):
        raise ValueError(f"应在 {parameter.bounds} 之间" if parameter.minimum is not None and parameter.maximum
                         is not None else f"应{parameter.bounds}")
    return value


def shown(value: Any) -> str:
    """A value as the form shows it (and posts it back in ``was-<name>``)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def apply(text: str, typed: Mapping[str, str], was: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """``text`` with the typed values in place of the old ones, and a message per field that is wrong
    (then nothing is applied). Fields not typed keep their values.

    ``was`` is what the form showed for each field. A field typed as it was shown is not a change, so a
    value a colleague published after the page was opened stays; a field the user did change, whose value
    has changed meanwhile too, is refused with both values named (nobody overwrites a change unseen)."""
    was = was or {}
    params = read(text) or []
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for parameter in params:
        if parameter.name not in typed:
            continue
        before = was.get(parameter.name)
        if before is not None and typed[parameter.name].strip() == before.strip():
            continue
        try:
            value = parse(parameter, typed[parameter.name])
        except ValueError as exc:
            errors[parameter.name] = str(exc)
            continue
        if before is not None and before != shown(parameter.value):
            errors[parameter.name] = (f"打开页面后此参数已被改为 {shown(parameter.value)}（原为 {before}），"
                                      "你的修改未保存；请核对后重新填写")
            continue
        if value != parameter.value or type(value) is not type(parameter.value):
            changes[parameter.name] = value
    if errors or not changes:
        return text, errors
    return _replace_values(text, changes), {}


def _replace_values(text: str, changes: dict[str, Any]) -> str:
    """Replace each changed value at its place in the text, last first so earlier offsets stay right."""
    positions = parse_json(text).positions
    line_starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            line_starts.append(index + 1)
    decoder = json.JSONDecoder()
    spans = []
    for name, value in changes.items():
        line, column = positions[f"/parameters/{escape_token(name)}/value"]
        start = line_starts[line - 1] + column - 1
        _, end = decoder.raw_decode(text, start)
        spans.append((start, end, json.dumps(value, ensure_ascii=False)))
    for start, end, literal in sorted(spans, reverse=True):
        text = text[:start] + literal + text[end:]
    return text

"""The Jinja environment county-edited document templates run in.

Templates are configuration, written by administrators, so they are treated as untrusted code: a
``SandboxedEnvironment`` (no ``__class__`` walks to ``os``), autoescape (a user's ``<img src=file:…>``
stays text and never reaches the URL fetcher), ``StrictUndefined`` (a misspelt field is an error, not
an empty line in an official document) and bounded ``*``/``**`` (the sandbox alone lets
``'x' * 10**7`` through). Templates only ever receive plain data (dicts, lists, strings, numbers).
CPU time is bounded by the render worker, not here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

LAYOUT_DIR = Path(__file__).parent / "layout"
BASE_TEMPLATE = "gbt9704.html"
MAX_SEQUENCE = 100_000  # characters or items one ``*`` may produce


class LimitedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("模板中不允许使用乘方运算 **")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_SEQUENCE:
                    raise SecurityError(f"模板运算结果过大（超过 {MAX_SEQUENCE} 个字符或元素）")
        return super().call_binop(context, operator, left, right)


def make_environment(templates: dict[str, str] | None = None) -> LimitedSandbox:
    """An environment whose templates are ``templates`` (name -> source) plus the shared base layout."""
    loader = ChoiceLoader([DictLoader(dict(templates or {})), FileSystemLoader(str(LAYOUT_DIR))])
    env = LimitedSandbox(loader=loader, autoescape=True, undefined=StrictUndefined, auto_reload=False)
    env.filters["cn_date"] = cn_date
    env.filters["percent"] = percent
    return env


def cn_date(value: Any) -> str:
    """``2026-06-08`` -> ``2026年6月8日``: GB/T 9704-2012 writes dates in Arabic numerals without leading zeros."""
    text = str(value or "")
    parts = text[:10].split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{int(parts[0])}年{int(parts[1])}月{int(parts[2])}日"
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return f"{int(parts[0])}年{int(parts[1])}月"
    return text


def percent(value: Any, digits: int = 2) -> str:
    try:
        return f"{float(value):.{int(digits)}f}%"
    except (TypeError, ValueError):
        return str(value)

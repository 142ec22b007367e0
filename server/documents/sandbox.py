"""The Jinja environment county-edited document templates run in.

Templates are configuration, written by administrators, so they are treated as untrusted code: a
``SandboxedEnvironment`` (no ``__class__`` walks to ``os``), autoescape (a user's ``<img src=file:…>``
stays text and never reaches the URL fetcher), ``StrictUndefined`` (a misspelt field is an error, not
an empty line in an official document) and bounded ``*``/``**`` (the sandbox alone lets
``'x' * 10**7`` through). Templates only ever receive plain data (dicts, lists, strings, numbers).
CPU time is bounded by the render worker, not here.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader, FileSystemLoader, StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from server.documents.titles import header_phrases, phrases, title_lines

LAYOUT_DIR = Path(__file__).parent / "layout"
BASE_TEMPLATE = "gbt9704.html"
MAX_SEQUENCE = 100_000  # characters or items one ``*`` may produce


TOO_LARGE = f"模板运算结果过大（超过 {MAX_SEQUENCE} 个字符或元素）"
# Widths in printf-style specs (``%0100000000d``).
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")


class LimitedSandbox(SandboxedEnvironment):
    """The sandbox, plus limits on what can build huge strings or lists in one step.

    ``*`` and ``**``, printf widths (``%`` and the ``format`` filter), ``str.format`` widths and the
    ``center``/``indent``/``replace`` filters are bounded. What still grows slowly (a string doubled
    in a loop) is stopped by the render process's time limit and memory cap.
    """

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("模板中不允许使用乘方运算 **")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_SEQUENCE:
                    raise SecurityError(TOO_LARGE)
        if operator == "%" and isinstance(left, str):
            check_percent_widths(left)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            check_format_widths(str(value.__self__))
        return wrapped


def check_percent_widths(text: str) -> None:
    for match in _PERCENT_WIDTH.finditer(text):
        for width in match.groups():
            if width == "*" or (width and int(width) > MAX_SEQUENCE):
                raise SecurityError(TOO_LARGE)


def check_format_widths(text: str) -> None:
    """``str.format`` specs: no width above the limit, and no nested ``{w}`` width taken from an argument."""
    import string

    try:
        fields = [spec for _, name, spec, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return  # str.format will raise its own error
    for spec in fields:
        if spec and ("{" in spec or any(int(w) > MAX_SEQUENCE for w in re.findall(r"\d+", spec))):
            raise SecurityError(TOO_LARGE)


def _bounded_filters(env: SandboxedEnvironment) -> None:
    original = dict(env.filters)

    def format_(value: Any, *args: Any, **kwargs: Any) -> Any:
        check_percent_widths(str(value))
        return original["format"](value, *args, **kwargs)

    def center(value: Any, width: int = 80) -> Any:
        if int(width) > MAX_SEQUENCE:
            raise SecurityError(TOO_LARGE)
        return original["center"](value, width)

    def indent(value: Any, width: Any = 4, *args: Any, **kwargs: Any) -> Any:
        size = width if isinstance(width, int) else len(str(width))
        if size > 1000 or size * (str(value).count("\n") + 1) > MAX_SEQUENCE * 10:
            raise SecurityError(TOO_LARGE)
        return original["indent"](value, width, *args, **kwargs)

    def replace(context: Any, value: Any, old: Any, new: Any, count: int | None = None) -> Any:
        text, old_text, new_text = str(value), str(old), str(new)
        occurrences = text.count(old_text) if old_text else len(text) + 1
        if len(text) + occurrences * len(new_text) > MAX_SEQUENCE * 10:
            raise SecurityError(TOO_LARGE)
        return original["replace"](context, value, old, new, count)

    replace.jinja_pass_arg = original["replace"].jinja_pass_arg  # type: ignore[attr-defined]
    env.filters.update({"format": format_, "center": center, "indent": indent, "replace": replace})


def make_environment(templates: dict[str, str] | None = None) -> LimitedSandbox:
    """An environment whose templates are ``templates`` (name -> source) plus the shared base layout."""
    loader = ChoiceLoader([DictLoader(dict(templates or {})), FileSystemLoader(str(LAYOUT_DIR))])
    env = LimitedSandbox(loader=loader, autoescape=True, undefined=StrictUndefined, auto_reload=False)
    _bounded_filters(env)
    env.filters["cn_date"] = cn_date
    env.filters["percent"] = percent
    env.filters["phrases"] = phrases
    env.filters["header_phrases"] = header_phrases
    env.filters["title_lines"] = title_lines
    env.filters["survey_tally"] = survey_tally
    return env


#: The answers of a 座谈会 survey as documents receive them (choice titles).
ANSWERS = {"满意": "s", "基本满意": "b", "不满意": "d"}


def survey_tally(rows: Any, formula: Any = "satisfied_plus_basic") -> dict[str, Any]:
    """The votes of a survey's participant rows (every answer is one vote, as the facts count them):
    ``people``, ``questions`` (most answers in a row), ``s``/``b``/``d``, ``valid``, ``good`` (under the
    formula parameter) and ``rate``, cut to two decimals so 89.995 % never prints as a passing 90 %."""
    rows = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
    votes = {"s": 0, "b": 0, "d": 0}
    items = 0
    for row in rows:
        answers = row.get("answers") if isinstance(row.get("answers"), dict) else {}
        items = max(items, len(answers))
        for value in answers.values():
            if value in ANSWERS:
                votes[ANSWERS[value]] += 1
    valid = sum(votes.values())
    good = votes["s"] if formula == "satisfied_only" else votes["s"] + votes["b"]
    rate = (good * 10000 // valid) / 100 if valid else 0
    return {"people": len(rows), "questions": items, **votes, "valid": valid, "good": good, "rate": rate}


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

"""What JSON both databases can store: text without NUL or lone surrogates, finite numbers, bounded nesting.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``1e999`` (as non-finite floats) and strings with
``\\u0000``; PostgreSQL refuses all of them (``text`` and ``jsonb`` cannot hold U+0000, ``jsonb`` has no
NaN), so such a value used to reach the database and come back as a 500. SQLite would store them and
the API would then answer with invalid JSON. A lone surrogate (``"\\ud800"``) is no character at all:
it cannot be encoded as UTF-8 for either database. Both the request boundary (``server.http.inputs``) and
record validation (``server.forms.validate``) ask this module, so a value is refused with a pointer
to where it is, whichever path it came by (API, page, import, CLI).

The walk is iterative: a body nested thousands deep must not exhaust Python's stack here either. A
quick recursive pass goes first (most values are clean); it stops at the depth limit, and is only
used for limits up to ``MAX_DEPTH``, so its recursion stays shallow.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterator

NUL = "\x00"
MAX_DEPTH = 64  # far deeper than any form (a few levels), shallow enough for every recursive consumer

NUL_MESSAGE = "含有不允许的空字符（U+0000）"
SURROGATE_MESSAGE = "含有无效的字符（不成对的 UTF-16 代理项）"
KEY_PREFIX = "字段名"
NOT_FINITE_MESSAGE = "应为有限的数字（不接受 NaN、Infinity）"
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class Problem:
    """``pointer`` is the JSON pointer of the offending value (or of the object holding a bad key)."""

    pointer: str
    message: str


class TooDeep(ValueError):
    """The value nests more than ``MAX_DEPTH`` arrays/objects."""


def escape_token(key: str) -> str:
    """RFC 6901: ``~`` → ``~0``, ``/`` → ``~1``."""
    return key.replace("~", "~0").replace("/", "~1")


def text_problem(text: str) -> str | None:
    """What is wrong with a string no database can store, else None."""
    found = _BAD_TEXT.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == NUL else SURROGATE_MESSAGE


def problems(value: Any, pointer: str = "", max_depth: int = MAX_DEPTH) -> Iterator[Problem]:
    """Every place in ``value`` that no database could store, in document order.

    Raises :class:`TooDeep` past ``max_depth`` levels of nesting.
    """
    if max_depth <= MAX_DEPTH and _clean(value, max_depth):  # every body and save passes here: most are clean
        return
    stack: list[tuple[Any, str, int]] = [(value, pointer, 0)]
    while stack:
        node, where, depth = stack.pop()
        if isinstance(node, Problem):  # a bad key, met in its place among its siblings
            yield node
        elif isinstance(node, str):
            message = text_problem(node)
            if message is not None:
                yield Problem(where, message)
        elif isinstance(node, float):
            if not math.isfinite(node):
                yield Problem(where, NOT_FINITE_MESSAGE)
        elif isinstance(node, (dict, list)):
            if depth >= max_depth:
                raise TooDeep(where)
            children: list[tuple[Any, str, int]] = []
            if isinstance(node, dict):
                for key, child in node.items():
                    message = text_problem(key) if isinstance(key, str) else None
                    if message is not None:
                        children.append((Problem(where, KEY_PREFIX + message), where, depth))
                    else:
                        children.append((child, f"{where}/{escape_token(str(key))}", depth + 1))
            else:
                children = [(child, f"{where}/{index}", depth + 1) for index, child in enumerate(node)]
            stack.extend(reversed(children))


def _clean(value: Any, depth_left: int) -> bool:
    """True when ``value`` holds nothing :func:`problems` would report, checked without building a
    pointer per value (that costs more than the check). Recursion stops at the depth limit, so a deep
    body falls to the iterative walk, which raises :class:`TooDeep` with its pointer."""
    if isinstance(value, str):
        return _BAD_TEXT.search(value) is None
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        if depth_left <= 0:
            return False
        return all((not isinstance(key, str) or _BAD_TEXT.search(key) is None) and _clean(child, depth_left - 1)
                   for key, child in value.items())
    if isinstance(value, list):
        if depth_left <= 0:
            return False
        return all(_clean(child, depth_left - 1) for child in value)
    return True

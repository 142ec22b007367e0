"""Tiny HTML builders on top of markupsafe: every attribute value and text is escaped here.

The renderers build markup in Python rather than in Jinja macros because the field tree is
recursive (objects in rows in sections) and a recursive macro set is harder to test in isolation.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from markupsafe import Markup, escape

Attrs = Mapping[str, Any]


def attrs(values: Attrs) -> Markup:
    """`` key="value"`` pairs; ``None``/``False`` are left out, ``True`` gives a bare attribute."""
    parts = []
    for key, value in values.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(Markup(" ") + Markup(key))
        else:
            parts.append(Markup(' {}="{}"').format(Markup(key), str(value)))
    return Markup("").join(parts)


def tag(name: str, values: Attrs | None = None, *body: Any) -> Markup:
    """``<name attrs>body</name>``; body parts that are not Markup are escaped."""
    inner = Markup("").join(escape(part) for part in body if part is not None)
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(name), attrs(values or {}), inner)


def void(name: str, values: Attrs) -> Markup:
    """A void element such as ``<input>``."""
    return Markup("<{}{}>").format(Markup(name), attrs(values))


def join(*parts: Any) -> Markup:
    """Concatenate markup (and escaped text), skipping ``None``."""
    return Markup("").join(escape(part) for part in parts if part is not None)


def classes(*names: str | None) -> str:
    """A class attribute value from the names that are set."""
    return " ".join(name for name in names if name)


def json_attr(value: Any) -> str:
    """Compact JSON for a data attribute (escaped by :func:`attrs` like any other value)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

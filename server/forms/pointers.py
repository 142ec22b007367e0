"""JSON pointers (RFC 6901) as the one address of a value: error keys, input names and export paths.

Input names are pointers without the leading slash (``visitor/name``, ``rows/0/item``) so that the
same string can travel from the schema to the HTML form, back through the posted form and into the
error messages without a second naming scheme.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

_INDEX = re.compile(r"[0-9]+", re.ASCII)


def escape_token(token: str | int) -> str:
    """One reference token, escaped so that ``/`` and ``~`` inside a key cannot split it."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """Inverse of :func:`escape_token` (order matters: ``~1`` first, then ``~0``)."""
    return token.replace("~1", "/").replace("~0", "~")


def join_name(prefix: str, token: str | int) -> str:
    """Append one (unescaped) token to an input name (a pointer without its leading slash)."""
    escaped = escape_token(token)
    return f"{prefix}/{escaped}" if prefix else escaped


def to_pointer(tokens: Iterable[str | int]) -> str:
    """Tokens (e.g. a jsonschema error's ``absolute_path``) as a pointer: ``""`` for the root."""
    return "".join("/" + escape_token(t) for t in tokens)


def name_to_pointer(name: str) -> str:
    """An input name (``visitor/name``) as the pointer used for its errors (``/visitor/name``)."""
    return "/" + name if name else ""


def split_pointer(pointer: str) -> list[str]:
    """Unescaped tokens of a pointer; accepts names without the leading slash as well."""
    if not pointer:
        return []
    text = pointer[1:] if pointer.startswith("/") else pointer
    return [unescape_token(t) for t in text.split("/")]


def is_index(token: str) -> bool:
    """Whether a token addresses an array item (ASCII digits only: ``"²"`` is a key, not an index)."""
    return bool(_INDEX.fullmatch(token))


def get_path(data: Any, path: str, dash_is_last: bool = False) -> Any:
    """The value at ``a/b`` (or ``/a/b``, ``rows/0/item``) in ``data``, or ``None`` when absent.

    With ``dash_is_last``, ``-`` picks the last item of a list (``extensions/-/reason``), as document
    field mappings use it.
    """
    current = data
    for token in split_pointer(path):
        if isinstance(current, dict):
            current = current.get(token)
        elif dash_is_last and token == "-" and isinstance(current, list) and current:
            current = current[-1]
        elif isinstance(current, list) and is_index(token) and int(token) < len(current):
            current = current[int(token)]
        else:
            return None
        if current is None:
            return None
    return current


def html_id(name: str) -> str:
    """A stable element id for an input name; ``/`` becomes ``-`` and other punctuation is hex-coded.

    Ids keep ``__index__`` intact so that the row template's placeholder is replaced in ids too.
    """
    def code(match: re.Match[str]) -> str:
        char = match.group(0)
        return "-" if char == "/" else f".{ord(char):x}."

    return "f-" + re.sub(r"[^A-Za-z0-9_]", code, name)

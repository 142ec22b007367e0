"""JSON parsing that remembers where every value starts, so errors can name a line and column.

``json.loads`` gives the document but forgets positions; configuration errors are only useful when
they point into the file. So we let ``json.loads`` decide validity (and report syntax errors with its
own line/column), then run a small scanner over the already-valid text that records, for every JSON
pointer (RFC 6901), the 1-based line and column of the value's first character. Columns count
characters (code points), like ``json.JSONDecodeError.colno``, so CJK text does not shift them.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_right
from json.decoder import scanstring
from typing import Any, NamedTuple

Position = tuple[int, int]
Positions = dict[str, Position]

_WHITESPACE = " \t\n\r"
# After json.loads accepted the text, a scalar that is not a string is one run of these characters.
_SCALAR = re.compile(r"[-+0-9.eEa-zA-Z]+")
# json.loads accepts these, but they are not JSON and no other tool would read the file.
_NOT_JSON = {"NaN", "Infinity", "-Infinity"}


class ParsedJson(NamedTuple):
    """A document, the position of each of its values, and the pointers of repeated object keys."""

    document: Any
    positions: Positions
    duplicate_keys: list[str]


def escape_token(token: str | int) -> str:
    """One reference token of a JSON pointer: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """The key a reference token stands for (the inverse of :func:`escape_token`)."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer_join(pointer: str, *tokens: str | int) -> str:
    """The pointer of a descendant: ``pointer_join("/a", "b/c", 0) == "/a/b~1c/0"``."""
    return pointer + "".join("/" + escape_token(t) for t in tokens)


def parse_json(text: str) -> ParsedJson:
    """Parse ``text``; raise ``json.JSONDecodeError`` (with lineno/colno) when it is not JSON."""
    document = json.loads(text)
    scanner = _Scanner(text)
    scanner.value(scanner.skip(0), "")
    return ParsedJson(document, scanner.positions, scanner.duplicates)


def parse_with_positions(text: str) -> tuple[Any, Positions]:
    """``(document, positions)``: positions maps every JSON pointer to the (line, column) of its value."""
    parsed = parse_json(text)
    return parsed.document, parsed.positions


def position_of(positions: Positions, pointer: str) -> Position:
    """Where ``pointer`` is; a pointer to a missing value falls back to its nearest existing parent.

    Errors often name a value that is absent (a missing key) or computed; the closest enclosing value
    is still the best place to send the reader.
    """
    while pointer not in positions and pointer:
        pointer = pointer.rsplit("/", 1)[0]
    return positions.get(pointer, (1, 1))


class _Scanner:
    """Walks text that ``json.loads`` already accepted, so it only needs to find where values start."""

    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.positions: Positions = {}
        self.duplicates: list[str] = []

    def where(self, index: int) -> Position:
        """Line and column of a character index, counted like ``json.JSONDecodeError`` does."""
        line = bisect_right(self.line_starts, index)
        return line, index - self.line_starts[line - 1] + 1

    def skip(self, index: int) -> int:
        while index < len(self.text) and self.text[index] in _WHITESPACE:
            index += 1
        return index

    def value(self, index: int, pointer: str) -> int:
        """Record the value starting at ``index``; return the index just after it."""
        self.positions[pointer] = self.where(index)
        char = self.text[index]
        if char == "{":
            return self._object(self.skip(index + 1), pointer)
        if char == "[":
            return self._array(self.skip(index + 1), pointer)
        if char == '"':
            return scanstring(self.text, index + 1)[1]
        match = _SCALAR.match(self.text, index)
        assert match is not None  # json.loads accepted the text
        if match.group() in _NOT_JSON:
            raise json.JSONDecodeError(f"{match.group()} is not valid JSON", self.text, index)
        return match.end()

    def _object(self, index: int, pointer: str) -> int:
        seen: set[str] = set()
        if self.text[index] == "}":
            return index + 1
        while True:
            key, index = scanstring(self.text, index + 1)
            child = pointer_join(pointer, key)
            if key in seen:  # json.loads keeps the last value: forget what the first one held
                self.duplicates.append(child)
                for stale in [p for p in self.positions if p.startswith(child + "/")]:
                    del self.positions[stale]
            seen.add(key)
            index = self.skip(self.skip(index) + 1)  # the colon
            index = self.skip(self.value(index, child))
            if self.text[index] == "}":
                return index + 1
            index = self.skip(index + 1)  # the comma

    def _array(self, index: int, pointer: str) -> int:
        if self.text[index] == "]":
            return index + 1
        item = 0
        while True:
            index = self.skip(self.value(index, pointer_join(pointer, item)))
            if self.text[index] == "]":
                return index + 1
            index, item = self.skip(index + 1), item + 1

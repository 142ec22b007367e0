"""Results computed from a published schema, kept per schema object.

A published schema is never changed once loaded (a new version is a new dict), and every save of a
ledger asks the same questions of it (its org fields, which sections belong to which workflow state):
answering each once per process takes that walk off the write path.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

T = TypeVar("T")
_LIMIT = 1000  # schemas of versions no longer served are dropped with the rest when there are this many


def by_schema(fn: Callable[[Any], T]) -> Callable[[Any], T]:
    """Remember ``fn(schema)`` per schema object (by identity; the entry holds the schema, so an id is
    never reused while remembered)."""
    seen: dict[int, tuple[Any, T]] = {}

    @functools.wraps(fn)
    def remembered(schema: Any) -> T:
        hit = seen.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        value = fn(schema)
        if len(seen) >= _LIMIT:
            seen.clear()
        seen[id(schema)] = (schema, value)
        return value

    return remembered

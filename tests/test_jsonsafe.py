"""server.jsonsafe: what no database can store is found with its pointer, clean values quickly pass.

The fast clean check (``_clean``) skips the pointer-building walk for clean values, so both must agree
at every boundary: a bad value anywhere, a bad key, and nesting exactly at and past the limit.
"""
from __future__ import annotations

import math

import pytest

from server import jsonsafe
from server.jsonsafe import MAX_DEPTH, NOT_FINITE_MESSAGE, NUL_MESSAGE, SURROGATE_MESSAGE, Problem


def nested(depth: int, leaf: object = "x") -> object:
    """``depth`` levels of containers (alternating list/object) around ``leaf``."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("value", [
    {}, [], "普通文本", 0, 1.5, -0.0, True, None, {"a": [1, 2.0, {"b": "c"}], "d/e~": "f"},
    nested(MAX_DEPTH),  # exactly at the limit
])
def test_clean_values_have_no_problems(value: object) -> None:
    assert jsonsafe._clean(value, MAX_DEPTH)
    assert list(jsonsafe.problems(value)) == []


@pytest.mark.parametrize(("value", "expected"), [
    ("a\x00b", [Problem("", NUL_MESSAGE)]),
    ({"a": {"b/c": ["ok", "\ud800"]}}, [Problem("/a/b~1c/1", SURROGATE_MESSAGE)]),
    ({"n": [1.0, math.inf]}, [Problem("/n/1", NOT_FINITE_MESSAGE)]),
    ({"x": math.nan, "y": "\x00"}, [Problem("/x", NOT_FINITE_MESSAGE), Problem("/y", NUL_MESSAGE)]),
    ({"ok": 1, "k\x00": "v"}, [Problem("", jsonsafe.KEY_PREFIX + NUL_MESSAGE)]),
])
def test_each_bad_value_is_found_with_its_pointer(value: object, expected: list[Problem]) -> None:
    assert not jsonsafe._clean(value, MAX_DEPTH)
    assert list(jsonsafe.problems(value)) == expected


def test_a_bad_value_at_the_deepest_level_is_found() -> None:
    value = nested(MAX_DEPTH, "\x00")
    found = list(jsonsafe.problems(value))
    assert len(found) == 1 and found[0].message == NUL_MESSAGE
    assert found[0].pointer.count("/") == MAX_DEPTH


def test_one_level_past_the_limit_is_too_deep_with_the_pointer_of_the_container() -> None:
    with pytest.raises(jsonsafe.TooDeep) as raised:
        list(jsonsafe.problems(nested(MAX_DEPTH + 1)))
    assert str(raised.value).count("/") == MAX_DEPTH


def test_a_body_nested_100000_deep_is_refused_without_recursion_error() -> None:
    value: object = "x"
    for _ in range(100_000):
        value = [value]
    with pytest.raises(jsonsafe.TooDeep):
        list(jsonsafe.problems(value))

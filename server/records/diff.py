"""JSON diffs for the audit log: a flat list of changes addressed by JSON pointer.

Each change is ``{"op": "add"|"remove"|"replace", "path": pointer, "old": ..., "new": ...}`` (RFC 6902
operations plus the old value, so history reads "from X to Y" without replaying the log).
"""
from __future__ import annotations

from typing import Any


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def json_diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[dict[str, Any]] = []
        for key in list(old) + [k for k in new if k not in old]:
            child = f"{path}/{_escape(str(key))}"
            if key not in new:
                changes.append({"op": "remove", "path": child, "old": old[key]})
            elif key not in old:
                changes.append({"op": "add", "path": child, "new": new[key]})
            else:
                changes.extend(json_diff(old[key], new[key], child))
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        changes = []
        for index, (a, b) in enumerate(zip(old, new)):
            changes.extend(json_diff(a, b, f"{path}/{index}"))
        return changes
    if old == new and type(old) is type(new):
        return []
    return [{"op": "replace", "path": path, "old": old, "new": new}]

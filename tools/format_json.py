"""Rewrite configuration JSON in the project's layout: nested values that fit on a line stay on one.

Usage: python tools/format_json.py FILE...   (keeps key order; UTF-8, no ASCII escapes)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

WIDTH = 110


def dumps(value: Any, indent: int = 0) -> str:
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if len(flat) + indent <= WIDTH or not isinstance(value, (dict, list)) or not value:
        return flat
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + 2).lstrip()}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    items = [f"{inner}{dumps(v, indent + 2).lstrip()}" for v in value]
    return "[\n" + ",\n".join(items) + f"\n{pad}]"


def main(paths: list[str]) -> None:
    for name in paths:
        path = Path(name)
        path.write_text(dumps(json.loads(path.read_text(encoding="utf-8"))) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])

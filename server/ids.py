"""Database ids read from untrusted text (query strings, form fields, admin actions).

Ids are 64-bit (``server.db.BigId``). ``str.isdigit`` is no test for an id: it accepts ``"²"`` and
``"٣"``, which ``int()`` then refuses or reads, and it accepts 10**30, which the database refuses. An
id that cannot exist reads as no id at all, so the caller answers "not found" instead of 500.
"""
from __future__ import annotations

import re

MAX_ID = 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: object) -> int | None:
    """The id written in ``text`` (ASCII digits, 1 … 2**63 - 1), else None."""
    raw = str(text).strip()
    if not _ASCII_DIGITS.fullmatch(raw):
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_ID else None

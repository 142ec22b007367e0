"""``If-Match``: the record version a client last saw, read the same way by every write route.

The API sends ``ETag: "<version>"``. ``If-Match`` takes that tag back, or the bare version
(``If-Match: 3``). A weak tag ``W/"3"`` means the same version (a proxy compressing the answer may
have weakened the tag; versions are exact, so weak and strong compare alike). ``*`` names no
version: a route that needs one answers 428, a route where it is optional checks none. Anything else
— several tags, ``"abc"``, ``"²"`` (which ``str.isdigit`` accepts and ``int`` refuses) — is a 400
that says what is expected, never ignored and never a 500.
"""
from __future__ import annotations

import re

from flask import request
from werkzeug.exceptions import BadRequest

_VERSION = re.compile(r'(?:W/)?"([0-9]{1,18})"|([0-9]{1,18})')
MALFORMED = 'If-Match 应为记录的版本号，即响应头 ETag 的值，如 "3"（也接受 3 或 W/"3"）'


def if_match_version() -> int | None:
    """The version named by ``If-Match``; None when the header is absent, empty or ``*``."""
    raw = request.headers.get("If-Match", "").strip()
    if raw in ("", "*"):
        return None
    match = _VERSION.fullmatch(raw)
    if match is None:
        raise BadRequest(MALFORMED)
    return int(match.group(1) or match.group(2))

"""``Cache-Control: no-store`` on every response but static assets.

Record pages, API answers, exports and PDFs carry personal data (names, ID numbers, phone numbers of
reporters and informants); without this header a browser or an intranet proxy may keep them on disk
after the user has logged out. Static assets (styles, scripts, icons: no data) stay cacheable.
"""
from __future__ import annotations

from flask import Response, request

NO_STORE = "no-store"


def is_static() -> bool:
    """``static``, ``vendor.static``, flask-admin's ``admin.static`` and ``admin_assets.static``."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def no_store(response: Response) -> Response:
    """``after_request``: a response that already forbids storing keeps its header (``private, no-store``)."""
    if not is_static() and NO_STORE not in (response.headers.get("Cache-Control") or ""):
        response.headers["Cache-Control"] = NO_STORE
    return response

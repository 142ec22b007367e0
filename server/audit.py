"""Writing the audit log: every change and every security event goes through :func:`log_event`.

The table is append-only (an ORM guard and database triggers); this is the one place that adds rows.
"""
from __future__ import annotations

from typing import Any

from server.extensions import db
from server.records.models import AuditEntry


def log_event(action: str, object_type: str, *, object_id: int | None = None, user_id: int | None = None,
              subject: str | None = None, detail: str = "", diff: list[dict[str, Any]] | None = None,
              form_id: str | None = None, record_version: int | None = None) -> AuditEntry:
    """Add one audit row to the current transaction (the caller commits with its own change)."""
    entry = AuditEntry(action=action, object_type=object_type, object_id=object_id, user_id=user_id,
                       subject=subject, detail=detail, diff=diff or [], form_id=form_id,
                       record_version=record_version)
    db.session.add(entry)
    return entry

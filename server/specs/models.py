"""Published configuration versions, kept in the database so every process serves the same ones."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import BigId, JsonType
from server.extensions import db
from server.timeutil import utcnow


class FormVersion(db.Model):
    """One published version of a form: sequence per form + content hash, with the whole schema.

    Records point at (form_id, seq) so a record is always shown with the form it was saved under.
    """

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("form_id", "seq", name="uq_form_versions_seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(40), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    # Plain JSON, not JSONB: PostgreSQL's JSONB reorders keys, and property order is the form's field order.
    schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64), default="")


class ConfigState(db.Model):
    """A single row naming the live configuration; processes poll it to notice a reload."""

    __tablename__ = "config_state"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    digest: Mapped[str] = mapped_column(String(64), default="")
    form_ids: Mapped[list[str]] = mapped_column(JsonType, default=list)
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # RulesSpec.to_json()
    documents: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # id -> DocumentSpec.to_json()
    workflows: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # id -> {"seq", "digest", "form"}
    calendar: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # year -> {"holidays", "workdays"}
    dashboard: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # config/dashboard.json
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

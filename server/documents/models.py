"""The document register: issued documents, their number counters, and the template versions used."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from server.db import BigId, JsonType
from server.extensions import db
from server.timeutil import utcnow


class DocumentTemplateVersion(db.Model):
    """A document definition + template as published; issued documents name the version they used."""

    __tablename__ = "document_template_versions"
    __table_args__ = (UniqueConstraint("doc_id", "digest", name="uq_document_template_versions"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(40), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    template: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentCounter(db.Model):
    """Last 发文字号 sequence per 代字 (the number with the sequence left out, e.g. ``示综治〔2026〕#号``)."""

    __tablename__ = "document_counters"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class IssuedDocument(db.Model):
    """One issued document: its number, the exact PDF bytes and what they were made from.

    Never deleted: a wrong document is revoked with a reason and keeps its number.
    """

    __tablename__ = "issued_documents"
    __table_args__ = (UniqueConstraint("number", name="uq_issued_documents_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(120))
    counter_key: Mapped[str] = mapped_column(String(160))
    seq: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("records.id"), index=True, nullable=True)
    issuer_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id"), index=True)
    issuer_name: Mapped[str] = mapped_column(String(200))
    template_version: Mapped[str] = mapped_column(String(64))
    config_seq: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)  # the snapshot the template received
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    issued_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(20), default="issued")  # issued | revoked
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

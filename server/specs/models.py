"""Published configuration versions, kept in the database so every process serves the same ones."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
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


class ConfigBlob(db.Model):
    """The text of one configuration file, stored once by content (releases share unchanged files)."""

    __tablename__ = "config_blobs"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the UTF-8 text
    text: Mapped[str] = mapped_column(Text)


class ConfigRelease(db.Model):
    """One published set of configuration files, whole: what ``config export`` writes back out and what
    the studio edits, diffs against and restores. ``tree`` maps each file's path under ``config/`` to
    its blob; ``tree_digest`` tells whether a folder of files is a version already seen."""

    __tablename__ = "config_releases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    tree: Mapped[dict[str, str]] = mapped_column(JSON)
    tree_digest: Mapped[str] = mapped_column(String(64), index=True)
    config_seq: Mapped[int] = mapped_column(Integer)  # ConfigState.seq once this release was live
    source: Mapped[str] = mapped_column(String(20))  # files | studio | restore | import
    note: Mapped[str] = mapped_column(Text, default="")
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published_by: Mapped[str] = mapped_column(String(64), default="")
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConfigDraft(db.Model):
    """One administrator's unpublished edit of one file. ``base_digest`` is the blob the edit started
    from ("" for a new file): when the live file has moved on since, publishing it would overwrite
    someone else's change, so the studio says so. ``version`` guards against two tabs saving at once."""

    __tablename__ = "config_drafts"
    __table_args__ = (UniqueConstraint("user_id", "path", name="uq_config_drafts_user_path"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    path: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    base_digest: Mapped[str] = mapped_column(String(64), default="")
    base_release: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # an UPDATE or DELETE of a draft saved meanwhile fails

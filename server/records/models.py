"""The generic record table, its append-only audit log and the gap-free number counters."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from server.db import BigId, JsonType
from server.extensions import db
from server.timeutil import utcnow


class Record(db.Model):
    """One filled form. ``data`` is the JSON the form's schema validates; ``version`` guards edits."""

    __tablename__ = "records"
    # (form_id, org_unit_id): one form's records in a part of the org tree, the shape of every list and
    # dashboard query (migration 0012).
    __table_args__ = (UniqueConstraint("form_id", "number", name="uq_records_form_number"),
                      Index("ix_records_form_unit", "form_id", "org_unit_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(40))
    form_version: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(80))
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Values under a protection in force (要求保密, see server.records.confidential): searched only by
    # readers who may see them, so a search by a hidden name finds nothing for the others.
    search_protected: Mapped[str] = mapped_column(Text, default="")
    # Workflow (only for forms with x-form.workflow): the state is changed by transitions alone; the
    # workflow version is the one the record started under; the waiting unit and the due date are
    # kept current by the workflow service so that inboxes and lists need no JSON lookups.
    state: Mapped[str] = mapped_column(String(32), default="active")
    workflow_id: Mapped[str | None] = mapped_column(String(40))
    workflow_version: Mapped[int | None] = mapped_column(Integer)
    state_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    waiting_unit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("org_units.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Every UPDATE carries "WHERE version = <old>": a concurrent save makes it match no row. The
    # version counts changes of the record's data and state (the write paths bump it once each); the
    # bookkeeping the workflow keeps beside them (due date, waiting unit) does not make a new version.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class AuditEntry(db.Model):
    """Who did what, when, with the JSON diff. Rows are only ever inserted (see the guard below)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(100), index=True)  # e.g. the username of a login
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigId, index=True)
    form_id: Mapped[str | None] = mapped_column(String(40))
    record_version: Mapped[int | None] = mapped_column(Integer)
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    detail: Mapped[str] = mapped_column(Text, default="")


class NumberCounter(db.Model):
    """Last record sequence per form, org unit and year; incremented inside the record's transaction."""

    __tablename__ = "number_counters"

    form_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(_mapper, _connection, _target) -> None:  # type: ignore[no-untyped-def]
    raise RuntimeError("audit_log is append-only")


class RecordRoute(db.Model):
    """A record routed or assigned to an org unit (归口分流): that unit's staff may see the record.

    ``source`` says why: ``field:<pointer>`` for a form field that names the responsible unit, or a
    rule id once rules route matters.
    """

    __tablename__ = "record_routes"

    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("records.id"), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id"), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RecordTransition(db.Model):
    """One step of a record through its workflow: who moved it, when, from where to where, and why.

    The record page's timeline; counted by facts (``{"transitions": "send_back"}``: 退回 counted)."""

    __tablename__ = "record_transitions"
    __table_args__ = (Index("ix_record_transitions_record", "record_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("records.id"))
    transition: Mapped[str] = mapped_column(String(40))  # "" for entering the initial state
    label: Mapped[str] = mapped_column(String(100), default="")
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100), default="")  # who, when no person did it: 系统（办理时限·逾期）
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    workflow_version: Mapped[int | None] = mapped_column(Integer)

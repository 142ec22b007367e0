"""Workflow versions, running timers and the escalation steps that fired."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import BigId, JsonType
from server.extensions import db
from server.timeutil import utcnow


class WorkflowVersion(db.Model):
    """One published version of a workflow; an open record keeps the version it started under."""

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("workflow_id", "seq", name="uq_workflow_versions_seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(40), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    form_id: Mapped[str] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RecordTimer(db.Model):
    """A timer of one record: due date, state, and the day its next step (or expiry) is due.

    ``next_at`` is what the tick selects on (indexed with ``status`` and ``id``): the due ones among 100,000
    open matters are found by the index, locked with ``SKIP LOCKED`` so two ticks never take the
    same timer. ``fired`` lists the step ids done (each also has a :class:`TimerStep` row, unique)."""

    __tablename__ = "record_timers"
    __table_args__ = (Index("ix_record_timers_due", "status", "next_at", "id"),
                      Index("ix_record_timers_record", "record_id", "timer"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("records.id"))
    timer: Mapped[str] = mapped_column(String(40))
    workflow_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running | paused | stopped | done
    base_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    next_at: Mapped[date | None] = mapped_column(Date)
    paused_on: Mapped[date | None] = mapped_column(Date)
    due_fixed: Mapped[bool] = mapped_column(Boolean, default=False)  # set from a field (an approved 延期): kept
    fired: Mapped[list[str]] = mapped_column(JsonType, default=list)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TimerStep(db.Model):
    """An escalation step that fired: unique per timer and step, so it happens exactly once."""

    __tablename__ = "timer_steps"
    __table_args__ = (UniqueConstraint("timer_id", "step", name="uq_timer_steps"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    timer_id: Mapped[int] = mapped_column(BigId, ForeignKey("record_timers.id"))
    step: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(100), default="")
    fired_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    error: Mapped[str] = mapped_column(String(500), default="")


class TickRun(db.Model):
    """A daily job of the tick that finished on a day: daily rulesets run once a day, however often
    the tick runs (every minute under ``make run``)."""

    __tablename__ = "tick_runs"

    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

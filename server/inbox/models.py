"""The inbox table: one row per thing a unit must do or know, open until the step it asks for happens."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import BigId
from server.extensions import db
from server.timeutil import utcnow

KINDS = {"step": "待办理", "task": "任务", "notice": "通知", "escalation": "催办督办"}
STATUSES = {"open": "待办", "done": "已办", "withdrawn": "已撤回", "closed": "已关闭"}


class InboxItem(db.Model):
    """``kind``: ``step`` (a record waits in a state on this unit; closes when it leaves the state),
    ``escalation`` (a timer step: 催办/督办/通报; closes when the timer stops, i.e. the matter moved on),
    ``task`` / ``notice`` (from rules or actions; withdrawn when the decision behind them is lifted).
    Tasks, notices and escalations may also be closed by hand with a note (audited); a ``step`` closes
    only when the record moves on. ``source_key`` makes every effect happen once:
    a second tick or a repeated firing finds the row and does not add another."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_unit_status", "unit_id", "status", "due_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id"))
    record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("records.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("rule_decisions.id"), index=True)
    timer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    state: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    close_note: Mapped[str] = mapped_column(Text, default="")

"""What rules decided, and the effects of those decisions (award eligibility, vetoes, accountability).

Tasks and notices are items of the 待办 inbox (``server.inbox``).

Every decision is stored with the ruleset and its version, the rule, the facts it matched, the actions
and the outcome, so that "为什么" can always be answered. Effect rows carry the key of the rule action
that made them (``source_key``): firing again on a later save updates the same row instead of adding
a duplicate.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import BigId, JsonType
from server.extensions import db
from server.timeutil import utcnow


class Decision(db.Model):
    """A rule that fired for a subject (a record, or a unit and period). A decision stays *in force*
    while the rule keeps firing with the same actions; it is not stored again each day. When the rule
    no longer fires (the officer gap is filled) it is lifted and the notices it raised are withdrawn.
    At most one in-force decision per ruleset, rule and subject: a second tick racing the first
    cannot store it twice (the unique index refuses)."""

    __tablename__ = "rule_decisions"
    __table_args__ = (Index("uq_rule_decisions_in_force", "ruleset", "rule", "subject", unique=True,
                            sqlite_where=text("lifted_at IS NULL AND outcome = 'applied' AND subject IS NOT NULL"),
                            postgresql_where=text("lifted_at IS NULL AND outcome = 'applied' AND subject IS NOT NULL")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    ruleset: Mapped[str] = mapped_column(String(60))
    ruleset_version: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("records.id"), index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JsonType)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    explanation: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))  # applied | failed
    error: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    subject: Mapped[str | None] = mapped_column(String(120), index=True)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class _Effect:
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    record_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("records.id"), index=True)
    decision_id: Mapped[int] = mapped_column(BigId, ForeignKey("rule_decisions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AwardIneligibility(_Effect, db.Model):
    __tablename__ = "award_ineligibility"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id"), index=True)
    award: Mapped[str] = mapped_column(String(100))
    from_date: Mapped[date | None] = mapped_column(Date)
    until_date: Mapped[date | None] = mapped_column(Date)


class Veto(_Effect, db.Model):
    __tablename__ = "vetoes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class Accountability(_Effect, db.Model):
    __tablename__ = "accountability"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(BigId, ForeignKey("org_units.id"), index=True)
    post: Mapped[str] = mapped_column(String(60))
    person: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(Text)

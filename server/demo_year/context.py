"""What the ledger families of the demo year share: the year, the plan, names and staff, the schedule,
the records made so far, and the three ways they write: create a record, take a transition, edit a
record, each through the services a person's request goes through (``server.records.service``,
``server.flow.service``), so validation, numbering, rules, workflows, timers and documents all run.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from flask import current_app

from server.auth.models import User
from server.demo_year.clock import Schedule, Year, at
from server.demo_year.people import Names, Staff
from server.demo_year.places import County
from server.demo_year.plan import Plan
from server.documents import service as documents
from server.documents.pdf import RenderError
from server.errors import NotAllowed, ValidationFailed
from server.extensions import db
from server.flow import dialog
from server.flow import service as flow
from server.inbox import service as inbox
from server.records import service as records
from server.records.models import Record

log = logging.getLogger(__name__)


@dataclass
class Context:
    """The demo year being written; families read and add to it as their events run."""

    year: Year
    plan: Plan
    county: County
    names: Names
    staff: Staff
    schedule: Schedule
    params: dict[str, Any]
    #: record ids by area key: the reports behind an area, and the area itself once a 研判 registered it
    area_reports: dict[str, list[int]] = field(default_factory=dict)
    area_problems: dict[str, list[int]] = field(default_factory=dict)
    areas: dict[str, int] = field(default_factory=dict)
    #: the officers on the roster by unit code, once recruited
    roster: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (number, name)
    plan_roster: dict[str, int] = field(default_factory=dict)  # officers each unit will have
    held: dict[int, date] = field(default_factory=dict)  # the day of each half-month's 研判
    meeting_days: list[date] = field(default_factory=list)
    clerks: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0  # steps that would fall after the year's end (matters still open at year end)

    # -- scheduling -----------------------------------------------------------------------------------
    def on(self, day: date, run: Callable[[], None], label: str = "", hour: int = 9, minute: int = 0) -> bool:
        """Schedule ``run`` at ``day`` ``hour``:``minute``; a step after the year's end is not taken
        (the matter is still open when the year's figures are drawn up). Returns whether scheduled."""
        if day > self.year.end:
            self.skipped += 1
            return False
        self.schedule.at(at(day, hour, minute), run, label)
        return True

    def schedule_now(self) -> datetime:
        """The moment being replayed."""
        return self.schedule.now

    def clerk(self, unit_code: str) -> str:
        """The (invented) clerk who signs a unit's entries, the same person all year."""
        if unit_code not in self.clerks:
            self.clerks[unit_code] = self.names.name()
        return self.clerks[unit_code]

    # -- writing through the services ---------------------------------------------------------------
    def create(self, form_id: str, data: dict[str, Any], user: User) -> Record:
        return records.create_record(form_id, data, user)

    def go(self, record_id: int, transition: str, user: User, fields: dict[str, Any] | None = None,
           reason: str = "") -> Record:
        """Take ``transition`` as ``user``, the dialog opened with the record's values (as on the page)
        and ``fields`` typed over them; documents the transition issues are issued with it."""
        record = db.session.get(Record, record_id)
        workflow = flow.workflow_of(record)
        opened = dialog.dialog_values(record.data, workflow.transitions[transition])
        outcome = flow.take(record_id, transition, user, fields=_laid_over(opened, fields or {}), reason=reason)
        for warning in outcome.warnings:
            self.warnings.append(f"{record.number} {transition}：{warning}")
            log.warning("示范年度：%s %s：%s", record.number, transition, warning)
        return outcome.record

    def edit(self, record_id: int, changes: dict[str, Any], user: User) -> Record:
        """Save the record with ``changes`` laid over its data, as a person editing it would."""
        record = db.session.get(Record, record_id)
        return records.update_record(record_id, _laid_over(copy.deepcopy(record.data), changes), user, record.version)

    def issue(self, doc_id: str, user: User, record_id: int) -> str:
        """Issue a document from a record as ``user`` would from its page; its 发文字号, or "" (warned)."""
        try:
            issued = documents.issue(doc_id, user, record_id=record_id)
        except (ValidationFailed, NotAllowed, RenderError) as exc:
            self.warnings.append(f"{doc_id}（记录 {record_id}）：{getattr(exc, 'message', exc)}")
            log.warning("示范年度：文书 %s 未能签发：%s", doc_id, exc)
            return ""
        return issued.number

    def close_tasks(self, record_id: int, user: User, note: str) -> None:
        """Mark the open tasks of a record in ``user``'s 待办 as done, as they would by hand."""
        for item in inbox.items_for(user):
            if item.record_id == record_id and item.kind == "task":
                inbox.close_by_hand(item.id, user, note)

    def record(self, record_id: int) -> Record:
        return db.session.get(Record, record_id)

    def param(self, name: str) -> Any:
        return self.params[name]


def registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"]


def _laid_over(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        out[key] = _laid_over(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else copy.deepcopy(value)
    return out


def moment(value: datetime) -> str:
    """A form's date-time value ("2026-05-06T09:30")."""
    return value.strftime("%Y-%m-%dT%H:%M")

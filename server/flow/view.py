"""What people see of a record's workflow: its state, deadline, the buttons they may press, the
timeline; and the record and transition behind a dialog page. Reads only; ``server.flow.service``
does the moving.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from server.auth.models import User
from server.errors import NotAllowed, NotFound
from server.extensions import db
from server.flow import timers
from server.flow.service import (
    TransitionRefused, actor_for, explained, passed, registry, today, workflow_fact, workflow_of,
)
from server.org.models import OrgUnit
from server.org.service import unit_by_id
from server.records import confidential
from server.records import service as records
from server.records.models import Record, RecordTransition
from server.rules.normalise import FactError
from server.workflow import machine
from server.workflow.definition import State, Transition, Workflow
from server.workflow.machine import Refusal


@dataclass
class Button:
    transition: Transition
    refusal: Refusal | None


@dataclass
class FlowView:
    """What the record page shows of the workflow."""

    workflow: Workflow
    state: State | None
    due: date | None
    working_days_left: int | None
    buttons: list[Button]
    timeline: list[RecordTransition]  # as the reader may read them (protected values scrubbed from reasons)
    waiting_unit: OrgUnit | None
    counts: dict[str, int]
    due_title: str = "办理期限"  # the title of the timer the due date belongs to (办理时限, 回访时限 ...)

    @property
    def overdue(self) -> bool:
        return self.working_days_left is not None and self.due is not None and self.due < today()


def view(record: Record, user: User) -> FlowView | None:
    workflow = workflow_of(record)
    if workflow is None:
        return None
    try:
        fact = workflow_fact(record, workflow)
    except FactError:  # a record that no longer fits its facts: no condition holds
        fact = {}
    conditions = passed(workflow, fact)
    actor = actor_for(user, record, workflow)
    hidden = confidential.secrets(record, user)  # guard explanations and reasons may quote protected values
    buttons = [Button(t, explained(r, fact, hidden) if r else None)
               for t, r in machine.available(workflow, record.state, actor, record.data, conditions)]
    entries = timeline(record)
    counts: dict[str, int] = {}
    for entry in entries:
        if entry.transition:
            counts[entry.transition] = counts.get(entry.transition, 0) + 1
    left = None
    if record.due_date is not None:
        left = registry().live.calendar.working_days_between(today(), record.due_date)
    unit = unit_by_id(record.waiting_unit_id)
    nearest = min(timers.live_timers(record.id), key=lambda t: t.due_date, default=None)
    due_title = workflow.timers[nearest.timer].title if nearest and nearest.timer in workflow.timers else "办理期限"
    return FlowView(workflow=workflow, state=workflow.state(record.state), due=record.due_date, working_days_left=left,
                    buttons=buttons, timeline=confidential.scrubbed_rows(entries, record, user), waiting_unit=unit,
                    counts=counts, due_title=due_title)


def timeline(record: Record) -> list[RecordTransition]:
    return list(db.session.scalars(select(RecordTransition).where(RecordTransition.record_id == record.id)
                                   .order_by(RecordTransition.id)))


def transition_for(record_id: int, transition_id: str, user: User) -> tuple[Record, Workflow, Transition]:
    """The record and transition behind a transition dialog page (404 outside scope or workflow;
    403 when this user may not press it)."""
    record = records.get_record(record_id, user)
    workflow = workflow_of(record)
    transition = workflow.transitions.get(transition_id) if workflow is not None else None
    if workflow is None or transition is None:
        raise NotFound(transition_id)
    if record.state not in transition.sources:
        raise TransitionRefused(machine.refusal(workflow, record.state, transition, actor_for(user, record, workflow),
                                                record.data, set()))
    if not machine.may_press(transition, actor_for(user, record, workflow)):
        refused = NotAllowed(f"transition:{transition_id}")
        refused.message = machine.refusal(workflow, record.state, transition, actor_for(user, record, workflow),  # type: ignore[attr-defined]
                                          record.data, set()).message
        raise refused
    return record, workflow, transition

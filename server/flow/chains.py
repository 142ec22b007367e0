"""Chains between ledgers: a transition that moves other records (``transition_record``).

A 联席会议 that decides to list areas lists them: its 形成决议 runs each named key area's 挂牌督办 in the
same transaction, as the person who records the decision, with the same checks as if that person had
listed the area on its own page (state, role, required fields, guard). Nothing is retyped; if one area
cannot be listed, the decision is refused with that area named and nothing is saved. Documents the
area's transition issues (the 挂牌督办通知书) are issued after the commit like the meeting's own.

Installed into :mod:`server.flow.actions` (which the flow service imports) at start-up, so that the
actions module needs no import of the service that calls it.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from sqlalchemy import select

from server.extensions import db
from server.flow import actions as flow_actions
from server.flow import service
from server.records.models import Record
from server.rules.apply import MISSING, ActionFailed, ActionRun, set_pointer, source_value
from server.workflow import machine


def install() -> None:
    flow_actions.transition_other = transition_other


def transition_other(action: Mapping[str, Any], run: ActionRun, documents: list[flow_actions.Issue]) -> Record:
    """Take transition ``action["transition"]`` of the ``form`` record numbered by ``ref`` (a pointer of
    the acting record, or ``./pointer`` of the row a ``for_each`` is at); ``fields`` fill its dialog."""
    title = service.registry().form(action["form"]).title
    number = source_value(action["ref"], run.data, run.item)
    if number in (None, "", MISSING):
        raise ActionFailed(f"没有填写要流转的《{title}》记录")
    other = db.session.scalar(select(Record).where(Record.form_id == action["form"], Record.number == str(number))
                              .with_for_update())
    if other is None:
        raise ActionFailed(f"找不到编号为 {number} 的《{title}》记录")
    workflow = service.workflow_of(other)
    transition = workflow.transitions.get(action["transition"]) if workflow is not None else None
    if transition is None:
        raise ActionFailed(f"《{title}》{number} 没有“{action['transition']}”这一流转")
    data = copy.deepcopy(other.data)
    for pointer, value in (action.get("fields") or {}).items():
        value = source_value(value, run.data, run.item)
        if value not in (None, "", MISSING):
            set_pointer(data, pointer, value)
    fact = service.workflow_fact(other, workflow, data)
    conditions = service.passed(workflow, fact)
    refusal = machine.refusal(workflow, other.state, transition, service.actor_for(run.user, other, workflow, other.data),
                              data, conditions)
    if refusal is not None:
        reason = service.explained(refusal, fact).message
        raise ActionFailed(f"《{title}》{number}（{workflow.state_title(other.state)}）不能“{transition.label}”：{reason}")
    outcome = service.Outcome(record=other)
    touched = service.apply_transition(other, workflow, transition, machine.target(transition, conditions), data,
                                       run.user, str(action.get("reason") or ""), fact, outcome)
    documents.extend(outcome.documents)
    run.created.extend(r for r, created in touched if created)
    run.updated.extend(r for r, created in touched if not created)
    return other

"""Records moving through their workflows: entering states, taking transitions, keeping timers,
the waiting unit, the due date and the 待办 items in step.

A form opts in with ``x-form.workflow``; its records enter the initial state inside the save that
creates them (this module subscribes to the records service's in-transaction event). After that the
state changes only through :func:`take` (a person) or a timer step (the tick): the transition, its
actions, the record's new data, timers, inbox items and the audit row are one transaction. The pure
rules (who may, which fields, which guard, where to) are ``server.workflow.machine``'s.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping, Sequence

from flask import current_app
from sqlalchemy import select

from server.audit import log_event
from server.auth.models import User
from server.auth.permissions import user_level
from server.auth.roles import READ_ONLY_ROLES
from server.db import write_transaction
from server.errors import Conflict, FieldError, NotFound, ValidationFailed
from server.events import RECORD_PREPARING, RECORD_SAVED, RECORD_SAVING, RECORD_TRANSITIONED, publish, subscribe
from server.extensions import db
from server.flow import actions as flow_actions
from server.flow import dialog, timers
from server.flow.timers import TimerEnv
from server.forms import validate
from server.forms.pointers import get_path
from server.inbox import service as inbox
from server.org.models import OrgUnit
from server.org.service import root_unit, unit_by_code, unit_by_id
from server.records import confidential
from server.records import service as records
from server.records.models import Record, RecordTransition
from server.records.scope import is_county_wide
from server.rules import service as rules_service
from server.rules.apply import ActionFailed, render, set_pointer
from server.rules.facts import as_date
from server.rules.normalise import FactError
from server.timeutil import local_today, utcnow
from server.workflow import machine
from server.workflow.deadlines import AmountError, due_date
from server.workflow.definition import Transition, Workflow
from server.workflow.machine import Actor, Refusal

log = logging.getLogger(__name__)


class TransitionRefused(Exception):
    """A transition that may not be taken; ``refusal`` says why (state 409, role 403, field/guard 422)."""

    def __init__(self, refusal: Refusal):
        self.refusal = refusal
        super().__init__(refusal.message)


def registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"]


def today() -> date:
    return local_today()


def workflow_of(record: Record) -> Workflow | None:
    """The workflow version a record runs under (None for forms without one)."""
    if not record.workflow_id:
        return None
    return registry().workflow(record.workflow_id, record.workflow_version)


# -- units ---------------------------------------------------------------------------------------------
def assignee_unit(data: Mapping[str, Any], workflow: Workflow) -> OrgUnit | None:
    code = get_path(data, workflow.assignee) if workflow.assignee else None
    return unit_by_code(code) if isinstance(code, str) and code else None


def waiting_unit(record: Record, workflow: Workflow, data: Mapping[str, Any] | None = None) -> OrgUnit | None:
    """Whom the record waits on in its state: the owner, the assignee (owner until one is named) or
    the county office; None in a closed state."""
    state = workflow.state(record.state)
    if state is None or not state.open or state.waits_on is None:
        return None
    if state.waits_on == "assignee":
        found = assignee_unit(data if data is not None else record.data, workflow)
        if found is not None:
            return found
    if state.waits_on == "county":
        return root_unit()
    return unit_by_id(record.org_unit_id)


def _within(unit: OrgUnit | None, user: User) -> bool:
    """``unit`` is the user's unit or beneath it."""
    mine = user.org_unit
    return unit is not None and mine is not None and bool(mine.path) and unit.path.startswith(mine.path)


def actor_for(user: User, record: Record, workflow: Workflow, data: Mapping[str, Any] | None = None) -> Actor:
    owner = unit_by_id(record.org_unit_id)
    return Actor(role=user.role, level=user_level(user),
                 is_owner=is_county_wide(user) or _within(owner, user),
                 is_assignee=_within(assignee_unit(data if data is not None else record.data, workflow), user),
                 read_only=user.role in READ_ONLY_ROLES or user.role == "county_admin")


# -- facts and placeholders ---------------------------------------------------------------------------------
def workflow_fact(record: Record, workflow: Workflow, data: Mapping[str, Any] | None = None,
                  on: date | None = None) -> dict[str, Any]:
    """The record's fact for the workflow's guards (``data``: the record's data as it would be)."""
    rules = rules_service.live_rules()
    if not workflow.facts or rules is None or workflow.facts not in rules.facts:
        return {}
    return rules_service.record_fact(rules, workflow.facts, record, rules_service.context(rules, on), data=data)


def explained(refusal: Refusal, fact: Mapping[str, Any], hidden: Sequence[str] = ()) -> Refusal:
    """A guard's explanation with its ``{attribute}`` and ``{param.name}`` placeholders filled; values
    ``hidden`` from the reader (要求保密, :func:`server.records.confidential.secrets`) read "（保密）"."""
    if refusal.code != "guard":
        return refusal
    rules = rules_service.live_rules()
    message = render(refusal.message, fact, rules.values if rules else {})
    return Refusal(refusal.code, confidential.scrub(message, hidden), refusal.pointer)


def passed(workflow: Workflow, fact: Mapping[str, Any]) -> set[str]:
    rules = rules_service.live_rules()
    conditions = workflow.conditions()
    if not conditions or rules is None:
        return set()
    return rules_service.passed_conditions(rules, f"{workflow.id}__{workflow.digest[:12]}", conditions, dict(fact))


def placeholders(record: Record, workflow: Workflow, data: Mapping[str, Any], fact: Mapping[str, Any],
                 user: User | None, on: date | None = None, **extra: str) -> dict[str, Any]:
    """What ``{placeholders}`` of workflow actions stand for; ``on``: the day acted on (the tick's date)."""
    owner = unit_by_id(record.org_unit_id)
    assignee = assignee_unit(data, workflow)
    county = root_unit()
    values = dict(fact)
    values.update({
        "record_number": record.number, "record_id": str(record.id), "form_title": registry().form(record.form_id).title,
        "today": (on or today()).isoformat(), "due_date": record.due_date.isoformat() if record.due_date else "",
        "state_title": workflow.state_title(record.state), "user_name": user.label if user else "系统",
        "owner_code": owner.code if owner else "", "owner_name": owner.name if owner else "",
        "assignee_code": assignee.code if assignee else "", "assignee_name": assignee.name if assignee else "",
        "county_code": county.code if county else "", "timer_title": "", "step_title": "", "reason": "",
    })
    values.update(extra)
    return values


def env_for(record: Record, workflow: Workflow, fact: Mapping[str, Any] | None = None,
            on: date | None = None) -> TimerEnv:
    rules = rules_service.live_rules()
    return TimerEnv(today=on or today(), calendar=registry().live.calendar, params=rules.values if rules else {},
                    fact=fact if fact is not None else workflow_fact(record, workflow, on=on))


# -- entering states ----------------------------------------------------------------------------------------
def on_saving(record: Record, user: User | None, created: bool, previous: Mapping[str, Any] | None, **_: Any) -> None:
    """In the save's transaction: a new record of a workflow form enters the initial state; an edited
    one keeps its waiting unit, timers and due date in line with the fields they read."""
    if created:
        workflow = registry().workflow_for_form(record.form_id)
        if workflow is not None:
            start_workflow(record, workflow, user)
        return
    workflow = workflow_of(record)
    if workflow is not None:
        sync(record, workflow, env_for(record, workflow))


def on_preparing(record: Record, data: dict[str, Any], action: str = "", **_: Any) -> None:
    """Before an edit is stored: the unit a matter is assigned to changes only by a transition (改派,
    counted and with a reason) once it left its first state; deadline fields written by timers
    (``write_due``) follow the timer, recomputed when the date it counts from was edited (a deadline
    is computed, not typed)."""
    workflow = workflow_of(record)
    if workflow is None or record.id is None:
        return
    if action == "update" and workflow.assignee and record.state != workflow.initial \
            and get_path(data, workflow.assignee) != get_path(record.data, workflow.assignee):
        raise ValidationFailed([FieldError(workflow.assignee, "承办单位只能通过办理流转（如“改派”）改变，不能直接修改")])
    fill_due_fields(record, workflow, data, env_for(record, workflow, fact={}))


def fill_due_fields(record: Record, workflow: Workflow, data: dict[str, Any], env: TimerEnv) -> None:
    for row in timers.live_timers(record.id):
        timer = workflow.timers.get(row.timer)
        if timer is None or not timer.write_due:
            continue
        due = row.due_date
        if timer.start_from != "entered" and not row.due_fixed:
            base = as_date(get_path(data, timer.start_from))
            if base is not None and base != row.base_date:
                try:
                    due = due_date(timer, base, env.params, workflow_fact(record, workflow, data), env.calendar)
                except AmountError:
                    pass
        set_pointer(data, timer.write_due, due.isoformat())


def subscribe_events() -> None:
    subscribe(RECORD_PREPARING, on_preparing)
    subscribe(RECORD_SAVING, on_saving)


def start_workflow(record: Record, workflow: Workflow, user: User | None, state: str | None = None,
                   label: str = "登记") -> None:
    """Put a record into ``state`` (default: the initial one) of the live version of ``workflow``."""
    record.workflow_id = workflow.id
    record.workflow_version = registry().live.workflow_seqs.get(workflow.id)
    entry = _log(record, workflow, "", label, None, state or workflow.initial, user, "", "")
    _enter(record, workflow, None, state or workflow.initial, env_for(record, workflow), entry)


def _log(record: Record, workflow: Workflow, transition: str, label: str, from_state: str | None, to_state: str,
         user: User | None, reason: str, actor: str) -> RecordTransition:
    entry = RecordTransition(record_id=record.id, transition=transition, label=label, from_state=from_state,
                             to_state=to_state, reason=reason, user_id=user.id if user else None,
                             actor=actor or (user.label if user else "系统"), at=utcnow(),
                             workflow_version=record.workflow_version)
    db.session.add(entry)
    db.session.flush()
    return entry


def _enter(record: Record, workflow: Workflow, old: str | None, new: str, env: TimerEnv, entry: RecordTransition,
           data: Mapping[str, Any] | None = None) -> None:
    """The state change itself: timers start, pause, resume or stop; the waiting item moves.
    ``data``: the record's data as the transition leaves it (timers may count from its dates)."""
    record.state, record.state_since = new, utcnow()
    if old is not None:
        inbox.close_for_state(record.id, old)
    live = timers.live_timers(record.id)
    changes = machine.timer_changes(workflow, old, new, [t.timer for t in live if t.status == "running"],
                                    [t.timer for t in live if t.status == "paused"])
    by_id = {t.timer: t for t in live}
    for timer_id in changes.stop:
        timers.stop(by_id[timer_id])
    for timer_id in changes.pause:
        timers.pause(by_id[timer_id], env.today)
    for timer_id in changes.resume:
        timers.resume(by_id[timer_id], workflow.timers[timer_id], env)
    for timer_id in changes.start:
        timers.start(record, workflow, workflow.timers[timer_id], env, data=data)
    db.session.flush()
    if data is None:
        sync(record, workflow, env, entry)


def sync(record: Record, workflow: Workflow, env: TimerEnv, entry: RecordTransition | None = None) -> None:
    """Bring what depends on the record's data and state up to date (idempotent): timers counting
    from a date field, timers of the state that could not start while their date was empty, the
    due date, the waiting unit and its 待办 item."""
    state = workflow.state(record.state)
    live = {t.timer: t for t in timers.live_timers(record.id)}
    for timer in workflow.timers.values():
        row = live.get(timer.id)
        if row is not None:
            timers.recompute(row, record, timer, env)
        elif record.state in timer.runs_in and entry is None and timer.start_from != "entered":
            timers.start(record, workflow, timer, env)
    record.due_date = timers.record_due(record.id)
    unit = waiting_unit(record, workflow)
    record.waiting_unit_id = unit.id if unit else None
    if state is None or unit is None:
        return
    entry = entry or db.session.scalar(select(RecordTransition).where(RecordTransition.record_id == record.id)
                                       .order_by(RecordTransition.id.desc()).limit(1))
    form = registry().form(record.form_id)
    owner = unit_by_id(record.org_unit_id)
    about = summary(record)
    inbox.upsert(f"step:{record.id}:{entry.id}", kind="step", unit_id=unit.id, record_id=record.id, state=state.id,
                 title=f"{form.title} {record.number}（{state.title}）",
                 message=f"{owner.name if owner else ''}受理" + (f"：{about}" if about else ""), due_date=record.due_date)


def summary(record: Record) -> str:
    """A line saying what the matter is about, from its first text fields (never a protected value:
    the line goes to the inbox of the unit the matter waits on, whoever reads it there)."""
    data = confidential.public_data(record)
    for key in ("summary", "description", "content", "name"):
        value = data.get(key)
        if value == confidential.PLACEHOLDER:
            continue
        if isinstance(value, str) and value.strip():
            text = value.strip().replace("\n", " ")
            return text if len(text) <= 80 else text[:79] + "…"
    return ""


# -- taking a transition ----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    record: Record
    documents: list[flow_actions.Issue] = field(default_factory=list)  # issued after the commit
    warnings: list[str] = field(default_factory=list)


def take(record_id: int, transition_id: str, user: User, fields: Any = None, reason: Any = "",
         expected_version: int | None = None) -> Outcome:
    """A person takes a transition: checked (state, role, fields, guard), then applied in one transaction."""
    record = records.get_record(record_id, user)
    workflow = workflow_of(record)
    transition = workflow.transitions.get(transition_id) if workflow is not None else None
    if workflow is None or transition is None:
        raise NotFound(transition_id)
    data, reason = _checked_body(record, transition, fields, reason)
    data = confidential.keep_hidden(record, data, user)  # a dialog field shown masked keeps its stored value
    _check_dialog(registry().form(record.form_id), transition, data)
    try:
        fact = workflow_fact(record, workflow, data)
    except FactError as exc:
        raise ValidationFailed([FieldError("", f"无法判断流转条件：{exc}")]) from exc
    conditions = passed(workflow, fact)
    actor = actor_for(user, record, workflow, record.data)
    refusal = machine.refusal(workflow, record.state, transition, actor, data, conditions)
    if refusal is not None:
        raise TransitionRefused(explained(refusal, fact, confidential.secrets(record, user)))
    to_state = machine.target(transition, conditions)
    outcome = Outcome(record=record)
    seen_state, seen_version = record.state, record.version
    try:
        with write_transaction():
            fresh = records.locked_record(record_id, expected_version if expected_version is not None else seen_version)
            if fresh.state != seen_state:  # moved by someone else since it was read
                raise Conflict(current_version=fresh.version, expected_version=expected_version)
            touched = apply_transition(fresh, workflow, transition, to_state, data, user, reason, fact, outcome)
    except ActionFailed as exc:
        raise ValidationFailed([FieldError("", f"无法完成“{transition.label}”：{exc}")]) from exc
    except AmountError as exc:  # a deadline that cannot be worked out (an empty field it counts from ...)
        raise ValidationFailed([FieldError("", f"无法完成“{transition.label}”：{exc}")]) from exc
    except ValidationFailed as exc:  # the record as the transition would leave it does not fit its form
        raise ValidationFailed([_in_dialog(e, transition) for e in exc.errors]) from exc
    _after_commit(outcome, user, transition, seen_state, to_state, touched)
    return outcome


def _check_dialog(form: Any, transition: Transition, data: dict[str, Any]) -> None:
    """The values typed in the dialog, checked against their fields first (a wrong date is the
    person's to fix, before any action runs); the whole record is validated once the actions ran."""
    model = dialog.dialog_model(form, transition)
    if model is None:
        return
    values = dialog.dialog_values(data, transition)
    # a missing required value is the machine's to report (with the transition's own words)
    errors = [e for e in validate(model, values) if _asked(e.pointer, transition) and get_path(values, e.pointer) is not None]
    if errors:
        raise ValidationFailed([_in_dialog(e, transition) for e in errors])


def _asked(pointer: str, transition: Transition) -> bool:
    return any(pointer == p or pointer.startswith(p + "/") for p in transition.dialog)


def _in_dialog(error: FieldError, transition: Transition) -> FieldError:
    """Errors of fields the dialog asked for are addressed in the request body (``/fields/...``)."""
    if _asked(error.pointer, transition):
        return FieldError(f"/fields{error.pointer}", error.message)
    return error


def _checked_body(record: Record, transition: Transition, fields: Any, reason: Any) -> tuple[dict[str, Any], str]:
    errors: list[FieldError] = []
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise ValidationFailed([FieldError("/fields", "应为对象：本次流转填写的字段")])
    errors += dialog.unexpected_fields(fields, transition)
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        errors.append(FieldError("/reason", "应为字符串"))
        reason = ""
    reason = reason.strip()
    if transition.reason == "required" and not reason:
        errors.append(FieldError("/reason", f"办理“{transition.label}”须写明理由"))
    if len(reason) > 2000:
        errors.append(FieldError("/reason", "理由不超过 2000 字"))
    if errors:
        raise ValidationFailed(errors)
    return dialog.merge(record.data, fields, transition), reason


def apply_transition(record: Record, workflow: Workflow, transition: Transition, to_state: str,
                     data: dict[str, Any], user: User | None, reason: str, fact: Mapping[str, Any],
                     outcome: Outcome, actor: str = "", on: date | None = None) -> list[tuple[Record, bool]]:
    """Inside the transaction: log, state change, actions, the record's data, audit. Returns the
    other records the actions created or updated, as (record, created), to publish as saved after
    the commit."""
    from_state = record.state
    record.version += 1  # the state (and the data below) change as one new version
    entry = _log(record, workflow, transition.id, transition.label, from_state, to_state, user, reason, actor)
    env = env_for(record, workflow, fact, on=on)
    _enter(record, workflow, from_state, to_state, env, entry, data)
    fill_due_fields(record, workflow, data, env)  # actions may map the deadline into other ledgers
    run = flow_actions.run_for(record, data, user, env, key=f"transition:{entry.id}",
                               source=f"transition:{transition.id}")
    values = placeholders(record, workflow, data, fact, user, on=env.today, reason=reason)
    flow_actions.perform_all(transition.actions, values, run, workflow, outcome.documents)
    detail = f"{transition.label}：{workflow.state_title(from_state)} → {workflow.state_title(to_state)}" \
        + (f"；理由：{reason}" if reason else "")
    changed = data != record.data
    if changed:
        records.check(registry().form(record.form_id), data, user, previous=record.data)
        changed = records.write_data(record, data, user, "transition", detail=detail, bump=False)
    if not changed:  # the state alone changed: the audit row says so
        log_event("transition", "record", object_id=record.id, user_id=user.id if user else None,
                  subject=record.number, form_id=record.form_id, record_version=record.version, detail=detail)
    sync(record, workflow, env, entry)
    return [(r, True) for r in run.created] + [(r, False) for r in run.updated]


def _after_commit(outcome: Outcome, user: User, transition: Transition, from_state: str | None, to_state: str,
                  touched: list[tuple[Record, bool]]) -> None:
    for issue in outcome.documents:
        warning = flow_actions.issue_document(issue.record, issue.doc_id, issue.number_to, user)
        if warning:
            outcome.warnings.append(warning)
    publish(RECORD_TRANSITIONED, record=outcome.record, user=user, transition=transition.id, from_state=from_state,
            to_state=to_state)
    publish(RECORD_SAVED, record=outcome.record, user=user, created=False)
    for record, created in touched:
        publish(RECORD_SAVED, record=record, user=user, created=created)


def move_to_version(record: Record, workflow: Workflow, seq: int, state: str) -> None:
    """Inside a transaction: put a record on version ``seq`` of ``workflow`` in ``state``; timers the
    new version does not have stop, those its state runs start (audited, on the timeline)."""
    old_state, old_version = record.state, record.workflow_version
    adopted = record.workflow_id is None
    record.workflow_id, record.workflow_version = workflow.id, seq
    for row in timers.live_timers(record.id):
        if row.timer not in workflow.timers:
            timers.stop(row)
        else:
            row.workflow_version = seq
    record.version += 1
    label = "纳入流程" if adopted else "流程迁移"
    reason = f"流程 {workflow.title} 第 {seq} 版" if adopted else f"流程版本 {old_version} → {seq}"
    entry = _log(record, workflow, "", label, None if adopted else old_state, state, None, reason, "系统（流程迁移）")
    _enter(record, workflow, None if adopted else old_state, state, env_for(record, workflow), entry)
    log_event("workflow_migrate", "record", object_id=record.id, subject=record.number, form_id=record.form_id,
              record_version=record.version, detail=f"{label}：{old_state} → {state}（{reason}）")

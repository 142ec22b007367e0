"""Key areas at a given stage, for tests of what a stage's data leads to (rules, documents, registers).

A key area reaches 挂牌督办 or 巩固期 through its workflow's transitions, and a person may fill only the
sections of the current state (``x-ui.states``). Tests of the rules and documents need records that already
hold a later stage's data; they are made here the way a workflow migration makes them: created at the
first state with what identification holds, given the rest of their data through the records write path,
then moved to ``state`` (logged as a migration); the rules run as after any save.
"""
from __future__ import annotations

import copy
from typing import Any

from flask import current_app

from server.auth.models import User
from server.db import write_transaction
from server.events import RECORD_SAVED, publish
from server.flow import service as flow
from server.records import service as records
from server.records.models import Record
from server.records.stages import section_states

FORM = "key_area"


def area_at(data: dict[str, Any], state: str, user: User) -> Record:
    """A key area holding ``data`` in workflow ``state``, created by ``user`` (rules applied)."""
    registry = current_app.extensions["registry"]
    form = registry.form(FORM)
    workflow = registry.workflow_for_form(FORM)
    initial = workflow.initial
    opening = {k: v for k, v in data.items() if initial in section_states(form).get(k, (initial,))}
    record = records.create_record(FORM, opening, user)
    with write_transaction():
        fresh = records.locked_record(record.id)
        # the later stages' sections only: what was saved at creation stays as the rules left it
        full = merged(fresh.data, {k: v for k, v in data.items() if k not in opening})
        records.validate_data(fresh, full)
        records.write_data(fresh, full, user, "update", detail="测试数据")
        if state != fresh.state:  # after the data: timers entering the state count from it (挂牌级别)
            flow.move_to_version(fresh, workflow, registry.live.workflow_seqs[workflow.id], state)
    publish(RECORD_SAVED, record=fresh, user=user, created=False)
    return fresh


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it, object by object."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else copy.deepcopy(value)
    return out


def advance(record_id: int, state: str, changes: dict[str, Any], user: User) -> Record:
    """Move a key area to ``state`` and merge ``changes`` into its top-level sections (rules applied)."""
    registry = current_app.extensions["registry"]
    workflow = registry.workflow_for_form(FORM)
    with write_transaction():
        fresh = records.locked_record(record_id)
        full = copy.deepcopy(fresh.data)
        full.update(copy.deepcopy(changes))
        records.validate_data(fresh, full)
        records.write_data(fresh, full, user, "update", detail="测试数据")
        flow.move_to_version(fresh, workflow, registry.live.workflow_seqs[workflow.id], state)
    publish(RECORD_SAVED, record=fresh, user=user, created=False)
    return fresh


def state_for(data: dict[str, Any]) -> str:
    """The stage whose data ``data`` holds last: 摘牌 → 巩固期, 延期 → 延期整治, 验收 → 申请验收, 挂牌 → 挂牌督办."""
    if data.get("delisting", {}).get("delisted_date"):
        return "consolidating"
    if data.get("delisting", {}).get("extensions"):
        return "extended"
    if data.get("acceptance"):
        return "acceptance_applied"
    if data.get("listing", {}).get("is_listed"):
        return "listed"
    return "identified"


def in_stage(doc_id: str, record_id: int, user: User) -> None:
    """Move a key area into the first state in which document ``doc_id`` applies, if it is not in one."""
    from server.extensions import db

    spec = current_app.extensions["registry"].live.documents[doc_id]
    record = db.session.get(Record, record_id)
    if record is not None and record.form_id == FORM and not spec.applies_in(record.state):
        advance(record_id, spec.states[0], {}, user)


def issue(doc_id: str, user: User, record_id: int | None = None, **options: Any) -> Any:
    """``documents.service.issue`` with the key area first moved to a state the document belongs to
    (tests of a document's content, not of when it may be made)."""
    from server.documents import service

    if record_id is not None:
        in_stage(doc_id, record_id, user)
    return service.issue(doc_id, user, record_id=record_id, **options)


def preview(doc_id: str, user: User, record_id: int | None = None, **options: Any) -> Any:
    from server.documents import service

    if record_id is not None:
        in_stage(doc_id, record_id, user)
    return service.preview(doc_id, user, record_id=record_id, **options)

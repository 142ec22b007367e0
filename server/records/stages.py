"""Sections that belong to workflow states (``x-ui.states`` on a top-level object field).

A ledger that follows a procedure fills its parts one stage at a time: the 验收 section of a key area
is filled when the matter reaches 待验收, not when it is identified. A section whose ``states`` do not
include the record's state (for a new record: the workflow's initial state) is *closed*:

* the edit and create pages show it read-only when it holds data, not at all when it is empty
  (:func:`server.forms.render_fields` ``frozen``);
* a person's save keeps its stored value (a form post leaves it out, an API client may send it back
  unchanged) and refuses a change with a field error at the section's pointer (:func:`settle`).

Transitions (their dialogs fill the section of the state they lead to), rules and workflow actions
write through :func:`server.records.service.write_data` and are not limited. A record that has no
workflow (saved before its form opted in) is not limited either.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from flask import current_app

from server.errors import FieldError, NotFound
from server.forms.parse import is_blank
from server.forms.pointers import to_pointer
from server.memo import by_schema
from server.records.models import Record
from server.specs.model import FormSpec
from server.workflow.definition import Workflow


def section_states(form: FormSpec) -> dict[str, tuple[str, ...]]:
    """Top-level section name → the states it may be filled in (only sections that say so)."""
    return _section_states(form.schema)


@by_schema
def _section_states(form_schema: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    properties = form_schema.get("properties")
    found: dict[str, tuple[str, ...]] = {}
    for key, schema in (properties.items() if isinstance(properties, Mapping) else ()):
        ui = schema.get("x-ui") if isinstance(schema, Mapping) else None
        states = ui.get("states") if isinstance(ui, Mapping) else None
        if isinstance(states, list) and states:
            found[key] = tuple(s for s in states if isinstance(s, str))
    return found


def stage(form: FormSpec, record: Record | None = None) -> tuple[Workflow, str] | None:
    """The workflow and state a save is judged in: the record's own (its workflow version), or for a
    new record the live workflow's initial state; None when there is none."""
    registry = current_app.extensions["registry"]
    if record is None:
        workflow = registry.workflow_for_form(form.id)
        return (workflow, workflow.initial) if workflow is not None else None
    if not record.workflow_id or not record.state:
        return None
    try:
        return registry.workflow(record.workflow_id, record.workflow_version), record.state
    except NotFound:
        return None


def closed_sections(form: FormSpec, record: Record | None = None) -> dict[str, tuple[str, ...]]:
    """Sections that may not be filled in the record's state (for a new record: the initial one),
    with the states they may be filled in."""
    sections = section_states(form)
    if not sections:
        return {}
    judged = stage(form, record)
    if judged is None:
        return {}
    return {key: states for key, states in sections.items() if judged[1] not in states}


def settle(form: FormSpec, data: Any, record: Record | None = None) -> tuple[Any, list[FieldError]]:
    """``data`` as a person saves it, with every closed section as stored, and the field errors of the
    closed sections the person tried to change.

    Left out or sent back unchanged is no change (a page does not post a read-only section; an API
    client may send the whole record back); an empty section where nothing is stored is none either.
    """
    closed = closed_sections(form, record)
    if not closed or not isinstance(data, dict):
        return data, []
    workflow, state = stage(form, record)  # type: ignore[misc]  # closed sections imply a stage
    stored: Mapping[str, Any] = record.data if record is not None and isinstance(record.data, Mapping) else {}
    out = dict(data)
    errors: list[FieldError] = []
    for key, states in closed.items():
        sent, before = out.get(key), stored.get(key)
        unchanged = key not in out or sent == before or (is_blank(sent) and is_blank(before))
        if not unchanged:
            errors.append(FieldError(to_pointer([key]), refusal(form, key, states, workflow, state)))
        if key in stored:
            out[key] = copy.deepcopy(before)
        else:
            out.pop(key, None)
    return out, errors


def refusal(form: FormSpec, key: str, states: tuple[str, ...], workflow: Workflow, state: str) -> str:
    """「验收」在「已认定」阶段不能填写（可填写的阶段：待验收、已验收）"""
    schema = form.schema.get("properties", {}).get(key, {})
    title = schema.get("title") if isinstance(schema, Mapping) and schema.get("title") else key
    allowed = "、".join(workflow.state_title(s) for s in states)
    return f"「{title}」在「{workflow.state_title(state)}」阶段不能填写（可填写的阶段：{allowed}）"


def frozen_notes(form: FormSpec, record: Record | None = None) -> dict[str, str]:
    """Closed section → the note the editing page shows with it (read-only, and when it can be filled)."""
    closed = closed_sections(form, record)
    if not closed:
        return {}
    workflow, state = stage(form, record)  # type: ignore[misc]
    return {key: f"「{workflow.state_title(state)}」阶段不能修改（可填写的阶段：{'、'.join(workflow.state_title(s) for s in states)}）"
            for key, states in closed.items()}

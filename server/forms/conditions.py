"""Which conditional values count: sections whose ``if`` holds, dependents whose trigger is set.

Shared by the parser (drops values of inactive sections) and the validator (does not call a value
of an active section "unexpected" just because a sibling in that section failed, which is how
``unevaluatedProperties`` treats a failing ``then``).
"""
from __future__ import annotations

from typing import Any, Mapping

from server.forms.fields import Field, Section
from server.forms.model import FormModel


def section_holds(form: FormModel, section: Section, data: Mapping[str, Any]) -> bool:
    """Whether every condition of a section holds for the object ``data`` (jsonschema decides)."""
    for condition in section.conditions:
        matched = form.validator.evolve(schema=condition.if_schema).is_valid(data)
        if matched == condition.negate:
            return False
    return True


def active_section_keys(form: FormModel, container: Field, data: Mapping[str, Any]) -> set[str]:
    """Keys declared by the sections of ``container`` that are active for ``data``."""
    active: set[str] = set()
    for section in container.sections:
        if section_holds(form, section, data):
            active.update(section.keys)
    return active


def drop_inactive(form: FormModel, field: Field, data: dict[str, Any]) -> None:
    """Remove values of sections whose condition fails and of dependents whose trigger is empty.

    Repeated until stable because a dropped value can be what another condition tests.
    """
    for _ in range(len(field.sections) + len(field.children) + 1):
        drop = _inactive_keys(form, field, data)
        if not drop:
            return
        for key in drop:
            del data[key]


def _inactive_keys(form: FormModel, field: Field, data: Mapping[str, Any]) -> set[str]:
    active = active_section_keys(form, field, data)
    declared = {key for section in field.sections for key in section.keys}
    drop = (declared - active) & data.keys()
    for child in field.children:
        if child.show_when is not None and child.key in data and child.show_when not in data:
            drop.add(child.key)
    return drop

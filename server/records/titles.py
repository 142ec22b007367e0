"""A record's title — what people call it (王建华, 东岗村废弃砖厂周边), not its number — and the
records a page's references name, resolved to titles the viewer may read.

A reference field stores a record number; lists and detail pages show the referenced record's title
and link to it. The title is the form's ``x-ui.title`` paths (else its first list column), read
through :mod:`server.records.confidential`, so a value hidden from the viewer (要求保密) never leaks
through a reference; a referenced record outside the viewer's scope shows its bare number, unlinked,
exactly as much as the referring record already says.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import select

from server.auth.models import User
from server.extensions import db
from server.forms import FormModel, build_form, display_value, get_path, shorten, title_paths
from server.records import confidential
from server.org.models import OrgUnit
from server.records.models import Record
from server.records.scope import record_scope


@dataclass(frozen=True)
class Referenced:
    """A referenced record as the viewer may see it: its id (None when out of reach) and title."""

    number: str
    record_id: int | None
    title: str


def record_title(record: Record, seer: confidential.Sight) -> str:
    """The record's title for this viewer (its number when the title fields are empty or hidden)."""
    model = build_form(current_app.extensions["registry"].form_version(record.form_id, record.form_version))
    data = confidential.visible_data(record, seer)
    values = (display_value(model, p, get_path(data, p)).strip() for p in title_paths(model))
    return shorten(" · ".join(v for v in values if v)) or record.number


def resolve(numbers: Iterable[tuple[str, str]], user: User) -> dict[tuple[str, str], Referenced]:
    """``(form id, number)`` pairs → what the viewer sees of each referenced record, in one query."""
    wanted = {pair for pair in numbers if pair[1]}
    result = {pair: Referenced(pair[1], None, pair[1]) for pair in wanted}
    if not wanted:
        return result
    rows = db.session.scalars(select(Record).where(
        Record.number.in_({n for _, n in wanted}), record_scope(user)))
    seer = confidential.Sight(user)
    for record in rows:
        if (record.form_id, record.number) in wanted:
            result[(record.form_id, record.number)] = Referenced(record.number, record.id, record_title(record, seer))
    return result


def referenced_in(model: FormModel, paths: Iterable[str], rows: Iterable[Any],
                  user: User) -> dict[tuple[str, str], Referenced]:
    """For a list: ``(path, number)`` → the referenced record, for every reference among ``paths`` in
    the rows' visible data that the viewer may open (the others stay bare numbers)."""
    refs = {p: f.ref for p in paths if (f := model.field_at(p)) is not None and f.ref}
    pairs = {(p, v) for data in rows for p in refs if isinstance(v := get_path(data, p), str) and v}
    found = resolve(((refs[p], v) for p, v in pairs), user)
    return {(p, v): target for p, v in pairs if (target := found[(refs[p], v)]).record_id is not None}


def unit_names(unit_ids: set[int]) -> dict[int, str]:
    """The registering units' names for a list (登记单位), in one query."""
    if not unit_ids:
        return {}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids))).all())

"""The one write path for records, used by pages, the API, imports and the CLI alike.

create/update: validate against the form (JSON Schema + references to other records) → number →
store → audit, all in one transaction. Nothing is written when any step fails.
"""
from __future__ import annotations

import copy
import logging
from typing import Any

from flask import current_app
from sqlalchemy import select, true, update
from sqlalchemy.orm.exc import StaleDataError

from server.audit import POLICY_NOTICE_START, log_event
from server.auth.models import User
from server.db import insert_row, insert_values, write_transaction
from server.auth.permissions import allowed
from server.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from server.extensions import db
from server.forms import build_form, get_path, ref_values, validate
from server.org.fields import route_fields, values_at
from server.org.models import OrgUnit
from server.org.service import root_unit, unit_by_code
from server.records import confidential, stages
from server.records.diff import json_diff
from server.records.models import AuditEntry, Record, RecordRoute
from server.records.numbering import assign_number
from server.records.places import check_places
from server.records.scope import record_scope, reference_scope
from server.specs.model import FormSpec
from server.events import FORMS_PUBLISHED, RECORD_PREPARING, RECORD_SAVED, RECORD_SAVING, publish, subscribe
from server.specs.models import FormVersion
from server.timeutil import local_year, utcnow

log = logging.getLogger(__name__)


def registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"]


def check(form: FormSpec, data: Any, user: User | None, previous: dict[str, Any] | None = None) -> None:
    """Raise ValidationFailed with every field error: schema first, then references to records,
    then place fields outside the user's area (:mod:`server.records.places`).

    A new or changed reference must name a record the user may refer to (an out-of-scope number reads
    as unknown; ``user`` None is the system, which may name any existing record); references already stored are not re-judged, so a unit a record was routed to can
    save it even when the record it points to was never routed there.
    """
    model = build_form(form)
    if not isinstance(data, dict):
        raise ValidationFailed([FieldError("", "应为对象（JSON object）")])
    errors = validate(model, data)
    failed = {e.pointer for e in errors}
    for pointer, target, value in ref_values(model, data):
        if pointer in failed or (previous is not None and get_path(previous, pointer) == value):
            continue
        scope = reference_scope(user) if user is not None else true()
        exists = db.session.scalar(select(Record.id).where(
            Record.form_id == target, Record.number == value, scope))
        if exists is None:
            errors.append(FieldError(pointer, _ref_message(form, pointer, target, value)))
    errors.extend(check_places(form, data, user, failed, previous))
    if errors:
        raise ValidationFailed(errors)


def checked(form: FormSpec, data: Any, user: User | None, record: Record | None = None) -> Any:
    """What a person saves (a page, the API, an import row), checked: sections closed in the record's
    workflow state (for a new record: the initial one; ``x-ui.states``) kept as stored and a change to
    them refused with the other errors (:mod:`server.records.stages`), then :func:`check`. Returns the
    data to store. Transitions and rules write through :func:`write_data`, not limited by states."""
    data, refused = stages.settle(form, data, record)
    try:
        check(form, data, user, previous=record.data if record is not None else None)
    except ValidationFailed as exc:
        raise ValidationFailed(refused + exc.errors) from exc
    if refused:
        raise ValidationFailed(refused)
    return data


def _ref_message(form: FormSpec, pointer: str, target: str, value: str) -> str:
    try:
        title = registry().form(target).title
    except NotFound:
        title = target
    custom = build_form(form).custom_message(pointer, "ref")
    return custom or f"找不到编号为 {value} 的《{title}》记录"


def _home_unit(user: User) -> OrgUnit:
    if user.org_unit is not None:
        return user.org_unit
    root = root_unit()
    if root is None:
        raise ValidationFailed([FieldError("", "系统中还没有任何单位，无法登记")])
    return root


def create_record(form_id: str, data: Any, user: User) -> Record:
    form = registry().form(form_id)
    require(user, "create", form)
    data = checked(form, data, user)
    unit = _home_unit(user)
    with write_transaction():
        record = insert_record(form, data, user, unit)
    publish(RECORD_SAVED, record=record, user=user, created=True)
    return record


class RowRefused(ValidationFailed):
    """A record of a bulk create refused while saving (a subscriber's check); ``index`` says which."""

    def __init__(self, index: int, errors: list[FieldError]) -> None:
        super().__init__(errors)
        self.index = index


def create_records(form: FormSpec, rows: list[dict[str, Any]], user: User, detail: str = "") -> list[Record]:
    """Several new records as one write (an Excel import): all of them are saved, or none.

    The caller has already run :func:`checked` on each row (so that it can name the sheet row of every
    error); each record then goes through :func:`insert_record` like a single save (numbered without
    gaps, audited, routed, put into its workflow's initial state), and "saved" is published for each
    after the one commit, so rules see imported records as they see typed ones. ``detail`` is written
    as one extra audit row (action ``import``) naming the file and the count.
    """
    require(user, "create", form)
    unit = _home_unit(user)
    records: list[Record] = []
    with write_transaction():
        for index, data in enumerate(rows):
            try:
                records.append(insert_record(form, data, user, unit))
            except ValidationFailed as exc:
                raise RowRefused(index, exc.errors) from exc
        if detail:
            log_event("import", "form", user_id=user.id, subject=form.id, detail=detail, form_id=form.id)
    for record in records:
        publish(RECORD_SAVED, record=record, user=user, created=True)
    return records


def insert_record(form: FormSpec, data: dict[str, Any], user: User, unit: OrgUnit) -> Record:
    """Number, store, audit and route a validated record inside the caller's write transaction.

    Subscribers of ``RECORD_SAVING`` run here too (a workflow form's record enters its initial
    state); the caller publishes ``RECORD_SAVED`` after its commit.
    """
    now = utcnow()
    number = assign_number(form, org_unit_id=unit.id, org_code=unit.code, year=local_year(now))
    search_open, search_protected = confidential.search_texts(form, number, data)
    record = insert_row(Record, dict(
        form_id=form.id, form_version=form.version, number=number, org_unit_id=unit.id, data=data,
        search_text=search_open, search_protected=search_protected, state="active", workflow_id=None,
        workflow_version=None, state_since=None, waiting_unit_id=None, due_date=None, created_by_id=user.id,
        created_at=now, updated_by_id=user.id, updated_at=now, version=1))
    insert_values(AuditEntry, dict(at=now, user_id=user.id, action="create", subject=record.number,
                                   object_type="record", object_id=record.id, form_id=record.form_id,
                                   record_version=1, diff=json_diff({}, data), detail=""))
    _route_by_fields(form, record, user, new=True)
    publish(RECORD_SAVING, record=record, user=user, created=True, previous=None)
    return record


def update_record(record_id: int, data: Any, user: User, expected_version: int) -> Record:
    record = get_record(record_id, user)
    form = registry().form(record.form_id)
    require(user, "update", form)
    if record.version != expected_version:
        raise Conflict(current_version=record.version, expected_version=expected_version)
    data = confidential.keep_hidden(record, data, user)  # what this editor was shown masked stays as stored
    data = checked(form, data, user, record)
    changes = json_diff(record.data, data)  # in the order the user saw the fields
    if not changes and record.form_version == form.version:
        return record
    try:
        with write_transaction():
            record = locked_record(record_id, expected_version)
            write_data(record, data, user, "update", changes=changes)
    except StaleDataError:
        current = db.session.get(Record, record_id, populate_existing=True)
        raise Conflict(current_version=current.version if current else -1, expected_version=expected_version)
    publish(RECORD_SAVED, record=record, user=user, created=False)
    return record


def locked_record(record_id: int, expected_version: int | None = None) -> Record:
    """The record re-read inside a write transaction, locked for update (PostgreSQL) and checked
    against the version the caller saw: a stale version is a Conflict, nothing is written."""
    try:
        record = db.session.get(Record, record_id, populate_existing=True, with_for_update=True)
    except StaleDataError:  # changed by another process since this session loaded it
        current = db.session.scalar(select(Record.version).where(Record.id == record_id))
        raise Conflict(current_version=current if current is not None else -1, expected_version=expected_version)
    if record is None:
        raise NotFound(str(record_id))
    if expected_version is not None and record.version != expected_version:
        raise Conflict(current_version=record.version, expected_version=expected_version)
    return record


def write_data(record: Record, data: dict[str, Any], user: User | None, action: str, detail: str = "",
               changes: list[dict[str, Any]] | None = None, bump: bool = True) -> bool:
    """Replace a record's data inside the caller's write transaction: audited with the diff, saved
    under the live form version, routed by its org fields. The one place record data changes.

    ``user`` None means the system (the tick, policy); the audit then names no person. Returns
    False when nothing changed (no version bump, no audit row). ``bump`` False: the caller counts the
    version itself (a transition changes state and data as one new version).
    """
    form = registry().form(record.form_id)
    before = copy.deepcopy(data)
    publish(RECORD_PREPARING, record=record, data=data, action=action)
    if changes is None:
        changes = json_diff(record.data, data)
    elif data != before:  # derived fields filled in by a subscriber: audited with the change
        changes = changes + json_diff(before, data)
    if not changes and record.form_version == form.version:
        return False
    previous = record.data
    record.data = data
    if bump:
        record.version += 1
    record.form_version = form.version
    record.search_text, record.search_protected = confidential.search_texts(form, record.number, data)
    if user is not None:
        record.updated_by_id = user.id
    record.updated_at = utcnow()
    db.session.flush()
    log_event(action, "record", object_id=record.id, user_id=user.id if user else None, subject=record.number,
              diff=changes, form_id=record.form_id, record_version=record.version, detail=detail)
    _route_by_fields(form, record, user)
    publish(RECORD_SAVING, record=record, user=user, created=False, previous=previous)
    return True


def validate_data(record: Record, data: Any) -> None:
    """Schema validation of data decided by the system (policy, workflow actions): ValidationFailed
    with every field error. References are not re-checked against a person's scope."""
    form = registry().form(record.form_id)
    errors = validate(build_form(form), data)
    if errors:
        raise ValidationFailed(errors)


def add_route_in_transaction(record_id: int, unit: OrgUnit, source: str) -> None:
    """Route inside the caller's transaction (rules, workflows), idempotently."""
    record = db.session.get(Record, record_id)
    if record is not None and db.session.get(RecordRoute, (record_id, unit.id)) is None:
        _add_route(record, unit, source, None)


def require(user: User, action: str, form: FormSpec) -> None:
    """Form-level permission (x-form.permissions); the form itself is no secret, so 403."""
    if not allowed(user, action, form):
        raise NotAllowed(f"{action}:{form.id}")


def get_record(record_id: int, user: User) -> Record:
    """A record the user may read; anything else, existing or not, is NotFound (404)."""
    record = db.session.scalar(select(Record).where(Record.id == record_id, record_scope(user)))
    if record is None or not allowed(user, "read", _form_of(record)):
        raise NotFound(str(record_id))
    return record


def _form_of(record: Record) -> FormSpec:
    try:
        return registry().form(record.form_id)
    except NotFound:
        return registry().form_version(record.form_id, record.form_version)


def record_history(record_id: int, user: User) -> list[confidential.HistoryEntry]:
    """The record's audit rows as this user may read them (protected values masked in the diffs)."""
    record = get_record(record_id, user)
    entries = list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "record", AuditEntry.object_id == record.id)
        .order_by(AuditEntry.id)
    ))
    return confidential.history_for(record, user, entries)


def policy_notices(record_id: int, after_version: int, user: User) -> list[str]:
    """What rules replaced in the record after ``after_version`` ("规则『…』已将 牵头单位 由 X 改为 Y"),
    as this reader may read it: shown to the person whose save set the rules off, so that no typed
    value is replaced unseen."""
    return [line for entry in record_history(record_id, user)
            if entry.action == "rule_update" and (entry.record_version or 0) > after_version
            for line in (entry.detail or "").splitlines() if line.startswith(POLICY_NOTICE_START)]


def audit_entry_as_read(entry: AuditEntry, user: User) -> confidential.HistoryEntry | None:
    """One audit row of a record as ``user`` may read it (the admin's audit log: protected values
    masked); None when the row is about no record of a form with protections (shown as stored)."""
    if entry.object_type != "record" or entry.object_id is None or not confidential.protections_for(entry.form_id or ""):
        return None
    record = db.session.get(Record, entry.object_id)
    if record is None:
        return None
    entries = list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "record", AuditEntry.object_id == record.id).order_by(AuditEntry.id)))
    return next((h for h in confidential.history_for(record, user, entries) if h.id == entry.id), None)


def _search_text(form: FormSpec, number: str, data: dict[str, Any]) -> str:
    """The open search text (values under a protection in force left out)."""
    return confidential.search_texts(form, number, data)[0]


def reindex_search(form: FormSpec) -> int:
    """Recompute the search texts of every record of ``form`` (its protections changed, so values
    move between the open and the protected text). Returns how many records changed."""
    changed = 0
    ids = list(db.session.scalars(select(Record.id).where(Record.form_id == form.id).order_by(Record.id)))
    for start in range(0, len(ids), 500):
        with write_transaction():
            for record in db.session.scalars(select(Record).where(Record.id.in_(ids[start:start + 500]))):
                texts = confidential.search_texts(form, record.number, record.data)
                if texts != (record.search_text, record.search_protected):
                    # a plain UPDATE: the search texts are no new version of the record
                    db.session.execute(update(Record).where(Record.id == record.id).values(
                        search_text=texts[0], search_protected=texts[1]).execution_options(synchronize_session=False))
                    changed += 1
    return changed


def on_forms_published(form_ids: list[str]) -> None:
    """After a publish: forms whose ``x-confidential`` changed get their records' search texts redone."""
    for form_id in form_ids:
        versions = list(db.session.scalars(select(FormVersion.schema).where(FormVersion.form_id == form_id)
                                           .order_by(FormVersion.seq.desc()).limit(2)))
        if len(versions) == 2 and versions[0].get("x-confidential") == versions[1].get("x-confidential"):
            continue
        count = reindex_search(registry().form(form_id))
        if count:
            log.warning("表单 %s 的保密设置已变化，已重建 %d 条记录的检索文本", form_id, count)


def subscribe_events() -> None:
    subscribe(FORMS_PUBLISHED, on_forms_published)


def user_labels(user_ids: set[int | None], with_unit: bool = False) -> dict[int, str]:
    """Display names for the people in a list or history, in one query; ``with_unit`` adds their unit
    (赵立军（城关派出所）) where several units act on one record."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(ids)))
    return {u.id: (f"{u.label}（{u.org_unit.name}）" if with_unit and u.org_unit and u.org_unit.name != u.label else u.label)
            for u in users}


def route_record(record: Record, unit: OrgUnit, source: str, user: User | None = None) -> bool:
    """Route a record to a unit (归口分流): that unit's staff may then see it. Idempotent; audited.

    For rules and other callers outside a save; saves route through their org fields themselves.
    Returns False when the record was already routed there.
    """
    if db.session.get(RecordRoute, (record.id, unit.id)) is not None:
        return False
    with write_transaction():
        _add_route(record, unit, source, user)
    return True


def _add_route(record: Record, unit: OrgUnit, source: str, user: User | None) -> None:
    db.session.add(RecordRoute(record_id=record.id, org_unit_id=unit.id, source=source))
    log_event("route", "record", object_id=record.id, user_id=user.id if user else None, subject=record.number,
              detail=f"{unit.code} {unit.name}（{source}）", form_id=record.form_id, record_version=record.version)


def _route_by_fields(form: FormSpec, record: Record, user: User | None, new: bool = False) -> None:
    """Make the record's field routes match its routing org fields (within the save).

    Units named now are routed to; a unit a field no longer names loses the route that field gave it
    (routes from rules stay), so correcting a mistaken unit also withdraws the record from it. A new
    record of a ledger without routing fields has no routes to add or withdraw (no query at all).
    """
    pointers = route_fields(form.schema)
    if new and not pointers:
        return
    wanted: dict[int, str] = {}
    for pointer in pointers:
        for code in values_at(record.data, pointer):
            unit = unit_by_code(code)
            if unit is not None:
                wanted.setdefault(unit.id, f"field:{pointer}")
                if db.session.get(RecordRoute, (record.id, unit.id)) is None:
                    _add_route(record, unit, f"field:{pointer}", user)
    stale = db.session.scalars(select(RecordRoute).where(
        RecordRoute.record_id == record.id, RecordRoute.source.startswith("field:")))
    for route in stale:
        if route.org_unit_id not in wanted:
            db.session.delete(route)
            log_event("unroute", "record", object_id=record.id, user_id=user.id if user else None, subject=record.number,
                      detail=f"单位 {route.org_unit_id}（{route.source}）", form_id=record.form_id,
                      record_version=record.version)

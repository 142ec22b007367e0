"""The one write path for records, used by pages, the API, imports and the CLI alike.

create/update: validate against the form (JSON Schema + references to other records) → number →
store → audit, all in one transaction. Nothing is written when any step fails.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from server.audit import log_event
from server.auth.models import User
from server.db import write_transaction
from server.auth.permissions import allowed
from server.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from server.extensions import db
from server.forms import build_form, get_path, ref_values, search_text, validate
from server.org.fields import route_fields, values_at
from server.org.models import OrgUnit
from server.org.service import unit_by_code
from server.records.diff import json_diff
from server.records.models import AuditEntry, Record, RecordRoute
from server.records.numbering import assign_number
from server.records.scope import record_scope, reference_scope
from server.specs.model import FormSpec
from server.timeutil import local_year, utcnow

log = logging.getLogger(__name__)


def registry():  # type: ignore[no-untyped-def]
    return current_app.extensions["registry"]


def check(form: FormSpec, data: Any, user: User, previous: dict[str, Any] | None = None) -> None:
    """Raise ValidationFailed with every field error: schema first, then references to records.

    A new or changed reference must name a record the user may refer to (an out-of-scope number reads
    as unknown); references already stored are not re-judged, so a unit a record was routed to can
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
        exists = db.session.scalar(select(Record.id).where(
            Record.form_id == target, Record.number == value, reference_scope(user)))
        if exists is None:
            errors.append(FieldError(pointer, _ref_message(form, pointer, target, value)))
    if errors:
        raise ValidationFailed(errors)


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
    root = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id))
    if root is None:
        raise ValidationFailed([FieldError("", "系统中还没有任何单位，无法登记")])
    return root


def create_record(form_id: str, data: Any, user: User) -> Record:
    form = registry().form(form_id)
    require(user, "create", form)
    check(form, data, user)
    unit = _home_unit(user)
    now = utcnow()
    with write_transaction():
        number = assign_number(form, org_unit_id=unit.id, org_code=unit.code, year=local_year(now))
        record = Record(form_id=form.id, form_version=form.version, number=number, org_unit_id=unit.id,
                        data=data, search_text=_search_text(form, number, data), created_by_id=user.id,
                        created_at=now, updated_by_id=user.id, updated_at=now, version=1)
        db.session.add(record)
        db.session.flush()
        _audit(user, "create", record, json_diff({}, data))
        _route_by_fields(form, record, user)
    _run_rules(record, user)
    return record


def update_record(record_id: int, data: Any, user: User, expected_version: int) -> Record:
    record = get_record(record_id, user)
    form = registry().form(record.form_id)
    require(user, "update", form)
    if record.version != expected_version:
        raise Conflict(current_version=record.version, expected_version=expected_version)
    check(form, data, user, previous=record.data)
    changes = json_diff(record.data, data)
    if not changes and record.form_version == form.version:
        return record
    try:
        with write_transaction():
            record = db.session.get(Record, record_id, populate_existing=True)
            if record is None:
                raise NotFound(str(record_id))
            if record.version != expected_version:
                raise Conflict(current_version=record.version, expected_version=expected_version)
            record.data = data
            record.form_version = form.version
            record.search_text = _search_text(form, record.number, data)
            record.updated_by_id = user.id
            record.updated_at = utcnow()
            db.session.flush()
            _audit(user, "update", record, changes)
            _route_by_fields(form, record, user)
    except StaleDataError:
        current = db.session.get(Record, record_id, populate_existing=True)
        raise Conflict(current_version=current.version if current else -1, expected_version=expected_version)
    _run_rules(record, user)
    return record


def _run_rules(record: Record, user: User) -> None:
    """Policy after a save. Its failures are logged and stored, never undo the person's save."""
    if registry().live.rules is None:
        return
    from server.rules.service import on_record_saved

    try:
        on_record_saved(record, user)
    except Exception:  # noqa: BLE001 - the save stands; the failure is in the log for the administrator
        log.exception("规则执行失败：记录 %s", record.number)


def save_rule_changes(record: Record, data: dict[str, Any], user: User | None, decision_ids: list[int]) -> None:
    """Write field changes decided by rules (inside the caller's transaction): validated, versioned, audited.

    Rules do not run again on their own changes, so a rule cannot trigger itself in a loop.
    """
    form = registry().form(record.form_id)
    errors = validate(build_form(form), data)
    if errors:
        from server.rules.apply import ActionFailed

        raise ActionFailed("；".join(f"{e.pointer} {e.message}" for e in errors))
    changes = json_diff(record.data, data)
    record.data = data
    record.form_version = form.version
    record.search_text = _search_text(form, record.number, data)
    record.updated_at = utcnow()
    db.session.flush()
    log_event("rule_update", "record", object_id=record.id, user_id=user.id if user else None,
              subject=record.number, diff=changes, form_id=record.form_id, record_version=record.version,
              detail="规则决定：" + "、".join(str(i) for i in decision_ids))


def add_route_in_transaction(record_id: int, unit: OrgUnit, source: str) -> None:
    """Route inside the caller's transaction (rules), idempotently."""
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


def record_history(record_id: int, user: User) -> list[AuditEntry]:
    record = get_record(record_id, user)
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "record", AuditEntry.object_id == record.id)
        .order_by(AuditEntry.id)
    ))


def _search_text(form: FormSpec, number: str, data: dict[str, Any]) -> str:
    return f"{number.lower()} {search_text(build_form(form), data)}"


def _audit(user: User, action: str, record: Record, diff: list[dict[str, Any]]) -> None:
    log_event(action, "record", object_id=record.id, user_id=user.id, subject=record.number, diff=diff,
              form_id=record.form_id, record_version=record.version)


def user_labels(user_ids: set[int | None]) -> dict[int, str]:
    """Display names for the people in a list or history, in one query."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.label for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


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


def _route_by_fields(form: FormSpec, record: Record, user: User) -> None:
    """Make the record's field routes match its routing org fields (within the save).

    Units named now are routed to; a unit a field no longer names loses the route that field gave it
    (routes from rules stay), so correcting a mistaken unit also withdraws the record from it.
    """
    wanted: dict[int, str] = {}
    for pointer in route_fields(form.schema):
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
            log_event("unroute", "record", object_id=record.id, user_id=user.id, subject=record.number,
                      detail=f"单位 {route.org_unit_id}（{route.source}）", form_id=record.form_id,
                      record_version=record.version)

"""Named lookups: what a fact needs from other records or the org tree, in code, referenced by name.

Each lookup is declared in ``server.rules.vocabulary.LOOKUPS`` (inputs, outputs, their types) so
``config check`` validates its use; here it is implemented. Lookups read only, and memoise in the
batch cache of the :class:`~server.rules.facts.FactContext`: a daily tick over hundreds of units
aggregates a ledger once, not once per unit.
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any, Mapping

from sqlalchemy import select

from server.extensions import db
from server.forms.pointers import get_path
from server.org.models import OrgUnit
from server.org.service import subtree_ids, unit_by_code, unit_by_id
from server.records.models import Record
from server.rules.facts import FactContext, Subject, as_date
from server.rules.periods import last_passed
from server.rules.vocabulary import CADENCES
from server.timeutil import CST, as_aware


def lookup(name: str, inputs: Mapping[str, Any], subject: Subject, ctx: FactContext,
           fact: Mapping[str, Any]) -> Mapping[str, Any]:
    """The outputs of lookup ``name`` for ``subject``; memoised per subject within the batch.

    ``{"$fact": attribute}`` inside the inputs is replaced by that attribute of the fact built so far,
    ``{"$param": name}`` by the parameter's value."""
    resolved = _resolve(inputs, fact, ctx.parameters)
    who = ("record", subject.record.id) if subject.record is not None else ("unit", subject.properties.get("code"))
    key = (name, repr(resolved), who)
    if key not in ctx.cache:
        ctx.cache[key] = _LOOKUPS[name](resolved, subject, ctx)
    return ctx.cache[key]


def _resolve(value: Any, fact: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$fact"}:
            return fact.get(value["$fact"])
        if set(value) == {"$param"}:
            return params.get(value["$param"])
        return {k: _resolve(v, fact, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, fact, params) for v in value]
    return value


def _area(inputs: Mapping[str, Any], subject: Subject, ctx: FactContext) -> Mapping[str, Any]:
    """The township (or county unit) a matter belongs to, and the offices serving it.

    The code comes from the field named by ``code`` (a 12-digit division code: a village's leads to its
    township; or a unit code), else the record's registering unit."""
    code = get_path(subject.data, inputs["code"]) if "code" in inputs else None
    unit = None
    if isinstance(code, str) and code:
        unit = unit_by_code(code)
        if unit is None and len(code) == 12 and code.isdigit():
            unit = unit_by_code(code[:9] + "000")
    unit = unit or subject.unit
    if unit is not None and unit.kind in ("village", "community") and unit.parent_id:
        unit = unit_by_id(unit.parent_id)
    if unit is None:
        return {}
    serving = list(db.session.scalars(select(OrgUnit).where(OrgUnit.serves_id == unit.id, OrgUnit.is_active.is_(True))))
    police = next((u.code for u in serving if u.kind == "police_station"), None)
    justice_parent = unit_by_code(str(ctx.parameters.get("justice_bureau_code", "")))
    justice = next((u.code for u in serving if justice_parent is not None and u.parent_id == justice_parent.id), None)
    return {"code": unit.code, "name": unit.name, "kind": unit.kind, "police_station": police, "justice_office": justice}


def _relisting(inputs: Mapping[str, Any], subject: Subject, ctx: FactContext) -> Mapping[str, Any]:
    """Days between this listing and the latest earlier delisting, in the same township, of another
    record of the same form sharing one of its problem categories (None when there was none)."""
    record = subject.record
    listed = as_date(get_path(subject.data, inputs["listed_date"]))
    township = get_path(subject.data, inputs["township"])
    categories = set(get_path(subject.data, inputs["categories"]) or [])
    if record is None or listed is None or not categories:
        return {}
    best = None
    for data in db.session.scalars(select(Record.data).where(Record.form_id == record.form_id, Record.id != record.id)):
        delisted = as_date(get_path(data, inputs["delisted_date"]))
        shared = categories & set(get_path(data, inputs["categories"]) or [])
        if get_path(data, inputs["township"]) != township or delisted is None or not shared or delisted > listed:
            continue
        days = (listed - delisted).days
        best = days if best is None else min(best, days)
    return {"days": best}


def _count_records(inputs: Mapping[str, Any], subject: Subject, ctx: FactContext) -> Mapping[str, Any]:
    """How many records of ``form`` name this unit in one of ``unit_fields`` and satisfy ``where``
    (the ledger is counted once per batch, per unit code)."""
    where = dict(inputs.get("where") or {})
    key = ("count_records", inputs["form"], tuple(inputs["unit_fields"]), repr(sorted(where.items())))
    counts = ctx.cache.get(key)
    if counts is None:
        counts = Counter()
        for data in db.session.scalars(select(Record.data).where(Record.form_id == inputs["form"])):
            if all(get_path(data, p) == v for p, v in where.items()):
                code = next((c for c in (get_path(data, p) for p in inputs["unit_fields"]) if c), None)
                if code:
                    counts[code] += 1
        ctx.cache[key] = counts
    return {"count": counts.get(subject.properties.get("code"), 0)}


def _count_in_period(inputs: Mapping[str, Any], subject: Subject, ctx: FactContext) -> Mapping[str, Any]:
    """How many records of ``form`` dated (``date_field``) from ``from`` to ``to``, both days included,
    were registered by the subject's unit (a record's: its registering unit) or, with the default scope
    ``subtree``, beneath it: a township centre counts its township, the county centre the whole county.
    Nothing (no count) while either date is missing: a 研判 without its period has no figures."""
    start, end = (as_date(_dated(inputs[key], subject)) for key in ("from", "to"))
    unit = subject.unit
    if start is None or end is None or unit is None:
        return {}
    units = _units(unit, inputs.get("scope", "subtree"), ctx)
    own = subject.record.id if subject.record is not None else None
    rows = _dated_rows(inputs, ctx)
    return {"count": sum(1 for rid, uid, day in rows if uid in units and start <= day <= end and rid != own)}


def _dated(value: Any, subject: Subject) -> Any:
    """A date input: a ``/pointer`` into the subject record, or a date already resolved from the fact."""
    return get_path(subject.data, value) if isinstance(value, str) and value.startswith("/") else value


def _units(unit: OrgUnit, scope: str, ctx: FactContext) -> set[int]:
    if scope == "unit":
        return {unit.id}
    key = ("subtree", unit.id)
    if key not in ctx.cache:
        ctx.cache[key] = set(db.session.scalars(subtree_ids(unit)))
    return ctx.cache[key]


def _dated_rows(inputs: Mapping[str, Any], ctx: FactContext) -> list[tuple[int, int, date]]:
    """(record id, registering unit id, date) of the form's records that satisfy ``where`` and carry
    a date; the form's records are read once per batch (one 研判 asks for eight counts of one ledger,
    the daily chase for every township)."""
    where = dict(inputs.get("where") or {})
    field = inputs["date_field"]
    key = ("count_in_period", inputs["form"], field, repr(sorted(where.items())))
    if key not in ctx.cache:
        rows = []
        for rid, uid, data, created in _form_rows(inputs["form"], ctx):
            if not all(get_path(data, p) == v for p, v in where.items()):
                continue
            if field == "created_date":
                day = as_aware(created).astimezone(CST).date() if created else None
            else:
                day = as_date(get_path(data, field))
            if day is not None:
                rows.append((rid, uid, day))
        ctx.cache[key] = rows
    return ctx.cache[key]


def _form_rows(form: str, ctx: FactContext) -> list[Any]:
    key = ("form_rows", form)
    if key not in ctx.cache:
        query = select(Record.id, Record.org_unit_id, Record.data, Record.created_at).where(Record.form_id == form)
        ctx.cache[key] = list(db.session.execute(query))
    return ctx.cache[key]


def _last_period(inputs: Mapping[str, Any], subject: Subject, ctx: FactContext) -> Mapping[str, Any]:
    """The latest period of the cadence whose deadline (its end + ``grace_days``) is before today."""
    cadence, grace = inputs.get("cadence"), inputs.get("grace_days", 0)
    if cadence not in CADENCES or isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
        return {}  # a parameter the check refused cannot reach here; nothing rather than a wrong period
    period = last_passed(ctx.today, cadence, grace)
    return {"start": period.start.isoformat(), "end": period.end.isoformat(),
            "deadline": period.deadline(grace).isoformat(), "label": period.label}


_LOOKUPS = {"area": _area, "relisting": _relisting, "count_records": _count_records,
            "count_in_period": _count_in_period, "last_period": _last_period}

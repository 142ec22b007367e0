"""What a document's template receives: the data mapped from a record, or a month's counts.

The mapping is configuration (``document.json`` ``fields``): each data field names a JSON pointer
into the record (``-`` picks the last item of a list, e.g. the latest 延期 entry) or a record
property such as ``$record.number``. The result is validated against the document's data schema
before anything is rendered, so a record missing what the document needs gets a message naming the
field, not a half-empty official document. Templates get plain JSON only, never model objects.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select

from server.auth.models import User
from server.errors import FieldError, ValidationFailed
from server.extensions import db
from server.forms import Field, FormModel
from server.forms.pointers import get_path, is_index
from server.org.kinds import TOWNSHIP_LEVEL
from server.org.models import OrgUnit
from server.org.service import unit_by_code
from server.records.confidential import public_data
from server.records.models import Record
from server.records.scope import record_scope
from server.specs.model import DocumentSpec
from server.timeutil import CST, as_aware


def value_at(data: Any, pointer: str) -> Any:
    """The value at a record pointer; ``-`` is the last item of a list; None when absent."""
    return get_path(data, pointer, dash_is_last=True)


def township_of(unit: OrgUnit) -> OrgUnit:
    """The township (or subdistrict) a unit belongs to; the unit itself above that level."""
    current: OrgUnit | None = unit
    while current is not None:
        if current.kind in TOWNSHIP_LEVEL:
            return current
        current = db.session.get(OrgUnit, current.parent_id) if current.parent_id else None
    return unit


def labelled(field: Field | None, value: Any) -> Any:
    """A record value with choice codes replaced by their titles (``high`` -> ``高``) and org codes by
    the unit's name, deeply.

    Official documents print what people read on the record page, never the stored codes.
    """
    if field is None or value is None:
        return value
    if "org" in field.ui and isinstance(value, str):  # a place or unit prints by its name
        unit = unit_by_code(value)
        return unit.name if unit is not None else value
    if field.kind == "choice":
        return field.choice_title(value) or value
    if field.kind in ("multi", "lines"):  # the whole list, or one item picked by a pointer (``/-``)
        if isinstance(value, list):
            return [field.choice_title(v) or v for v in value]
        return field.choice_title(value) or value
    if field.kind in ("rows", "object"):
        children = {child.key: child for child in field.children}
        if field.kind == "rows" and isinstance(value, list):
            return [{k: labelled(children.get(k), v) for k, v in row.items()} if isinstance(row, dict) else row
                    for row in value]
        if isinstance(value, dict):
            return {k: labelled(children.get(k), v) for k, v in value.items()}
    return value


def record_data(spec: DocumentSpec, record: Record, form: FormModel, form_title: str, today: date) -> dict[str, Any]:
    """The template's data from a record. Protected values (要求保密) print as "（保密）" whoever issues it:
    an issued document is stored once and read by every unit that may see the record, and filed."""
    unit = db.session.get(OrgUnit, record.org_unit_id)
    data = public_data(record)
    specials = {
        "$record.number": record.number,
        "$record.unit": unit.name if unit else "",
        "$record.township": township_of(unit).name if unit else "",
        "$record.created_date": as_aware(record.created_at).astimezone(CST).date().isoformat(),
        "$record.form_title": form_title,
        "$today": today.isoformat(),
    }
    out: dict[str, Any] = {}
    for name, source in spec.document.get("fields", {}).items():
        if source.startswith("$"):
            value = specials[source]
        else:
            field = form.field_at(source.replace("/-", "/0"))
            last = source.rsplit("/", 1)[1]
            if field is not None and field.kind == "rows" and (last == "-" or is_index(last)):
                field = None if not field.children else _row_field(field)
            value = labelled(field, value_at(data, source))
        if value is not None and value != "":
            out[name] = value
    check_data(spec, out)
    return out


def _row_field(rows: Field) -> Field:
    """The rows field itself stands for one of its rows when a pointer picks an item (``/-``)."""
    from dataclasses import replace

    return replace(rows, kind="object")


OTHER_ROW = "县本级及其他"


def statistics_data(spec: DocumentSpec, issuer: OrgUnit, month: str, user: User) -> dict[str, Any]:
    """Counts per township under the issuer for one month (``2026-11``), over the records the user may
    see (the service refuses a user who may not read a column's form). Records of the issuer itself or of
    units under no township (the county's own, its departments') count in a last row, so the totals
    are every record counted."""
    config = spec.document["source"]["statistics"]
    columns = config["columns"]
    rows_units = list(db.session.scalars(select(OrgUnit).where(
        OrgUnit.parent_id == issuer.id, OrgUnit.is_active.is_(True), OrgUnit.kind.in_(TOWNSHIP_LEVEL))
        .order_by(OrgUnit.id))) or [issuer]
    forms = sorted({c["form"] for c in columns})
    other = 0  # the key of the last row
    counts: dict[int, dict[str, int]] = {u.id: {c["key"]: 0 for c in columns} for u in rows_units}
    counts[other] = {c["key"]: 0 for c in columns}
    paths = [(u.path, u.id) for u in rows_units]
    query = (select(Record.form_id, Record.data, Record.created_at, OrgUnit.path, Record.state)
             .join(OrgUnit, OrgUnit.id == Record.org_unit_id)
             .where(Record.form_id.in_(forms), record_scope(user), OrgUnit.path.startswith(issuer.path)))
    for form_id, data, created_at, path, state in db.session.execute(query):
        row = next((uid for prefix, uid in paths if path.startswith(prefix)), other)
        for column in columns:
            if column["form"] == form_id and _counts(column, data, created_at, month, state):
                counts[row][column["key"]] += 1
    rows = [{"unit": u.name, "counts": counts[u.id]} for u in rows_units]
    if any(counts[other].values()):
        rows.append({"unit": OTHER_ROW, "counts": counts[other]})
    totals = {c["key"]: sum(r["counts"][c["key"]] for r in rows) for c in columns}
    year, mon = month.split("-")
    out = {"month": month, "month_text": f"{int(year)}年{int(mon)}月", "unit": issuer.name,
           "columns": [{"key": c["key"], "title": c["title"]} for c in columns], "rows": rows, "totals": totals}
    check_data(spec, out)
    return out


def _counts(column: dict[str, Any], data: dict[str, Any], created_at: datetime, month: str, state: str) -> bool:
    when = value_at(data, column["date"]) if column.get("date") else \
        as_aware(created_at).astimezone(CST).date().isoformat()
    if not isinstance(when, str) or not when.startswith(month):
        return False
    if "states" in column and state not in column["states"]:  # workflow states (x-form.workflow)
        return False
    return all(value_at(data, pointer) == expected for pointer, expected in (column.get("where") or {}).items())


def check_data(spec: DocumentSpec, data: dict[str, Any]) -> None:
    """Raise ValidationFailed naming each field the document needs but the source lacks or has wrong.

    Pointers name the record's field where the data field is mapped from one (that is where the user
    fixes it); messages name the field by its title and the document by its title.
    """
    from server.specs.metaschema import describe

    schema = spec.document["data"]
    titles = {name: (prop.get("title") or name) for name, prop in schema.get("properties", {}).items()
              if isinstance(prop, dict)}
    fields = spec.document.get("fields", {})

    def pointer(path: list[Any]) -> str:
        source = fields.get(str(path[0])) if path else None
        if source and not source.startswith("$") and len(path) == 1:
            return source
        return "/" + "/".join(str(p) for p in path)

    errors = []
    named: set[tuple[str, ...]] = set()  # jsonschema reports each missing property with the whole list
    for error in Draft202012Validator(schema).iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "required":
            if tuple(map(str, path)) in named:  # so one object's missing fields are listed once, not N × N
                continue
            named.add(tuple(map(str, path)))
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    title = titles.get(name, name) if not path else name
                    errors.append(FieldError(pointer([*path, name]), f"缺少「{title}」，无法生成《{spec.title}》"))
            continue
        title = titles.get(str(path[0]), str(path[0])) if path else "数据"
        for _, message in describe(error):
            errors.append(FieldError(pointer(path), f"「{title}」{message}，无法生成《{spec.title}》"))
    if errors:
        raise ValidationFailed(errors)

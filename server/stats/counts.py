"""Count and sum figures over a ledger's records, and the records behind each number.

One function builds the conditions of a figure (the reader's scope and unit, the period, the
figure's ``where``, a breakdown value); the count and the drill-down list both use it, so the list
behind a number has exactly that many records. Everything is counted by the database in one grouped
query per figure: the cost follows the records of the period and unit asked for, not the size of
the table (indexes: docs/dashboard.md).
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any, Iterable

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select, true

from server.auth.permissions import allowed
from server.extensions import db
from server.forms import build_form
from server.org.kinds import TOWNSHIP_LEVEL
from server.org.models import OrgUnit
from server.records.models import Record, RecordTransition
from server.specs.model import FormSpec
from server.stats.figures import Figure, Group, number
from server.stats.indexes import period_column
from server.stats.period import Period
from server.stats.viewpoint import Viewpoint

MISSING = "未填写"
OTHER_UNITS = "县级及其他单位"


def _json(pointer: str) -> Any:
    parts = tuple(pointer.strip("/").split("/"))
    return Record.data[parts if len(parts) > 1 else parts[0]]


def _typed(form: FormSpec, pointer: str, sample: Any = "") -> Any:
    """The field as the SQL type its values have (booleans and numbers compare as such, not as text)."""
    kind = _field(form, pointer).kind if _field(form, pointer) is not None else ""
    if kind == "boolean" or isinstance(sample, bool):
        return _json(pointer).as_boolean()
    if kind in ("integer", "number") or isinstance(sample, (int, float)):
        return _json(pointer).as_float()
    return _json(pointer).as_string()


def _field(form: FormSpec, pointer: str) -> Any:
    return build_form(form).by_path.get(pointer.strip("/"))


# -- conditions -----------------------------------------------------------------------------------------
def conditions(form: FormSpec, spec: dict[str, Any], vp: Viewpoint, period: Period) -> list[ColumnElement[bool]]:
    """Everything a record must satisfy to be counted by a count figure (before its breakdown)."""
    found = [Record.form_id == form.id, vp.records()]
    found += [_condition(form, c) for c in spec.get("where", [])]
    if spec.get("date") == "$created":
        low, high = period.utc_bounds
        found += [Record.created_at >= low, Record.created_at < high]
    elif "date" in spec:
        found[0], column = period_column(form.id, spec["date"], db.engine.dialect.name)
        found += [column >= period.start.isoformat(), column < (period.end + timedelta(days=1)).isoformat()]
    elif "month" in spec:
        found[0], column = period_column(form.id, spec["month"], db.engine.dialect.name)
        found += [column >= period.months[0], column <= period.months[1]]
    elif "entered" in spec:
        low, high = period.utc_bounds
        found.append(exists(select(RecordTransition.id).where(
            RecordTransition.record_id == Record.id, RecordTransition.to_state == spec["entered"],
            RecordTransition.at >= low, RecordTransition.at < high)))
    return found


def _condition(form: FormSpec, condition: dict[str, Any]) -> ColumnElement[bool]:
    if "state" in condition:
        return Record.state.in_(condition["state"])
    values = condition.get("in", condition.get("not_in", []))
    column = _typed(form, condition["path"], values[0] if values else "")
    if "in" in condition:
        return column.in_(values)
    return or_(column.is_(None), column.not_in(values))


# -- breakdowns -------------------------------------------------------------------------------------------
class Townships:
    """Which township each unit counts under: itself, the township above it, or the one a serving office
    (派出所, 司法所) serves; units above township level count as 县级及其他单位.

    Read once per request (kept in the session) from the plain columns of the county's part of the tree:
    a province-wide database has tens of thousands of units, a county a few hundred."""

    def __init__(self, root: str) -> None:
        stmt = select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.kind, OrgUnit.parent_id, OrgUnit.serves_id)
        if root:
            stmt = stmt.where(OrgUnit.path.startswith(root, autoescape=True))
        rows = {r.id: r for r in db.session.execute(stmt)}
        self.names = {r.code: r.name for r in rows.values()}
        self.codes: dict[int, str] = {uid: self._find(rows, uid) for uid in rows}
        self.positions = {r.code: r.id for r in rows.values() if r.kind in TOWNSHIP_LEVEL}

    @classmethod
    def of(cls, within: OrgUnit | None = None) -> "Townships":
        """The mapping of ``within``'s county (every unit when None), read once per request."""
        root = "/" + within.path.strip("/").split("/")[0] + "/" if within is not None else ""
        cache = db.session.info.setdefault("stats_townships", {})
        if root not in cache:
            cache[root] = cls(root)
        return cache[root]

    @staticmethod
    def _find(rows: dict[int, Any], unit_id: int) -> str:
        seen: set[int] = set()
        current = rows.get(unit_id)
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.kind in TOWNSHIP_LEVEL:
                return str(current.code)
            nxt = current.serves_id or current.parent_id
            current = rows.get(nxt) if nxt else None
        return "-"

    def key(self, unit_id: int) -> str:
        return self.codes.get(unit_id, "-")

    def label(self, key: str) -> str:
        return self.names.get(key, OTHER_UNITS) if key != "-" else OTHER_UNITS

    def ids_for(self, key: str) -> list[int]:
        return [uid for uid, code in self.codes.items() if code == key]

    def order(self, key: str) -> tuple[int, int]:
        return (0, self.positions[key]) if key in self.positions else (1, 0)


def _group_column(form: FormSpec, by: str) -> Any:
    if by == "$state":
        return Record.state
    if by == "$township":
        return Record.org_unit_id
    return _typed(form, by)


def _key(value: Any, boolean: bool = False) -> str:
    """A breakdown value as a key: "" for none (or empty text), "true"/"false" for a yes/no field
    (SQLite answers 1/0), else the value as text."""
    if value is None or value == "":
        return ""
    if boolean or isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def group_condition(form: FormSpec, by: str, key: str, vp_unit: OrgUnit | None = None) -> ColumnElement[bool]:
    """The condition a breakdown line adds (what ``key`` means for ``by``; "-" is 未填写, or for ``$township``
    the units under no township)."""
    if by == "$township":
        return Record.org_unit_id.in_(Townships.of(vp_unit).ids_for(key))
    missing = key in ("", "-")
    if by == "$state":
        return Record.state.is_(None) if missing else Record.state == key
    column = _typed(form, by)
    field = _field(form, by)
    if missing:
        return column.is_(None) if field is not None and field.kind == "boolean" else or_(column.is_(None), column == "")
    if field is not None and field.kind == "boolean":
        return column.is_(true()) if key == "true" else column.is_(false())
    return column == key


def _labels(form: FormSpec, by: str, keys: Iterable[str], registry: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    field = _field(form, by) if by.startswith("/") else None
    workflow = registry.workflow_for_form(form.id) if by == "$state" else None
    names: dict[str, str] = {}
    if field is not None and "org" in field.ui:
        names = dict(db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.code.in_(list(keys)))).all())
    for key in keys:
        if key == "":
            out[key] = MISSING
        elif workflow is not None:
            state = workflow.states.get(key)
            out[key] = state.title if state is not None else key
        elif field is not None and field.kind == "boolean":
            out[key] = "是" if key == "true" else "否"
        elif field is not None:
            out[key] = names.get(key) or field.choice_title(key) or key
        else:
            out[key] = key
    return out


def _order(form: FormSpec, by: str, registry: Any) -> list[str]:
    """Breakdown keys in the order the configuration lists them (choices, workflow states)."""
    if by == "$state":
        workflow = registry.workflow_for_form(form.id)
        return list(workflow.states) if workflow is not None else []
    field = _field(form, by)
    if field is not None and field.kind == "boolean":
        return ["true", "false"]
    return [str(const) for const, _ in (field.choices if field is not None else ())]


# -- the figures ------------------------------------------------------------------------------------------
def count_figure(figure: Figure, spec: dict[str, Any], vp: Viewpoint, period: Period, registry: Any) -> Figure | None:
    form = registry.live.forms.get(spec["form"])
    if form is None or not allowed(vp.user, "read", form):
        return None
    where = conditions(form, spec, vp, period)
    by = spec.get("by")
    if by is None:
        figure.total = db.session.scalar(select(func.count(Record.id)).where(*where)) or 0
        return figure
    column = _group_column(form, by)
    rows = db.session.execute(select(column, func.count(Record.id)).where(*where).group_by(column)).all()
    counts: Counter[str] = Counter()
    townships = Townships.of(vp.unit) if by == "$township" else None
    boolean = by.startswith("/") and getattr(_field(form, by), "kind", "") == "boolean"
    for value, count in rows:
        counts[townships.key(value) if townships is not None else _key(value, boolean)] += count
    if townships is not None:
        keys = sorted(counts, key=townships.order)
        labels = {k: townships.label(k) for k in keys}
    else:
        known = _order(form, by, registry)
        keys = [k for k in known if k in counts] + sorted(k for k in counts if k not in known)
        labels = _labels(form, by, keys, registry)
    figure.groups = [Group(k, labels[k], counts[k]) for k in keys]
    figure.total = sum(counts.values())
    if "rate" in spec:
        wanted = {_key(v) for v in spec["rate"]}
        part = sum(counts[k] for k in wanted)
        figure.rate = round(part / figure.total * 100, 2) if figure.total else None
        figure.rate_label = "、".join(labels.get(k) or _labels(form, by, [k], registry)[k] for k in map(_key, spec["rate"])) + "占比"
    return figure


def sum_figure(figure: Figure, spec: dict[str, Any], vp: Viewpoint, period: Period, registry: Any) -> Figure | None:
    """Each field summed over the months the period touches; with ``compare``, the same months a year
    earlier, but only up to the last month filed in the period (the police report a month after it ends:
    本年 in May compares January–April with January–April, not with all of last year)."""
    form = registry.live.forms.get(spec["form"])
    if form is None or not allowed(vp.user, "read", form):
        return None
    first, last = period.months
    now = _sums(form, spec, vp, first, last)
    before = None
    if spec.get("compare") == "previous_year":
        filed = db.session.scalar(select(func.max(period_column(form.id, spec["month"], db.engine.dialect.name)[1]))
                                  .where(*sum_conditions(form, spec, vp, first, last)))
        last = min(last, filed) if filed else last
        before = _sums(form, spec, vp, _year_before(first), _year_before(last))
        figure.detail["compared"] = f"{first} 至 {last}"
    for i, pointer in enumerate(spec["fields"]):
        field = _field(form, pointer)
        title = field.title if field is not None else pointer
        figure.groups.append(Group(pointer.strip("/"), title, number(now[i]),
                                   previous=number(before[i]) if before is not None else None))
    figure.unit = "起"
    figure.total = number(sum(now))
    figure.previous = number(sum(before)) if before is not None else None
    if before is not None:
        figure.note = "；".join(n for n in (figure.note, f"同比按已填报的 {first} 至 {last} 与上年同期比较") if n)
    return figure


def _year_before(month: str) -> str:
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


def sum_conditions(form: FormSpec, spec: dict[str, Any], vp: Viewpoint, first: str, last: str) -> list[ColumnElement[bool]]:
    is_form, column = period_column(form.id, spec["month"], db.engine.dialect.name)
    return [is_form, vp.records(), column >= first, column <= last,
            *[_condition(form, c) for c in spec.get("where", [])]]


def _sums(form: FormSpec, spec: dict[str, Any], vp: Viewpoint, first: str, last: str) -> list[float]:
    columns = [func.coalesce(func.sum(_json(p).as_float()), 0) for p in spec["fields"]]
    row = db.session.execute(select(*columns).where(*sum_conditions(form, spec, vp, first, last))).one()
    return [float(v or 0) for v in row]


def drill_select(form: FormSpec, figure: dict[str, Any], vp: Viewpoint, period: Period, key: str | None) -> Select[tuple[Record]]:
    """The records behind a count or sum figure (and one breakdown line of it when ``key`` is given)."""
    if "sum" in figure:
        spec = figure["sum"]
        where = sum_conditions(form, spec, vp, *period.months)
    else:
        spec = figure["count"]
        where = conditions(form, spec, vp, period)
        if key is not None and spec.get("by"):
            where.append(group_condition(form, spec["by"], key, vp.unit))
    return select(Record).where(*where).order_by(Record.created_at.desc(), Record.id.desc())

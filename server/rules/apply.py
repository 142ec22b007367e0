"""Carrying out actions: what a rule, a transition or a timer step does, inside the caller's transaction.

The engine only says which rules matched; workflows say which transition was taken or which step
is due. Either way the actions (``server.rules.vocabulary.ACTIONS``) are resolved — ``{placeholders}``
filled from the fact — and performed here through the server's own services: record changes go into
the working copy of the record's data (saved once by the caller, validated and audited), records in
other ledgers go through the records service's one write path, tasks and notices into the inbox.
Effects are keyed (``run.key`` + action index), so performing an action again updates its effect
instead of repeating it. The workflow-only actions (timers, documents) are performed by
``server.flow.actions`` and never reach this module.

Actions that write a record field (``set_field``, ``assign_responsibility`` into a text field) fill
only an empty field unless the action says ``"mode": "overwrite"``: a rule must not silently replace
what a clerk typed. Where an overwrite does replace a value, :attr:`ActionRun.overwrites` says so, and
the caller shows it ("规则『…』已将 牵头单位 由 X 改为 Y").
"""
from __future__ import annotations

import copy
import math
import string
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

from server.auth.models import User
from server.errors import ValidationFailed
from server.extensions import db
from server.forms.pointers import get_path
from server.inbox import service as inbox
from server.org.models import OrgUnit
from server.org.service import unit_by_code, unit_by_id
from server.records.models import Record
from server.rules.models import Accountability, AwardIneligibility, Veto
from server.rules.vocabulary import MAP_FUNCTIONS
from server.workflow.calendar import WorkCalendar

MISSING = "（未填）"


class ActionFailed(ValueError):
    """An action could not be carried out (unknown unit, bad date ...); the message is Chinese."""


@dataclass
class ActionRun:
    """Where actions run: the acting record (locked, in the transaction) and its working data, who
    acts (None: the system), today, the calendar and parameters, and what the actions produced."""

    key: str
    record: Record | None
    data: dict[str, Any] | None
    user: User | None
    today: date
    calendar: WorkCalendar
    params: Mapping[str, Any]
    source: str                               # "rule:routing.to_police", "transition:route", "timer:handling.chase"
    decision_id: int | None = None
    timer_id: int | None = None
    created: list[Record] = field(default_factory=list)   # published as saved after the commit
    updated: list[Record] = field(default_factory=list)
    title: str = ""                                       # the rule's (or transition's) title, for notices
    item: Mapping[str, Any] | None = None                 # the row a for_each is at (``./pointers``)
    item_pointer: str = ""                                # and where it is in ``data`` (``/salient_problems/0``)
    overwrites: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # (title, pointer, old, new)

    def write(self, pointer: str, value: Any, mode: str | None) -> None:
        """Write a record field as an action's ``mode`` allows (``fill``, the default, or ``overwrite``),
        noting a filled-in value that was replaced."""
        current = get_path(self.data, pointer)
        if not _blank(current) and (mode or "fill") != "overwrite":
            return
        if not _blank(current) and current != value:
            self.overwrites.append((self.title, pointer, copy.deepcopy(current), copy.deepcopy(value)))
        set_pointer(self.data, pointer, value)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class _Fields(dict):
    """Format source that renders missing or empty attributes as "（未填）" instead of failing."""

    def __missing__(self, key: str) -> str:
        return MISSING


def display(value: Any) -> str:
    """A fact value as people read it: numbers cut (never rounded up) to two decimals, so 89.995 %
    reads 89.99 % and is not shown as the 90 % it failed to reach."""
    if value is None:
        return MISSING
    if isinstance(value, float) and math.isfinite(value):
        return repr(math.floor(value * 100 + 1e-9) / 100)
    return str(value)


def render(template: str, fact: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    values = _Fields({k: display(v) for k, v in fact.items()})
    values.update({f"param.{k}": v for k, v in parameters.items()})
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(literal)
        if name is not None:
            parts.append(str(values[name]))
    return "".join(parts)


def resolve(action: Mapping[str, Any], fact: Mapping[str, Any]) -> dict[str, Any]:
    """The action with its string arguments' placeholders filled from the fact (``map`` too), and a
    ``{"$fact": attribute}`` value replaced by the attribute itself, typed (a count into an integer
    field: a placeholder would make it a string); None when the fact has no value for it."""
    def fill(value: Any) -> Any:
        if isinstance(value, str) and not value.startswith("/"):
            return render(value, fact, {})
        if isinstance(value, dict) and set(value) == {"$fact"}:
            return fact.get(value["$fact"])
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value
    return {k: (v if k == "do" else fill(v)) for k, v in action.items()}


def unit_of(code: Any) -> OrgUnit:
    unit = unit_by_code(str(code)) if code not in (None, "", MISSING) else None
    if unit is None:
        raise ActionFailed(f"找不到单位 {code}")
    return unit


def _date(value: Any) -> date | None:
    if value in (None, "", MISSING):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ActionFailed(f"日期无效：{value}") from exc


def _upsert(model: type, key: str, **values: Any) -> None:
    row = db.session.query(model).filter_by(source_key=key).one_or_none()
    if row is None:
        db.session.add(model(source_key=key, **values))
        return
    for name, value in values.items():
        if name != "decision_id":
            setattr(row, name, value)


def perform(action: Mapping[str, Any], index: int, run: ActionRun) -> None:
    """Carry out one resolved action; record-field changes go into ``run.data`` (saved by the caller)."""
    do = action["do"]
    key = f"{run.key}:{index}"
    common = {"record_id": run.record.id if run.record else None, "decision_id": run.decision_id}
    if run.data is None and do in ("set_field", "assign_responsibility", "route_to", "update_record"):
        raise ActionFailed(f"动作 {do} 需要一条记录，这条规则的事实不是记录")
    if do == "set_field":
        value = param_value(action["value"], run.params)
        if value is not None:  # a {"$fact"} without a value (a 研判 without its period) writes nothing
            run.write(action["field"], value, action.get("mode"))
    elif do == "assign_responsibility":
        _assign(run, action)
    elif do == "route_to":
        from server.records.service import add_route_in_transaction

        add_route_in_transaction(run.record.id, unit_of(action["unit"]), run.source)
    elif do == "create_task":
        days = due_days(action["due_working_days"], run.params)
        inbox.upsert(key, kind="task", unit_id=unit_of(action["assignee"]).id, title=action["title"],
                     due_date=run.calendar.add_working_days(run.today, days), record_id=common["record_id"],
                     decision_id=run.decision_id, timer_id=run.timer_id)
    elif do == "notify":
        inbox.upsert(key, kind="escalation" if run.timer_id else "notice", unit_id=unit_of(action["unit"]).id,
                     title=action.get("title") or _first_line(action["message"]), message=action["message"],
                     record_id=common["record_id"], decision_id=run.decision_id, timer_id=run.timer_id)
    elif do == "mark_ineligible":
        _upsert(AwardIneligibility, key, unit_id=unit_of(action["unit"]).id, award=action["award"],
                from_date=_date(action.get("from")), until_date=_date(action.get("until")), **common)
    elif do == "record_veto":
        _upsert(Veto, key, unit_id=unit_of(action["unit"]).id, year=_year(action["year"]), reason=action["reason"],
                **common)
    elif do == "record_accountability":
        unit = unit_of(action["unit"])
        _upsert(Accountability, key, unit_id=unit.id, post=action["post"], person=unit.posts.get(action["post"], ""),
                reason=action["reason"], **common)
    elif do == "create_record":
        _create_record(action, key, run)
    elif do == "update_record":
        _update_record(action, run)
    else:  # the loader admits only the vocabulary; workflow-only actions are performed by server.flow
        raise ActionFailed(f"动作 {do} 不能在这里执行")


def param_value(value: Any, params: Mapping[str, Any]) -> Any:
    """A ``{"$param": name}`` value as the parameter's value now (checked by ``config check``)."""
    if isinstance(value, dict) and set(value) == {"$param"}:
        if value["$param"] not in params:
            raise ActionFailed(f"参数 {value['$param']} 不存在")
        return params[value["$param"]]
    return value


def overwrite_undone(actions: Any, record: Record | None, params: Mapping[str, Any]) -> bool:
    """Whether a decision in force no longer shows in its record: a person typed over a value one of
    its ``set_field`` actions writes in ``overwrite`` mode. Such a decision is applied again on that
    save (and the replaced value told), else a figure typed twice would stay: an overwrite is policy."""
    if record is None:
        return False
    for action in actions or ():
        if action.get("do") != "set_field" or action.get("mode") != "overwrite":
            continue
        value = action.get("value")
        if isinstance(value, dict) and set(value) == {"$param"}:
            value = params.get(value["$param"])
        if value is not None and get_path(record.data, action["field"]) != value:
            return True
    return False


def due_days(value: Any, params: Mapping[str, Any]) -> int:
    if isinstance(value, dict) and "$param" in value:
        value = params.get(value["$param"])
    if isinstance(value, bool) or not isinstance(value, int):
        raise ActionFailed(f"期限应为整数，实际为 {value!r}")
    return value


def _year(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ActionFailed(f"年份无效：{value}") from exc


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0][:60]


# -- records in other ledgers ---------------------------------------------------------------------
def mapped(mapping: Mapping[str, Any], source: Mapping[str, Any] | None,
           item: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A new record's data from a ``map``: ``/pointers`` read the acting record, ``./pointers`` the item
    a ``for_each`` is at, ``{"$township_of": pointer}`` / ``{"$village_of": pointer}`` the place a code
    field names, ``{"$list": pointer}`` a value as a one-item list; resolved texts and literals are taken as they are; empty values are left out."""
    data: dict[str, Any] = {}
    for target, value in mapping.items():
        value = source_value(value, source, item)
        if value not in (None, "", MISSING):
            set_pointer(data, target, value)
    return data


def source_value(value: Any, source: Mapping[str, Any] | None, item: Mapping[str, Any] | None = None) -> Any:
    """What one ``map`` entry stands for (see :func:`mapped`)."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in MAP_FUNCTIONS:
        (function, pointer), = value.items()
        found = source_value(pointer, source, item)
        if function == "$list":
            return [found] if found not in (None, "", MISSING) else None
        return _place(function, found)
    if isinstance(value, str) and value.startswith("./"):
        return get_path(item or {}, value[1:], dash_is_last=True)
    if isinstance(value, str) and value.startswith("/"):
        return get_path(source or {}, value, dash_is_last=True)
    return value


def _place(function: str, code: Any) -> str | None:
    """The 乡镇（街道） a unit lies in (``$township_of``), or the unit itself when it is a 村（社区）
    (``$village_of``); None when the code names no such place."""
    unit = unit_by_code(str(code)) if isinstance(code, str) and code else None
    if function == "$village_of":
        return unit.code if unit is not None and unit.kind in ("village", "community") else None
    while unit is not None and unit.kind not in ("township", "subdistrict"):
        unit = unit_by_id(unit.parent_id) if unit.parent_id else None
    return unit.code if unit is not None else None


def _create_record(action: Mapping[str, Any], key: str, run: ActionRun) -> None:
    """Register a record in another ledger (a transfer, a chase, a follow-up), never retyped; its
    number can be written back into the acting record (``number_to``). Transitions and timer steps
    run their actions once each; a rule creates one record per decision it stores."""
    from server.records.service import check, insert_record, registry

    if run.item is not None and action.get("number_to") and get_path(run.data, _in_item(action["number_to"], run)):
        return  # this row's record was registered before (a 研判 concluded again): not twice
    form = registry().form(action["form"])
    data = mapped(action["map"], run.data, run.item)
    unit = _record_unit(action.get("unit"), run)
    try:
        check(form, data, run.user)
    except ValidationFailed as exc:
        details = "；".join(f"{e.pointer} {e.message}" for e in exc.errors)
        raise ActionFailed(f"无法登记到《{form.title}》：{details}") from exc
    actor = run.user or system_user()
    record = insert_record(form, data, actor, unit)
    run.created.append(record)
    if action.get("number_to") and run.data is not None:
        set_pointer(run.data, _in_item(action["number_to"], run), record.number)


def _in_item(pointer: str, run: ActionRun) -> str:
    """A ``./pointer`` of a ``for_each`` action as a pointer into the acting record (the item's row)."""
    return f"{run.item_pointer}{pointer[1:]}" if pointer.startswith("./") and run.item_pointer else pointer


def _record_unit(which: Any, run: ActionRun) -> OrgUnit:
    if run.record is None:
        raise ActionFailed("登记到其他台账需要一条记录")
    if isinstance(which, dict):  # {"$township_of": "./division_code"}: the township the row's place lies in
        found = source_value(which, run.data, run.item)
        if not found:
            raise ActionFailed("无法确定登记单位：地点未填写或不在任何乡镇（街道）")
        return unit_of(found)
    if which in (None, "", "owner"):
        return unit_by_id(run.record.org_unit_id)
    if which == "assignee":
        unit = unit_by_id(run.record.waiting_unit_id)
        if unit is None:
            raise ActionFailed("本事项还没有承办单位")
        return unit
    return unit_of(which)


def _update_record(action: Mapping[str, Any], run: ActionRun) -> None:
    """Bring a linked record (named by number in field ``ref``) up to date with the acting record."""
    from server.records.service import registry, validate_data, write_data
    from sqlalchemy import select

    number = get_path(run.data, action["ref"])
    if not number:
        return  # nothing linked (yet): nothing to update
    other = db.session.scalar(select(Record).where(Record.form_id == action["form"], Record.number == number)
                              .with_for_update())
    if other is None:
        raise ActionFailed(f"找不到编号为 {number} 的《{registry().form(action['form']).title}》记录")
    data = copy.deepcopy(other.data)
    for target, value in mapped(action["map"], run.data).items():
        data[target] = value
    try:
        validate_data(other, data)
    except ValidationFailed as exc:
        details = "；".join(f"{e.pointer} {e.message}" for e in exc.errors)
        raise ActionFailed(f"无法更新《{registry().form(action['form']).title}》{number}：{details}") from exc
    if write_data(other, data, run.user, "update", detail=f"由 {run.record.number if run.record else ''} 同步"):
        run.updated.append(other)


def system_user() -> User:
    """The account recorded as the creator of what the system does on its own (the tick): it cannot
    log in, and pages show it as 系统."""
    from sqlalchemy import select

    found = db.session.info.get("system_user")
    if found is not None and found in db.session:  # (a rolled-back creation leaves it detached)
        return found
    user = db.session.scalar(select(User).where(User.username == "_system"))
    if user is None:
        user = User(username="_system", display_name="系统", password_hash="!", role="county_staff",
                    is_enabled=False, org_unit_id=None)
        db.session.add(user)
        db.session.flush()
    db.session.info["system_user"] = user
    return user


def _assign(run: ActionRun, action: Mapping[str, Any]) -> None:
    """Write the holder of a post into a field: a text field gets the name (as ``mode`` allows); a list
    of people (rows of name/unit/position) gets a row, once."""
    data = run.data
    unit = unit_of(action.get("unit"))
    holder = unit.posts.get(action["post"])
    if not holder:
        raise ActionFailed(f"{unit.name}没有登记“{action['post']}”岗位的人员")
    current = get_path(data, action["field"])
    if isinstance(current, list) or (current is None and action["role"] == "direct_responsible"):
        rows = list(current or [])
        if not any(isinstance(r, dict) and r.get("name") == holder and r.get("unit") == unit.name for r in rows):
            row = {"name": holder, "unit": unit.name}
            if action.get("position"):
                row["position"] = action["position"]
            rows.append(row)
        set_pointer(data, action["field"], rows)
    else:
        before = get_path(data, action["field"])
        run.write(action["field"], holder, action.get("mode"))
        _write_position(run, action, before, holder)


def _write_position(run: ActionRun, action: Mapping[str, Any], before: Any, holder: str) -> None:
    """The post goes with the name it belongs to (``position_field``), so that a record — and the
    documents made from it — never names one person with another's post: written with a name the rule
    just wrote, filled in beside the holder's name already there, left alone beside a typed other name."""
    if not action.get("position_field") or not action.get("position"):
        return
    if get_path(run.data, action["field"]) != holder:  # a name the clerk typed was kept
        return
    mode = "overwrite" if before != holder else action.get("mode")
    run.write(action["position_field"], action["position"], mode)


def set_pointer(data: dict[str, Any], pointer: str, value: Any) -> None:
    """Set ``value`` at a JSON pointer, creating the objects on the way (``-`` appends to a list)."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    node: Any = data
    for token in tokens[:-1]:
        if isinstance(node, list) and (token == "-" or token.isdigit()):
            node = node[-1] if token == "-" else node[int(token)]
            continue
        node = node.setdefault(token, {})
        if not isinstance(node, (dict, list)):
            raise ActionFailed(f"字段 {pointer} 的上级不是对象")
    last = tokens[-1]
    if isinstance(node, list):
        if last == "-":
            node.append(copy.deepcopy(value))
        else:
            node[int(last)] = copy.deepcopy(value)
    else:
        node[last] = copy.deepcopy(value)

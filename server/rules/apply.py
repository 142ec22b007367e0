"""Applying decisions: what fired becomes rows and record changes, in one transaction.

The engine only says which rules matched a fact; here each fired rule's actions are resolved
(``{attr}`` placeholders from the fact), performed through the server's own services, and stored
as a :class:`Decision` with its explanation. Effects are keyed by ruleset, rule, record and action
index, so a rule firing again on a later save updates its effect instead of repeating it.
"""
from __future__ import annotations

import copy
import string
from datetime import date
from typing import Any, Mapping

from server.org.models import OrgUnit
from server.org.service import unit_by_code
from server.rules.models import Accountability, AwardIneligibility, Decision, Notification, Task, Veto
from server.extensions import db
from server.forms.pointers import get_path
from server.workflow.calendar import add_working_days


class ActionFailed(ValueError):
    """An action could not be carried out (unknown unit, bad date ...); the message is Chinese."""


class _Fields(dict):
    """Format source that renders missing or empty attributes as "（未填）" instead of failing."""

    def __missing__(self, key: str) -> str:
        return "（未填）"


def render(template: str, fact: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    values = _Fields({k: ("（未填）" if v is None else v) for k, v in fact.items()})
    values.update({f"param.{k}": v for k, v in parameters.items()})
    parts = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(literal)
        if name is not None:
            parts.append(str(values[name]))
    return "".join(parts)


def resolve(action: Mapping[str, Any], fact: Mapping[str, Any]) -> dict[str, Any]:
    """The action with its string arguments' placeholders filled from the fact."""
    return {k: render(v, fact, {}) if isinstance(v, str) and k != "do" else v for k, v in action.items()}


def _unit(code: Any) -> OrgUnit:
    unit = unit_by_code(str(code)) if code else None
    if unit is None:
        raise ActionFailed(f"找不到单位 {code}")
    return unit


def _date(value: Any) -> date | None:
    if value in (None, "", "（未填）"):
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


def perform(action: Mapping[str, Any], key: str, decision: Decision, data: dict[str, Any] | None,
            today: date) -> None:
    """Carry out one resolved action; record-field changes go into ``data`` (saved by the caller)."""
    do, common = action["do"], {"record_id": decision.record_id, "decision_id": decision.id}
    if data is None and do in ("set_field", "assign_responsibility", "route_to"):
        raise ActionFailed(f"动作 {do} 需要一条记录，这条规则的事实不是记录")
    if do == "set_field":
        set_pointer(data, action["field"], action["value"])
    elif do == "assign_responsibility":
        _assign(data, action)
    elif do == "route_to":
        from server.records.service import add_route_in_transaction

        add_route_in_transaction(decision.record_id, _unit(action["unit"]), f"rule:{decision.ruleset}.{decision.rule}")
    elif do == "create_task":
        _upsert(Task, key, title=action["title"], assignee_unit_id=_unit(action["assignee"]).id,
                due_date=add_working_days(today, int(action["due_working_days"])), **common)
    elif do == "mark_ineligible":
        _upsert(AwardIneligibility, key, unit_id=_unit(action["unit"]).id, award=action["award"],
                from_date=_date(action.get("from")), until_date=_date(action.get("until")), **common)
    elif do == "record_veto":
        _upsert(Veto, key, unit_id=_unit(action["unit"]).id, year=int(action["year"]), reason=action["reason"], **common)
    elif do == "record_accountability":
        unit = _unit(action["unit"])
        _upsert(Accountability, key, unit_id=unit.id, post=action["post"], person=unit.posts.get(action["post"], ""),
                reason=action["reason"], **common)
    elif do == "notify":
        _upsert(Notification, key, unit_id=_unit(action["unit"]).id, message=action["message"], **common)
    else:  # the loader admits only the vocabulary; this guards against a mismatch in code
        raise ActionFailed(f"未知动作 {do}")


def _assign(data: dict[str, Any], action: Mapping[str, Any]) -> None:
    """Write the holder of a post into a field: a text field gets the name; a list of people
    (rows of name/unit/position) gets a row, once."""
    unit = _unit(action.get("unit"))
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
        set_pointer(data, action["field"], holder)


def set_pointer(data: dict[str, Any], pointer: str, value: Any) -> None:
    """Set ``value`` at a JSON pointer, creating the objects on the way."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    node = data
    for token in tokens[:-1]:
        node = node.setdefault(token, {})
        if not isinstance(node, dict):
            raise ActionFailed(f"字段 {pointer} 的上级不是对象")
    node[tokens[-1]] = copy.deepcopy(value)

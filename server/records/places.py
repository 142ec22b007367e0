"""Place fields (``x-ui.org.scoped``): a user files places of their own area only.

The form's choices already refuse a code that is not a live unit; this adds the user's area, so a
城关街道 clerk cannot file a 河口镇 village by picking (or posting) its code. The area is the
township-level unit the user belongs to (a village's information officer reports within their
township), or the township a 派出所/司法所 serves; county-level users and county departments act
for the whole county. Values already stored are not re-judged, so a unit a matter was routed to
can still save it.
"""
from __future__ import annotations

from typing import Any, Iterator

from server.auth.models import User
from server.errors import FieldError
from server.forms import build_form, describe_change, get_path
from server.forms.pointers import escape_token
from server.org.fields import scoped_fields, within_fields
from server.org.kinds import TOWNSHIP_LEVEL
from server.org.models import OrgUnit
from server.org.service import unit_by_code, unit_by_id
from server.records.scope import is_county_wide
from server.specs.model import FormSpec


def place_area(user: User | None) -> OrgUnit | None:
    """The unit whose subtree ``user`` may name in place fields; None = the whole county."""
    if user is None or is_county_wide(user):
        return None
    unit = user.org_unit
    if unit is None or unit.kind == "county":
        return None
    if unit.serves_id is not None:
        return unit_by_id(unit.serves_id)
    current: OrgUnit | None = unit
    while current is not None and current.kind not in TOWNSHIP_LEVEL:
        current = unit_by_id(current.parent_id)
    return current  # None for a county department: it works across the county


def check_places(form: FormSpec, data: Any, user: User | None, failed: set[str],
                 previous: dict[str, Any] | None = None) -> list[FieldError]:
    """Errors for place fields naming a unit outside the user's area, or outside the unit of the field
    they must lie ``within`` (new or changed values only)."""
    errors = _outside_within(form, data, failed, previous)
    patterns = scoped_fields(form.schema)
    area = place_area(user) if patterns else None
    if area is None or not area.path:
        return errors
    for pattern in patterns:
        for pointer, value in _concrete(data, pattern.split("/")[1:], ""):
            if pointer in failed or (previous is not None and get_path(previous, pointer) == value):
                continue
            unit = unit_by_code(value)
            if unit is not None and unit.path.startswith(area.path):
                continue
            label, _ = describe_change(build_form(form), pointer, None)
            name = unit.name if unit is not None else value
            errors.append(FieldError(pointer, f"“{label}”只能选择{area.name}及其下辖的单位，"
                                              f"{name}不在您的辖区内"))
    return errors


def _outside_within(form: FormSpec, data: Any, failed: set[str], previous: dict[str, Any] | None) -> list[FieldError]:
    """A village filed under a township it does not belong to (``x-ui.org.within``), whoever files it:
    the ledger would count it for the wrong township. Judged when either field is new or changed."""
    errors = []
    for pattern, outer_pointer in within_fields(form.schema):
        outer_code = get_path(data, outer_pointer)
        if not isinstance(outer_code, str) or not outer_code or outer_pointer in failed:
            continue
        outer = unit_by_code(outer_code)
        for pointer, value in _concrete(data, pattern.split("/")[1:], ""):
            if pointer in failed:
                continue
            if previous is not None and get_path(previous, pointer) == value \
                    and get_path(previous, outer_pointer) == outer_code:
                continue
            unit = unit_by_code(value)
            if outer is None or unit is None or unit.path.startswith(outer.path):
                continue
            label, _ = describe_change(build_form(form), pointer, None)
            parent = unit_by_id(unit.parent_id) if unit.parent_id else None
            where = f"属于{parent.name}" if parent is not None else "不在其下"
            errors.append(FieldError(pointer, f"“{label}”应为{outer.name}下辖的单位，{unit.name}{where}"))
    return errors


def _concrete(node: Any, parts: list[str], pointer: str) -> Iterator[tuple[str, str]]:
    """(pointer with row indices, value) of every filled string at the ``*`` pattern ``parts``."""
    if not parts:
        if isinstance(node, str) and node:
            yield pointer, node
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        for index, item in enumerate(node if isinstance(node, list) else []):
            yield from _concrete(item, rest, f"{pointer}/{index}")
        return
    key = head.replace("~1", "/").replace("~0", "~")
    if isinstance(node, dict) and key in node:
        yield from _concrete(node[key], rest, f"{pointer}/{escape_token(key)}")

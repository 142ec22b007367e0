"""Who may create, read and update a form's records: ``x-form.permissions``, checked in the service.

A form declares, per action, the roles allowed and optionally the org levels (kinds of the user's
unit) at which they are allowed::

    "permissions": {"create": [{"role": "township_staff", "levels": ["township", "subdistrict"]}], ...}

Which *records* a permitted user sees is the separate question of scope (``server.records.scope``).
"""
from __future__ import annotations

from typing import Any

from server.auth.models import User
from server.auth.roles import READ_ONLY_ROLES
from server.specs.model import FormSpec

_STAFF = ("county_staff", "township_staff")
DEFAULT_PERMISSIONS: dict[str, list[dict[str, Any]]] = {
    "create": [{"role": r} for r in _STAFF],
    "read": [{"role": r} for r in (*_STAFF, "department_staff", "leader")],
    "update": [{"role": r} for r in _STAFF],
}


def user_level(user: User) -> str:
    """The org level a user acts at: the kind of their unit (a user without a unit acts at county level)."""
    return user.org_unit.kind if user.org_unit is not None else "county"


def allowed(user: User, action: str, form: FormSpec) -> bool:
    if not user.is_enabled:
        return False
    if action == "read" and user.role == "county_admin":
        return True  # the admin's read-only records view
    if action != "read" and user.role in READ_ONLY_ROLES:
        return False
    rules = form.schema.get("x-form", {}).get("permissions", {}).get(action) or DEFAULT_PERMISSIONS[action]
    level = user_level(user)
    return any(rule.get("role") == user.role and level in rule.get("levels", [level]) for rule in rules)

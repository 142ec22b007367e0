"""The fixed set of roles. What each may do with a form's records is configuration (``x-form.permissions``)."""
from __future__ import annotations

ROLES: dict[str, str] = {
    "county_admin": "县综治办管理员",
    "county_staff": "县综治办工作人员",
    "township_staff": "乡镇（街道）综治中心工作人员",
    "department_staff": "部门工作人员",
    "info_officer": "治安信息员",
    "leader": "领导（只读）",
}

ACTIONS = ("create", "read", "update")
READ_ONLY_ROLES = frozenset({"leader"})

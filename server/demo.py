"""The demo county (示范县, ``config/org/``): its org tree and one user per role (``make run`` loads it once).

The tree itself is configuration, published like forms; this adds the people who try the system out.
Their password is published (below and in the README), so it is the one password that skips the
password rules, and every demo user is marked to choose their own at first login: enforced whenever
``SERVER_ENV`` is not ``development``, so ``make run`` and the screenshot tool still log in with it,
and a demo database that reaches production cannot be entered with it.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from server.auth.models import User
from server.auth.service import create_demo_user
from server.extensions import db

DEMO_PASSWORD = "demo-2026"
DEMO_USERS = [  # username, display name, role, org unit code
    ("admin", "县综治办管理员", "county_admin", "139901000000"),
    ("county", "县综治办工作人员", "county_staff", "139901000000"),
    ("leader", "县领导", "leader", "139901000000"),
    ("chengguan", "城关街道综治中心", "township_staff", "139901001000"),
    ("hekou", "河口镇综治中心", "township_staff", "139901101000"),
    ("pcs01", "城关派出所", "department_staff", "GA-PCS01"),
    ("sifa", "县司法局", "department_staff", "SF"),
    ("xinxiyuan", "东风社区信息员", "info_officer", "139901001001"),
]


def load_demo() -> str:
    """Publish the configuration (which syncs the org tree) and add the demo users once."""
    result = current_app.extensions["registry"].publish_files("demo")
    if db.session.scalar(select(User.id).limit(1)) is not None:
        return f"已有用户，未添加示范用户（配置版本 {result.config.version}）"
    for username, label, role, org in DEMO_USERS:
        create_demo_user(username, DEMO_PASSWORD, role=role, org_code=org, display_name=label)
    names = "、".join(u[0] for u in DEMO_USERS)
    return (f"已载入示范县（配置版本 {result.config.version}）；示范用户 {names}，密码均为 {DEMO_PASSWORD}"
            "（SERVER_ENV 不是 development 时，首次登录须修改密码）")

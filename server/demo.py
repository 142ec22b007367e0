"""The demo county: org units and users for trying the system out (``make run`` loads it once).

Names and codes are fictional; the 17 townships match the seed article's county.
"""
from __future__ import annotations

from sqlalchemy import select

from server.auth.service import create_user
from server.extensions import db
from server.org.models import OrgUnit

COUNTY_CODE = "999901000000"
TOWNSHIPS = [
    "城关镇", "东关街道", "西关街道", "河口镇", "青山镇", "柳林镇", "石桥镇", "白水乡", "大营镇",
    "杨庄乡", "南湖镇", "北岭乡", "双河镇", "新集镇", "龙泉镇", "马店乡", "高岗乡",
]
DEMO_PASSWORD = "demo-2026"
DEMO_USERS = [
    ("admin", "县综治办管理员", "county_admin", COUNTY_CODE),
    ("county", "县综治办工作人员", "county_staff", COUNTY_CODE),
    ("chengguan", "城关镇综治中心", "township_staff", "999901001000"),
]


def load_demo() -> str:
    if db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == COUNTY_CODE)) is not None:
        return "示范县数据已存在，未做改动"
    county = OrgUnit(code=COUNTY_CODE, name="示范县", kind="county")
    db.session.add(county)
    db.session.flush()
    for index, name in enumerate(TOWNSHIPS, start=1):
        kind = "subdistrict" if name.endswith("街道") else "township"
        db.session.add(OrgUnit(code=f"999901{index:03d}000", name=name, kind=kind, parent_id=county.id))
    db.session.commit()
    for username, label, role, org in DEMO_USERS:
        create_user(username, DEMO_PASSWORD, role=role, org_code=org, display_name=label)
    return f"已载入示范县：{len(TOWNSHIPS)} 个乡镇（街道），用户 {', '.join(u[0] for u in DEMO_USERS)}，密码 {DEMO_PASSWORD}"

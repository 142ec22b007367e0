"""The demo county as the year sees it: townships, their villages and communities, the 派出所 serving
each township, the county departments and their subordinate units (read from the org tree)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from server.extensions import db
from server.org.models import OrgUnit

BRANCH_KINDS = ("unit_branch", "police_station", "dept_office")


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    kind: str
    township: str  # code of its township (itself for a township; "" for county bodies)


@dataclass(frozen=True)
class County:
    code: str
    name: str
    townships: tuple[Place, ...]
    grassroots: dict[str, tuple[Place, ...]]  # villages and communities by township code
    stations: dict[str, str]  # 派出所 code by the township it serves
    departments: tuple[Place, ...]  # county units (县直单位)
    branches: tuple[Place, ...]  # their subordinate units (学校、卫生院、派出所、司法所 ...)

    def township_name(self, code: str) -> str:
        return next((t.name for t in self.townships if t.code == code), code)

    def place(self, code: str) -> Place:
        for places in self.grassroots.values():
            for place in places:
                if place.code == code:
                    return place
        raise LookupError(f"示范县中没有代码为 {code} 的村（社区）")

    def township_of(self, code: str) -> str:
        """The township of a village or community ("" for county units and their subordinate units)."""
        for township, places in self.grassroots.items():
            if any(p.code == code for p in places):
                return township
        return ""

    def place_name(self, code: str) -> str:
        for places in (*self.grassroots.values(), self.branches, self.departments, self.townships):
            for place in places:
                if place.code == code:
                    return place.name
        return code

    def station_name(self, township: str) -> str:
        """The 派出所 serving a township (the county's police bureau if none is recorded)."""
        return self.place_name(self.stations[township]) if township in self.stations else "县公安局"

    def department(self, code: str) -> Place:
        return next(d for d in self.departments if d.code == code)


def load_county() -> County:
    units = list(db.session.scalars(select(OrgUnit).where(OrgUnit.is_active.is_(True)).order_by(OrgUnit.code)))
    by_id = {u.id: u for u in units}
    county = next(u for u in units if u.kind == "county")
    townships = tuple(Place(u.code, u.name, u.kind, u.code) for u in units if u.kind in ("township", "subdistrict"))
    codes = {t.code for t in townships}
    grassroots: dict[str, list[Place]] = {t.code: [] for t in townships}
    for unit in units:
        parent = by_id.get(unit.parent_id)
        if unit.kind in ("village", "community") and parent is not None and parent.code in codes:
            grassroots[parent.code].append(Place(unit.code, unit.name, unit.kind, parent.code))
    stations = {by_id[u.serves_id].code: u.code for u in units
                if u.kind == "police_station" and u.serves_id in by_id}
    departments = tuple(Place(u.code, u.name, u.kind, "") for u in units if u.kind == "county_unit")
    branches = tuple(Place(u.code, u.name, u.kind, by_id[u.serves_id].code if u.serves_id in by_id else "")
                     for u in units if u.kind in BRANCH_KINDS)
    return County(county.code, county.name, townships, {k: tuple(v) for k, v in grassroots.items()}, stations,
                  departments, branches)

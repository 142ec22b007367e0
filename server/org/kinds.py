"""The kinds of org unit, where each may sit in the tree, and which carry a division code.

Fixed in code because scoping and responsibility rules depend on them; names, codes, posts and the
tree itself are configuration (``config/org/``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    id: str
    title: str
    parents: tuple[str, ...]        # kinds allowed as parent; () = the root
    territorial: bool               # carries a 12-digit division code (GB/T 2260 + GB/T 10114)
    serves_township: bool = False   # a department's township-level office: names the township it serves


KINDS: dict[str, Kind] = {k.id: k for k in (
    Kind("county", "县", (), True),
    Kind("township", "乡镇", ("county",), True),
    Kind("subdistrict", "街道", ("county",), True),
    Kind("village", "行政村", ("township",), True),
    Kind("community", "社区", ("subdistrict", "township"), True),
    Kind("county_unit", "县直单位", ("county",), False),
    Kind("unit_branch", "县直单位下属单位", ("county_unit",), False),
    Kind("police_station", "派出所", ("county_unit",), False, serves_township=True),
    Kind("dept_office", "乡镇站所", ("county_unit",), False, serves_township=True),
)}

TOWNSHIP_LEVEL = ("township", "subdistrict")
SUBORDINATE_UNITS = ("unit_branch", "police_station", "dept_office")

"""Org units in the database: creating them with their paths, syncing the configured tree, subtrees."""
from __future__ import annotations

from sqlalchemy import CompoundSelect, select, union

from server.extensions import db
from server.org.models import OrgUnit
from server.specs.model import OrgSpec, OrgUnitSpec


def add_unit(code: str, name: str, kind: str, parent: OrgUnit | None = None, serves: OrgUnit | None = None,
             posts: dict[str, str] | None = None, phone: str | None = None) -> OrgUnit:
    """Insert one unit and set its materialised path (the caller commits)."""
    unit = OrgUnit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None,
                   serves_id=serves.id if serves else None, posts=posts or {}, phone=phone, is_active=True)
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def sync_org(spec: OrgSpec) -> int:
    """Make the org_units table match the configured tree (inside the caller's transaction).

    Units are matched by code; new ones are added, existing ones updated (name, kind, parent, serving
    township, posts, phone), and units no longer configured are deactivated, never deleted.
    Returns the number of units added or changed.
    """
    existing = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    changed = _add_new_units([item for item in spec.units if item.code not in existing], existing)
    for item in spec.units:
        unit = existing[item.code]
        parent = existing.get(item.parent) if item.parent else None
        serves = existing.get(item.serves) if item.serves else None
        path = f"{parent.path if parent else '/'}{unit.id}/"
        values = {"name": item.name, "kind": item.kind, "parent_id": parent.id if parent else None,
                  "serves_id": serves.id if serves else None, "posts": dict(item.posts), "phone": item.phone,
                  "path": path, "is_active": True}
        if any(getattr(unit, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(unit, key, value)
            changed += 1
    configured = {u.code for u in spec.units}
    for code, unit in existing.items():
        if code not in configured and unit.is_active:
            unit.is_active = False
            changed += 1
    db.session.flush()
    return changed


def _add_new_units(new: list[OrgUnitSpec], existing: dict[str, OrgUnit]) -> int:
    """Insert the configured units the table lacks, in waves: a unit goes in once its parent and the
    township it serves have ids, and each wave is one flush (the demo county's 500 units in a handful
    of statements rather than one round trip each; paths need the ids, so they are set after)."""
    pending = list(new)
    while pending:
        ready = [item for item in pending
                 if (not item.parent or item.parent in existing) and (not item.serves or item.serves in existing)]
        if not ready:  # a parent that is neither configured nor in the table: the config check refuses this
            raise ValueError(f"org units without a parent: {', '.join(item.code for item in pending)}")
        wave = []
        for item in ready:
            parent = existing.get(item.parent) if item.parent else None
            serves = existing.get(item.serves) if item.serves else None
            unit = OrgUnit(code=item.code, name=item.name, kind=item.kind, parent_id=parent.id if parent else None,
                           serves_id=serves.id if serves else None, posts=dict(item.posts), phone=item.phone,
                           is_active=True, path="")
            wave.append((unit, parent))
        db.session.add_all([unit for unit, _ in wave])
        db.session.flush()
        for unit, parent in wave:
            unit.path = f"{parent.path if parent else '/'}{unit.id}/"
            existing[unit.code] = unit
        db.session.flush()
        done = {item.code for item in ready}
        pending = [item for item in pending if item.code not in done]
    return len(new)


def subtree_ids(unit: OrgUnit) -> CompoundSelect:
    """Ids of ``unit``, the units beneath it and the offices serving any of them (派出所, 司法所 ...).

    A UNION of two index lookups (the path prefix, then the serving offices): written as one OR the
    database reads every unit of the tree, which a province-wide tree makes slow (11 ms against 2 ms for
    a county among 59,000 units, tests/benchmarks/bench_dashboard.py)."""
    beneath = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
    return union(beneath, select(OrgUnit.id).where(OrgUnit.serves_id.in_(beneath)))


def _cached(key: str) -> dict:
    """Units found in this session (a request, or the tick), held strongly: the session's identity map
    only holds weak references, and the same few units are asked for many times per matter."""
    return db.session.info.setdefault(key, {})


def unit_by_code(code: str) -> OrgUnit | None:
    """The unit with this code (remembered for the session: codes never change hands)."""
    cache = _cached("units_by_code")
    unit = cache.get(code)
    if unit is not None and unit in db.session:
        return unit
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is not None:
        cache[code] = unit
        _cached("units_by_id")[unit.id] = unit
    return unit


def unit_by_id(unit_id: int | None) -> OrgUnit | None:
    """The unit with this id (remembered for the session)."""
    if unit_id is None:
        return None
    cache = _cached("units_by_id")
    unit = cache.get(unit_id)
    if unit is not None and unit in db.session:
        return unit
    unit = db.session.get(OrgUnit, unit_id)
    if unit is not None:
        cache[unit_id] = unit
    return unit


def org_list(kind: str | None = None, parent_code: str | None = None) -> list[OrgUnit]:
    """Active units, optionally of one kind and/or directly beneath one parent, in configuration order."""
    stmt = select(OrgUnit).where(OrgUnit.is_active.is_(True))
    if kind:
        stmt = stmt.where(OrgUnit.kind == kind)
    if parent_code:
        parent = unit_by_code(parent_code)
        stmt = stmt.where(OrgUnit.parent_id == (parent.id if parent else -1))
    return list(db.session.scalars(stmt.order_by(OrgUnit.id)))


def root_unit() -> OrgUnit | None:
    """The top of the org tree (the county), remembered for the session."""
    cache = _cached("root_unit")
    unit = cache.get("root")
    if unit is not None and unit in db.session:
        return unit
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1))
    if unit is not None:
        cache["root"] = unit
    return unit

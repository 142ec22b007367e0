"""治安信息员花名册: officers recruited by quota before reporting starts in June.

Every village gets ``officers_per_village``, every community ``officers_per_community`` and every
subordinate unit of a county department ``officers_per_unit`` (the parameters): in the shipped county
318 × 3 + 84 × 2 + 120 × 1 = 1,242, the seed's total. Should the tree's quota sum differ, every quota is
still met and villages recruit the rest up to 1,242 (or the quota sum is the total, if larger).
Each township centre enters its villages' and communities' officers as one batch (like an Excel
import: :func:`server.records.service.create_records`), the county office the units' officers.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from server.demo_year.context import Context, registry
from server.demo_year.places import Place
from server.demo_year.plan import SEED
from server.records.service import checked, create_records

ESTATES = ("家园", "花园", "小区", "新村", "苑")


def quotas(ctx: Context) -> list[tuple[Place, str, int]]:
    """(unit, quota category, officers) for every unit with a quota, townships' units first."""
    out: list[tuple[Place, str, int]] = []
    for township in ctx.county.townships:
        for place in ctx.county.grassroots[township.code]:
            category = "village" if place.kind == "village" else "community"
            out.append((place, category, int(ctx.param(f"officers_per_{category}"))))
    out += [(branch, "unit", int(ctx.param("officers_per_unit"))) for branch in ctx.county.branches]
    return out


def recruitment(ctx: Context) -> list[tuple[Place, str, int]]:
    """The officers each unit recruits: the quotas, topped up (full year) or cut (small year)."""
    wanted = quotas(ctx)
    if ctx.plan.officers is None:
        missing = SEED.officers - sum(n for _, _, n in wanted)
        villages = [i for i, (_, category, _) in enumerate(wanted) if category == "village"]
        for i in range(max(0, missing)):
            place, category, n = wanted[villages[i % len(villages)]]
            wanted[villages[i % len(villages)]] = (place, category, n + 1)
        return wanted
    left, out = ctx.plan.officers, []
    first = ["139901001001"] + [a.division for a in ctx.plan.areas]  # the demo officer's community, the areas
    for place, category, n in sorted(wanted, key=lambda w: (first.index(w[0].code) if w[0].code in first else len(first),
                                                            w[0].code)):
        if left <= 0:
            break
        out.append((place, category, min(n, left)))
        left -= min(n, left)
    return out


def schedule(ctx: Context) -> None:
    """One recruitment batch per township centre and one for the county's units, late April – May."""
    units = recruitment(ctx)
    days = ctx.year.working_days(ctx.year.day(4, 20), ctx.year.day(5, 29))
    townships = [t for t in ctx.county.townships if any(u.township == t.code and c != "unit" for u, c, _ in units)]
    for index, township in enumerate(townships):
        batch = [(u, c, n) for u, c, n in units if u.township == township.code and c != "unit"]
        day = days[(index * 2) % len(days)]
        ctx.on(day, lambda b=batch, t=township.code, d=day: _enter(ctx, b, ctx.staff.township(t), d),
               f"{township.name}信息员招募", hour=10)
    county_batch = [(u, c, n) for u, c, n in units if c == "unit"]
    if county_batch:
        day = days[-3]
        ctx.on(day, lambda: _enter(ctx, county_batch, ctx.staff.county(), day), "县直单位信息员招募", hour=10)


def _enter(ctx: Context, batch: list[tuple[Place, str, int]], user: Any, day: date) -> None:
    form = registry().form("officer_roster")
    rows, places = [], []
    for place, category, count in batch:
        for n in range(count):
            rows.append(checked(form, _officer(ctx, place, category, n, day), user))
            places.append(place.code)
    saved = create_records(form, rows, user, detail=f"信息员招募 {len(rows)} 名")
    for code, record in zip(places, saved):
        ctx.roster.setdefault(code, []).append((record.number, record.data["name"]))


def _officer(ctx: Context, place: Place, category: str, n: int, day: date) -> dict[str, Any]:
    name, gender = ctx.names.person()
    data: dict[str, Any] = {
        "name": name, "gender": gender, "id_number": ctx.names.id_number(gender), "phone": ctx.names.phone(),
        "quota_category": category, "appointed_date": day.isoformat(), "status": "active",
        "trainings": [{"date": (day - timedelta(days=2 + n % 3)).isoformat(), "content": "治安信息员岗前培训：报送要素、保密要求",
                       "hours": 4}],
    }
    if category == "village":
        data["village_code"] = place.code
    elif category == "community":
        data.update(community_code=place.code, estate_name=place.name.removesuffix("社区") + ESTATES[n % len(ESTATES)])
    else:
        data["unit_code"] = place.code
    return data
